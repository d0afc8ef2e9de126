#![allow(clippy::unwrap_used, reason = "test code: a panic is the test failing")]

//! Integration tests through the HTTP routes of the local mode, in process: each test gets a
//! fresh data folder, the real router, the real store and the outbox mailer.

mod helpers;

mod auth;
mod authz_matrix;
mod errors;
mod events;
mod gdpr;
mod hostile;
mod import;
mod ledger;
mod links;
mod notifications;
mod outreach;
mod rules;
mod staff_workflows;
mod statistics;
mod storms;
