//! In-process handler CPU: what one request costs the thread that serves it, from the
//! API Gateway event Lambda hands over to the response, on the embedded store with the demo
//! data (SQLite on a warm page cache), and the same less the store's share: the handler's own
//! work (decoding the event, routing, the caller's claims, the use case's logic, the JSON of
//! the answer), which is what a function does on any store.
//!
//! Run: `cargo run --release -p cassiopee-bench --bin handler-cpu [requests]` (default 2,000
//! per route). It prints, per route, the thread CPU time per request (p50, p99), the same
//! without the time spent in the store, the store's share, and the wall time; the requests
//! run one after another on one thread.
//!
//! With `CASSIOPEE_BENCH_FORMAT=json` it prints one JSON object per route instead (the
//! function, the route, the figures in µs), what `scripts/bench.py report` reads.
//!
//! `handler-cpu --only list|enrol N` serves only that route N times and prints nothing else:
//! `scripts/bench.py instructions` runs it under callgrind twice (two values of N) and divides
//! the difference, which counts the instructions of one request without the setup.

use cassiopee_bench::inprocess::{Cost, Fixture, Prepared};
use cassiopee_bench::{json_lines, percentile, us, us_value};
use std::time::Duration;

async fn measure(f: &Fixture, p: &Prepared, n: usize) -> anyhow::Result<Vec<Cost>> {
    let mut costs = Vec::with_capacity(n);
    for _ in 0..n {
        costs.push(f.expect(p, 200).await?);
    }
    Ok(costs)
}

fn row(p: &Prepared, costs: &[Cost]) {
    let pick = |g: fn(&Cost) -> Duration| costs.iter().map(g).collect::<Vec<_>>();
    let (cpu, own, store, wall) = (
        pick(|c| c.cpu),
        pick(Cost::without_store),
        pick(|c| c.store),
        pick(|c| c.wall),
    );
    if json_lines() {
        let line = serde_json::json!({
            "bench": "handler-cpu",
            "function": p.function.name(),
            "route": p.label,
            "requests": costs.len(),
            "cpu_p50_us": us_value(percentile(&cpu, 50.0)),
            "cpu_p99_us": us_value(percentile(&cpu, 99.0)),
            "own_p50_us": us_value(percentile(&own, 50.0)),
            "own_p99_us": us_value(percentile(&own, 99.0)),
            "store_p50_us": us_value(percentile(&store, 50.0)),
            "wall_p50_us": us_value(percentile(&wall, 50.0)),
        });
        println!("{line}");
        return;
    }
    println!(
        "{:<32} {:>8} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10}",
        p.label,
        costs.len(),
        us(percentile(&cpu, 50.0)),
        us(percentile(&cpu, 99.0)),
        us(percentile(&own, 50.0)),
        us(percentile(&own, 99.0)),
        us(percentile(&store, 50.0)),
        us(percentile(&wall, 50.0)),
    );
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
    let f = Fixture::open("cpu").await?;

    match only.as_deref() {
        None => {}
        Some("list") => {
            measure(&f, &f.list, n).await?;
            return Ok(());
        }
        Some("enrol") => {
            for _ in 0..n {
                f.enrol_and_withdraw().await?;
            }
            return Ok(());
        }
        Some(other) => anyhow::bail!("--only list or enrol, not {other}"),
    }

    // Warm the page cache and the code paths.
    for p in [&f.list, &f.detail, &f.mine] {
        measure(&f, p, 50).await?;
    }
    let table = !json_lines();
    if table {
        println!(
            "{:<32} {:>8} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10}",
            "route (µs per request)",
            "requests",
            "cpu p50",
            "cpu p99",
            "own p50",
            "own p99",
            "store p50",
            "wall p50"
        );
    }
    for p in [&f.list, &f.detail, &f.mine] {
        row(p, &measure(&f, p, n).await?);
    }
    // Enrol and withdraw in turn; each writes the store and its outbox, then delivers its
    // notice (rendered, with its calendar invitation, written as an `.eml` file).
    let (mut enrolments, mut withdrawals) = (vec![], vec![]);
    for _ in 0..n / 10 {
        let (e, w) = f.enrol_and_withdraw().await?;
        enrolments.push(e);
        withdrawals.push(w);
    }
    row(&f.enrol, &enrolments);
    row(&f.withdraw, &withdrawals);
    if table {
        println!("own: the thread's CPU less its time in the store (SQLite statements and rows)");
    }
    Ok(())
}
