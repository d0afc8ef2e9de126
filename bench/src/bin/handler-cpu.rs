//! In-process handler CPU: what one request costs the thread that serves it, from the
//! API Gateway event Lambda hands over to the response, on the embedded store with the demo
//! data (the store's work included: SQLite on a warm page cache).
//!
//! Run: `cargo run --release -p cassiopee-bench --bin handler-cpu [requests]` (default 2,000
//! per route). It prints, per route, the thread CPU time per request (p50, p99) and the wall
//! time; the requests run one after another on one thread, so CPU and wall differ only by
//! what the thread waited for.
//!
//! `handler-cpu --only list|enrol N` serves only that route N times and prints nothing else:
//! `scripts/bench.py instructions` runs it under callgrind twice (two values of N) and divides
//! the difference, which counts the instructions of one request without the setup.

use cassiopee_api::config::Settings;
use cassiopee_api::routes::{Function, Lookup, lookup};
use cassiopee_bench::{percentile, us};
use cassiopee_local::gateway::api_gateway_request;
use cassiopee_local::{Local, seed};
use cpu_time::ThreadTime;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_http::request::LambdaRequest;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One prepared request: the event as API Gateway would send it, ready to decode.
struct Prepared {
    label: &'static str,
    function: Function,
    /// The event's JSON, as the runtime receives it from the Runtime API.
    event: String,
}

fn prepare(
    label: &'static str,
    method: &str,
    uri: &str,
    body: &str,
    claims: &HashMap<String, String>,
) -> anyhow::Result<Prepared> {
    let path = uri.split('?').next().unwrap_or(uri);
    let (route_key, function, params) = match lookup(method, path) {
        Lookup::Found(route, params) => (
            format!("{} {}", route.method, route.path),
            route.function,
            params.0,
        ),
        _ => anyhow::bail!("no route for {method} {path}"),
    };
    let request = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(())?;
    let (parts, ()) = request.into_parts();
    let event = serde_json::to_string(&api_gateway_request(
        &parts,
        body.as_bytes(),
        &route_key,
        &params,
        Some(claims.clone()),
    ))?;
    Ok(Prepared {
        label,
        function,
        event,
    })
}

async fn serve(local: &Local, p: &Prepared) -> anyhow::Result<u16> {
    let ag: ApiGatewayV2httpRequest = serde_json::from_str(&p.event)?;
    let request = lambda_http::Request::from(LambdaRequest::ApiGatewayV2(ag));
    let response = cassiopee_api::handle(&local.deps, Some(p.function), request).await;
    Ok(response.status().as_u16())
}

/// Serves `p` `n` times; answers the CPU and wall time of each request.
async fn measure(
    local: &Local,
    p: &Prepared,
    n: usize,
    expect: &[u16],
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut cpu, mut wall) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (c, w) = (ThreadTime::now(), Instant::now());
        let status = serve(local, p).await?;
        cpu.push(c.elapsed());
        wall.push(w.elapsed());
        anyhow::ensure!(expect.contains(&status), "{}: status {status}", p.label);
    }
    Ok((cpu, wall))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = match args.first().map(String::as_str) {
        Some("--only") => Some(args.get(1).cloned().unwrap_or_default()),
        _ => None,
    };
    let count_arg = if only.is_some() {
        args.get(2)
    } else {
        args.first()
    };
    let n: usize = count_arg.map(|a| a.parse()).transpose()?.unwrap_or(2_000);
    let dir = std::env::temp_dir().join(format!("cassiopee-cpu-{}", std::process::id()));
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
    // The latest session open: its enrolment stays open however far the clock moves below.
    let session = sessions
        .last()
        .ok_or_else(|| anyhow::anyhow!("no open session"))?
        .id
        .to_string();

    let list = prepare("GET /sessions", "GET", "/sessions", "", &claims)?;
    let detail = prepare(
        "GET /sessions/{id}",
        "GET",
        &format!("/sessions/{session}"),
        "",
        &claims,
    )?;
    let mine = prepare("GET /me/enrolments", "GET", "/me/enrolments", "", &claims)?;
    let enrol = prepare(
        "POST /sessions/{id}/enrolment",
        "POST",
        &format!("/sessions/{session}/enrolment"),
        "",
        &claims,
    )?;
    let withdraw = prepare(
        "DELETE /sessions/{id}/enrolment",
        "DELETE",
        &format!("/sessions/{session}/enrolment"),
        "",
        &claims,
    )?;

    match only.as_deref() {
        None => {}
        Some("list") => {
            measure(&local, &list, n, &[200]).await?;
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(());
        }
        Some("enrol") => {
            for _ in 0..n {
                local
                    .clock
                    .set(local.deps.now() + chrono::Duration::minutes(10));
                measure(&local, &enrol, 1, &[201]).await?;
                measure(&local, &withdraw, 1, &[200]).await?;
            }
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(());
        }
        Some(other) => anyhow::bail!("--only list or enrol, not {other}"),
    }

    // Warm the page cache and the code paths.
    for p in [&list, &detail, &mine] {
        measure(&local, p, 50, &[200]).await?;
    }

    println!(
        "route                              requests  cpu p50 (µs)  cpu p99 (µs)  wall p50 (µs)"
    );
    let row = |label: &str, cpu: &[Duration], wall: &[Duration]| {
        println!(
            "{label:<34} {:>8}  {:>12}  {:>12}  {:>13}",
            cpu.len(),
            us(percentile(cpu, 50.0)),
            us(percentile(cpu, 99.0)),
            us(percentile(wall, 50.0))
        );
    };
    for p in [&list, &detail, &mine] {
        let (cpu, wall) = measure(&local, p, n, &[200]).await?;
        row(p.label, &cpu, &wall);
    }
    // Enrol and withdraw in turn; the clock moves on by a window each time so that the
    // officer's quota of changes never refuses them. Each writes the store and its outbox.
    let (mut cpu_e, mut wall_e, mut cpu_w, mut wall_w) = (vec![], vec![], vec![], vec![]);
    let rounds = n / 10;
    for _ in 0..rounds {
        local
            .clock
            .set(local.deps.now() + chrono::Duration::minutes(10));
        let (c, w) = measure(&local, &enrol, 1, &[201]).await?;
        cpu_e.extend(c);
        wall_e.extend(w);
        let (c, w) = measure(&local, &withdraw, 1, &[200]).await?;
        cpu_w.extend(c);
        wall_w.extend(w);
    }
    row(enrol.label, &cpu_e, &wall_e);
    row(withdraw.label, &cpu_w, &wall_w);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
