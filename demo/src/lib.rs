//! Cassiopée in one local process.
//!
//! Every function's handler is mounted at the method and path that the SAM template gives it,
//! and is handed the same API Gateway HTTP API (v2) event that Lambda would hand it, JWT
//! authorizer claims included: the local server plays API Gateway (routing, the JWT
//! authorizer) and Lambda (the event), and the handlers cannot tell the difference.
//!
//! Beside them, routes that exist only here, under `/dev/`: sign-in, a settable clock, the
//! outbox of written emails, and the scheduled jobs on demand.

pub mod dev;
pub mod gateway;
pub mod seed;

use anyhow::Context;
use cassiopee_adapters::{OutboxMailer, SettableClock};
use cassiopee_api::config::{Settings, build_deps};
use cassiopee_domain::ports::{Clock, Mailer, Store};
use cassiopee_domain::usecases::Deps;
use cassiopee_sqlite::SqliteStore;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything the local server holds.
#[derive(Clone)]
pub struct Local {
    pub deps: Deps,
    pub clock: Arc<SettableClock>,
    pub outbox_dir: PathBuf,
    pub signer: Arc<dev::Signer>,
}

impl Local {
    /// Opens the store under `settings.data_dir`, and imports the demo data when it is empty.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&settings.data_dir).context("opening the embedded store")?);
        let mailer: Arc<dyn Mailer> = Arc::new(
            OutboxMailer::new(&settings.outbox_dir, &settings.sender)
                .context("opening the outbox")?,
        );
        let clock = Arc::new(SettableClock::default());
        let deps = build_deps(store, mailer, clock.clone() as Arc<dyn Clock>);
        let signer = Arc::new(dev::Signer::load_or_create(&settings.data_dir)?);
        let local = Self {
            deps,
            clock,
            outbox_dir: settings.outbox_dir.clone(),
            signer,
        };
        Ok(local)
    }

    /// The whole HTTP surface: the functions' routes and the `/dev/` ones.
    pub fn router(&self) -> axum::Router {
        gateway::router(self.clone())
    }
}
