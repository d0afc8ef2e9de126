//! The audit log and personal data, through HTTP: staff read who changed what per session,
//! officer and training; an officer exports everything held about them; an erasure (by staff,
//! by the officer, or by the purge) releases seats, keeps the statistics, forgets the person
//! in the database file itself, and refuses to bring them back from a spreadsheet.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};

const NOW: &str = "2027-01-10T10:00";

fn lines(a: &Answer) -> Vec<Value> {
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let lines = a.body["audit"].as_array().expect("audit").clone();
    assert_eq!(a.body["count"], lines.len());
    lines
}

fn actions(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l["action"].as_str().unwrap_or(""))
        .collect()
}

/// The audit view of an officer (or of the pseudonym of an erased one).
async fn officer_log(app: &TestApp, staff: &str, id: &str) -> Vec<Value> {
    let path = format!("/admin/officers/{id}/audit");
    lines(&app.call("GET", &path, Some(staff), None).await)
}

async fn staff_id(app: &TestApp, staff: &str) -> String {
    let me = app.call("GET", "/me", Some(staff), None).await;
    me.body["staff"]["id"]
        .as_str()
        .expect("staff id")
        .to_string()
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_with_who_when_and_what_changed() {
    let app = TestApp::with_staff(NOW).await;
    let staff = app.staff().await;
    let staff_id = staff_id(&app, &staff).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("audit", 1).await;
    app.set_clock("2027-01-10T10:05");
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    app.set_clock("2027-01-10T10:10");
    let path = format!("/admin/sessions/{session}");
    let a = app
        .call(
            "PATCH",
            &path,
            Some(&staff),
            Some(json!({ "place": "Balard, Paris 15e", "capacity": 8 })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    app.set_clock("2027-01-10T10:15");
    assert_eq!(app.withdraw(&o[0].token, &session).await.status, 200);

    let log = lines(
        &app.call("GET", &format!("{path}/audit"), Some(&staff), None)
            .await,
    );
    assert_eq!(
        actions(&log),
        [
            "session.created",
            "enrolment.confirmed",
            "session.updated",
            "enrolment.withdrawn"
        ]
    );
    assert_eq!(log[0]["actor"], staff_id.as_str());
    assert_eq!(log[0]["origin"], "staff");
    assert_eq!(log[0]["after"]["place"], "École militaire, Paris 7e");
    assert_eq!(log[1]["actor"], o[0].id.as_str());
    assert_eq!(log[1]["officer_id"], o[0].id.as_str());
    assert_eq!(log[1]["before"], Value::Null);
    assert_eq!(log[1]["after"], json!({ "status": "confirmed" }));
    // Only what changed, and not the counters that move with every enrolment.
    assert_eq!(
        log[2]["before"],
        json!({ "place": "École militaire, Paris 7e", "capacity": 5, "schedule_version": 1 })
    );
    assert_eq!(
        log[2]["after"],
        json!({ "place": "Balard, Paris 15e", "capacity": 8, "schedule_version": 2 })
    );
    assert_eq!(log[2]["at"], "2027-01-10T10:10:00+01:00");
    assert_eq!(log[3]["before"], json!({ "status": "confirmed" }));

    // A training's changes, a programme planned, an interest: each in its views.
    let training = app.training_id("FIN-01").await;
    let t = app
        .call(
            "GET",
            &format!("/admin/trainings/{training}"),
            Some(&staff),
            None,
        )
        .await;
    let mut body = t.body.clone();
    for field in ["id", "archived", "interested", "edited_in_app"] {
        body.as_object_mut().expect("training").remove(field);
    }
    body["title"] = json!("Finances personnelles (nouvelle édition)");
    let put = app
        .call(
            "PUT",
            &format!("/admin/trainings/{training}"),
            Some(&staff),
            Some(body),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    let plan = format!("/admin/officers/{}/programme/{training}", o[0].id);
    let a = app
        .call(
            "PUT",
            &plan,
            Some(&staff),
            Some(json!({ "kind": "required" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let a = app
        .call(
            "PUT",
            &plan,
            Some(&staff),
            Some(json!({ "kind": "required" })),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "planning it again changes nothing"
    );
    let interest = format!("/trainings/{training}/interest");
    assert_eq!(
        app.call("POST", &interest, Some(&o[0].token), None)
            .await
            .status,
        201
    );

    let log = lines(
        &app.call(
            "GET",
            &format!("/admin/trainings/{training}/audit"),
            Some(&staff),
            None,
        )
        .await,
    );
    assert_eq!(
        actions(&log),
        [
            "training.imported",
            "training.updated",
            "programme.planned",
            "interest.registered"
        ]
    );
    assert_eq!(
        log[1]["after"],
        json!({ "title": "Finances personnelles (nouvelle édition)" })
    );
    assert_eq!(log[2]["before"], json!({ "kind": null }));
    assert_eq!(log[2]["after"], json!({ "kind": "required" }));
    assert_eq!(log[3]["origin"], "self");

    let log = officer_log(&app, &staff, &o[0].id).await;
    assert_eq!(
        actions(&log),
        [
            "officer.imported",
            "enrolment.confirmed",
            "enrolment.withdrawn",
            "programme.planned",
            "interest.registered"
        ]
    );

    // Views are for staff, about something that exists.
    let unknown = ulid::Ulid::generate();
    let a = app
        .call(
            "GET",
            &format!("/admin/sessions/{unknown}/audit"),
            Some(&staff),
            None,
        )
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "session-not-found");
    let a = app
        .call("GET", &format!("{path}/audit"), Some(&o[0].token), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_officer_exports_everything_held_about_them_and_nothing_of_others() {
    let app = TestApp::with_staff(NOW).await;
    let staff = app.staff().await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("export", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);
    let training = app.training_id("FIN-02").await;
    let plan = format!("/admin/officers/{}/programme/{training}", o[0].id);
    let a = app
        .call(
            "PUT",
            &plan,
            Some(&staff),
            Some(json!({ "kind": "recommended" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let interest = format!("/trainings/{training}/interest");
    assert_eq!(
        app.call("POST", &interest, Some(&o[0].token), None)
            .await
            .status,
        201
    );
    assert_eq!(
        app.call("POST", "/me/calendar-link", Some(&o[0].token), None)
            .await
            .status,
        201
    );

    let a = app.call("GET", "/me/export", Some(&o[0].token), None).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let x = &a.body;
    assert_eq!(x["officer"]["email"], o[0].email.as_str());
    assert_eq!(x["exported_at"], "2027-01-10T10:00:00+01:00");
    let enrolments = x["enrolments"].as_array().expect("enrolments");
    assert_eq!(enrolments.len(), 1);
    assert_eq!(enrolments[0]["status"], "confirmed");
    assert!(enrolments[0]["session_reference"].is_string(), "{x}");
    assert!(enrolments[0]["training_title"].is_string(), "{x}");
    assert_eq!(enrolments[0]["history"][0]["to"], "confirmed");
    assert_eq!(x["programme"][0]["training_id"], training.as_str());
    assert_eq!(x["interests"][0]["code"], "FIN-02");
    assert!(!x["notifications"].as_array().expect("notices").is_empty());
    assert!(x["calendar_link_created_at"].is_string());
    assert!(actions(x["audit"].as_array().expect("audit")).contains(&"programme.planned"));
    let text = x.to_string();
    assert!(!text.contains(&o[1].id), "another officer's id: {text}");
    assert!(!text.contains(&o[1].email), "another officer's address");
    assert!(
        !text.contains("link-"),
        "no secret of the calendar link: {text}"
    );

    // Staff can answer a request made by letter; each export is in the audit log.
    let path = format!("/admin/officers/{}/export", o[0].id);
    let by_staff = app.call("GET", &path, Some(&staff), None).await;
    assert_eq!(by_staff.status, StatusCode::OK);
    assert_eq!(by_staff.body["officer"]["id"], o[0].id.as_str());
    let log = officer_log(&app, &staff, &o[0].id).await;
    let exports: Vec<_> = log
        .iter()
        .filter(|l| l["action"] == "officer.exported")
        .map(|l| l["origin"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(exports, ["self", "staff"]);
}

/// Every byte of the embedded store's files, to look for what an erasure must remove.
fn store_bytes(app: &TestApp) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&app.dir).expect("data dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("cassiopee.sqlite3") {
            all.extend(std::fs::read(entry.path()).expect("store file"));
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn an_erasure_gives_up_seats_keeps_the_statistics_and_forgets_the_person() {
    let app = TestApp::with_staff(NOW).await;
    let staff = app.staff().await;
    let past = app
        .create_session(
            3,
            json!({ "first_day": "2027-01-20", "last_day": "2027-01-20",
            "enrolment_closes_at": "2027-01-15T18:00", "free_withdrawal_until": "2027-01-16" }),
        )
        .await;
    let future = app.create_session(1, json!({})).await;
    let o = app.officers("erase", 2).await;
    for officer in &o {
        assert_eq!(app.enrol(&officer.token, &past).await.status, 201);
    }
    assert_eq!(app.enrol(&o[0].token, &future).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &future).await.status, 201, "waiting");
    app.set_clock("2027-01-20T12:00");
    for officer in &o {
        let path = format!("/admin/sessions/{past}/attendance/{}", officer.id);
        let a = app
            .call(
                "PUT",
                &path,
                Some(&staff),
                Some(json!({ "status": "attended" })),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
    }
    app.set_clock("2027-01-22T10:00");
    let path = format!("/me/enrolments/{past}/feedback");
    let a = app
        .call(
            "POST",
            &path,
            Some(&o[0].token),
            Some(json!({ "rating": 5, "relevance": 4, "comment": "Erase-1 remercie l'équipe" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    let stats_path = "/admin/statistics?group=session&from=2027-01-01&to=2027-01-31";
    let stats_before = app.call("GET", stats_path, Some(&staff), None).await;
    assert_eq!(stats_before.status, StatusCode::OK);
    assert!(
        contains(&store_bytes(&app), &o[0].email),
        "the probe finds the address"
    );

    let erase = format!("/admin/officers/{}/erasure", o[0].id);
    let a = app
        .call("POST", &erase, Some(&staff), Some(json!({})))
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "a reason is required: {a:?}"
    );
    let a = app
        .call(
            "POST",
            &erase,
            Some(&staff),
            Some(json!({ "reason": "Demande écrite de l'officier du 20 janvier 2027" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["seats_released"], 1);
    assert_eq!(
        a.body["enrolments_kept"], 2,
        "the past session's and the one just given up, for the statistics"
    );
    assert_eq!(a.body["feedback_kept"], 1);
    let pseudonym = a.body["pseudonym"].as_str().expect("pseudonym").to_string();
    assert_ne!(pseudonym, o[0].id);

    // The seat went to the next in line.
    let roster = app.roster(&future).await;
    let stand_in = format!("{}@erased.invalid", pseudonym.to_lowercase());
    assert_eq!(
        statuses(&roster),
        [
            (o[1].email.clone(), "confirmed".to_string()),
            (stand_in, "withdrawn".to_string())
        ]
    );
    app.assert_counters(&future).await;
    // The person is gone from every staff view, and cannot sign in as an officer.
    let a = app
        .call(
            "GET",
            &format!("/admin/officers/{}", o[0].id),
            Some(&staff),
            None,
        )
        .await;
    assert_problem(&a, StatusCode::NOT_FOUND, "officer-not-found");
    let list = app.call("GET", "/admin/officers", Some(&staff), None).await;
    assert!(!list.body.to_string().contains(&o[0].email));
    assert!(
        app.roster(&past)
            .await
            .iter()
            .all(|l| l["officer"]["email"] != o[0].email.as_str())
    );
    let me = app.call("GET", "/me", Some(&o[0].token), None).await;
    assert_eq!(me.status, StatusCode::FORBIDDEN, "{me:?}");
    let a = app
        .call(
            "POST",
            &erase,
            Some(&staff),
            Some(json!({ "reason": "encore" })),
        )
        .await;
    assert_problem(&a, StatusCode::CONFLICT, "officer-erased");
    // Nothing of them is left in the store's files (their former id stays as the tombstone
    // that refuses a re-import: it is derived from the address, and names nobody by itself).
    let bytes = store_bytes(&app);
    assert!(
        contains(&bytes, "Test2"),
        "the probe finds the other officer's name"
    );
    for trace in [o[0].email.as_str(), "Test1", "Erase-1 remercie"] {
        assert!(
            !contains(&bytes, trace),
            "{trace} is still in the store's files"
        );
    }
    // The statistics of the past session are the same.
    let stats_after = app.call("GET", stats_path, Some(&staff), None).await;
    assert_eq!(stats_after.body["rows"], stats_before.body["rows"]);
    let report = format!("/admin/sessions/{past}/feedback");
    let report = app.call("GET", &report, Some(&staff), None).await;
    assert_eq!(
        report.body["attended"], 2,
        "their seat is still counted: {report:?}"
    );
    // The roster shows the kept seat without a name.
    let lines = app.roster(&past).await;
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .any(|l| l["officer"]["last_name"] == "" && l["officer"]["id"] == pseudonym.as_str()),
        "{lines:?}"
    );
    // Their past is read under the pseudonym, with who erased them and why.
    let log = officer_log(&app, &staff, &pseudonym).await;
    let last = log.last().expect("lines");
    assert_eq!(last["action"], "officer.erased");
    assert_eq!(last["origin"], "staff");
    assert_eq!(
        last["reason"],
        "Demande écrite de l'officier du 20 janvier 2027"
    );
    assert!(actions(&log).contains(&"enrolment.attended"));

    // A spreadsheet listing them again is refused, row by row; the others import as usual.
    let csv = format!(
        "{OFFICERS_HEADER}\
         Test1;Officier;Général de brigade;Armée de Terre;{};;01/01/2026;31/12/2027;24;H. Vidal\n\
         Test2;Officier;Général de brigade;Armée de Terre;{};;01/01/2026;31/12/2027;24;H. Vidal\n",
        o[0].email, o[1].email
    );
    let a = app.import_officers(&csv).await;
    assert_eq!(a.body["rejected"], 1, "{a:?}");
    assert_eq!(a.body["rejected_rows"][0]["line"], 2);
    let reason = a.body["rejected_rows"][0]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("ont été effacées"), "{reason}");
    assert!(
        !reason.contains("2027"),
        "no date: it would tie the tombstone to the pseudonym"
    );
    let list = app.call("GET", "/admin/officers", Some(&staff), None).await;
    assert!(!list.body.to_string().contains(&o[0].email));
}

#[tokio::test]
async fn an_officer_erases_their_own_data_only_with_the_confirmation_word() {
    let app = TestApp::with_staff(NOW).await;
    let o = app.officers("moi", 1).await;
    let token = Some(o[0].token.as_str());
    let a = app
        .call("POST", "/me/erasure", token, Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{a:?}");
    let a = app
        .call(
            "POST",
            "/me/erasure",
            token,
            Some(json!({ "confirmation": "oui" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    assert!(
        a.body["detail"].as_str().unwrap_or("").contains("EFFACER"),
        "{a:?}"
    );
    assert_eq!(
        app.call("GET", "/me", token, None).await.status,
        StatusCode::OK
    );
    let a = app
        .call(
            "POST",
            "/me/erasure",
            token,
            Some(json!({ "confirmation": "EFFACER" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(
        app.call("GET", "/me", token, None).await.status,
        StatusCode::FORBIDDEN
    );
    let staff = app.staff().await;
    let pseudonym = a.body["pseudonym"].as_str().expect("pseudonym");
    let log = officer_log(&app, &staff, pseudonym).await;
    let last = log.last().expect("lines");
    assert_eq!(last["action"], "officer.erased");
    assert_eq!(last["origin"], "self");
    assert_eq!(
        last["actor"], pseudonym,
        "their own act names the pseudonym"
    );
}

#[tokio::test]
async fn the_daily_job_purges_officers_whose_accompaniment_ended_over_a_year_ago() {
    // The demo officers' accompaniments end from April 2026: none is due in December 2026.
    let app = TestApp::with_staff("2026-12-04T06:00").await;
    let staff = app.staff().await;
    let csv = format!(
        "{OFFICERS_HEADER}\
        Ancien;Paul;Général de brigade;Armée de Terre;ancien@intradef.example;;01/01/2024;02/12/2025;;H. Vidal\n\
        Recent;Anne;Général de brigade;Armée de Terre;recent@intradef.example;;01/01/2024;04/12/2025;;H. Vidal\n"
    );
    let a = app.import_officers(&csv).await;
    assert_eq!(a.body["created"], 2, "{a:?}");
    let result = app.run_job("compute-statistics").await;
    assert_eq!(result["officers_purged"], 1, "{result}");
    let list = app
        .call("GET", "/admin/officers", Some(&staff), None)
        .await
        .body
        .to_string();
    assert!(!list.contains("ancien@intradef.example"));
    assert!(
        list.contains("recent@intradef.example"),
        "a year to the day: not yet"
    );
    let again = app.run_job("compute-statistics").await;
    assert_eq!(again["officers_purged"], 0);
    app.set_clock("2026-12-05T06:00");
    assert_eq!(
        app.run_job("compute-statistics").await["officers_purged"],
        1
    );
    let list = app
        .call("GET", "/admin/officers", Some(&staff), None)
        .await
        .body
        .to_string();
    assert!(!list.contains("recent@intradef.example"));
}

#[tokio::test]
async fn a_move_in_the_waiting_list_and_a_training_taken_off_say_what_they_were() {
    let app = TestApp::with_staff(NOW).await;
    let staff = app.staff().await;
    let session = app.create_session(1, json!({})).await;
    let o = app.officers("rang", 3).await;
    for officer in &o {
        assert_eq!(app.enrol(&officer.token, &session).await.status, 201);
    }
    let path = format!("/admin/sessions/{session}/waitlist/{}/move", o[2].id);
    let body = json!({ "position": 1, "reason": "Priorité du commandement" });
    let a = app.call("POST", &path, Some(&staff), Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    let log = officer_log(&app, &staff, &o[2].id).await;
    let moved = log
        .iter()
        .find(|l| l["action"] == "waitlist.moved")
        .expect("a line for the move");
    assert_eq!(moved["before"], json!({ "position": 2 }));
    assert_eq!(moved["after"], json!({ "position": 1 }));
    assert_eq!(moved["reason"], "Priorité du commandement");
    assert_eq!(moved["session_id"], session.as_str());

    let training = app.training_id("FIN-01").await;
    let plan = format!("/admin/officers/{}/programme/{training}", o[0].id);
    let body = json!({ "kind": "recommended" });
    assert_eq!(
        app.call("PUT", &plan, Some(&staff), Some(body))
            .await
            .status,
        200
    );
    assert_eq!(
        app.call("DELETE", &plan, Some(&staff), None).await.status,
        204
    );
    let log = officer_log(&app, &staff, &o[0].id).await;
    let last = log.last().expect("lines");
    assert_eq!(last["action"], "programme.unplanned");
    assert_eq!(last["before"], json!({ "kind": "recommended" }));
    assert_eq!(last["after"], json!({ "kind": null }));
}

/// An officer who erases their data while their own enrolments are on their way: nothing fails
/// (each enrolment lands before the erasure and is released by it, or after it and is refused),
/// and no seat stays held under the pseudonym.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erasure_racing_the_officers_own_enrolments_fails_nothing_and_keeps_no_seat() {
    let app = TestApp::with_staff(NOW).await;
    let mut sessions = Vec::new();
    for i in 0..4 {
        sessions.push(
            app.create_session(5, json!({ "reference": format!("E-{i}") }))
                .await,
        );
    }
    for o in app.officers("course", 6).await {
        let token = Some(o.token.as_str());
        let mut requests: Vec<_> = sessions
            .iter()
            .map(|s| app.request("POST", &format!("/sessions/{s}/enrolment"), token, None))
            .collect();
        let erasure = json!({ "confirmation": "EFFACER" });
        requests.insert(2, app.request("POST", "/me/erasure", token, Some(erasure)));
        let answers = app.concurrently(requests).await;
        assert_eq!(
            answers[2].status,
            StatusCode::OK,
            "the erasure: {:?}",
            answers[2]
        );
        for a in &answers {
            assert!(a.status.is_success() || a.status.is_client_error(), "{a:?}");
        }
    }
    for s in &sessions {
        let roster = app.roster(s).await;
        let holding: Vec<_> = roster
            .iter()
            .filter(|l| {
                matches!(
                    l["status"].as_str(),
                    Some("confirmed" | "offered" | "waitlisted")
                )
            })
            .collect();
        assert!(holding.is_empty(), "{holding:?}");
        assert_eq!(app.session(s).await["seats_taken"], 0);
    }
}

/// A cancelled session to come keeps its enrolments (cancelling withdraws nobody), and its
/// seat cannot be given up: the erasure leaves it to the pseudonym like any kept enrolment,
/// instead of failing half done after giving up the officer's other seats.
#[tokio::test]
async fn an_erasure_completes_when_the_officer_holds_a_seat_in_a_cancelled_session() {
    let app = TestApp::with_staff(NOW).await;
    let staff = app.staff().await;
    let kept = app.create_session(1, json!({})).await;
    let cancelled = app
        .create_session(
            2,
            json!({ "first_day": "2027-04-12", "last_day": "2027-04-12" }),
        )
        .await;
    let o = app.officers("annule", 2).await;
    assert_eq!(app.enrol(&o[0].token, &kept).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &kept).await.status, 201, "waiting");
    assert_eq!(app.enrol(&o[0].token, &cancelled).await.status, 201);
    let path = format!("/admin/sessions/{cancelled}/cancel");
    let a = app.call("POST", &path, Some(&staff), None).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");

    let token = Some(o[0].token.as_str());
    let a = app
        .call(
            "POST",
            "/me/erasure",
            token,
            Some(json!({ "confirmation": "EFFACER" })),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(a.body["seats_released"], 1, "{a:?}");
    assert_eq!(a.body["enrolments_kept"], 2, "{a:?}");
    let pseudonym = a.body["pseudonym"].as_str().expect("pseudonym").to_string();
    assert_eq!(
        app.call("GET", "/me", token, None).await.status,
        StatusCode::FORBIDDEN
    );
    // The seat of the session to come went to the next in line.
    assert_eq!(
        status_of(&app.roster(&kept).await, &o[1].email).as_deref(),
        Some("confirmed")
    );
    app.assert_counters(&kept).await;
    // The cancelled session's line is kept, without a name.
    let lines = app.roster(&cancelled).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["officer"]["id"], pseudonym.as_str());
    assert_eq!(lines[0]["officer"]["last_name"], "");
}
