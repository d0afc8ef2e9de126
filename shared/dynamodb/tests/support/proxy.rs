//! A loopback HTTP/1.1 reverse proxy between the SDK and the emulator, which answers chosen
//! requests with the faults DynamoDB produces, instead of forwarding them or after.
//!
//! Requests are told apart by the operation their `X-Amz-Target` names
//! (`DynamoDB_20120810.TransactWriteItems` is `TransactWriteItems`). Each rule of the plan
//! covers the next `n` requests of one operation, or all of them; a request takes the first
//! rule that covers it and spends one of its uses. Every request is recorded, with its arrival
//! time and the fault it met, so that a test can count attempts and measure the waits between
//! them.
//!
//! hyper serves and forwards; each forwarded request goes on a connection of its own to the
//! emulator, so that a lost answer never leaves a half-read connection behind.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the proxy does to a request instead of simply forwarding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A `TransactionCanceledException` whose first item is cancelled for a
    /// `TransactionConflict` and the others for nothing (`None`), as DynamoDB answers when
    /// another transaction holds one of the items. The emulator never sees the request.
    Conflict,
    /// A `ThrottlingException` (HTTP 400). The emulator never sees the request.
    Throttling,
    /// A `ProvisionedThroughputExceededException` (HTTP 400). The emulator never sees the
    /// request.
    ThroughputExceeded,
    /// Forwarded and applied by the emulator, whose whole answer is read; then the connection
    /// is closed before a byte of it is written back, as when an answer is lost on the way.
    /// The SDK reads this as an incomplete message, a transient error it retries.
    LostResponse,
}

/// One request as the proxy received it.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub operation: String,
    pub at: Instant,
    pub fault: Option<Fault>,
}

struct Rule {
    operation: String,
    fault: Fault,
    /// Uses left; `None` for a rule that never runs out.
    left: Option<u32>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    arrivals: Vec<Arrival>,
}

impl State {
    /// Records a request and answers the fault it is to meet, spending one use of its rule.
    fn arrive(&mut self, operation: &str) -> Option<Fault> {
        let fault = self
            .rules
            .iter_mut()
            .find(|r| r.operation == operation)
            .map(|r| {
                if let Some(left) = r.left.as_mut() {
                    *left -= 1;
                }
                r.fault
            });
        self.rules.retain(|r| r.left != Some(0));
        self.arrivals.push(Arrival {
            operation: operation.to_string(),
            at: Instant::now(),
            fault,
        });
        fault
    }
}

/// The proxy, serving until it is dropped.
pub struct Proxy {
    endpoint: String,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Dropping the server task drops its set of connections, which aborts them too.
        self.server.abort();
    }
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1 (an ephemeral port) in front of `upstream`, an
    /// `http://host:port` endpoint, with an empty plan: until told otherwise, it forwards.
    pub async fn start(upstream: &str) -> Proxy {
        let uri: hyper::Uri = upstream.parse().expect("upstream endpoint");
        let authority = uri.authority().expect("upstream host and port").as_str();
        let upstream = tokio::net::lookup_host(authority)
            .await
            .expect("upstream address")
            .next()
            .expect("an upstream address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let state = Arc::new(Mutex::new(State::default()));
        let server = tokio::spawn(serve(listener, upstream, state.clone()));
        Proxy {
            endpoint,
            state,
            server,
        }
    }

    /// Where to point the SDK.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next `n` requests of `operation` meet `fault`.
    pub fn next(&self, operation: &str, n: u32, fault: Fault) {
        if n > 0 {
            self.state().rules.push(Rule {
                operation: operation.to_string(),
                fault,
                left: Some(n),
            });
        }
    }

    /// Every request of `operation` meets `fault`, until [`heal`](Self::heal).
    pub fn always(&self, operation: &str, fault: Fault) {
        self.state().rules.push(Rule {
            operation: operation.to_string(),
            fault,
            left: None,
        });
    }

    /// Empties the plan: from now on, everything is forwarded.
    pub fn heal(&self) {
        self.state().rules.clear();
    }

    /// The requests of `operation` received so far, in arrival order.
    pub fn arrivals(&self, operation: &str) -> Vec<Arrival> {
        self.state()
            .arrivals
            .iter()
            .filter(|a| a.operation == operation)
            .cloned()
            .collect()
    }

    /// How many requests of `operation` were received so far.
    pub fn count(&self, operation: &str) -> usize {
        self.arrivals(operation).len()
    }

    /// How many requests of `operation` met `fault`.
    pub fn faulted(&self, operation: &str, fault: Fault) -> usize {
        self.arrivals(operation)
            .iter()
            .filter(|a| a.fault == Some(fault))
            .count()
    }
}

async fn serve(listener: TcpListener, upstream: SocketAddr, state: Arc<Mutex<State>>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        connections.spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(request, upstream, state.clone()));
            // A lost answer ends its connection with the service's error: that is the point.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn handle(
    request: Request<Incoming>,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|target| target.rsplit_once('.'))
        .map(|(_, operation)| operation.to_string())
        .unwrap_or_default();
    let fault = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .arrive(&operation);
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    match fault {
        None => forward(Request::from_parts(parts, Full::new(body)), upstream).await,
        Some(Fault::Conflict) => Ok(error_response(conflict(&body))),
        Some(Fault::Throttling) => Ok(error_response(throttled(
            "ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        ))),
        Some(Fault::ThroughputExceeded) => Ok(error_response(throttled(
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        ))),
        Some(Fault::LostResponse) => {
            forward(Request::from_parts(parts, Full::new(body)), upstream).await?;
            Err("the answer is lost on purpose".into())
        }
    }
}

/// Sends one request to the emulator on a fresh connection and reads the whole answer.
async fn forward(
    request: Request<Full<Bytes>>,
    upstream: SocketAddr,
) -> Result<Response<Full<Bytes>>, BoxError> {
    let stream = TcpStream::connect(upstream).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    drop(sender);
    connection.abort();
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn error_response(body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_static("cassiopee-faults"),
    );
    response
}

fn throttled(error: &str, message: &str) -> String {
    serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{error}"),
        "message": message,
    })
    .to_string()
}

/// A cancellation with one reason per item of the request, in its order.
fn conflict(request: &[u8]) -> String {
    let items = serde_json::from_slice::<serde_json::Value>(request)
        .ok()
        .and_then(|v| {
            v.get("TransactItems")
                .and_then(|i| i.as_array())
                .map(Vec::len)
        })
        .unwrap_or(1)
        .max(1);
    let mut reasons = vec![serde_json::json!({
        "Code": "TransactionConflict",
        "Message": "Transaction is ongoing for the item",
    })];
    reasons.extend((1..items).map(|_| serde_json::json!({ "Code": "None" })));
    let codes = std::iter::once("TransactionConflict")
        .chain((1..items).map(|_| "None"))
        .collect::<Vec<_>>()
        .join(", ");
    serde_json::json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Message": format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons \
             [{codes}]"
        ),
        "CancellationReasons": reasons,
    })
    .to_string()
}
