//! Statistics, feedback, soft delete, programme follow-up and the CSV exports, through HTTP:
//! export bytes are asserted as Excel will read them.

use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const HOSTILE_CSV: &str = "Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;Début d'accompagnement;Fin d'accompagnement;Durée (mois);Conseiller MiRVOG\n\
    \"=SOMME(A1;A2)\";\"Jean \"\"Le Grand\"\"\";Général de brigade;Armée de Terre;hostile@intradef.example;+33 1 23 45 67 89;01/01/2026;31/12/2027;24;H. Vidal\n";

/// The bytes of an answer, as sent.
async fn download(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: &str,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = build_request("GET", path, Some(token), None);
    req.headers_mut()
        .insert("accept", accept.parse().expect("header"));
    let response = app.router.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, headers, bytes.to_vec())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Checks the frame every export shares and answers its lines (without the BOM).
fn csv_lines(status: StatusCode, headers: &HeaderMap, bytes: &[u8], file: &str) -> Vec<String> {
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(bytes));
    assert_eq!(header(headers, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header(headers, "content-disposition"),
        format!("attachment; filename=\"{file}\"")
    );
    assert_eq!(&bytes[..3], [0xef, 0xbb, 0xbf], "UTF-8 BOM first");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.ends_with("\r\n"), "{text:?}");
    for (i, _) in text.match_indices('\n') {
        assert_eq!(&text[i - 1..i], "\r", "bare LF at {i} in {text:?}");
    }
    text.split_terminator("\r\n").map(str::to_string).collect()
}

/// A session with three officers, one of whom typed a formula and quotes into their name.
struct Scene {
    app: TestApp,
    staff: String,
    session: String,
    reference: String,
    officers: Vec<TestOfficer>,
    hostile: TestOfficer,
}

impl Scene {
    async fn new() -> Self {
        let app = TestApp::with_staff("2027-01-10T10:00:00+01:00").await;
        let staff = app.staff().await;
        let officers = app.officers("fb", 2).await;
        let imported = app
            .raw(
                "POST",
                "/admin/imports/officers",
                &staff,
                "text/csv",
                HOSTILE_CSV.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(imported.body["created"], 1, "{imported:?}");
        let email = "hostile@intradef.example".to_string();
        let hostile = TestOfficer {
            token: app.sign_in(&email).await,
            id: app.officer_id(&email).await,
            email,
        };
        let session = app.create_session(3, json!({})).await;
        for o in &officers {
            assert_eq!(
                app.enrol(&o.token, &session).await.status,
                StatusCode::CREATED
            );
        }
        let by_staff = app
            .call(
                "POST",
                &format!("/admin/sessions/{session}/enrolments"),
                Some(&staff),
                Some(json!({ "officer_id": hostile.id })),
            )
            .await;
        assert_eq!(by_staff.status, StatusCode::CREATED, "{by_staff:?}");
        let reference = app.session(&session).await["reference"]
            .as_str()
            .expect("reference")
            .to_string();
        Self {
            app,
            staff,
            session,
            reference,
            officers,
            hostile,
        }
    }

    /// During the session: fb-1 and the hostile officer present, fb-2 absent.
    async fn hold_session(&self) {
        self.app.set_clock("2027-03-15T12:00:00+01:00");
        for (id, status) in [
            (&self.officers[0].id, "attended"),
            (&self.officers[1].id, "absent"),
            (&self.hostile.id, "attended"),
        ] {
            let a = self
                .app
                .call(
                    "PUT",
                    &format!("/admin/sessions/{}/attendance/{id}", self.session),
                    Some(&self.staff),
                    Some(json!({ "status": status })),
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{a:?}");
        }
    }

    async fn feedback(&self, token: &str, body: Value) -> Answer {
        let path = format!("/me/enrolments/{}/feedback", self.session);
        self.app.call("POST", &path, Some(token), Some(body)).await
    }
}

#[tokio::test]
async fn the_roster_exports_for_french_excel_with_formulas_neutralised() {
    let s = Scene::new().await;
    let path = format!("/admin/sessions/{}/roster", s.session);
    let (status, headers, bytes) = download(&s.app, &path, &s.staff, "text/csv").await;
    let lines = csv_lines(
        status,
        &headers,
        &bytes,
        &format!("emargement-{}.csv", s.reference),
    );
    assert_eq!(
        lines[0],
        "Session;Nom;Prénom;Grade;Armée / service;Courriel;Statut;Rang sur la liste d'attente;\
         Désistement tardif;Inscrit le;Confirmé le;Dernière modification"
    );
    assert_eq!(lines.len(), 4, "{lines:?}");
    let hostile = lines
        .iter()
        .find(|l| l.contains("hostile@"))
        .expect("hostile line");
    assert_eq!(
        hostile,
        &format!(
            "{};\"'=SOMME(A1;A2)\";\"Jean \"\"Le Grand\"\"\";Général de brigade;Armée de Terre;\
             hostile@intradef.example;inscrit;;non;10/01/2027 10:00;10/01/2027 10:00;\
             10/01/2027 10:00",
            s.reference
        )
    );
    assert_eq!(header(&headers, "vary"), "Accept");

    // The stored value stays as typed; the JSON answer shows it so.
    let roster = s.app.roster(&s.session).await;
    assert!(
        roster
            .iter()
            .any(|l| l["officer"]["last_name"] == "=SOMME(A1;A2)")
    );

    // The officers' export neutralises a phone number that starts with `+`.
    let (status, headers, bytes) = download(&s.app, "/admin/officers", &s.staff, "text/csv").await;
    let lines = csv_lines(status, &headers, &bytes, "officiers.csv");
    let hostile = lines
        .iter()
        .find(|l| l.contains("hostile@"))
        .expect("hostile line");
    assert!(
        hostile.starts_with("\"'=SOMME(A1;A2)\";")
            && hostile.contains(";'+33 1 23 45 67 89;01/01/2026;31/12/2027;"),
        "{hostile}"
    );

    let (status, headers, bytes) =
        download(&s.app, "/admin/enrolments", &s.staff, "text/csv").await;
    let lines = csv_lines(status, &headers, &bytes, "inscriptions.csv");
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("Session;Début de la session;Formation;"));
}

#[tokio::test]
async fn the_format_follows_the_accept_header() {
    let s = Scene::new().await;
    let path = format!("/admin/sessions/{}/roster", s.session);
    for accept in [
        "*/*",
        "application/json",
        "text/csv;q=0.5, application/json",
        "",
    ] {
        let (status, headers, _) = download(&s.app, &path, &s.staff, accept).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(
            header(&headers, "content-type"),
            "application/json",
            "{accept}"
        );
    }
    for accept in ["text/*", "text/csv, application/json;q=0.9", "TEXT/CSV"] {
        let (_, headers, _) = download(&s.app, &path, &s.staff, accept).await;
        assert_eq!(
            header(&headers, "content-type"),
            "text/csv; charset=utf-8",
            "{accept}"
        );
    }
    // XLSX: a binary download whose cells are all text.
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (status, headers, bytes) = download(&s.app, &path, &s.staff, xlsx).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), xlsx);
    assert_eq!(
        header(&headers, "content-disposition"),
        format!("attachment; filename=\"emargement-{}.xlsx\"", s.reference)
    );
    assert_eq!(&bytes[..4], b"PK\x03\x04", "a zip archive");
    let (status, headers, bytes) = download(&s.app, &path, &s.staff, "application/xml").await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(header(&headers, "content-type"), "application/problem+json");
    let body: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(body["code"], "not-acceptable");
    assert!(body["detail"].as_str().unwrap().contains("text/csv"));
}

#[tokio::test]
async fn feedback_is_given_once_by_those_present_and_read_by_staff_only() {
    let s = Scene::new().await;
    let [fb1, fb2] = [&s.officers[0], &s.officers[1]];
    let early = s
        .feedback(&fb1.token, json!({ "rating": 5, "relevance": 4 }))
        .await;
    assert_problem(&early, StatusCode::CONFLICT, "feedback-not-attended");
    s.hold_session().await;

    let ok = s
        .feedback(
            &fb1.token,
            json!({ "rating": 5, "relevance": 4, "comment": "Très utile ; merci." }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
    assert_eq!(ok.body["rating"], 5);
    let again = s
        .feedback(&fb1.token, json!({ "rating": 1, "relevance": 1 }))
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "feedback-already-given");
    let absent = s
        .feedback(&fb2.token, json!({ "rating": 3, "relevance": 3 }))
        .await;
    assert_problem(&absent, StatusCode::CONFLICT, "feedback-not-attended");

    let h = &s.hostile.token;
    for (body, field) in [
        (json!({ "rating": 0, "relevance": 3 }), "rating"),
        (json!({ "rating": 6, "relevance": 3 }), "rating"),
        (json!({ "rating": 3, "relevance": 60000 }), "relevance"),
        (
            json!({ "rating": 3, "relevance": 3, "comment": "x".repeat(10_000) }),
            "comment",
        ),
        (
            json!({ "rating": 3, "relevance": 3, "comment": "a\u{7}b" }),
            "comment",
        ),
    ] {
        let a = s.feedback(h, body).await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(a.body["errors"][0]["field"], field, "{a:?}");
    }
    let long = s
        .feedback(
            h,
            json!({ "rating": 3, "relevance": 3, "comment": "x".repeat(10_000) }),
        )
        .await;
    assert!(
        long.body["detail"].as_str().unwrap().contains("2000"),
        "{long:?}"
    );
    let unknown = s
        .feedback(h, json!({ "rating": 3, "relevance": 3, "note": 2 }))
        .await;
    assert_problem(&unknown, StatusCode::BAD_REQUEST, "malformed-request");
    let by_staff = s
        .feedback(&s.staff, json!({ "rating": 3, "relevance": 3 }))
        .await;
    assert_problem(&by_staff, StatusCode::FORBIDDEN, "forbidden");

    let path = format!("/admin/sessions/{}/feedback", s.session);
    let officer_read = s.app.call("GET", &path, Some(&fb1.token), None).await;
    assert_problem(&officer_read, StatusCode::FORBIDDEN, "forbidden");
    let report = s.app.call("GET", &path, Some(&s.staff), None).await;
    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    assert_eq!(report.body["answers"], 1, "nothing stored by the refusals");
    assert_eq!(report.body["attended"], 2);
    assert_eq!(report.body["rating_mean_hundredths"], 500);
    assert_eq!(report.body["lines"][0]["comment"], "Très utile ; merci.");

    // The job that runs after sessions asks the one present who has not answered, once.
    s.app.set_clock("2027-03-17T03:00:00+01:00");
    let job = s.app.run_job("compute-statistics").await;
    assert_eq!(job["feedback_requests_queued"], 1, "{job}");
    let job = s.app.run_job("compute-statistics").await;
    assert_eq!(job["feedback_requests_queued"], 0, "{job}");
    assert_eq!(
        s.app
            .emails_to("hostile@intradef.example", "Votre avis sur la session"),
        1
    );
    assert_eq!(s.app.emails_to(&fb1.email, "Votre avis"), 0);

    // The app asks too: the officer's past enrolments say whether feedback is due.
    let mine = |token: String| {
        let app = &s.app;
        async move {
            let a = app
                .call("GET", "/me/enrolments?when=past", Some(&token), None)
                .await;
            a.body["enrolments"][0]["feedback"].clone()
        }
    };
    assert_eq!(mine(s.hostile.token.clone()).await, "requested");
    assert_eq!(mine(fb1.token.clone()).await, "given");
    assert_eq!(mine(fb2.token.clone()).await, Value::Null);
}

#[tokio::test]
async fn statistics_are_served_grouped_over_a_period_and_as_csv() {
    let s = Scene::new().await;
    s.hold_session().await;
    s.app.set_clock("2027-03-16T10:00:00+01:00");
    let path = "/admin/statistics?group=session&from=2027-03-01&to=2027-03-31";
    let a = s.app.call("GET", path, Some(&s.staff), None).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["group"], "session");
    assert_eq!(a.body["rows"].as_array().unwrap().len(), 1, "{a:?}");
    let total = &a.body["total"];
    assert_eq!(total["figures"]["capacity"], 3);
    assert_eq!(total["figures"]["confirmed_at_start"], 3);
    assert_eq!(total["fill_rate_permille"], 1000);
    assert_eq!(total["attendance_permille"], 667);
    assert!(
        total["figures"]["cost"].is_string(),
        "money is a decimal string: {total}"
    );

    let (status, headers, bytes) = download(&s.app, path, &s.staff, "text/csv").await;
    let lines = csv_lines(
        status,
        &headers,
        &bytes,
        "statistiques-session-2027-03-01_2027-03-31.csv",
    );
    assert!(lines[0].starts_with(
        "Regroupement;Clé;Libellé;Sessions;Capacité;Inscrits au début;\
         Taux de remplissage pondéré (%);Présents;Absents;Excusés;Taux de présence (%);"
    ));
    assert!(lines[1].starts_with(&format!("session;{};", s.reference)));
    assert!(
        lines[2].starts_with("total;total;Total;1;3;3;100,0;2;1;0;66,7;0;0;0;0;0;3;"),
        "{}",
        lines[2]
    );

    let empty = s
        .app
        .call(
            "GET",
            "/admin/statistics?from=2028-01-01",
            Some(&s.staff),
            None,
        )
        .await;
    assert_eq!(empty.body["rows"], json!([]));
    assert_eq!(empty.body["group"], "training");

    for (query, code, field) in [
        ("from=2027-04-01&to=2027-03-01", "invalid-period", None),
        ("group=week", "invalid-field", Some("group")),
        ("from=01/03/2027", "invalid-field", Some("from")),
        ("to=demain", "invalid-field", Some("to")),
        ("from=1990-01-01", "invalid-field", Some("from")),
        ("to=2100-01-01", "invalid-field", Some("to")),
    ] {
        let a = s
            .app
            .call(
                "GET",
                &format!("/admin/statistics?{query}"),
                Some(&s.staff),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, code);
        if let Some(field) = field {
            assert_eq!(a.body["errors"][0]["field"], field, "{a:?}");
        }
    }
    let officer = s
        .app
        .call("GET", "/admin/statistics", Some(&s.officers[0].token), None)
        .await;
    assert_problem(&officer, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn staff_delete_a_session_only_once_nobody_is_enrolled() {
    let s = Scene::new().await;
    let live = s
        .app
        .call(
            "DELETE",
            &format!("/admin/sessions/{}", s.session),
            Some(&s.staff),
            None,
        )
        .await;
    assert_problem(&live, StatusCode::CONFLICT, "session-not-deletable");

    let mistake = s
        .app
        .create_session(5, json!({ "reference": "FIN-01-DOUBLON" }))
        .await;
    let path = format!("/admin/sessions/{mistake}");
    let deleted = s.app.call("DELETE", &path, Some(&s.staff), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let gone = s.app.call("GET", &path, Some(&s.staff), None).await;
    assert_problem(&gone, StatusCode::NOT_FOUND, "session-not-found");
    let listed = s
        .app
        .call("GET", "/admin/sessions", Some(&s.staff), None)
        .await;
    assert_eq!(listed.body["count"], 1, "{listed:?}");
    let enrol = s.app.enrol(&s.officers[0].token, &mistake).await;
    assert_problem(&enrol, StatusCode::NOT_FOUND, "session-not-found");
    let officer = s
        .app
        .call("DELETE", &path, Some(&s.officers[0].token), None)
        .await;
    assert_problem(&officer, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn staff_see_who_is_behind_their_programme_and_what_they_attended() {
    let s = Scene::new().await;
    let fb1 = &s.officers[0];
    let fin = s.app.training_id("FIN-01").await;
    let planned = s
        .app
        .call(
            "PUT",
            &format!("/admin/officers/{}/programme/{fin}", fb1.id),
            Some(&s.staff),
            Some(json!({ "kind": "required" })),
        )
        .await;
    assert_eq!(planned.status, StatusCode::OK, "{planned:?}");
    let behind = |a: &Answer| -> Vec<String> {
        a.body["officers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["officer"]["email"].as_str().unwrap().to_string())
            .collect()
    };
    // On 10 January 2027, a bit more than half of fb-1's accompaniment (2026-2027) is over:
    // the one training planned is expected done, and is not.
    let path = "/admin/programmes?behind=true";
    let a = s.app.call("GET", path, Some(&s.staff), None).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(behind(&a), std::slice::from_ref(&fb1.email));
    assert_eq!(a.body["officers"][0]["expected_done"], 1);
    assert_eq!(a.body["officers"][0]["done"], 0);

    s.hold_session().await;
    let a = s.app.call("GET", path, Some(&s.staff), None).await;
    assert!(behind(&a).is_empty(), "{a:?}");
    let all = s
        .app
        .call("GET", "/admin/programmes", Some(&s.staff), None)
        .await;
    let mine = all.body["officers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["officer"]["id"] == fb1.id.as_str())
        .expect("fb-1")
        .clone();
    // Two days of 09:00-17:30.
    assert_eq!(mine["minutes_attended"], 2 * 510, "{mine}");
    assert_eq!(mine["done"], 1);
    assert_eq!(mine["themes_covered"].as_array().unwrap().len(), 1);
    let ends: Vec<&str> = all.body["officers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["officer"]["accompaniment_end"].as_str().unwrap())
        .collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "{ends:?}");
    let bad = s
        .app
        .call(
            "GET",
            "/admin/programmes?behind=peut-être",
            Some(&s.staff),
            None,
        )
        .await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
}
