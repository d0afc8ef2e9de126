//! Criterion benches of the handlers in process, on the embedded store with the demo data
//! (the `handler-cpu` binary's fixture): for each route, the wall time of one request, store
//! included, and the handler's own CPU time, the thread's CPU less its time in the store
//! (`iter_custom` reports that figure as the measurement).
//!
//! Run: `cargo bench -p cassiopee-bench --bench handlers` (optimised as the functions are;
//! `-- --quick` for a shorter run, or a route's name to run only that one).

use cassiopee_bench::inprocess::{Cost, Fixture, Prepared};
use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;
use tokio::runtime::Runtime;

fn serve(rt: &Runtime, f: &Fixture, p: &Prepared) -> Cost {
    rt.block_on(f.expect(p, 200)).expect("request served")
}

fn handlers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(Fixture::open("criterion")).expect("fixture");
    let mut wall = c.benchmark_group("wall, store included");
    for p in [&f.list, &f.detail, &f.mine] {
        wall.bench_function(p.label, |b| b.iter(|| serve(&rt, &f, p)));
    }
    wall.bench_function("POST then DELETE /sessions/{id}/enrolment", |b| {
        b.iter(|| {
            rt.block_on(f.enrol_and_withdraw())
                .expect("enrol, withdraw")
        })
    });
    wall.finish();

    let mut own = c.benchmark_group("handler CPU without the store");
    for p in [&f.list, &f.detail, &f.mine] {
        own.bench_function(p.label, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| serve(&rt, &f, p).without_store()).sum())
        });
    }
    let pair = |iters: u64, pick: fn(&(Cost, Cost)) -> Duration| -> Duration {
        (0..iters)
            .map(|_| {
                pick(
                    &rt.block_on(f.enrol_and_withdraw())
                        .expect("enrol, withdraw"),
                )
            })
            .sum()
    };
    own.bench_function(f.enrol.label, |b| {
        b.iter_custom(|iters| pair(iters, |(e, _)| e.without_store()))
    });
    own.bench_function(f.withdraw.label, |b| {
        b.iter_custom(|iters| pair(iters, |(_, w)| w.without_store()))
    });
    own.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = handlers
}
criterion_main!(benches);
