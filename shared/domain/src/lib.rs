//! Cassiopée's domain crate.
//!
//! It holds the model (officers, staff, trainings, sessions, enrolments), the rules that govern
//! seats and waiting lists, the ports (storage, mail, clock, events) that adapters implement,
//! and the use cases that the Lambda functions and the local server call. Nothing here knows
//! about AWS or HTTP: handlers parse a request, call a use case and render its answer.

pub mod audit;
pub mod cache;
pub mod calendar;
pub mod error;
pub mod export;
#[cfg(test)]
mod fixtures;
pub mod ids;
pub mod import;
pub mod ledger;
pub mod links;
pub mod model;
pub mod notices;
pub mod outreach;
pub mod ports;
pub mod privacy;
pub mod rules;
pub mod statistics;
pub mod time;
pub mod usecases;

pub use error::{DomainError, ErrorKind};
