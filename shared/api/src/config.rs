//! Configuration, read once at cold start from the environment.
//!
//! - `CASSIOPEE_DATA`: the data folder of the embedded store (default `data`).
//! - `CASSIOPEE_OUTBOX`: where emails are written as `.eml` files (default `<data>/outbox`).
//! - `CASSIOPEE_MAIL_FROM`: the sender of every email.
//! - `CASSIOPEE_STORE`: `sqlite` (the embedded store) or `dynamodb`; the default is `dynamodb`
//!   inside Lambda and `sqlite` elsewhere. `dynamodb` needs `CASSIOPEE_TABLE`.
//! - `CASSIOPEE_MAILER`: `outbox` (`.eml` files) or `ses`; the default is `ses` inside Lambda.
//! - `CASSIOPEE_SES_CONFIGURATION_SET`: the SES configuration set, if any.
//! - `CASSIOPEE_EVENT_BUS`: when set, domain events go to this EventBridge bus; otherwise they
//!   are delivered to promote-waitlist inside the process.
//! - The AWS SDK reads its own settings (`AWS_REGION`, `AWS_ENDPOINT_URL` for an emulator, …).

use crate::jobs;
use crate::routes::Function;
use async_trait::async_trait;
use cassiopee_adapters::{OutboxMailer, SystemClock};
use cassiopee_aws::{EventBridgePublisher, SesMailer};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ports::{Clock, DomainEvent, EventPublisher, Mailer, Store};
use cassiopee_domain::usecases::Deps;
use cassiopee_dynamodb::DynamoStore;
use cassiopee_sqlite::SqliteStore;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const DEFAULT_SENDER: &str = "MiRVOG – Cassiopée <ne-pas-repondre@cassiopee.mirvog.invalid>";

/// Which store the use cases run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    Sqlite,
    DynamoDb { table: String },
}

/// Which mailer sends the emails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailerChoice {
    Outbox,
    Ses,
}

/// Settings shared by the functions and the local server.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub outbox_dir: PathBuf,
    pub sender: String,
    pub store: StoreChoice,
    pub mailer: MailerChoice,
    pub ses_configuration_set: Option<String>,
    pub event_bus: Option<String>,
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup`, so that tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let data_dir = PathBuf::from(lookup("CASSIOPEE_DATA").unwrap_or_else(|| "data".into()));
        let outbox_dir = lookup("CASSIOPEE_OUTBOX")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("outbox"));
        let sender = lookup("CASSIOPEE_MAIL_FROM").unwrap_or_else(|| DEFAULT_SENDER.into());
        let in_lambda = lookup("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let bad = |name: &str, value: &str, allowed: &str| {
            DomainError::internal(format!("{name}={value:?} is not one of {allowed}"))
        };
        let store = match lookup("CASSIOPEE_STORE").as_deref() {
            Some("sqlite") => StoreChoice::Sqlite,
            Some("dynamodb") => StoreChoice::DynamoDb {
                table: required(&lookup, "CASSIOPEE_TABLE")?,
            },
            None if in_lambda => StoreChoice::DynamoDb {
                table: required(&lookup, "CASSIOPEE_TABLE")?,
            },
            None => StoreChoice::Sqlite,
            Some(other) => return Err(bad("CASSIOPEE_STORE", other, "sqlite, dynamodb")),
        };
        let mailer = match lookup("CASSIOPEE_MAILER").as_deref() {
            Some("outbox") => MailerChoice::Outbox,
            Some("ses") => MailerChoice::Ses,
            None if in_lambda => MailerChoice::Ses,
            None => MailerChoice::Outbox,
            Some(other) => return Err(bad("CASSIOPEE_MAILER", other, "outbox, ses")),
        };
        Ok(Self {
            data_dir,
            outbox_dir,
            sender,
            store,
            mailer,
            ses_configuration_set: lookup("CASSIOPEE_SES_CONFIGURATION_SET"),
            event_bus: lookup("CASSIOPEE_EVENT_BUS").filter(|b| !b.is_empty()),
        })
    }

    fn needs_aws(&self) -> bool {
        matches!(self.store, StoreChoice::DynamoDb { .. })
            || self.mailer == MailerChoice::Ses
            || self.event_bus.is_some()
    }
}

fn required(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Result<String> {
    lookup(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| DomainError::internal(format!("{name} must be set for this configuration")))
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

/// The store, mailer and publisher that `settings` name, with `clock`. Built once at cold
/// start; the AWS clients share one configuration (and one HTTP connection pool each).
pub async fn deps_for(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Deps> {
    let aws = if settings.needs_aws() {
        Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
    } else {
        None
    };
    let store: Arc<dyn Store> = match (&settings.store, &aws) {
        (StoreChoice::DynamoDb { table }, Some(aws)) => Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(aws),
            table.clone(),
        )),
        _ => Arc::new(SqliteStore::open(&settings.data_dir)?),
    };
    let mailer: Arc<dyn Mailer> = match (settings.mailer, &aws) {
        (MailerChoice::Ses, Some(aws)) => Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(aws),
            &settings.sender,
            settings.ses_configuration_set.clone(),
        )?),
        _ => Arc::new(OutboxMailer::new(&settings.outbox_dir, &settings.sender)?),
    };
    Ok(match (&settings.event_bus, &aws) {
        (Some(bus), Some(aws)) => Deps {
            store,
            mailer,
            clock,
            events: Arc::new(EventBridgePublisher::new(
                aws_sdk_eventbridge::Client::new(aws),
                bus.clone(),
            )),
        },
        _ => build_deps(store, mailer, clock),
    })
}

/// The dependencies of a deployed function, built once at cold start.
pub async fn function_deps() -> Result<Deps> {
    let settings = Settings::from_env()?;
    deps_for(&settings, Arc::new(SystemClock)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn outside_lambda_the_defaults_need_nothing_but_a_folder() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.store, StoreChoice::Sqlite);
        assert_eq!(s.mailer, MailerChoice::Outbox);
        assert_eq!(s.outbox_dir, PathBuf::from("data/outbox"));
        assert!(!s.needs_aws());
    }

    #[test]
    fn inside_lambda_the_table_must_be_named() {
        let e = settings(&[("AWS_LAMBDA_FUNCTION_NAME", "enrol")]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("CASSIOPEE_TABLE"));
        let s = settings(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "enrol"),
            ("CASSIOPEE_TABLE", "t"),
        ])
        .unwrap();
        assert_eq!(s.store, StoreChoice::DynamoDb { table: "t".into() });
        assert_eq!(s.mailer, MailerChoice::Ses);
    }

    #[test]
    fn an_unknown_store_is_refused_by_name() {
        let e = settings(&[("CASSIOPEE_STORE", "postgres")]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("CASSIOPEE_STORE"));
    }
}
