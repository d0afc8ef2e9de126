//! Configuration, read once at cold start from the environment.
//!
//! - `CASSIOPEE_DATA`: the data folder of the embedded store (default `data`).
//! - `CASSIOPEE_OUTBOX`: where emails are written as `.eml` files (default `<data>/outbox`).
//! - `CASSIOPEE_MAIL_FROM`: the sender of every email.

use crate::jobs;
use crate::routes::Function;
use async_trait::async_trait;
use cassiopee_adapters::{OutboxMailer, SystemClock};
use cassiopee_domain::error::Result;
use cassiopee_domain::ports::{Clock, DomainEvent, EventPublisher, Mailer, Store};
use cassiopee_domain::usecases::Deps;
use cassiopee_sqlite::SqliteStore;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const DEFAULT_SENDER: &str = "MiRVOG – Cassiopée <ne-pas-repondre@cassiopee.mirvog.invalid>";

/// Settings shared by the functions and the local server.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub outbox_dir: PathBuf,
    pub sender: String,
}

impl Settings {
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup`, so that tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let data_dir = PathBuf::from(lookup("CASSIOPEE_DATA").unwrap_or_else(|| "data".into()));
        let outbox_dir = lookup("CASSIOPEE_OUTBOX")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("outbox"));
        let sender = lookup("CASSIOPEE_MAIL_FROM").unwrap_or_else(|| DEFAULT_SENDER.into());
        Self {
            data_dir,
            outbox_dir,
            sender,
        }
    }
}

/// Delivers domain events to promote-waitlist inside this process, wrapped as EventBridge
/// would wrap them. Used by the local server, and by the functions until the EventBridge
/// publisher is wired in (the AWS issue).
#[derive(Default)]
pub struct InProcessBus {
    target: OnceLock<Deps>,
}

impl InProcessBus {
    /// Points the bus at the dependencies that promote-waitlist runs with. Those must not
    /// publish back into this bus, or a promotion could trigger itself.
    pub fn connect(&self, deps: Deps) {
        let _ = self.target.set(deps);
    }
}

#[async_trait]
impl EventPublisher for InProcessBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
        let Some(deps) = self.target.get() else {
            return Ok(());
        };
        for event in events {
            let envelope = jobs::eventbridge_envelope(event, deps.now());
            jobs::dispatch(deps, Function::PromoteWaitlist, envelope).await?;
        }
        Ok(())
    }
}

/// A publisher that drops events: what promote-waitlist itself publishes with, since its own
/// work frees no seat.
pub struct NoEvents;

#[async_trait]
impl EventPublisher for NoEvents {
    async fn publish(&self, _events: &[DomainEvent]) -> Result<()> {
        Ok(())
    }
}

/// Wires the use cases on the embedded store, with events delivered in process.
pub fn build_deps(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, clock: Arc<dyn Clock>) -> Deps {
    let bus = Arc::new(InProcessBus::default());
    let inner = Deps {
        store: store.clone(),
        mailer: mailer.clone(),
        clock: clock.clone(),
        events: Arc::new(NoEvents),
    };
    bus.connect(inner);
    Deps {
        store,
        mailer,
        clock,
        events: bus,
    }
}

/// The dependencies of a deployed function, built once at cold start.
pub fn function_deps() -> Result<Deps> {
    let settings = Settings::from_env();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&settings.data_dir)?);
    let mailer: Arc<dyn Mailer> =
        Arc::new(OutboxMailer::new(&settings.outbox_dir, &settings.sender)?);
    Ok(build_deps(store, mailer, Arc::new(SystemClock)))
}
