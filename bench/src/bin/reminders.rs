//! Reminders for 10,000 enrolments: how long send-reminders takes to find the reminders due,
//! queue them (once each) and write every email (French text and HTML, with its calendar
//! invitation) through the local outbox mailer, on the embedded store.
//!
//! Run: `cargo run --release -p cassiopee-bench --bin reminders [enrolments]` (default 10,000,
//! a multiple of 20). It imports, through the same spreadsheets' path as staff do, 1,000
//! officers and `enrolments / 20` sessions of 20 seats that all start on 15 March 2027, each
//! officer confirmed in a share of them; sets the clock to the J-7 reminder (8 March, 09:00
//! Paris time); then times the job's two steps, and a second run that must queue nothing.

use cassiopee_api::config::Settings;
use cassiopee_domain::import::ImportKind;
use cassiopee_domain::model::Actor;
use cassiopee_domain::time::parse_instant;
use cassiopee_domain::usecases;
use cassiopee_local::{Local, seed};
use std::fmt::Write as _;
use std::time::Instant;

const OFFICERS: usize = 1_000;
const SEATS: usize = 20;

fn officers_csv() -> String {
    let mut csv = String::from(
        "\u{feff}Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;Début d'accompagnement;\
         Fin d'accompagnement;Durée (mois);Conseiller MiRVOG\r\n",
    );
    for i in 0..OFFICERS {
        let _ = write!(
            csv,
            "Banc{i};Officier;Général de brigade;Armée de terre;banc-{i}@intradef.example;;\
             01/01/2027;31/12/2027;12;P. Laborde\r\n"
        );
    }
    csv
}

fn sessions_csv(sessions: usize) -> String {
    let mut csv = String::from(
        "\u{feff}Réf. session;Code formation;Date de début;Date de fin;Horaires;Lieu;Places;\
         Clôture des inscriptions;Désistement sans frais jusqu'au;Formateur\r\n",
    );
    for s in 0..sessions {
        let _ = write!(
            csv,
            "BANC-{s:04};FIN-01;15/03/2027;16/03/2027;09:00-17:30;École militaire, Paris;{SEATS};\
             01/03/2027;08/03/2027;M. Banc\r\n"
        );
    }
    csv
}

fn enrolments_csv(sessions: usize) -> String {
    let mut csv = String::from("\u{feff}Courriel;Réf. session;Statut;Inscrit le\r\n");
    for s in 0..sessions {
        for seat in 0..SEATS {
            let officer = (s * SEATS + seat) % OFFICERS;
            let _ = write!(
                csv,
                "banc-{officer}@intradef.example;BANC-{s:04};inscrit;05/01/2027\r\n"
            );
        }
    }
    csv
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let enrolments: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    anyhow::ensure!(
        enrolments.is_multiple_of(SEATS),
        "a multiple of {SEATS} enrolments"
    );
    let sessions = enrolments / SEATS;
    let dir = std::env::temp_dir().join(format!("cassiopee-reminders-{}", std::process::id()));
    let settings = Settings::from_lookup(|k| match k {
        "CASSIOPEE_DATA" => Some(dir.to_string_lossy().into_owned()),
        "CASSIOPEE_MAILER" => Some("outbox".into()),
        _ => None,
    })?;
    let local = Local::open(&settings).await?;
    local.clock.set(parse_instant("2027-01-10T10:00")?);
    let deps = &local.deps;
    let actor = || Actor::import("benchmark");

    let started = Instant::now();
    for (kind, bytes) in &seed::DEMO_FILES[..3] {
        usecases::import(deps, *kind, bytes, actor()).await?;
    }
    for (kind, csv) in [
        (ImportKind::Officers, officers_csv()),
        (ImportKind::Sessions, sessions_csv(sessions)),
        (ImportKind::Enrolments, enrolments_csv(sessions)),
    ] {
        let report = usecases::import(deps, kind, csv.as_bytes(), actor()).await?;
        anyhow::ensure!(
            report.rejected == 0,
            "{kind:?}: rejected {:?}",
            report.rejected_rows.first()
        );
    }
    println!(
        "imported {OFFICERS} officers, {sessions} sessions, {enrolments} enrolments in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    local.clock.set(parse_instant("2027-03-08T09:00")?);
    let t = Instant::now();
    let queued = usecases::send_reminders(deps).await?;
    let first = t.elapsed();
    let t2 = Instant::now();
    // Whatever the first run's budget left (none with the local mailer).
    let sent_after = usecases::drain_outbox(deps, std::time::Duration::from_secs(3600)).await;
    let drain = t2.elapsed();
    let written = std::fs::read_dir(&settings.outbox_dir)?.count();
    let t3 = Instant::now();
    let again = usecases::send_reminders(deps).await?;
    let second = t3.elapsed();
    println!(
        "send-reminders: {queued} reminders queued and sent in {:.2} s",
        first.as_secs_f64()
    );
    println!(
        "left for the next run: {sent_after} emails, sent in {:.2} s \
         ({written} .eml files in the outbox)",
        drain.as_secs_f64()
    );
    println!(
        "total {:.2} s for {enrolments} enrolments (target ≤ 10 s); \
         a second run queued {again} in {:.2} s",
        (first + drain).as_secs_f64(),
        second.as_secs_f64()
    );
    anyhow::ensure!(queued as usize == enrolments, "one reminder per enrolment");
    anyhow::ensure!(written == enrolments, "one email per reminder");
    anyhow::ensure!(again == 0, "a second run queues nothing");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
