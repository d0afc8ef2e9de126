//! Cassiopée in one local process.
//!
//! Every function's handler is mounted at the method and path that the SAM template gives it,
//! and is handed the same API Gateway HTTP API (v2) event that Lambda would hand it, JWT
//! authorizer claims included: the local server plays API Gateway (routing, the JWT
//! authorizer) and Lambda (the event), and the handlers cannot tell the difference.
//!
//! Beside them, routes that exist only here, under `/dev/`: sign-in, a settable clock, the
//! outbox of written emails, and the scheduled jobs on demand; and the web front at `/`.

pub mod dev;
pub mod gateway;
pub mod seed;
pub mod web;

use anyhow::Context;
use cassiopee_adapters::SettableClock;
use cassiopee_api::config::{Settings, StoreChoice, deps_for};
use cassiopee_domain::ports::Clock;
use cassiopee_domain::usecases::Deps;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything the local server holds.
#[derive(Clone)]
pub struct Local {
    pub deps: Deps,
    pub clock: Arc<SettableClock>,
    pub outbox_dir: PathBuf,
    pub signer: Arc<dev::Signer>,
    /// Where the web front's files come from.
    pub web: web::Source,
}

impl Local {
    /// Opens the store the settings name: the embedded one under `settings.data_dir` by default,
    /// or a DynamoDB table (`CASSIOPEE_STORE=dynamodb`, `CASSIOPEE_TABLE`, and `AWS_ENDPOINT_URL`
    /// for an emulator), created when missing so that the real adapter can be tried end to end.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        if let StoreChoice::DynamoDb { table } = &settings.store {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let client = aws_sdk_dynamodb::Client::new(&aws);
            let exists = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .is_ok();
            if !exists {
                cassiopee_dynamodb::create_table(&client, table)
                    .await
                    .with_context(|| format!("creating the DynamoDB table {table}"))?;
            }
        }
        let clock = Arc::new(SettableClock::default());
        if let Some(start) = settings.clock_start {
            clock.set(start);
        }
        let deps = deps_for(settings, clock.clone() as Arc<dyn Clock>)
            .await
            .context("opening the store and the mailer")?;
        let signer = Arc::new(dev::Signer::load_or_create(&settings.data_dir)?);
        Ok(Self {
            deps,
            clock,
            outbox_dir: settings.outbox_dir.clone(),
            signer,
            web: web::Source::from_env(),
        })
    }

    /// The whole HTTP surface: the functions' routes and the `/dev/` ones.
    pub fn router(&self) -> axum::Router {
        gateway::router(self.clone())
    }
}
