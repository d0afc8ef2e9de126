#![allow(clippy::unwrap_used, reason = "test code: a panic is the test failing")]

//! Logs hold no personal data: a whole working day of the demo is run with every log line
//! captured at the most verbose level, and no officer's or staff member's address, name or
//! phone number may appear in them. A test binary of its own, so that the capture is the
//! global subscriber of the process and sees every thread's events.

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "the helpers are shared with the api tests")]
mod helpers;

use axum::http::StatusCode;
use helpers::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Every line the subscriber writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// What the demo spreadsheets say about people: addresses, full names, phone numbers.
fn personal_data() -> Vec<String> {
    let mut out = Vec::new();
    let files = [
        (
            include_str!("../demo/data/officiers.csv"),
            0,
            1,
            Some(4),
            Some(5),
        ),
        (
            include_str!("../demo/data/personnel.csv"),
            0,
            1,
            Some(3),
            None,
        ),
    ];
    for (text, last, first, email, phone) in files {
        for line in text.trim_start_matches('\u{feff}').lines().skip(1) {
            let cells: Vec<&str> = line.split(';').map(str::trim).collect();
            if cells.len() < 4 {
                continue;
            }
            out.push(format!("{} {}", cells[first], cells[last]).to_lowercase());
            out.push(format!("{} {}", cells[last], cells[first]).to_lowercase());
            if let Some(i) = email {
                out.push(cells[i].to_lowercase());
            }
            if let Some(i) = phone.filter(|i| !cells[*i].is_empty()) {
                out.push(cells[i].to_lowercase());
            }
        }
    }
    out
}

#[tokio::test]
async fn a_day_of_work_logs_nothing_personal() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let app = TestApp::demo("2026-12-01T10:00").await;
    let officer = app.sign_in(OFFICER_EMAIL).await;
    let staff = app.staff().await;
    let sessions = app.call("GET", "/sessions", Some(&officer), None).await;
    let open = sessions.body["sessions"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["seats_left"].as_u64() > Some(0)))
        .and_then(|s| s["id"].as_str())
        .expect("an open session")
        .to_string();
    assert_eq!(app.enrol(&officer, &open).await.status, StatusCode::CREATED);
    assert_eq!(app.withdraw(&officer, &open).await.status, StatusCode::OK);
    // Refusals of every kind: unknown session, bad body, an officer on a staff route.
    let missing = "/sessions/01JZZZZZZZZZZZZZZZZZZZZZZZ/enrolment";
    app.call("POST", missing, Some(&officer), None).await;
    app.call("GET", "/admin/officers", Some(&officer), None)
        .await;
    let bad = app
        .call(
            "PATCH",
            &format!("/admin/sessions/{open}"),
            Some(&staff),
            Some(json!({ "capacity": "x" })),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{bad:?}");
    // An import with rows rejected for what they say about a person.
    let sheet = "\u{feff}Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;Début d'accompagnement;\
                 Fin d'accompagnement;Durée (mois);Conseiller MiRVOG\r\n\
                 Kerjean;Hervé;Général de brigade;Armée de terre;herve.kerjean@;06 00 00 00 00;\
                 01/01/2027;01/07/2027;6;P. Laborde\r\n\
                 Morvan;Claire;Général de brigade;Armée de terre;claire.morvan@intradef.example;;\
                 01/01/2027;01/07/2027;6;P. Laborde\r\n";
    let a = app
        .raw(
            "POST",
            "/admin/imports/officers",
            &staff,
            "text/csv",
            sheet.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    // The officer's own export, then staff erase another officer (with a seat to give up) and
    // the purge runs a year and more after the first accompaniments ended.
    let export = app.call("GET", "/me/export", Some(&officer), None).await;
    assert_eq!(export.status, StatusCode::OK, "{export:?}");
    let other = app.sign_in("pascal.arnaud@intradef.example").await;
    assert_eq!(app.enrol(&other, &open).await.status, StatusCode::CREATED);
    let me = app.call("GET", "/me", Some(&other), None).await;
    let id = me.body["officer"]["id"].as_str().expect("id").to_string();
    let erase = format!("/admin/officers/{id}/erasure");
    let body = json!({ "reason": "Demande de Pascal Arnaud" });
    let erased = app.call("POST", &erase, Some(&staff), Some(body)).await;
    assert_eq!(erased.status, StatusCode::OK, "{erased:?}");
    // The jobs, with their emails.
    app.set_clock("2026-12-08T09:30");
    for job in ["promote-waitlist", "send-reminders", "compute-statistics"] {
        app.run_job(job).await;
    }
    assert!(!app.outbox().is_empty(), "emails were written");
    app.set_clock("2027-06-01T05:00");
    let purged = app.run_job("compute-statistics").await;
    assert!(purged["officers_purged"].as_u64() > Some(0), "{purged}");

    let log = String::from_utf8_lossy(&captured.0.lock().expect("log")).to_lowercase();
    // The capture works: the refusals above were logged, with their codes.
    assert!(log.contains("request refused"), "nothing captured");
    assert!(
        log.contains("session-not-found") || log.contains("forbidden"),
        "{log}"
    );
    let found: Vec<String> = personal_data()
        .into_iter()
        .filter(|p| log.contains(p.as_str()))
        .collect();
    assert!(found.is_empty(), "personal data in the logs: {found:?}");
}
