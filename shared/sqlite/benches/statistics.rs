//! How long the statistics take over 100,000 enrolments on the embedded store.
//!
//! Run: `cargo bench -p cassiopee-sqlite --bench statistics` (with the workspace's
//! `CARGO_TARGET_DIR`). It generates the data (see `data/mod.rs`) in a store file under the
//! system's temporary folder, then times what `GET /admin/statistics` does (the store's reads
//! and `statistics::compute`, as `usecases::statistics` runs them) for every grouping, and
//! fails when a median exceeds one second (in the optimised build only).

mod data;

use cassiopee_domain::ports::Store;
use cassiopee_domain::statistics::{self, Grouping, StatisticsQuery};
use cassiopee_sqlite::SqliteStore;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const RUNS: usize = 7;
const LIMIT: Duration = Duration::from_secs(1);

async fn statistics_once(store: &SqliteStore, query: &StatisticsQuery) -> usize {
    let sessions = store
        .all_sessions_with_enrolments()
        .await
        .expect("sessions");
    let trainings: HashMap<_, _> = store
        .trainings(true)
        .await
        .expect("trainings")
        .into_iter()
        .map(|t| (t.training.id.clone(), t.training))
        .collect();
    let feedback = store.all_feedback().await.expect("feedback");
    let snapshot = statistics::compute(data::now(), &sessions, &trainings, &feedback, query);
    snapshot.rows.len()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = std::env::temp_dir().join(format!("cassiopee-bench-{}", std::process::id()));
    let store = SqliteStore::open(&dir).expect("store");
    let started = Instant::now();
    let generated = data::generate(&store).await;
    println!(
        "generated {} officers, {} trainings, {} sessions, {} enrolments, {} feedback answers in {:.1} s",
        data::OFFICERS,
        data::TRAININGS,
        data::SESSIONS,
        generated.enrolments,
        generated.answers,
        started.elapsed().as_secs_f64()
    );
    let mut worst = Duration::ZERO;
    for group in Grouping::ALL {
        let query = StatisticsQuery::new(None, None, group).expect("query");
        let mut times = Vec::with_capacity(RUNS);
        let mut rows = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            rows = statistics_once(&store, &query).await;
            times.push(t.elapsed());
        }
        times.sort();
        let median = times[RUNS / 2];
        worst = worst.max(median);
        println!(
            "statistics group={:<8} {rows:>5} rows: median {:.3} s, best {:.3} s, worst {:.3} s ({RUNS} runs)",
            group.as_str(),
            median.as_secs_f64(),
            times[0].as_secs_f64(),
            times[RUNS - 1].as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    // The limit is for the optimised build (`cargo bench`); a debug run (`cargo test
    // --benches`) only prints its figures.
    if worst > LIMIT && !cfg!(debug_assertions) {
        eprintln!(
            "too slow: a median of {:.3} s, above {} s",
            worst.as_secs_f64(),
            LIMIT.as_secs()
        );
        std::process::exit(1);
    }
    if worst <= LIMIT {
        println!("every grouping within {} s", LIMIT.as_secs());
    }
}
