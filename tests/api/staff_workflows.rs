//! What staff do around the rules: re-importing their spreadsheets after the app took over,
//! moving and cancelling sessions, acting on an officer's behalf.

use crate::helpers::*;
use axum::http::StatusCode;
use cassiopee_local::seed::DEMO_FILES;
use serde_json::json;

const COM_01_S057: &str = "01KDVDNA00V1JPKWJGCE1JNBJE";
const NUM_02_S068: &str = "01KDVDNA007RF4V4MM51ZAMB31";

#[tokio::test]
async fn a_second_import_keeps_what_was_done_in_the_app_since_the_first() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let staff = app.staff().await;
    let herve = app.sign_in("herve.kerjean@intradef.example").await;
    let roster = app.roster(COM_01_S057).await;
    let marked = roster[0]["officer"]["id"].as_str().unwrap().to_string();
    let a = app
        .call(
            "PUT",
            &format!("/admin/sessions/{COM_01_S057}/attendance/{marked}"),
            Some(&staff),
            Some(json!({ "status": "absent" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let w = app.withdraw(&herve, NUM_02_S068).await;
    assert_eq!(w.status, StatusCode::OK, "{w:?}");

    let enrolments = DEMO_FILES[4].1.to_vec();
    let report = app
        .raw(
            "POST",
            "/admin/imports/enrolments",
            &staff,
            "text/csv",
            enrolments,
        )
        .await;

    assert_eq!(report.status, StatusCode::OK, "{report:?}");
    assert_eq!(report.body["kept"], 2, "{report:?}");
    assert_eq!(report.body["updated"], 0, "{report:?}");
    assert_eq!(report.body["kept_rows"].as_array().unwrap().len(), 2);
    let roster = app.roster(COM_01_S057).await;
    let line = roster
        .iter()
        .find(|l| l["officer"]["id"] == marked.as_str())
        .unwrap();
    assert_eq!(line["status"], "absent");
    let me = app.standing(&herve, NUM_02_S068).await;
    assert_eq!(me["status"], "withdrawn");
}

#[tokio::test]
async fn a_session_edited_in_the_app_is_not_overwritten_by_the_planning_sheet() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let staff = app.staff().await;
    let patch = app
        .call(
            "PATCH",
            &format!("/admin/sessions/{NUM_02_S068}"),
            Some(&staff),
            Some(json!({ "place": "Salle Foch, Paris" })),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{patch:?}");

    let report = app
        .raw(
            "POST",
            "/admin/imports/sessions",
            &staff,
            "text/csv",
            DEMO_FILES[3].1.to_vec(),
        )
        .await;

    assert_eq!(report.body["kept"], 1, "{report:?}");
    assert_eq!(app.session(NUM_02_S068).await["place"], "Salle Foch, Paris");
}

#[tokio::test]
async fn a_session_cannot_be_moved_into_the_past_nor_moved_or_cancelled_once_started() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let session = app.create_session(5, json!({})).await;
    let path = format!("/admin/sessions/{session}");

    let past = json!({ "first_day": "2026-11-01", "last_day": "2026-11-01", "enrolment_closes_at": "2026-10-20", "free_withdrawal_until": "2026-10-20" });
    let a = app.call("PATCH", &path, Some(&staff), Some(past)).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");

    app.set_clock("2027-03-15T10:00");
    let later = json!({ "first_day": "2027-04-15", "last_day": "2027-04-16" });
    let a = app.call("PATCH", &path, Some(&staff), Some(later)).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{a:?}");
    assert_eq!(a.body["code"], "session-started");
    let a = app
        .call("POST", &format!("{path}/cancel"), Some(&staff), None)
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{a:?}");
    assert_eq!(app.session(&session).await["status"], "scheduled");
}

#[tokio::test]
async fn deadlines_not_given_follow_a_moved_session_by_as_many_days() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let session = app.create_session(5, json!({})).await;
    let path = format!("/admin/sessions/{session}");

    // Four weeks later, across the clock change of 28 March 2027: the wall-clock times stay.
    let later = json!({ "first_day": "2027-04-12", "last_day": "2027-04-13" });
    let a = app.call("PATCH", &path, Some(&staff), Some(later)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let s = app.session(&session).await;
    assert_eq!(s["enrolment_closes_at"], "2027-03-29T18:00:00+02:00", "{s}");
    assert_eq!(
        s["free_withdrawal_until"], "2027-04-05T23:59:59+02:00",
        "{s}"
    );

    // A deadline given is taken as given; the other one still follows.
    let given = json!({ "first_day": "2027-04-19", "last_day": "2027-04-20", "enrolment_closes_at": "2027-04-01" });
    let a = app.call("PATCH", &path, Some(&staff), Some(given)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let s = app.session(&session).await;
    assert_eq!(s["enrolment_closes_at"], "2027-04-01T23:59:59+02:00", "{s}");
    assert_eq!(
        s["free_withdrawal_until"], "2027-04-12T23:59:59+02:00",
        "{s}"
    );
}

#[tokio::test]
async fn moving_a_session_onto_another_one_an_officer_holds_is_flagged_to_staff() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let o = app.officers("clash", 2).await;
    let first = app
        .create_session(5, json!({ "reference": "CLASH-A" }))
        .await;
    let second = app
        .create_session(
            5,
            json!({ "first_day": "2027-04-12", "last_day": "2027-04-13" }),
        )
        .await;
    app.enrol(&o[0].token, &first).await;
    app.enrol(&o[0].token, &second).await;
    app.enrol(&o[1].token, &second).await;

    let path = format!("/admin/sessions/{second}");
    // Editing the trainer moves nothing: no clash is looked for.
    let a = app
        .call(
            "PATCH",
            &path,
            Some(&staff),
            Some(json!({ "trainer": "M. Y" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["clashes"], json!([]), "{a:?}");

    // The second afternoon of the first session: only the officer seated in both clashes.
    let onto = json!({ "first_day": "2027-03-16", "last_day": "2027-03-16", "daily_hours": "14:00-17:00" });
    let a = app.call("PATCH", &path, Some(&staff), Some(onto)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let clashes = a.body["clashes"].as_array().expect("clashes");
    assert_eq!(clashes.len(), 1, "{a:?}");
    assert_eq!(clashes[0]["officer_id"], o[0].id.as_str());
    assert_eq!(clashes[0]["other_reference"], "CLASH-A");
    assert_eq!(clashes[0]["other_session_id"], first.as_str());

    // Once the first seat is given up, moving again finds nothing.
    app.withdraw(&o[0].token, &first).await;
    let again = json!({ "daily_hours": "13:30-17:00" });
    let a = app.call("PATCH", &path, Some(&staff), Some(again)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["clashes"], json!([]), "{a:?}");
}

#[tokio::test]
async fn moving_someone_on_the_waiting_list_tells_them_their_new_rank_at_once() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let o = app.officers("rank", 3).await;
    let session = app.create_session(1, json!({})).await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }

    let a = app
        .call(
            "POST",
            &format!("/admin/sessions/{session}/waitlist/{}/move", o[2].id),
            Some(&staff),
            Some(json!({ "position": 1, "reason": "Priorité du conseiller" })),
        )
        .await;

    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["position"], 1);
    let emails: Vec<_> = app
        .outbox()
        .into_iter()
        .filter(|e| e.to == o[2].email)
        .collect();
    assert!(
        emails
            .iter()
            .any(|e| e.text.contains("modifié l'ordre") && e.text.contains("au rang 1")),
        "{:?}",
        emails.iter().map(|e| &e.text).collect::<Vec<_>>()
    );
    assert!(!emails.iter().any(|e| e.text.contains("rang 0")));
}

#[tokio::test]
async fn what_staff_do_on_an_officers_behalf_is_worded_as_such() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let o = app.officers("behalf", 1).await;
    let session = app.create_session(3, json!({})).await;
    let path = format!("/admin/sessions/{session}/enrolments");
    let body = json!({ "officer_id": o[0].id });
    let first = app
        .call("POST", &path, Some(&staff), Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");

    let again = app.call("POST", &path, Some(&staff), Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Cet officier figure déjà"),
        "{again:?}"
    );
    let w = app
        .call(
            "DELETE",
            &format!("/admin/sessions/{session}/enrolments/{}", o[0].id),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(w.status, StatusCode::OK, "{w:?}");

    let emails: Vec<_> = app
        .outbox()
        .into_iter()
        .filter(|e| e.to == o[0].email)
        .collect();
    assert!(
        emails.iter().any(|e| e
            .text
            .contains("La cellule formation a procédé à votre inscription")),
        "{}",
        emails.len()
    );
    assert!(emails.iter().any(|e| {
        e.text
            .contains("La cellule formation a annulé votre inscription")
    }));
    assert!(!emails.iter().any(|e| e.text.contains("Votre désistement")));
}

#[tokio::test]
async fn a_staff_address_cannot_be_imported_as_an_officer() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let csv = "Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;Début d'accompagnement;Fin d'accompagnement;Durée (mois);Conseiller MiRVOG\n\
               Fay;Fay;Général de brigade;Armée de Terre;hugues.vidal@intradef.example;;01/01/2026;31/12/2026;12;H. Vidal\n";
    let a = app
        .raw(
            "POST",
            "/admin/imports/officers",
            &staff,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(a.body["rejected"], 1, "{a:?}");
    assert!(
        a.body["rejected_rows"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("personnel"),
        "{a:?}"
    );
}

#[tokio::test]
async fn the_servers_own_refusals_are_problems_in_french_too() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let a = app.call("PUT", "/dev/clock", None, None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.content_type, "application/problem+json");
    let big = vec![b'a'; 3 * 1024 * 1024];
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/dev/sign-in")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(big))
        .unwrap();
    let a = app.send(req).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{a:?}");
    assert_eq!(a.content_type, "application/problem+json");
}

#[tokio::test]
async fn a_closed_session_says_its_waiting_list_is_closed() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let session = app.create_session(1, json!({})).await;
    assert_eq!(app.session(&session).await["waiting_list_open"], true);
    app.set_clock("2027-03-02T10:00");
    assert_eq!(app.session(&session).await["waiting_list_open"], false);
}

#[tokio::test]
async fn enrolling_in_a_session_at_the_time_of_another_seat_says_so_at_once() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let o = app.officers("overlap", 1).await.remove(0);
    let first = app.create_session(5, json!({ "reference": "OVL-A" })).await;
    let second = app
        .create_session(
            5,
            json!({ "reference": "OVL-B", "first_day": "2027-03-16", "last_day": "2027-03-16" }),
        )
        .await;
    let elsewhere = app
        .create_session(
            5,
            json!({ "reference": "OVL-C", "first_day": "2027-04-12", "last_day": "2027-04-12" }),
        )
        .await;
    let a = app.enrol(&o.token, &first).await;
    assert_eq!(a.body["clashes"], json!([]), "{a:?}");
    let a = app.enrol(&o.token, &second).await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert_eq!(a.body["status"], "confirmed");
    let clashes = a.body["clashes"].as_array().expect("clashes");
    assert_eq!(clashes.len(), 1, "{a:?}");
    assert_eq!(clashes[0]["reference"], "OVL-A");
    let a = app.enrol(&o.token, &elsewhere).await;
    assert_eq!(a.body["clashes"], json!([]), "{a:?}");
    let confirmation = app
        .outbox()
        .into_iter()
        .find(|e| e.to == o.email && e.text.contains("Session : OVL-B"))
        .expect("the second confirmation");
    assert!(
        confirmation
            .text
            .contains("Attention : cette session chevauche"),
        "{}",
        confirmation.text
    );
}

#[tokio::test]
async fn staff_withdrawing_an_officer_who_is_not_enrolled_are_told_about_the_officer() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let staff = app.staff().await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("absent", 1).await;

    let by_staff = app
        .call(
            "DELETE",
            &format!("/admin/sessions/{session}/enrolments/{}", o[0].id),
            Some(&staff),
            None,
        )
        .await;
    let own = app
        .call(
            "DELETE",
            &format!("/sessions/{session}/enrolment"),
            Some(&o[0].token),
            None,
        )
        .await;

    assert_problem(&by_staff, StatusCode::NOT_FOUND, "enrolment-not-found");
    assert_eq!(
        by_staff.body["detail"], "Cet officier n'est pas inscrit à cette session.",
        "{by_staff:?}"
    );
    assert_problem(&own, StatusCode::NOT_FOUND, "enrolment-not-found");
    assert_eq!(
        own.body["detail"], "Vous n'êtes pas inscrit(e) à cette session.",
        "{own:?}"
    );
}
