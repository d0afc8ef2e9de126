//! Start → first response of each Lambda bootstrap, and warm invoke latency, through a local
//! stand-in for the Lambda Runtime API (the HTTP interface a bootstrap polls for work).
//!
//! ```sh
//! cargo run --release -p cassiopee-bench --bin cold-start -- \
//!     <lambda-dir> [starts] [warm] [no-store]
//! ```
//!
//! `no-store` runs only the event answered before any store call.
//!
//! `<lambda-dir>` holds `<function>/bootstrap` (what `scripts/build-lambdas.sh --x86-64`
//! writes). The functions' environment is this process's (`AWS_ENDPOINT_URL`,
//! `CASSIOPEE_TABLE`, …: `scripts/bench.sh` points them at a seeded emulator table).
//!
//! For each function, `starts` times (default 30): spawn the bootstrap, hand it one event, stop
//! the clock when its response arrives, then hand it `warm` more events (default 50) and time
//! each from hand-over to response. Two events per HTTP function: a route of another function
//! (answered 404 before any store call: process start, SDK set-up and runtime only) and its
//! sample event from `events/` (one or more calls to the emulator included). Job functions run
//! their sample event only. The stand-in sets TCP_NODELAY on every connection.
//!
//! With `CASSIOPEE_BENCH_FORMAT=json` it prints one JSON object per line instead of its table:
//! one per function and event measured (figures in ms), and one with a `skipped` reason per
//! function not measured (no bootstrap; a job under `no-store`, which has no event answered
//! before a store call). `scripts/bench.py report` reads them.

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use cassiopee_bench::{json_lines, ms, ms_value, percentile};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// One invocation waiting to be handed over or answered.
struct Invocation {
    id: String,
    event: Vec<u8>,
}

#[derive(Clone)]
struct RuntimeApi {
    next: Arc<tokio::sync::Mutex<mpsc::Receiver<Invocation>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
}

struct Answer {
    at: Instant,
    ok: bool,
    body: Vec<u8>,
}

async fn next_invocation(State(api): State<RuntimeApi>) -> Response {
    let invocation = api.next.lock().await.recv().await;
    let Some(inv) = invocation else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    for (name, value) in [
        ("lambda-runtime-aws-request-id", inv.id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:eu-west-3:000000000000:function:bench".to_string(),
        ),
        ("lambda-runtime-trace-id", format!("Root=1-{}", inv.id)),
        ("content-type", "application/json".to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    (StatusCode::OK, headers, inv.event).into_response()
}

fn answer(api: &RuntimeApi, id: &str, ok: bool, body: Vec<u8>) -> StatusCode {
    let at = Instant::now();
    let waiter = api.waiting.lock().ok().and_then(|mut w| w.remove(id));
    if let Some(tx) = waiter {
        let _ = tx.send(Answer { at, ok, body });
    }
    StatusCode::ACCEPTED
}

async fn response(
    State(api): State<RuntimeApi>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    answer(&api, &id, true, body.to_vec())
}

async fn error(
    State(api): State<RuntimeApi>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    answer(&api, &id, false, body.to_vec())
}

async fn init_error(body: axum::body::Bytes) -> StatusCode {
    eprintln!("init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

/// A stand-in whose invocations come from `submit`.
struct StandIn {
    addr: String,
    tx: mpsc::Sender<Invocation>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    counter: std::sync::atomic::AtomicU64,
}

impl StandIn {
    async fn start() -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel(16);
        let waiting = Arc::new(Mutex::new(HashMap::new()));
        let api = RuntimeApi {
            next: Arc::new(tokio::sync::Mutex::new(rx)),
            waiting: waiting.clone(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            tx,
            waiting,
            counter: Default::default(),
        })
    }

    /// Queues `event` and waits for its answer.
    async fn invoke(&self, event: &[u8]) -> anyhow::Result<(Instant, Answer)> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("bench-{n}");
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .insert(id.clone(), tx);
        let handed = Instant::now();
        self.tx
            .send(Invocation {
                id,
                event: event.to_vec(),
            })
            .await
            .context("stand-in closed")?;
        let answer = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .context("no answer within 30 s")??;
        Ok((handed, answer))
    }
}

struct Figures {
    cold: Vec<Duration>,
    warm: Vec<Duration>,
    statuses: Vec<String>,
}

/// What an answer says: the HTTP status of an HTTP function, `ok`/`error` for a job.
fn outcome(a: &Answer) -> String {
    if !a.ok {
        return "error".into();
    }
    match serde_json::from_slice::<serde_json::Value>(&a.body) {
        Ok(v) => v
            .get("statusCode")
            .map(|s| s.to_string())
            .unwrap_or_else(|| "ok".into()),
        Err(_) => "?".into(),
    }
}

async fn measure(
    stand_in: &StandIn,
    bootstrap: &std::path::Path,
    function: &str,
    event: &[u8],
    starts: usize,
    warm: usize,
) -> anyhow::Result<Figures> {
    let mut figures = Figures {
        cold: Vec::new(),
        warm: Vec::new(),
        statuses: Vec::new(),
    };
    for _ in 0..starts {
        let spawned = Instant::now();
        let mut child = tokio::process::Command::new(bootstrap)
            .env("AWS_LAMBDA_RUNTIME_API", &stand_in.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_LOG_LEVEL", "warn")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("_HANDLER", "bootstrap")
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", bootstrap.display()))?;
        let (_, first) = stand_in.invoke(event).await?;
        figures.cold.push(first.at - spawned);
        figures.statuses.push(outcome(&first));
        for _ in 0..warm {
            let (handed, a) = stand_in.invoke(event).await?;
            figures.warm.push(a.at - handed);
        }
        child.kill().await.ok();
    }
    Ok(figures)
}

fn event_file(function: &str) -> String {
    format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"))
}

/// A request of another function's route: answered 404 by the router, before any store call.
fn foreign_route(function: &str) -> anyhow::Result<Vec<u8>> {
    let other = if function == "list-sessions" {
        "officer-profile"
    } else {
        "list-sessions"
    };
    Ok(std::fs::read(event_file(other))?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        bail!("usage: cold-start <lambda-dir> [starts] [warm] [no-store]");
    };
    let starts: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(30);
    let warm: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(50);
    let no_store_only = args.get(4).is_some_and(|a| a == "no-store");
    let stand_in = StandIn::start().await?;
    let http = cassiopee_api::routes::Function::ALL
        .iter()
        .filter(|f| {
            cassiopee_api::routes::ROUTES
                .iter()
                .any(|r| r.function == **f)
        })
        .map(|f| f.name())
        .collect::<Vec<_>>();

    let json = json_lines();
    let skipped = |function: &str, why: String| {
        let line = serde_json::json!({"bench": "cold-start", "function": function, "skipped": why});
        println!("{line}");
    };
    if !json {
        println!(
            "{:<20} {:<14} {:>6} {:>10} {:>10} {:>10} {:>10}  answers",
            "function", "event", "starts", "start p50", "start p95", "warm p50", "warm p95"
        );
        println!(
            "{:<20} {:<14} {:>6} {:>10} {:>10} {:>10} {:>10}",
            "", "", "", "ms", "ms", "ms", "ms"
        );
    }
    for function in cassiopee_api::routes::Function::ALL
        .iter()
        .map(|f| f.name())
    {
        let bootstrap = std::path::Path::new(dir).join(function).join("bootstrap");
        if !bootstrap.exists() {
            // Iterating on one function builds only its bootstrap.
            if json {
                skipped(function, format!("no bootstrap at {}", bootstrap.display()));
                continue;
            }
            println!(
                "{function:<20} no bootstrap at {}: skipped",
                bootstrap.display()
            );
            continue;
        }
        let mut cases = Vec::new();
        if http.contains(&function) {
            cases.push(("404, no store", foreign_route(function)?));
        }
        let sample = if function == "promote-waitlist" {
            std::fs::read(event_file("promote-waitlist"))?
        } else {
            std::fs::read(event_file(function))?
        };
        if !no_store_only {
            cases.push(("sample, moto", sample));
        }
        if cases.is_empty() && json {
            skipped(
                function,
                "a job: no event answered before a store call".into(),
            );
        }
        for (label, event) in cases {
            let f = measure(&stand_in, &bootstrap, function, &event, starts, warm).await?;
            let mut answers = f.statuses.clone();
            answers.sort();
            answers.dedup();
            if json {
                let line = serde_json::json!({
                    "bench": "cold-start",
                    "function": function,
                    "event": label,
                    "starts": f.cold.len(),
                    "start_p50_ms": ms_value(percentile(&f.cold, 50.0)),
                    "start_p95_ms": ms_value(percentile(&f.cold, 95.0)),
                    "warm_p50_ms": ms_value(percentile(&f.warm, 50.0)),
                    "warm_p95_ms": ms_value(percentile(&f.warm, 95.0)),
                    "answers": answers,
                });
                println!("{line}");
                continue;
            }
            println!(
                "{:<20} {:<14} {:>6} {:>10} {:>10} {:>10} {:>10}  {}",
                function,
                label,
                f.cold.len(),
                ms(percentile(&f.cold, 50.0)),
                ms(percentile(&f.cold, 95.0)),
                ms(percentile(&f.warm, 50.0)),
                ms(percentile(&f.warm, 95.0)),
                answers.join(",")
            );
        }
    }
    Ok(())
}
