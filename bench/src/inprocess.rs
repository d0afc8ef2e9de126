//! Requests served in process, as the Lambda runtime hands them to a function: the local
//! server's deps on the embedded store with the demo data, an officer's claims, and each
//! request's API Gateway event as the JSON the Runtime API delivers, decoded on every serve.
//! Shared by the `handler-cpu` binary and the criterion benches.

use cassiopee_api::config::Settings;
use cassiopee_api::routes::{Function, Lookup, lookup};
use cassiopee_local::gateway::api_gateway_request;
use cassiopee_local::{Local, seed};
use cpu_time::ThreadTime;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The local deps on a store of their own, seeded with the demo data, the clock set to
/// 1 December 2026, and the requests the benchmarks serve.
pub struct Fixture {
    pub local: Local,
    dir: PathBuf,
    pub list: Prepared,
    pub detail: Prepared,
    pub mine: Prepared,
    pub enrol: Prepared,
    pub withdraw: Prepared,
}

/// One prepared request: the event as API Gateway would send it, ready to decode.
pub struct Prepared {
    pub label: &'static str,
    /// The function that owns the route.
    pub function: Function,
    /// The event's JSON, as the runtime receives it from the Runtime API.
    event: String,
}

/// What serving a request cost the thread: its CPU time, the wall time, and the part of the
/// CPU time spent in the store's database work ([`cassiopee_sqlite::time_in_store`]).
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub cpu: Duration,
    pub wall: Duration,
    pub store: Duration,
}

impl Cost {
    /// The handler's own CPU: the thread's, less what the store spent.
    pub fn without_store(&self) -> Duration {
        self.cpu.saturating_sub(self.store)
    }
}

impl Fixture {
    pub async fn open(name: &str) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("cassiopee-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let settings = Settings::from_lookup(|k| match k {
            "CASSIOPEE_DATA" => Some(dir.to_string_lossy().into_owned()),
            "CASSIOPEE_MAILER" => Some("outbox".into()),
            _ => None,
        })?;
        let local = Local::open(&settings).await?;
        local
            .clock
            .set(cassiopee_domain::time::parse_instant("2026-12-01T10:00")?);
        seed::seed_if_empty(&local.deps).await?;
        let officer = local
            .deps
            .store
            .officers()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("no officer"))?;
        let claims = HashMap::from([
            ("sub".to_string(), officer.id.to_string()),
            ("email".to_string(), officer.email.to_string()),
        ]);
        let sessions = local
            .deps
            .store
            .sessions(&cassiopee_domain::ports::SessionQuery {
                from: Some(local.deps.now()),
                available_only: true,
                ..Default::default()
            })
            .await?;
        // The latest session open: its enrolment stays open however far the clock moves.
        let session = sessions
            .last()
            .ok_or_else(|| anyhow::anyhow!("no open session"))?
            .id
            .to_string();
        let one = format!("/sessions/{session}");
        let seat = format!("/sessions/{session}/enrolment");
        Ok(Self {
            list: prepare("GET /sessions", "GET", "/sessions", &claims)?,
            detail: prepare("GET /sessions/{id}", "GET", &one, &claims)?,
            mine: prepare("GET /me/enrolments", "GET", "/me/enrolments", &claims)?,
            enrol: prepare("POST /sessions/{id}/enrolment", "POST", &seat, &claims)?,
            withdraw: prepare("DELETE /sessions/{id}/enrolment", "DELETE", &seat, &claims)?,
            local,
            dir,
        })
    }

    /// Serves `p` once; answers its status and what it cost.
    pub async fn serve(&self, p: &Prepared) -> anyhow::Result<(u16, Cost)> {
        let (cpu, wall) = (ThreadTime::now(), Instant::now());
        let store = cassiopee_sqlite::time_in_store();
        let ag: ApiGatewayV2httpRequest = serde_json::from_str(&p.event)?;
        let request = lambda_http::Request::from(LambdaRequest::ApiGatewayV2(ag));
        let response = cassiopee_api::handle(&self.local.deps, Some(p.function), request).await;
        let cost = Cost {
            cpu: cpu.elapsed(),
            wall: wall.elapsed(),
            store: cassiopee_sqlite::time_in_store() - store,
        };
        // The notices the request queued are sent by the bus's sender thread, as another
        // function sends them on AWS: not this request's cost, but waited for before the next
        // one, so that the sender never competes with a measured request.
        self.local.deps.events.settle().await;
        Ok((response.status().as_u16(), cost))
    }

    /// Serves `p` and checks the answer's status.
    pub async fn expect(&self, p: &Prepared, expect: u16) -> anyhow::Result<Cost> {
        let (status, cost) = self.serve(p).await?;
        anyhow::ensure!(status == expect, "{}: status {status}", p.label);
        Ok(cost)
    }

    /// An enrolment and its withdrawal, the clock moved on by a quota window first so that
    /// the officer's quota of changes never refuses them.
    pub async fn enrol_and_withdraw(&self) -> anyhow::Result<(Cost, Cost)> {
        self.local
            .clock
            .set(self.local.deps.now() + chrono::Duration::minutes(10));
        Ok((
            self.expect(&self.enrol, 201).await?,
            self.expect(&self.withdraw, 200).await?,
        ))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn prepare(
    label: &'static str,
    method: &str,
    uri: &str,
    claims: &HashMap<String, String>,
) -> anyhow::Result<Prepared> {
    let (route_key, function, params) = match lookup(method, uri) {
        Lookup::Found(route, params) => (
            format!("{} {}", route.method, route.path),
            route.function,
            params.0,
        ),
        _ => anyhow::bail!("no route for {method} {uri}"),
    };
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(())?;
    let (parts, ()) = request.into_parts();
    let event = api_gateway_request(&parts, b"", &route_key, &params, Some(claims.clone()));
    Ok(Prepared {
        label,
        function,
        event: serde_json::to_string(&event)?,
    })
}
