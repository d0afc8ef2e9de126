//! The emulator: moto's server, single-threaded, over HTTP.
//!
//! `CASSIOPEE_MOTO_ENDPOINT` names a running one. Without it, the first test to need it starts
//! `scripts/moto_server.py` on a free port, once per test process, with a watchdog: the
//! server exits when its stdin (a pipe this process holds) closes or when it is orphaned, so it
//! never outlives the tests. If neither is possible, tests fail when `CI=true` and are skipped
//! with a loud line on stderr otherwise.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_dynamodb::types::ConsumedCapacity;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

static ENDPOINT: OnceLock<Option<String>> = OnceLock::new();
/// The server we started, kept (with its stdin pipe) for the life of the process.
static SERVER: OnceLock<Mutex<Child>> = OnceLock::new();

/// Runs the repository's script with a watchdog thread around it.
const LAUNCHER: &str = r#"
import logging, os, sys, threading, time
scripts, port = sys.argv[1], sys.argv[2]
parent = os.getppid()
def stdin_closed():
    sys.stdin.buffer.read()
    os._exit(0)
def orphaned():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=stdin_closed, daemon=True).start()
threading.Thread(target=orphaned, daemon=True).start()
logging.getLogger("werkzeug").setLevel(logging.ERROR)
sys.path.insert(0, scripts)
sys.argv = ["moto_server.py", port]
import moto_server
moto_server.main()
"#;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn start() -> Result<String, String> {
    let python = std::env::var_os("CASSIOPEE_MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    if !python.exists() {
        return Err(format!(
            "no Python at {} (run scripts/aws-tools.sh, or set CASSIOPEE_MOTO_ENDPOINT)",
            python.display()
        ));
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let log_path = std::env::temp_dir().join(format!("cassiopee-moto-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(LAUNCHER)
        .arg(workspace().join("scripts"))
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("moto exited ({status}): {log}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err("moto did not listen within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = SERVER.set(Mutex::new(child));
    Ok(format!("http://127.0.0.1:{port}"))
}

/// The emulator's endpoint, or `None` when the DynamoDB tests are to be skipped.
pub fn endpoint() -> Option<String> {
    ENDPOINT
        .get_or_init(|| {
            if let Some(e) = std::env::var("CASSIOPEE_MOTO_ENDPOINT")
                .ok()
                .filter(|e| !e.is_empty())
            {
                return Some(e);
            }
            match start() {
                Ok(e) => Some(e),
                Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
                    panic!("the DynamoDB emulator is required in CI: {why}")
                }
                Err(why) => {
                    skipped(&why);
                    None
                }
            }
        })
        .clone()
}

/// Straight to the process's stderr: the test harness captures `eprintln!`, not this.
pub fn skipped(why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n**************************************************************\n\
         SKIPPED: DynamoDB store tests, no emulator: {why}\n\
         **************************************************************"
    );
}

/// What the store sent, and transaction conflicts to answer instead of sending.
#[derive(Debug, Default)]
pub struct Wiretap {
    /// `TransactWriteItems` calls still to answer with a `TransactionConflict` cancellation.
    pub conflicts: AtomicU32,
    /// The `X-Amz-Target` of every request sent, in order.
    pub operations: Mutex<Vec<String>>,
    /// The capacity of every request sent, in the same order as `operations`.
    pub capacity: Mutex<Vec<Spent>>,
}

/// What one request said of its consumed capacity.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spent {
    /// The request asked for it (`ReturnConsumedCapacity=TOTAL`).
    pub asked: bool,
    /// The capacity units its answer reported, if it reported any. moto's figures are fixed
    /// per operation (0.5 a GetItem, 1 a Query, one per key of a BatchGetItem) and its
    /// `TransactWriteItems` reports none: they are not DynamoDB's.
    pub units: Option<f64>,
}

impl Wiretap {
    pub fn capacity(&self) -> Vec<Spent> {
        self.capacity.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn operations(&self) -> Vec<String> {
        self.operations
            .lock()
            .map(|o| o.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct Tap(Arc<Wiretap>);

const CONFLICT: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}"#;
/// Marks, in the operation's config bag, a request whose answer is to be replaced: the
/// request itself is gone by the time the answer is read.
#[derive(Clone, Debug)]
struct Faulted;

impl Storable for Faulted {
    type Storer = StoreReplace<Self>;
}

/// The place of a request in `Wiretap::operations`, to file its answer's capacity under.
#[derive(Clone, Debug)]
struct Sent(usize);

impl Storable for Sent {
    type Storer = StoreReplace<Self>;
}

/// The capacity units an answer reported, summed (`None` when it reported none).
fn total<'a>(c: impl IntoIterator<Item = &'a ConsumedCapacity>) -> Option<f64> {
    let units: Vec<f64> = c.into_iter().filter_map(|c| c.capacity_units()).collect();
    (!units.is_empty()).then(|| units.iter().sum())
}

/// The capacity units of an answer, from the output of whichever operation it is.
macro_rules! units_of {
    ($output:expr, $($module:ident::$ty:ident),+) => {{
        let mut units = None;
        $(
            if let Some(o) = $output.downcast_ref::<aws_sdk_dynamodb::operation::$module::$ty>() {
                units = total(o.consumed_capacity());
            }
        )+
        units
    }};
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for Tap {
    fn name(&self) -> &'static str {
        "cassiopee-wiretap"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let target = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_string();
        let asked = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .is_some_and(|v| v["ReturnConsumedCapacity"] == "TOTAL");
        if let (Ok(mut ops), Ok(mut capacity)) = (self.0.operations.lock(), self.0.capacity.lock())
        {
            cfg.interceptor_state().store_put(Sent(ops.len()));
            ops.push(target.clone());
            capacity.push(Spent { asked, units: None });
        }
        let inject = target.ends_with(".TransactWriteItems")
            && self
                .0
                .conflicts
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if inject {
            // Send something harmless in its place; the answer is replaced below.
            request
                .headers_mut()
                .insert("x-amz-target", "DynamoDB_20120810.ListTables");
            request.headers_mut().insert("content-length", "2");
            *request.body_mut() = SdkBody::from("{}");
            cfg.interceptor_state().store_put(Faulted);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Faulted>().is_some() {
            cfg.interceptor_state().unset::<Faulted>();
            let response = context.response_mut();
            *response.status_mut() = 400u16.try_into()?;
            response
                .headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            response
                .headers_mut()
                .insert("content-length", CONFLICT.len().to_string());
            response.headers_mut().remove("x-amz-crc32");
            *response.body_mut() = SdkBody::from(CONFLICT);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Sent(at)) = cfg.load::<Sent>().cloned() else {
            return Ok(());
        };
        let units = match context.output_or_error() {
            Some(Ok(output)) => units_of!(
                output,
                query::QueryOutput,
                get_item::GetItemOutput,
                batch_get_item::BatchGetItemOutput,
                transact_write_items::TransactWriteItemsOutput,
                put_item::PutItemOutput,
                update_item::UpdateItemOutput,
                delete_item::DeleteItemOutput
            ),
            _ => None,
        };
        if let Ok(mut capacity) = self.0.capacity.lock()
            && let Some(spent) = capacity.get_mut(at)
        {
            spent.units = units;
        }
        Ok(())
    }
}

/// A client of the emulator, as the Lambda functions build theirs, plus a wiretap.
pub fn client(endpoint: &str, tap: Arc<Wiretap>) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-3"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "cassiopee-tests",
        ))
        // The single-threaded server queues connections: under a storm, connecting waits.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(120))
                .build(),
        )
        .interceptor(Tap(tap))
        .build();
    Client::from_conf(config)
}
