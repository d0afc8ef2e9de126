use crate::helpers::*;
use axum::http::StatusCode;
use cassiopee_local::seed::DEMO_FILES;
use serde_json::Value;

#[tokio::test]
async fn the_five_fixture_files_import_with_exact_counts_and_statuses() {
    let app = TestApp::empty().await;
    app.set_clock("2026-12-03T10:00");
    let expected = [
        ("staff", 4),
        ("officers", 112),
        ("trainings", 18),
        ("sessions", 92),
        ("enrolments", 1033),
    ];
    // The first file gives staff; sign in as staff once it is in.
    let mut token = None;
    for ((kind, bytes), (name, n)) in DEMO_FILES.iter().zip(expected) {
        assert_eq!(kind.as_str(), name);
        let t = match &token {
            Some(t) => t,
            None => {
                cassiopee_domain::usecases::import(
                    &app.local.deps,
                    *kind,
                    bytes,
                    cassiopee_domain::model::Actor::import("test"),
                )
                .await
                .unwrap();
                token = Some(app.staff().await);
                continue;
            }
        };
        let a = app
            .raw(
                "POST",
                &format!("/admin/imports/{name}"),
                t,
                "text/csv",
                bytes.to_vec(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        assert_eq!(a.body["created"], n, "{name}: {a:?}");
        assert_eq!(a.body["rejected"], 0, "{name}: {a:?}");
    }
    let staff = token.unwrap();
    let officers = app.call("GET", "/admin/officers", Some(&staff), None).await;
    assert_eq!(officers.body["count"], 112);
    let sessions = app
        .call("GET", "/admin/sessions?from=2020-01-01", Some(&staff), None)
        .await;
    assert_eq!(sessions.body["count"], 92);

    // Statuses as the fixtures' README maps them.
    let mut by_status = std::collections::BTreeMap::<String, usize>::new();
    let mut late = 0;
    for s in sessions.body["sessions"].as_array().unwrap() {
        for line in app.roster(s["id"].as_str().unwrap()).await {
            *by_status
                .entry(line["status"].as_str().unwrap().to_string())
                .or_default() += 1;
            if line["status"] == "withdrawn" && line["late"] == true {
                late += 1;
            }
        }
    }
    assert_eq!(by_status.get("attended"), Some(&436));
    assert_eq!(by_status.get("confirmed"), Some(&371));
    assert_eq!(by_status.get("waitlisted"), Some(&120));
    assert_eq!(by_status.get("absent"), Some(&25));
    assert_eq!(by_status.get("withdrawn"), Some(&81));
    assert_eq!(late, 32);
}

#[tokio::test]
async fn importing_the_same_files_twice_changes_nothing_the_second_time() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let staff = app.staff().await;
    let before = app.session_snapshot(&staff).await;
    for (kind, bytes) in DEMO_FILES {
        let a = app
            .raw(
                "POST",
                &format!("/admin/imports/{}", kind.as_str()),
                &staff,
                "text/csv",
                bytes.to_vec(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        assert_eq!(a.body["created"], 0, "{a:?}");
        assert_eq!(a.body["updated"], 0, "{a:?}");
        assert_eq!(a.body["rejected"], 0, "{a:?}");
    }
    assert_eq!(app.session_snapshot(&staff).await, before);
}

#[tokio::test]
async fn a_windows_1252_file_with_crlf_imports_as_the_utf8_one() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let staff = app.staff().await;
    let utf8 = std::str::from_utf8(&DEMO_FILES[1].1[3..])
        .unwrap()
        .replace('\n', "\r\n");
    let (cp1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&utf8);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&cp1252).is_err(),
        "the test file must not be valid UTF-8"
    );
    let a = app
        .raw(
            "POST",
            "/admin/imports/officers",
            &staff,
            "text/csv",
            cp1252.into_owned(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["unchanged"], 112, "{a:?}");
}

#[tokio::test]
async fn bad_rows_are_reported_with_their_line_and_the_good_ones_still_land() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let staff = app.staff().await;
    let csv = "Courriel;Réf. session;Statut;Inscrit le\n\
               herve.kerjean@intradef.example;COM-02-S058;inscrit;01/12/2026\n\
               inconnu@intradef.example;COM-02-S058;inscrit;01/12/2026\n\
               herve.kerjean@intradef.example;NOPE-S999;inscrit;01/12/2026\n\
               pascal.arnaud@intradef.example;COM-02-S058;peut-être;01/12/2026\n\
               pascal.arnaud@intradef.example;COM-02-S058;inscrit;31/02/2026\n";
    let a = app
        .raw(
            "POST",
            "/admin/imports/enrolments",
            &staff,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["created"], 1, "{a:?}");
    assert_eq!(a.body["rejected"], 4, "{a:?}");
    let lines: Vec<u64> = a.body["rejected_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5, 6]);
    let reasons: Vec<&str> = a.body["rejected_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("inconnu"), "{reasons:?}");
    assert!(reasons[1].contains("NOPE-S999"), "{reasons:?}");
}

#[tokio::test]
async fn a_file_missing_a_column_or_made_of_junk_is_refused_whole() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let staff = app.staff().await;
    let a = app
        .raw(
            "POST",
            "/admin/imports/enrolments",
            &staff,
            "text/csv",
            b"Courriel;Statut\nx@y.fr;inscrit\n".to_vec(),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
    assert!(
        a.body["detail"].as_str().unwrap().contains("Réf. session"),
        "{a:?}"
    );
    let junk: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 256) as u8).collect();
    let a = app
        .raw(
            "POST",
            "/admin/imports/sessions",
            &staff,
            "application/octet-stream",
            junk,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    let a = app
        .raw(
            "POST",
            "/admin/imports/nonsense",
            &staff,
            "text/csv",
            b"a;b\n".to_vec(),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
}

impl TestApp {
    /// Every session's counters, to compare before and after.
    pub async fn session_snapshot(&self, staff: &str) -> Vec<Value> {
        let a = self
            .call("GET", "/admin/sessions?from=2020-01-01", Some(staff), None)
            .await;
        a.body["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                serde_json::json!([
                    s["reference"],
                    s["capacity"],
                    s["seats_taken"],
                    s["waiting"],
                    s["starts_at"]
                ])
            })
            .collect()
    }
}
