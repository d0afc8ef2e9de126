//! `cargo run -p cassiopee-local`: Cassiopée on the embedded store, with the demo data.
//!
//! Reads `CASSIOPEE_ADDR` (default `127.0.0.1:8080`) and `CASSIOPEE_DATA` (default `data`).

use anyhow::Context;
use cassiopee_api::config::Settings;
use cassiopee_local::{Local, dev, seed};
use tracing_subscriber::EnvFilter;

fn label(kind: &str) -> &str {
    match kind {
        "staff" => "personnel",
        "officers" => "officiers",
        "trainings" => "catalogue",
        "sessions" => "sessions",
        "enrolments" => "inscriptions",
        other => other,
    }
}

/// The embedded store's calls run on the worker that serves the request and hold it while they
/// wait for the writer's lock, so more workers than cores keep the cores busy meanwhile
/// (BENCHMARKS.md, "Local throughput"); `TOKIO_WORKER_THREADS` overrides the count.
fn main() -> anyhow::Result<()> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        runtime.worker_threads(4 * cores);
    }
    runtime.enable_all().build()?.block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,cassiopee=info")),
        )
        .init();
    let settings = Settings::from_env()?;
    let addr = std::env::var("CASSIOPEE_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let local = Local::open(&settings).await?;
    if let Some(reports) = seed::seed_if_empty(&local.deps).await? {
        println!("Données de démonstration importées :");
        for r in reports {
            println!(
                "  {:<12} {:>4} créés, {:>3} rejetés",
                label(&r.kind),
                r.counts.created,
                r.rejected
            );
        }
    }
    dev::spawn_timers(local.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!("cannot listen on {addr} (set CASSIOPEE_ADDR to another address)")
        })?;
    let url = format!("http://{}", listener.local_addr()?);
    println!(
        "Cassiopée écoute sur {url} (données : {})",
        settings.data_dir.display()
    );
    println!("Application web : ouvrez {url}/ dans un navigateur");
    println!("Connexion d'un officier :");
    println!(
        "  curl -s -X POST {url}/dev/sign-in -H 'content-type: application/json' -d '{{\"email\": \"herve.kerjean@intradef.example\"}}'"
    );
    println!("Connexion du personnel : même commande avec hugues.vidal@intradef.example");
    println!("Puis : curl -s {url}/sessions -H \"Authorization: Bearer $TOKEN\"");
    axum::serve(listener, local.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
