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
//! - `CASSIOPEE_CLOCK`: a date and time (Paris or RFC 3339) the clock starts from, then runs on;
//!   for local runs and tests on fixed demo data (`cargo lambda watch`, the local server). It is
//!   refused on AWS Lambda itself (where `AWS_EXECUTION_ENV` is set), so that no deployment can
//!   run on a shifted clock.
//! - `CASSIOPEE_PUBLIC_URL`: the address of the web app, which links and pointers in emails
//!   start with (default `http://127.0.0.1:8080` locally; required on Lambda).
//! - `CASSIOPEE_LINK_SECRET`: the secret that signs the one-time links in emails, at least 32
//!   bytes. Required on Lambda; locally, when unset, a random secret is generated once and kept
//!   in `<data>/link-secret`, so that links survive a restart.
//! - `CASSIOPEE_RETENTION_MONTHS`: how many months after the end of their accompaniment an
//!   officer's personal data are erased by compute-statistics' daily run (default 12, 1 to 240).
//! - The AWS SDK reads its own settings (`AWS_REGION`, `AWS_ENDPOINT_URL` for an emulator, …).

use async_trait::async_trait;
use cassiopee_adapters::{OutboxMailer, SettableClock, SystemClock};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::links::MIN_SECRET_LEN;
use cassiopee_domain::notices::NotifySettings;
use cassiopee_domain::ports::{Clock, DomainEvent, EventPublisher, Mailer, Store};
use cassiopee_domain::privacy::DEFAULT_RETENTION_MONTHS;
use cassiopee_domain::time::{Instant, parse_instant};
use cassiopee_domain::usecases::{self as uc, Deps};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Where the web app answers when it runs on this machine.
pub const LOCAL_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The file of the data folder that keeps the local link secret.
pub const LINK_SECRET_FILE: &str = "link-secret";

/// A secret value: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

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
    pub clock_start: Option<Instant>,
    /// The web app's address, without a trailing slash.
    pub public_url: String,
    /// `None` locally when `CASSIOPEE_LINK_SECRET` is unset: see [`notify_settings`].
    pub link_secret: Option<Secret>,
    pub retention_months: u32,
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
        let clock_start = match lookup("CASSIOPEE_CLOCK").filter(|v| !v.is_empty()) {
            None => None,
            Some(_) if lookup("AWS_EXECUTION_ENV").is_some_and(|e| e.starts_with("AWS_Lambda")) => {
                return Err(DomainError::internal(
                    "CASSIOPEE_CLOCK is for local runs only and is refused on AWS Lambda",
                ));
            }
            Some(raw) => Some(
                parse_instant(&raw)
                    .map_err(|e| DomainError::internal(format!("CASSIOPEE_CLOCK={raw:?}: {e}")))?,
            ),
        };
        let public_url = match lookup("CASSIOPEE_PUBLIC_URL").filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                url.trim_end_matches('/').to_string()
            }
            Some(url) => {
                return Err(DomainError::internal(format!(
                    "CASSIOPEE_PUBLIC_URL={url:?} must start with https:// or http://"
                )));
            }
            None if in_lambda => required(&lookup, "CASSIOPEE_PUBLIC_URL")?,
            None => LOCAL_PUBLIC_URL.to_string(),
        };
        let link_secret = match lookup("CASSIOPEE_LINK_SECRET").filter(|v| !v.is_empty()) {
            Some(raw) if raw.len() < MIN_SECRET_LEN => {
                return Err(DomainError::internal(format!(
                    "CASSIOPEE_LINK_SECRET is {} bytes long; it must hold at least \
                     {MIN_SECRET_LEN} (for instance `openssl rand -base64 48`)",
                    raw.len()
                )));
            }
            Some(raw) => Some(Secret(raw.into_bytes())),
            None if in_lambda => {
                required(&lookup, "CASSIOPEE_LINK_SECRET")?;
                None
            }
            None => None,
        };
        let retention_months = match lookup("CASSIOPEE_RETENTION_MONTHS").filter(|v| !v.is_empty())
        {
            None => DEFAULT_RETENTION_MONTHS,
            Some(raw) => match raw.trim().parse::<u32>() {
                Ok(m) if (1..=240).contains(&m) => m,
                _ => {
                    return Err(DomainError::internal(format!(
                        "CASSIOPEE_RETENTION_MONTHS={raw:?} must be a number of months \
                         from 1 to 240"
                    )));
                }
            },
        };
        Ok(Self {
            retention_months,
            clock_start,
            public_url,
            link_secret,
            data_dir,
            outbox_dir,
            sender,
            store,
            mailer,
            ses_configuration_set: lookup("CASSIOPEE_SES_CONFIGURATION_SET"),
            event_bus: lookup("CASSIOPEE_EVENT_BUS").filter(|b| !b.is_empty()),
        })
    }

    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
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

/// What the emails need: the app's address and the link secret. Without a secret in the
/// environment (a local run), the one kept in the data folder is used, or created there.
pub fn notify_settings(settings: &Settings) -> Result<NotifySettings> {
    let secret = match &settings.link_secret {
        Some(s) => s.expose().to_vec(),
        None => local_link_secret(&settings.data_dir)?,
    };
    Ok(NotifySettings {
        public_url: settings.public_url.clone(),
        link_secret: Some(secret),
        organizer: Default::default(),
    })
}

/// Reads `<data>/link-secret`, or writes a random one there on the first run.
fn local_link_secret(dir: &std::path::Path) -> Result<Vec<u8>> {
    let path = dir.join(LINK_SECRET_FILE);
    if let Ok(s) = std::fs::read(&path)
        && s.len() >= MIN_SECRET_LEN
    {
        return Ok(s);
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        DomainError::internal(format!("cannot create data folder {}: {e}", dir.display()))
    })?;
    // Four ULIDs give 320 random bits from the OS generator `ulid` draws on.
    let secret: Vec<u8> = (0..4)
        .flat_map(|_| ulid::Ulid::generate().0.to_le_bytes())
        .collect();
    std::fs::write(&path, &secret)
        .map_err(|e| DomainError::internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}

/// Delivers domain events inside this process, as the event bus and its rules do on AWS: the
/// promotions that freed or added seats call for, at once (promote-waitlist's work), and the
/// notices that changes queued, after the request has answered, on a sender thread of its own
/// (send-reminders' drain on a `NoticesQueued` event). Used by the local server and the tests,
/// and by a function deployed without an event bus.
#[derive(Default)]
pub struct InProcessBus {
    target: OnceLock<Target>,
}

struct Target {
    /// What promotions and the sender run with: they publish nothing back into this bus.
    deps: Deps,
    /// `None` when no thread could be started: the notices then go in the publishing call.
    sender: Option<NoticeSender>,
}

impl InProcessBus {
    /// Points the bus at the dependencies that promote-waitlist and the sender run with, and
    /// starts the sender. Those must not publish back into this bus, or a promotion could
    /// trigger itself.
    pub fn connect(&self, deps: Deps) {
        let sender = NoticeSender::start(deps.clone());
        let _ = self.target.set(Target { deps, sender });
    }
}

#[async_trait]
impl EventPublisher for InProcessBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
        let Some(target) = self.target.get() else {
            return Ok(());
        };
        // Every event is handled, a failed promotion included, so that the notices already
        // queued are sent whatever became of it; the first failure is answered.
        let mut queued = false;
        let mut failed = None;
        for event in events {
            queued |= matches!(event, DomainEvent::NoticesQueued);
            match uc::promote_on(&target.deps, event).await {
                Ok(promoted) => queued |= !promoted.is_empty(),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if queued {
            match &target.sender {
                Some(sender) => sender.wake(),
                None => {
                    uc::drain_outbox(&target.deps, uc::JOB_BUDGET).await;
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    async fn settle(&self) {
        if let Some(sender) = self.target.get().and_then(|t| t.sender.as_ref()) {
            sender.settle().await;
        }
    }
}

/// A thread that drains the outbox each time a change wakes it, on a runtime of its own, so
/// that the request which queued a notice neither renders nor sends it (nor pays for it in its
/// CPU time). Wakes that arrive during a drain are served by one more drain. The thread ends
/// when the bus is dropped.
struct NoticeSender {
    wake: tokio::sync::mpsc::UnboundedSender<u64>,
    /// Wakes asked so far, and the last one a finished drain served.
    asked: std::sync::atomic::AtomicU64,
    served: tokio::sync::watch::Receiver<u64>,
}

impl NoticeSender {
    fn start(deps: Deps) -> Option<Self> {
        let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let (served_tx, served) = tokio::sync::watch::channel(0);
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "no runtime for the notice sender; sending inline");
                return None;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("notice-sender".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(mut ticket) = woken.recv().await {
                        while let Ok(later) = woken.try_recv() {
                            ticket = ticket.max(later);
                        }
                        uc::drain_outbox(&deps, uc::JOB_BUDGET).await;
                        let _ = served_tx.send(ticket);
                    }
                })
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "no thread for the notice sender; sending inline");
            return None;
        }
        Some(Self {
            wake,
            asked: Default::default(),
            served,
        })
    }

    fn wake(&self) {
        let ticket = self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if self.wake.send(ticket).is_err() {
            tracing::error!("the notice sender has stopped; the sweep will send the notices");
        }
    }

    /// Waits until a drain begun after the last wake has finished (at once if the thread has
    /// stopped).
    async fn settle(&self) {
        let asked = self.asked.load(std::sync::atomic::Ordering::SeqCst);
        let mut served = self.served.clone();
        let _ = served.wait_for(|s| *s >= asked).await;
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

/// Refuses every event: what a function that publishes none runs with when no event bus is
/// named, so that its binary links no promotion code (see [`build_deps_without_events`]).
struct NoPublishing;

#[async_trait]
impl EventPublisher for NoPublishing {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
        match events {
            [] => Ok(()),
            _ => Err(DomainError::internal(
                "this function publishes no domain event, yet it tried to",
            )),
        }
    }
}

/// How the dependencies are wired when no event bus is named: [`build_deps`] delivers the
/// events to promote-waitlist in process; [`build_deps_without_events`] refuses them.
pub type Unbused = fn(Arc<dyn Store>, Arc<dyn Mailer>, Arc<dyn Clock>, NotifySettings) -> Deps;

/// Wires the use cases for a function that publishes no event (list-sessions): as
/// [`build_deps`], but an event would be refused instead of delivered in process.
pub fn build_deps_without_events(
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    notify: NotifySettings,
) -> Deps {
    Deps {
        store,
        mailer,
        clock,
        events: Arc::new(NoPublishing),
        notify,
        retention_months: DEFAULT_RETENTION_MONTHS,
        answers: Default::default(),
    }
}

/// Wires the use cases on the embedded store, with events delivered in process.
pub fn build_deps(
    store: Arc<dyn Store>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    notify: NotifySettings,
) -> Deps {
    let bus = Arc::new(InProcessBus::default());
    let inner = Deps {
        store: store.clone(),
        mailer: mailer.clone(),
        clock: clock.clone(),
        events: Arc::new(NoEvents),
        notify: notify.clone(),
        retention_months: DEFAULT_RETENTION_MONTHS,
        answers: Default::default(),
    };
    bus.connect(inner);
    Deps {
        store,
        mailer,
        clock,
        events: bus,
        notify,
        retention_months: DEFAULT_RETENTION_MONTHS,
        answers: Default::default(),
    }
}

/// The store, mailer and publisher that `settings` name, with `clock`. Built once at cold
/// start; the AWS clients share one configuration (and one HTTP connection pool each).
///
/// A binary links only the adapters of its cargo features: asking for a store it was built
/// without fails here, at cold start, naming the feature. A mailer or an event bus it was built
/// without is replaced by a port that refuses every call, so that a read-only function (which
/// sends and publishes nothing) needs neither client; should it ever try, the notice stays
/// queued for a function that can send it, and the refusal is logged.
pub async fn deps_for(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Deps> {
    deps_with(settings, clock, build_deps).await
}

/// As [`deps_for`], with `unbused` wiring the use cases when no event bus is named.
pub async fn deps_with(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    unbused: Unbused,
) -> Result<Deps> {
    let aws = AwsShared::load(settings).await;
    let notify = notify_settings(settings)?;
    let store = open_store(settings, &aws)?;
    let mailer = open_mailer(settings, &aws)?;
    let mut deps = match open_publisher(settings, &aws)? {
        Some(events) => Deps {
            store,
            mailer,
            clock,
            events,
            notify,
            retention_months: DEFAULT_RETENTION_MONTHS,
            answers: Default::default(),
        },
        None => unbused(store, mailer, clock, notify),
    };
    deps.retention_months = settings.retention_months;
    Ok(deps)
}

/// The AWS SDK configuration, loaded once when some adapter needs it.
struct AwsShared {
    #[cfg(feature = "aws")]
    config: Option<aws_config::SdkConfig>,
}

impl AwsShared {
    async fn load(settings: &Settings) -> Self {
        #[cfg(feature = "aws")]
        {
            let config = if settings.needs_aws() {
                Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
            } else {
                None
            };
            Self { config }
        }
        #[cfg(not(feature = "aws"))]
        {
            let _ = settings;
            Self {}
        }
    }

    #[cfg(feature = "aws")]
    fn config(&self) -> Result<&aws_config::SdkConfig> {
        self.config
            .as_ref()
            .ok_or_else(|| DomainError::internal("the AWS configuration was not loaded"))
    }
}

#[cfg(not(all(
    feature = "sqlite",
    feature = "dynamodb",
    feature = "ses",
    feature = "eventbridge"
)))]
fn built_without(what: &str, feature: &str) -> DomainError {
    DomainError::internal(format!(
        "{what} needs the `{feature}` cargo feature, which this binary was built without"
    ))
}

fn open_store(settings: &Settings, aws: &AwsShared) -> Result<Arc<dyn Store>> {
    match &settings.store {
        StoreChoice::Sqlite => sqlite_store(settings),
        StoreChoice::DynamoDb { table } => dynamodb_store(aws, table),
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_store(settings: &Settings) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(cassiopee_sqlite::SqliteStore::open(
        &settings.data_dir,
    )?))
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_store(_: &Settings) -> Result<Arc<dyn Store>> {
    Err(built_without("CASSIOPEE_STORE=sqlite", "sqlite"))
}

#[cfg(feature = "dynamodb")]
fn dynamodb_store(aws: &AwsShared, table: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(cassiopee_dynamodb::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(aws.config()?),
        table.to_string(),
    )))
}

#[cfg(not(feature = "dynamodb"))]
fn dynamodb_store(_: &AwsShared, _: &str) -> Result<Arc<dyn Store>> {
    Err(built_without("CASSIOPEE_STORE=dynamodb", "dynamodb"))
}

fn open_mailer(settings: &Settings, aws: &AwsShared) -> Result<Arc<dyn Mailer>> {
    match settings.mailer {
        MailerChoice::Outbox => Ok(Arc::new(OutboxMailer::new(
            &settings.outbox_dir,
            &settings.sender,
        )?)),
        MailerChoice::Ses => ses_mailer(settings, aws),
    }
}

#[cfg(feature = "ses")]
fn ses_mailer(settings: &Settings, aws: &AwsShared) -> Result<Arc<dyn Mailer>> {
    Ok(Arc::new(cassiopee_aws::SesMailer::new(
        aws_sdk_sesv2::Client::new(aws.config()?),
        &settings.sender,
        settings.ses_configuration_set.clone(),
    )?))
}

#[cfg(not(feature = "ses"))]
fn ses_mailer(_: &Settings, _: &AwsShared) -> Result<Arc<dyn Mailer>> {
    Ok(Arc::new(Refusing("the SES mailer", "ses")))
}

/// `None`: no bus is named, events go to promote-waitlist in process.
fn open_publisher(settings: &Settings, aws: &AwsShared) -> Result<Option<Arc<dyn EventPublisher>>> {
    match &settings.event_bus {
        Some(bus) => eventbridge_publisher(aws, bus).map(Some),
        None => Ok(None),
    }
}

#[cfg(feature = "eventbridge")]
fn eventbridge_publisher(aws: &AwsShared, bus: &str) -> Result<Arc<dyn EventPublisher>> {
    Ok(Arc::new(cassiopee_aws::EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(aws.config()?),
        bus,
    )))
}

#[cfg(not(feature = "eventbridge"))]
fn eventbridge_publisher(_: &AwsShared, _: &str) -> Result<Arc<dyn EventPublisher>> {
    Ok(Arc::new(Refusing(
        "the EventBridge publisher",
        "eventbridge",
    )))
}

/// Stands for an adapter this binary was built without: every call fails, naming the feature.
#[cfg(not(all(feature = "ses", feature = "eventbridge")))]
struct Refusing(&'static str, &'static str);

#[cfg(not(feature = "ses"))]
#[async_trait]
impl Mailer for Refusing {
    async fn send(
        &self,
        _email: &cassiopee_domain::notices::OutgoingEmail,
        _notice: Option<i64>,
    ) -> Result<Option<String>> {
        Err(built_without(self.0, self.1))
    }
}

#[cfg(not(feature = "eventbridge"))]
#[async_trait]
impl EventPublisher for Refusing {
    async fn publish(&self, _events: &[DomainEvent]) -> Result<()> {
        Err(built_without(self.0, self.1))
    }
}

/// The dependencies of a deployed function, built once at cold start; `unbused` wires them when
/// no event bus is named (see [`deps_with`]).
pub async fn function_deps(unbused: Unbused) -> Result<Deps> {
    let settings = Settings::from_env()?;
    let clock: Arc<dyn Clock> = match settings.clock_start {
        Some(start) => {
            let clock = SettableClock::default();
            clock.set(start);
            Arc::new(clock)
        }
        None => Arc::new(SystemClock),
    };
    deps_with(&settings, clock, unbused).await
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
            ("CASSIOPEE_PUBLIC_URL", "https://cassiopee.example"),
            ("CASSIOPEE_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(s.store, StoreChoice::DynamoDb { table: "t".into() });
        assert_eq!(s.mailer, MailerChoice::Ses);
    }

    #[test]
    fn a_start_time_for_the_clock_is_taken_locally_and_refused_on_aws() {
        let s = settings(&[("CASSIOPEE_CLOCK", "2026-12-03T10:00")]).unwrap();
        assert_eq!(
            s.clock_start.map(|t| t.to_rfc3339()),
            Some("2026-12-03T09:00:00+00:00".to_string())
        );
        let e = settings(&[("CASSIOPEE_CLOCK", "03/12/2026")]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("CASSIOPEE_CLOCK"));
        let e = settings(&[
            ("CASSIOPEE_CLOCK", "2026-12-03T10:00"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ])
        .unwrap_err();
        assert!(
            e.cause
                .unwrap_or_default()
                .contains("refused on AWS Lambda")
        );
    }

    #[test]
    fn locally_links_point_to_this_machine_and_the_secret_is_kept_in_the_data_folder() {
        let dir = std::env::temp_dir().join(format!("cassiopee-cfg-{}", ulid::Ulid::generate()));
        let data = dir.to_string_lossy().into_owned();
        let s = settings(&[("CASSIOPEE_DATA", &data)]).unwrap();
        assert_eq!(s.public_url, LOCAL_PUBLIC_URL);
        assert_eq!(s.link_secret, None);
        let first = notify_settings(&s).unwrap();
        let again = notify_settings(&s).unwrap();
        let secret = first.link_secret.clone().expect("a secret");
        assert!(secret.len() >= MIN_SECRET_LEN);
        assert_eq!(again.link_secret, Some(secret));
        assert!(dir.join(LINK_SECRET_FILE).exists());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn inside_lambda_the_public_url_and_a_long_enough_secret_are_required() {
        let base = [
            ("AWS_LAMBDA_FUNCTION_NAME", "enrol"),
            ("CASSIOPEE_TABLE", "t"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            settings(&vars)
        };
        let e = with(&[("CASSIOPEE_LINK_SECRET", "0123456789abcdef0123456789abcdef")]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("CASSIOPEE_PUBLIC_URL"));
        let e = with(&[("CASSIOPEE_PUBLIC_URL", "https://cassiopee.example")]).unwrap_err();
        assert!(
            e.cause
                .unwrap_or_default()
                .contains("CASSIOPEE_LINK_SECRET")
        );
        let e = with(&[
            ("CASSIOPEE_PUBLIC_URL", "https://cassiopee.example"),
            ("CASSIOPEE_LINK_SECRET", "too short"),
        ])
        .unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("at least 32"));
        let s = with(&[
            ("CASSIOPEE_PUBLIC_URL", "https://cassiopee.example/"),
            ("CASSIOPEE_LINK_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap();
        assert_eq!(s.public_url, "https://cassiopee.example");
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
        let notify = notify_settings(&s).unwrap();
        assert_eq!(
            notify.link_secret.as_deref(),
            Some(&b"0123456789abcdef0123456789abcdef"[..])
        );
        let e = settings(&[("CASSIOPEE_PUBLIC_URL", "cassiopee.example")]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("https://"));
    }

    #[test]
    fn an_unknown_store_is_refused_by_name() {
        let e = settings(&[("CASSIOPEE_STORE", "postgres")]).unwrap_err();
        assert!(e.cause.unwrap_or_default().contains("CASSIOPEE_STORE"));
    }
}
