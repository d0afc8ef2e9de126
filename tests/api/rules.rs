//! Each business rule, through the HTTP routes: enrolment window, withdrawals, promotion from
//! the waiting list, seat counters, waiting-list order, capacity, Paris times, reminders,
//! cancellation, attendance, interest, and the officer's read side on the demo data.

use crate::helpers::*;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde_json::{Value, json};

/// When the planning starts in most tests: well before the default session's close.
const PLANNING: &str = "2027-01-10T10:00";

fn instant(raw: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

/// Asserts that `raw` is within a minute after `expected` (the settable clock keeps running).
fn assert_about(raw: &Value, expected: &str) {
    let got = instant(
        raw.as_str()
            .unwrap_or_else(|| panic!("not an instant: {raw}")),
    );
    let want = instant(expected);
    assert!(
        got >= want && got - want < Duration::minutes(1),
        "{got} is not just after {want}"
    );
}

async fn staff_enrol(app: &TestApp, session: &str, officer_id: &str) -> Answer {
    let staff = app.staff().await;
    let path = format!("/admin/sessions/{session}/enrolments");
    app.call(
        "POST",
        &path,
        Some(&staff),
        Some(json!({ "officer_id": officer_id })),
    )
    .await
}

async fn answer_offer(app: &TestApp, token: &str, session: &str, verb: &str) -> Answer {
    let path = format!("/sessions/{session}/offer/{verb}");
    app.call("POST", &path, Some(token), None).await
}

// --- The enrolment window

#[tokio::test]
async fn an_officer_may_enrol_up_to_the_close_instant_and_not_after_it() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("close", 2).await;
    let session = app.create_session(5, json!({})).await;

    app.set_clock("2027-03-01T17:59:59");
    let at_close = app.enrol(&o[0].token, &session).await;
    app.set_clock("2027-03-01T18:00:01");
    let after = app.enrol(&o[1].token, &session).await;

    assert_eq!(at_close.status, StatusCode::CREATED, "{at_close:?}");
    assert_eq!(at_close.body["status"], "confirmed");
    assert_problem(&after, StatusCode::CONFLICT, "enrolment-closed");
    let roster = app.roster(&session).await;
    assert_eq!(
        statuses(&roster),
        vec![(o[0].email.clone(), "confirmed".to_string())]
    );
    app.assert_counters(&session).await;
}

#[tokio::test]
async fn after_the_close_a_full_session_puts_nobody_on_its_waiting_list() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("full", 2).await;
    let session = app.create_session(1, json!({})).await;
    assert_eq!(
        app.enrol(&o[0].token, &session).await.body["status"],
        "confirmed"
    );
    let before = app.roster(&session).await;

    app.set_clock("2027-03-02T10:00");
    let by_officer = app.enrol(&o[1].token, &session).await;
    let by_staff = staff_enrol(&app, &session, &o[1].id).await;

    assert_problem(&by_officer, StatusCode::CONFLICT, "enrolment-closed");
    assert_problem(&by_staff, StatusCode::CONFLICT, "session-full");
    assert_eq!(app.roster(&session).await, before);
    assert_eq!(app.session(&session).await["waiting"], 0);
}

#[tokio::test]
async fn nobody_enrols_at_or_after_the_start() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("started", 2).await;
    let session = app
        .create_session(5, json!({ "enrolment_closes_at": "2027-03-15T08:00" }))
        .await;

    app.set_clock("2027-03-15T09:00");
    let at_start = app.enrol(&o[0].token, &session).await;
    let staff_at_start = staff_enrol(&app, &session, &o[1].id).await;
    app.set_clock("2027-03-16T10:00");
    let during = app.enrol(&o[1].token, &session).await;

    assert_problem(&at_start, StatusCode::CONFLICT, "session-started");
    assert_problem(&staff_at_start, StatusCode::CONFLICT, "session-started");
    assert_problem(&during, StatusCode::CONFLICT, "session-started");
    assert!(app.roster(&session).await.is_empty());
}

// --- Withdrawals

#[tokio::test]
async fn a_withdrawal_is_on_time_until_the_cut_off_late_after_it_and_refused_once_started() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("withdraw", 3).await;
    let session = app.create_session(5, json!({})).await;
    for officer in &o {
        assert_eq!(
            app.enrol(&officer.token, &session).await.body["status"],
            "confirmed"
        );
    }

    // The cut-off is the end of 8 March, Paris time.
    app.set_clock("2027-03-08T23:59:58");
    let on_time = app.withdraw(&o[0].token, &session).await;
    app.set_clock("2027-03-09T00:00:01");
    let late = app.withdraw(&o[1].token, &session).await;
    app.set_clock("2027-03-15T09:00");
    let started = app.withdraw(&o[2].token, &session).await;

    assert_eq!(on_time.status, StatusCode::OK, "{on_time:?}");
    assert_eq!(
        on_time.body,
        json!({ "status": "withdrawn", "late": false })
    );
    assert_eq!(late.status, StatusCode::OK, "{late:?}");
    assert_eq!(late.body, json!({ "status": "withdrawn", "late": true }));
    assert_problem(&started, StatusCode::CONFLICT, "session-started");
    let roster = app.roster(&session).await;
    let late_of = |email: &str| {
        roster
            .iter()
            .find(|l| l["officer"]["email"] == email)
            .map(|l| l["late"].clone())
    };
    assert_eq!(late_of(&o[0].email), Some(json!(false)));
    assert_eq!(late_of(&o[1].email), Some(json!(true)));
    assert_eq!(
        status_of(&roster, &o[2].email).as_deref(),
        Some("confirmed")
    );
    app.assert_counters(&session).await;
}

// --- Promotion from the waiting list

#[tokio::test]
async fn in_direct_mode_a_freed_seat_confirms_the_next_in_line_at_once_and_tells_them() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("direct", 3).await;
    let session = app.create_session(1, json!({})).await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    app.assert_counters(&session).await;

    let out = app.withdraw(&o[0].token, &session).await;

    assert_eq!(out.status, StatusCode::OK, "{out:?}");
    let roster = app.roster(&session).await;
    assert_eq!(
        status_of(&roster, &o[1].email).as_deref(),
        Some("confirmed")
    );
    assert_eq!(waiting_order(&roster), vec![o[2].email.clone()]);
    app.assert_counters(&session).await;
    assert_eq!(app.emails_to(&o[1].email, "Place obtenue"), 1);
    assert_eq!(app.emails_to(&o[2].email, "Place obtenue"), 0);
    let me = app.standing(&o[2].token, &session).await;
    assert_eq!(me["status"], "waitlisted");
    assert_eq!(me["position"], 1);
}

#[tokio::test]
async fn in_offer_mode_a_freed_seat_is_offered_for_the_offer_hours_and_accepting_confirms_it() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("offer", 3).await;
    let session = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 48 }))
        .await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }

    app.set_clock("2027-01-20T10:00");
    app.withdraw(&o[0].token, &session).await;

    let me = app.standing(&o[1].token, &session).await;
    assert_eq!(me["status"], "offered", "{me}");
    assert_about(&me["offer_expires_at"], "2027-01-22T10:00:00+01:00");
    assert!(
        me["offer_expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+01:00")),
        "{me}"
    );
    assert_eq!(
        status_of(&app.roster(&session).await, &o[2].email).as_deref(),
        Some("waitlisted")
    );
    app.assert_counters(&session).await;
    assert_eq!(app.emails_to(&o[1].email, "Une place vous est proposée"), 1);

    let accepted = answer_offer(&app, &o[1].token, &session, "accept").await;

    assert_eq!(accepted.status, StatusCode::OK, "{accepted:?}");
    assert_eq!(accepted.body["status"], "confirmed");
    let me = app.standing(&o[1].token, &session).await;
    assert_eq!(me["status"], "confirmed");
    assert_eq!(me["offer_expires_at"], Value::Null);
    let roster = app.roster(&session).await;
    assert_eq!(waiting_order(&roster), vec![o[2].email.clone()]);
    app.assert_counters(&session).await;
}

#[tokio::test]
async fn an_offer_made_shortly_before_the_close_expires_at_the_close() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("offerclose", 2).await;
    let session = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 48 }))
        .await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }

    app.set_clock("2027-03-01T10:00");
    app.withdraw(&o[0].token, &session).await;

    let me = app.standing(&o[1].token, &session).await;
    assert_eq!(me["status"], "offered", "{me}");
    assert_eq!(me["offer_expires_at"], "2027-03-01T18:00:00+01:00");
    app.assert_counters(&session).await;
}

#[tokio::test]
async fn declining_an_offer_passes_the_seat_to_the_next_in_line() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("decline", 3).await;
    let session = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 48 }))
        .await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    app.set_clock("2027-01-20T10:00");
    app.withdraw(&o[0].token, &session).await;
    app.assert_counters(&session).await;

    let declined = answer_offer(&app, &o[1].token, &session, "decline").await;

    assert_eq!(declined.status, StatusCode::OK, "{declined:?}");
    assert_eq!(declined.body["status"], "declined");
    let roster = app.roster(&session).await;
    assert_eq!(status_of(&roster, &o[1].email).as_deref(), Some("declined"));
    assert_eq!(status_of(&roster, &o[2].email).as_deref(), Some("offered"));
    let me = app.standing(&o[2].token, &session).await;
    assert_about(&me["offer_expires_at"], "2027-01-22T10:00:00+01:00");
    app.assert_counters(&session).await;
}

#[tokio::test]
async fn an_offer_left_unanswered_expires_at_the_sweep_and_goes_to_the_next_in_line() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("expire", 3).await;
    let session = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 48 }))
        .await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    app.set_clock("2027-01-20T10:00");
    app.withdraw(&o[0].token, &session).await;
    let offered = app.standing(&o[1].token, &session).await;
    let expiry = instant(offered["offer_expires_at"].as_str().expect("offer expiry"));

    app.set_clock(&(expiry + Duration::minutes(5)).to_rfc3339());
    let too_late = answer_offer(&app, &o[1].token, &session, "accept").await;
    app.run_job("promote-waitlist").await;

    assert_problem(&too_late, StatusCode::CONFLICT, "offer-expired");
    let roster = app.roster(&session).await;
    assert_eq!(
        status_of(&roster, &o[1].email).as_deref(),
        Some("offer_expired")
    );
    assert_eq!(status_of(&roster, &o[2].email).as_deref(), Some("offered"));
    let next = app.standing(&o[2].token, &session).await;
    assert_about(
        &next["offer_expires_at"],
        &(expiry + Duration::minutes(5) + Duration::hours(48)).to_rfc3339(),
    );
    app.assert_counters(&session).await;
    assert_eq!(app.emails_to(&o[1].email, "Proposition expirée"), 1);

    // A second sweep finds nothing left to do.
    app.run_job("promote-waitlist").await;
    assert_eq!(app.roster(&session).await, roster);
}

#[tokio::test]
async fn no_seat_is_passed_on_after_the_close() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("noprom", 4).await;
    let direct = app.create_session(1, json!({})).await;
    let offer = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 48 }))
        .await;
    for officer in &o[..2] {
        app.enrol(&officer.token, &direct).await;
    }
    for officer in &o[..3] {
        app.enrol(&officer.token, &offer).await;
    }
    // The offer is made before the close, and runs until it.
    app.set_clock("2027-03-01T16:00");
    app.withdraw(&o[0].token, &offer).await;
    assert_eq!(
        status_of(&app.roster(&offer).await, &o[1].email).as_deref(),
        Some("offered")
    );

    app.set_clock("2027-03-02T10:00");
    let withdrawn = app.withdraw(&o[0].token, &direct).await;
    app.run_job("promote-waitlist").await;

    assert_eq!(withdrawn.body["status"], "withdrawn", "{withdrawn:?}");
    let roster = app.roster(&direct).await;
    assert_eq!(
        status_of(&roster, &o[1].email).as_deref(),
        Some("waitlisted")
    );
    assert_eq!(app.session(&direct).await["seats_taken"], 0);
    app.assert_counters(&direct).await;
    let roster = app.roster(&offer).await;
    assert_eq!(
        status_of(&roster, &o[1].email).as_deref(),
        Some("offer_expired")
    );
    assert_eq!(
        status_of(&roster, &o[2].email).as_deref(),
        Some("waitlisted")
    );
    app.assert_counters(&offer).await;
}

// --- The seat counter

#[tokio::test]
async fn the_seat_counter_equals_confirmed_plus_offered_after_every_step() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("counter", 6).await;
    let session = app
        .create_session(2, json!({ "waitlist_mode": "offer", "offer_hours": 24 }))
        .await;
    let staff = app.staff().await;
    let patch = |capacity: u32| json!({ "capacity": capacity });
    let admin = format!("/admin/sessions/{session}");

    for officer in &o {
        app.enrol(&officer.token, &session).await;
        app.assert_counters(&session).await;
    }
    app.set_clock("2027-01-20T10:00");
    app.withdraw(&o[0].token, &session).await; // o[2] offered
    app.assert_counters(&session).await;
    answer_offer(&app, &o[2].token, &session, "accept").await;
    app.assert_counters(&session).await;
    app.withdraw(&o[3].token, &session).await; // leaves the waiting list
    app.assert_counters(&session).await;
    let raised = app
        .call("PATCH", &admin, Some(&staff), Some(patch(4)))
        .await; // o[4], o[5] offered
    assert_eq!(raised.status, StatusCode::OK, "{raised:?}");
    app.assert_counters(&session).await;
    answer_offer(&app, &o[4].token, &session, "decline").await;
    app.assert_counters(&session).await;
    app.withdraw(&o[5].token, &session).await; // gives up a held offer
    app.assert_counters(&session).await;
    app.enrol(&o[3].token, &session).await; // joins again: a seat is free
    app.assert_counters(&session).await;
    app.set_clock("2027-01-22T10:00");
    app.run_job("promote-waitlist").await;
    app.assert_counters(&session).await;
    app.set_clock("2027-03-15T10:00");
    let path = format!("/admin/sessions/{session}/attendance/{}", o[1].id);
    let marked = app
        .call(
            "PUT",
            &path,
            Some(&staff),
            Some(json!({ "status": "attended" })),
        )
        .await;
    assert_eq!(marked.status, StatusCode::OK, "{marked:?}");
    app.assert_counters(&session).await;
}

// --- Waiting-list order

#[tokio::test]
async fn the_waiting_list_keeps_join_order_and_rejoining_puts_you_last() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("order", 4).await;
    let session = app.create_session(1, json!({})).await;
    let mut positions = Vec::new();
    for officer in &o {
        positions.push(app.enrol(&officer.token, &session).await.body["position"].clone());
    }
    assert_eq!(positions, vec![Value::Null, json!(1), json!(2), json!(3)]);
    let emails = |idx: &[usize]| idx.iter().map(|&i| o[i].email.clone()).collect::<Vec<_>>();
    assert_eq!(
        waiting_order(&app.roster(&session).await),
        emails(&[1, 2, 3])
    );

    let left = app.withdraw(&o[1].token, &session).await;
    let back = app.enrol(&o[1].token, &session).await;

    assert_eq!(left.body, json!({ "status": "left_waitlist" }));
    assert_eq!(back.status, StatusCode::CREATED, "{back:?}");
    assert_eq!(back.body, json!({ "status": "waitlisted", "position": 3 }));
    assert_eq!(
        waiting_order(&app.roster(&session).await),
        emails(&[2, 3, 1])
    );
    app.assert_counters(&session).await;
}

#[tokio::test]
async fn staff_move_someone_up_the_waiting_list_with_a_reason_kept_in_the_history() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("move", 4).await;
    let session = app.create_session(1, json!({})).await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    let staff = app.staff().await;
    let path = format!("/admin/sessions/{session}/waitlist/{}/move", o[3].id);
    let before = app.roster(&session).await;

    let no_reason = app
        .call(
            "POST",
            &path,
            Some(&staff),
            Some(json!({ "position": 1, "reason": "" })),
        )
        .await;
    let blank = app
        .call(
            "POST",
            &path,
            Some(&staff),
            Some(json!({ "position": 1, "reason": "   " })),
        )
        .await;
    let missing = app
        .call("POST", &path, Some(&staff), Some(json!({ "position": 1 })))
        .await;
    assert_problem(
        &no_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    );
    assert_eq!(
        no_reason.body["errors"][0]["field"], "reason",
        "{no_reason:?}"
    );
    assert_problem(&blank, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    let zero = app
        .call(
            "POST",
            &path,
            Some(&staff),
            Some(json!({ "position": 0, "reason": "Essai" })),
        )
        .await;
    assert_problem(&zero, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(zero.body["errors"][0]["field"], "position", "{zero:?}");
    assert!(missing.status.is_client_error(), "{missing:?}");
    assert!(
        missing.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reason")),
        "{missing:?}"
    );
    assert_eq!(app.roster(&session).await, before);

    let reason = "Priorité du commandement : départ imminent";
    let moved = app
        .call(
            "POST",
            &path,
            Some(&staff),
            Some(json!({ "position": 1, "reason": reason })),
        )
        .await;

    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert_eq!(moved.body["position"], 1);
    let emails = |idx: &[usize]| idx.iter().map(|&i| o[i].email.clone()).collect::<Vec<_>>();
    assert_eq!(
        waiting_order(&app.roster(&session).await),
        emails(&[3, 1, 2])
    );
    let history_path = format!("/admin/sessions/{session}/enrolments/{}/history", o[3].id);
    let history = app.call("GET", &history_path, Some(&staff), None).await;
    assert_eq!(history.status, StatusCode::OK, "{history:?}");
    let reasons: Vec<&Value> = history.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| &h["reason"])
        .filter(|r| !r.is_null())
        .collect();
    assert_eq!(reasons, vec![&json!(reason)], "{history:?}");

    // The next freed seat goes to the one moved up.
    app.withdraw(&o[0].token, &session).await;
    assert_eq!(
        status_of(&app.roster(&session).await, &o[3].email).as_deref(),
        Some("confirmed")
    );
    app.assert_counters(&session).await;
}

/// A move to where the officer already stands changes nothing, so it says nothing: no second
/// « Nouveau rang » email, no history line, no audit line.
#[tokio::test]
async fn a_move_to_the_position_already_held_writes_and_sends_nothing() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("same", 3).await;
    let session = app.create_session(1, json!({})).await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    let staff = app.staff().await;
    let path = format!("/admin/sessions/{session}/waitlist/{}/move", o[2].id);
    let history_path = format!("/admin/sessions/{session}/enrolments/{}/history", o[2].id);
    let body = json!({ "position": 1, "reason": "Priorité du commandement" });
    let moved = app
        .call("POST", &path, Some(&staff), Some(body.clone()))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert_eq!(moved.body["position"], 1);
    let emails = app.outbox().len();
    assert_eq!(
        app.emails_to(&o[2].email, "Nouveau rang en liste d'attente"),
        1
    );
    let history = app.call("GET", &history_path, Some(&staff), None).await;
    assert_eq!(history.status, StatusCode::OK, "{history:?}");
    let log = format!("/admin/officers/{}/audit", o[2].id);
    let audit = app.call("GET", &log, Some(&staff), None).await;
    assert_eq!(audit.status, StatusCode::OK, "{audit:?}");

    let again = app.call("POST", &path, Some(&staff), Some(body)).await;

    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.body["position"], 1);
    assert_eq!(
        app.outbox().len(),
        emails,
        "no email for a move that moved nothing"
    );
    let after = app.call("GET", &history_path, Some(&staff), None).await;
    assert_eq!(after.body["history"], history.body["history"]);
    let audit_after = app.call("GET", &log, Some(&staff), None).await;
    assert_eq!(audit_after.body["audit"], audit.body["audit"]);
    assert_eq!(
        waiting_order(&app.roster(&session).await),
        [o[2].email.clone(), o[1].email.clone()]
    );
    app.assert_counters(&session).await;
}

// --- Capacity

#[tokio::test]
async fn raising_the_capacity_promotes_in_order_and_lowering_below_the_confirmed_is_refused() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("capacity", 5).await;
    let session = app.create_session(2, json!({})).await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    let staff = app.staff().await;
    let path = format!("/admin/sessions/{session}");

    let raised = app
        .call("PATCH", &path, Some(&staff), Some(json!({ "capacity": 4 })))
        .await;

    assert_eq!(raised.status, StatusCode::OK, "{raised:?}");
    let roster = app.roster(&session).await;
    for officer in &o[..4] {
        assert_eq!(
            status_of(&roster, &officer.email).as_deref(),
            Some("confirmed")
        );
    }
    assert_eq!(waiting_order(&roster), vec![o[4].email.clone()]);
    app.assert_counters(&session).await;
    assert_eq!(app.emails_to(&o[2].email, "Place obtenue"), 1);

    let lowered = app
        .call("PATCH", &path, Some(&staff), Some(json!({ "capacity": 3 })))
        .await;

    assert_problem(&lowered, StatusCode::CONFLICT, "capacity-below-confirmed");
    let detail = lowered.body["detail"].as_str().unwrap_or_default();
    let numbers: Vec<&str> = detail
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .collect();
    assert!(numbers.contains(&"3") && numbers.contains(&"4"), "{detail}");
    assert_eq!(app.session(&session).await["capacity"], 4);
    assert_eq!(app.roster(&session).await, roster);
}

#[tokio::test]
async fn a_capacity_of_zero_is_allowed_only_with_the_waiting_list_on() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("zero", 1).await;

    let off = app
        .try_create_session(0, json!({ "waitlist_mode": "off" }))
        .await;
    let on = app.try_create_session(0, json!({})).await;

    assert_problem(&off, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(off.body["errors"][0]["field"], "capacity", "{off:?}");
    assert_eq!(on.status, StatusCode::CREATED, "{on:?}");
    let session = on.body["id"].as_str().expect("id");
    let waiting = app.enrol(&o[0].token, session).await;
    assert_eq!(
        waiting.body,
        json!({ "status": "waitlisted", "position": 1 })
    );
    app.assert_counters(session).await;
    let staff = app.staff().await;
    let sessions = app.call("GET", "/admin/sessions", Some(&staff), None).await;
    assert_eq!(sessions.body["count"], 1, "{sessions:?}");
}

// --- Paris times

#[tokio::test]
async fn a_session_in_the_hour_skipped_in_spring_is_refused_by_name() {
    let app = TestApp::with_staff(PLANNING).await;

    let a = app
        .try_create_session(
            5,
            json!({ "first_day": "2027-03-28", "last_day": "2027-03-28", "daily_hours": "02:15-04:00" }),
        )
        .await;

    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{a:?}");
    assert_problem_shape(&a);
    let detail = a.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("n'existe pas") && detail.contains("02:15"),
        "{detail}"
    );
}

#[tokio::test]
async fn an_ambiguous_deadline_in_the_repeated_autumn_hour_needs_an_offset() {
    let app = TestApp::with_staff("2026-10-01T10:00").await;

    let ambiguous = app
        .try_create_session(5, json!({ "enrolment_closes_at": "2026-10-25T02:30" }))
        .await;
    let summer = app
        .try_create_session(
            5,
            json!({ "enrolment_closes_at": "2026-10-25T02:30:00+02:00" }),
        )
        .await;
    let winter = app
        .try_create_session(
            5,
            json!({ "enrolment_closes_at": "2026-10-25T02:30:00+01:00" }),
        )
        .await;

    assert_problem(
        &ambiguous,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-field",
    );
    assert_eq!(
        ambiguous.body["errors"][0]["field"], "enrolment_closes_at",
        "{ambiguous:?}"
    );
    assert!(
        ambiguous.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("deux fois")),
        "{ambiguous:?}"
    );
    assert_eq!(summer.status, StatusCode::CREATED, "{summer:?}");
    assert_eq!(
        summer.body["enrolment_closes_at"],
        "2026-10-25T02:30:00+02:00"
    );
    assert_eq!(winter.status, StatusCode::CREATED, "{winter:?}");
    assert_eq!(
        winter.body["enrolment_closes_at"],
        "2026-10-25T02:30:00+01:00"
    );
}

#[tokio::test]
async fn an_enrolment_close_after_the_start_is_refused_on_its_field() {
    let app = TestApp::with_staff(PLANNING).await;

    let a = app
        .try_create_session(5, json!({ "enrolment_closes_at": "2027-03-15T10:00" }))
        .await;

    assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
    assert_eq!(a.body["errors"][0]["field"], "enrolment_closes_at", "{a:?}");
    let staff = app.staff().await;
    let sessions = app.call("GET", "/admin/sessions", Some(&staff), None).await;
    assert_eq!(sessions.body["count"], 0, "{sessions:?}");
}

#[tokio::test]
async fn answers_show_paris_times_with_the_winter_or_summer_offset() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("offset", 1).await;
    let winter = app.create_session(5, json!({})).await;
    let summer = app
        .create_session(
            5,
            json!({
                "first_day": "2027-06-15",
                "last_day": "2027-06-16",
                "enrolment_closes_at": "2027-06-01T18:00",
                "free_withdrawal_until": "2027-06-08",
            }),
        )
        .await;

    let w = app
        .call(
            "GET",
            &format!("/sessions/{winter}"),
            Some(&o[0].token),
            None,
        )
        .await;
    let s = app
        .call(
            "GET",
            &format!("/sessions/{summer}"),
            Some(&o[0].token),
            None,
        )
        .await;

    assert_eq!(w.body["starts_at"], "2027-03-15T09:00:00+01:00", "{w:?}");
    assert_eq!(w.body["ends_at"], "2027-03-16T17:30:00+01:00", "{w:?}");
    assert_eq!(
        w.body["enrolment_closes_at"], "2027-03-01T18:00:00+01:00",
        "{w:?}"
    );
    assert_eq!(
        w.body["free_withdrawal_until"], "2027-03-08T23:59:59+01:00",
        "{w:?}"
    );
    assert_eq!(s.body["starts_at"], "2027-06-15T09:00:00+02:00", "{s:?}");
    assert_eq!(s.body["ends_at"], "2027-06-16T17:30:00+02:00", "{s:?}");
    assert_eq!(
        s.body["enrolment_closes_at"], "2027-06-01T18:00:00+02:00",
        "{s:?}"
    );
}

// --- Reminders

const REMINDER: &str = "Rappel";

#[tokio::test]
async fn the_j7_reminder_goes_once_from_nine_o_clock_seven_calendar_days_before() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("j7", 1).await;
    let session = app.create_session(5, json!({})).await;
    app.enrol(&o[0].token, &session).await;

    app.set_clock("2027-03-08T08:59:00");
    let early = app.run_job("send-reminders").await;
    assert_eq!(app.emails_to(&o[0].email, REMINDER), 0, "{early}");

    app.set_clock("2027-03-08T09:00:00");
    let mut queued = Vec::new();
    for _ in 0..3 {
        queued.push(app.run_job("send-reminders").await["reminders_queued"].clone());
    }

    assert_eq!(queued, vec![json!(1), json!(0), json!(0)]);
    assert_eq!(app.emails_to(&o[0].email, REMINDER), 1);
}

#[tokio::test]
async fn the_j1_reminder_goes_once_from_nine_o_clock_the_day_before() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("j1", 1).await;
    let session = app.create_session(5, json!({})).await;
    app.enrol(&o[0].token, &session).await;
    app.set_clock("2027-03-08T10:00");
    app.run_job("send-reminders").await;
    assert_eq!(app.emails_to(&o[0].email, REMINDER), 1);

    app.set_clock("2027-03-14T08:59:00");
    app.run_job("send-reminders").await;
    let before_nine = app.emails_to(&o[0].email, REMINDER);
    app.set_clock("2027-03-14T09:00:00");
    app.run_job("send-reminders").await;
    app.run_job("send-reminders").await;

    assert_eq!(before_nine, 1);
    assert_eq!(app.emails_to(&o[0].email, REMINDER), 2);
}

#[tokio::test]
async fn a_missed_j7_reminder_is_not_sent_once_the_j1_is_due() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("missed", 1).await;
    let session = app.create_session(5, json!({})).await;
    app.enrol(&o[0].token, &session).await;

    app.set_clock("2027-03-14T09:30");
    let first = app.run_job("send-reminders").await;
    let second = app.run_job("send-reminders").await;

    assert_eq!(first["reminders_queued"], 1, "{first}");
    assert_eq!(second["reminders_queued"], 0, "{second}");
    assert_eq!(app.emails_to(&o[0].email, REMINDER), 1);
}

#[tokio::test]
async fn reminders_follow_paris_wall_clock_time_across_the_spring_clock_change() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("dst", 1).await;
    let session = app
        .create_session(
            5,
            json!({
                "first_day": "2027-04-01",
                "last_day": "2027-04-01",
                "enrolment_closes_at": "2027-03-20T18:00",
                "free_withdrawal_until": "2027-03-20",
            }),
        )
        .await;
    app.enrol(&o[0].token, &session).await;
    let sent = || app.emails_to(&o[0].email, REMINDER);

    // J-7 is 25 March 09:00 +01:00, not the start minus 7 × 24 hours (08:00 that day).
    app.set_clock("2027-03-25T08:59:00+01:00");
    app.run_job("send-reminders").await;
    assert_eq!(sent(), 0);
    app.set_clock("2027-03-25T09:00:00+01:00");
    app.run_job("send-reminders").await;
    assert_eq!(sent(), 1);

    // J-1 is 31 March 09:00 +02:00, after the change.
    app.set_clock("2027-03-31T08:59:00+02:00");
    app.run_job("send-reminders").await;
    assert_eq!(sent(), 1);
    app.set_clock("2027-03-31T09:00:00+02:00");
    app.run_job("send-reminders").await;
    assert_eq!(sent(), 2);
}

#[tokio::test]
async fn an_officer_confirmed_after_the_j7_time_gets_no_late_copy_of_it() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("latecomer", 2).await;
    let session = app
        .create_session(5, json!({ "enrolment_closes_at": "2027-03-12T18:00" }))
        .await;
    app.enrol(&o[0].token, &session).await;

    app.set_clock("2027-03-08T10:00");
    let late = app.enrol(&o[1].token, &session).await;
    app.run_job("send-reminders").await;
    app.set_clock("2027-03-10T10:00");
    app.run_job("send-reminders").await;

    assert_eq!(late.body["status"], "confirmed", "{late:?}");
    assert_eq!(app.emails_to(&o[0].email, REMINDER), 1);
    assert_eq!(app.emails_to(&o[1].email, REMINDER), 0);
    // The J-1 reminder still reaches them.
    app.set_clock("2027-03-14T09:00:30");
    app.run_job("send-reminders").await;
    assert_eq!(app.emails_to(&o[1].email, REMINDER), 1);
}

// --- Cancellation

#[tokio::test]
async fn cancelling_a_session_tells_every_confirmed_and_waiting_officer_once_and_closes_it() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("cancel", 6).await;
    let session = app.create_session(2, json!({})).await;
    for officer in &o[..5] {
        app.enrol(&officer.token, &session).await;
    }
    app.withdraw(&o[4].token, &session).await; // left the waiting list: no longer concerned
    let staff = app.staff().await;
    let path = format!("/admin/sessions/{session}/cancel");

    let cancelled = app.call("POST", &path, Some(&staff), None).await;
    let again = app.call("POST", &path, Some(&staff), None).await;

    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    for officer in &o[..4] {
        assert_eq!(
            app.emails_to(&officer.email, "Session annulée"),
            1,
            "{}",
            officer.email
        );
    }
    assert_eq!(app.emails_to(&o[4].email, "Session annulée"), 0);
    assert_eq!(app.emails_to(&o[5].email, "Session annulée"), 0);
    let late = app.enrol(&o[5].token, &session).await;
    assert_problem(&late, StatusCode::CONFLICT, "session-cancelled");
    let listed = app.call("GET", "/sessions", Some(&o[5].token), None).await;
    assert_eq!(listed.body["count"], 0, "{listed:?}");
    assert_eq!(status_of(&app.roster(&session).await, &o[5].email), None);
}

// --- Attendance and programme

#[tokio::test]
async fn attendance_is_marked_only_once_started_and_completes_the_planned_training() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("attend", 2).await;
    let fin01 = app.training_id("FIN-01").await;
    let session = app.create_session(1, json!({})).await;
    let staff = app.staff().await;
    let plan = format!("/admin/officers/{}/programme/{fin01}", o[0].id);
    let planned = app
        .call(
            "PUT",
            &plan,
            Some(&staff),
            Some(json!({ "kind": "required" })),
        )
        .await;
    assert_eq!(planned.status, StatusCode::OK, "{planned:?}");
    app.enrol(&o[0].token, &session).await;
    app.enrol(&o[1].token, &session).await;
    let programme = app
        .call("GET", "/me/programme", Some(&o[0].token), None)
        .await;
    assert_eq!(
        programme.body["items"][0]["progress"], "enrolled",
        "{programme:?}"
    );
    assert_eq!(programme.body["required_left"], 1, "{programme:?}");
    let path = format!("/admin/sessions/{session}/attendance/{}", o[0].id);
    let attended = json!({ "status": "attended" });

    app.set_clock("2027-03-15T08:59:00");
    let early = app
        .call("PUT", &path, Some(&staff), Some(attended.clone()))
        .await;
    app.set_clock("2027-03-15T10:00");
    let marked = app.call("PUT", &path, Some(&staff), Some(attended)).await;

    assert_problem(&early, StatusCode::CONFLICT, "session-not-started");
    assert_eq!(marked.status, StatusCode::OK, "{marked:?}");
    let waiting = format!("/admin/sessions/{session}/attendance/{}", o[1].id);
    let not_confirmed = app
        .call(
            "PUT",
            &waiting,
            Some(&staff),
            Some(json!({ "status": "attended" })),
        )
        .await;
    assert_problem(
        &not_confirmed,
        StatusCode::CONFLICT,
        "attendance-not-applicable",
    );
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("waitlisted")
    );
    assert_eq!(
        status_of(&app.roster(&session).await, &o[0].email).as_deref(),
        Some("attended")
    );
    let programme = app
        .call("GET", "/me/programme", Some(&o[0].token), None)
        .await;
    assert_eq!(programme.status, StatusCode::OK, "{programme:?}");
    let item = &programme.body["items"][0];
    assert_eq!(item["training"]["code"], "FIN-01", "{programme:?}");
    assert_eq!(item["kind"], "required", "{programme:?}");
    assert_eq!(item["progress"], "done", "{programme:?}");
    assert_eq!(item["session_id"], session.as_str(), "{programme:?}");
    assert_eq!(programme.body["done"], 1, "{programme:?}");
    assert_eq!(programme.body["required_left"], 0, "{programme:?}");
}

// --- Interest

#[tokio::test]
async fn an_officer_interested_in_a_training_is_told_when_a_session_of_it_opens() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("interest", 2).await;
    let fin01 = app.training_id("FIN-01").await;
    let path = format!("/trainings/{fin01}/interest");

    let first = app.call("POST", &path, Some(&o[0].token), None).await;
    let again = app.call("POST", &path, Some(&o[0].token), None).await;
    app.create_session(5, json!({})).await;

    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(first.body["registered"], true);
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(app.emails_to(&o[0].email, "Nouvelle session"), 1);
    assert_eq!(app.emails_to(&o[1].email, "Nouvelle session"), 0);
    let staff = app.staff().await;
    let trainings = app
        .call("GET", "/admin/trainings", Some(&staff), None)
        .await;
    let interested = |code: &str| {
        trainings.body["trainings"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["code"] == code))
            .map(|t| t["interested"].clone())
    };
    assert_eq!(interested("FIN-01"), Some(json!(1)), "{trainings:?}");
    assert_eq!(interested("FIN-02"), Some(json!(0)), "{trainings:?}");
}

// --- The officer's read side, on the demo data

/// The rows of a fixture file, without its byte-order mark and header.
fn fixture_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8 fixture");
    text.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(';').map(|f| f.trim().to_string()).collect())
        .collect()
}

/// An officer's enrolments as `inscriptions.csv` has them, split into past and upcoming at
/// `today` (a session ending before `today` is past), each in the order the API lists them:
/// upcoming soonest first, past latest first. Each is (reference, status, late, position),
/// the position on a waiting list following the day of joining, then the order of the file.
fn expected_enrolments(email: &str, today: NaiveDate) -> (Vec<Value>, Vec<Value>) {
    let files = cassiopee_local::seed::DEMO_FILES;
    let day = |raw: &str| NaiveDate::parse_from_str(raw, "%d/%m/%Y").expect("fixture date");
    let sessions: std::collections::HashMap<String, (NaiveDate, NaiveDate, String)> =
        fixture_rows(files[3].1)
            .into_iter()
            .map(|r| (r[0].clone(), (day(&r[2]), day(&r[3]), r[4].clone())))
            .collect();
    let rows = fixture_rows(files[4].1);
    let mut waiting: Vec<(NaiveDate, usize, &str, &str)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[2] == "liste d'attente")
        .map(|(i, r)| (day(&r[3]), i, r[1].as_str(), r[0].as_str()))
        .collect();
    waiting.sort();
    let position = |reference: &str| {
        let list: Vec<&str> = waiting
            .iter()
            .filter(|w| w.2 == reference)
            .map(|w| w.3)
            .collect();
        list.iter().position(|e| *e == email).map(|p| p + 1)
    };
    let mut past = Vec::new();
    let mut upcoming = Vec::new();
    for row in &rows {
        if row[0] != email {
            continue;
        }
        let (status, late) = match row[2].as_str() {
            "inscrit" => ("confirmed", false),
            "liste d'attente" => ("waitlisted", false),
            "présent" => ("attended", false),
            "absent" => ("absent", false),
            "désisté" => ("withdrawn", false),
            "désisté tardif" => ("withdrawn", true),
            other => panic!("unknown fixture status {other}"),
        };
        let (first, last, hours) = sessions[&row[1]].clone();
        assert_ne!(last, today, "pick a day no session of {email} ends on");
        let entry = (
            (first, hours),
            json!([row[1], status, late, position(&row[1])]),
        );
        if last < today {
            past.push(entry);
        } else {
            upcoming.push(entry);
        }
    }
    upcoming.sort_by(|a, b| a.0.cmp(&b.0));
    past.sort_by(|a, b| b.0.cmp(&a.0));
    (
        upcoming.into_iter().map(|(_, v)| v).collect(),
        past.into_iter().map(|(_, v)| v).collect(),
    )
}

fn listed(a: &Answer) -> Vec<Value> {
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body["enrolments"]
        .as_array()
        .expect("enrolments")
        .iter()
        .map(|e| {
            json!([
                e["session"]["reference"],
                e["status"],
                e["late"],
                e["position"]
            ])
        })
        .collect()
}

#[tokio::test]
async fn an_officer_sees_their_past_and_upcoming_enrolments_as_the_fixture_file_has_them() {
    let app = TestApp::demo("2026-12-03T10:00").await;
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).expect("date");
    let herve = app.sign_in(OFFICER_EMAIL).await;
    let all = app.call("GET", "/me/enrolments", Some(&herve), None).await;
    assert_eq!(
        all.body["enrolments"].as_array().map(Vec::len),
        Some(10),
        "{all:?}"
    );
    // Hervé Kerjean first, then every officer of the file.
    let mut emails = vec![OFFICER_EMAIL.to_string()];
    for row in fixture_rows(cassiopee_local::seed::DEMO_FILES[4].1) {
        if !emails.contains(&row[0]) {
            emails.push(row[0].clone());
        }
    }
    assert!(emails.len() > 50, "{}", emails.len());

    for email in &emails {
        let token = app.sign_in(email).await;
        let (upcoming, past) = expected_enrolments(email, today);

        let got_upcoming = app
            .call("GET", "/me/enrolments?when=upcoming", Some(&token), None)
            .await;
        let got_past = app
            .call("GET", "/me/enrolments?when=past", Some(&token), None)
            .await;

        assert_eq!(listed(&got_upcoming), upcoming, "{email} upcoming");
        assert_eq!(listed(&got_past), past, "{email} past");
    }
}

/// The officers' listing is kept between requests on the embedded store: every change and
/// every move of the clock past a close or a start must show in the next listing at once.
#[tokio::test]
async fn the_listing_shows_each_change_and_each_tick_of_the_clock_at_once() {
    let app = TestApp::with_staff(PLANNING).await;
    let session = app.create_session(2, json!({})).await;
    let o = app.officers("liste", 1).await;
    let staff = app.staff().await;
    let listed = || async {
        let a = app.call("GET", "/sessions", Some(&o[0].token), None).await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        a.body["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["id"] == session.as_str())
            .cloned()
    };
    let seen = |s: &Option<Value>| {
        let s = s.as_ref().expect("listed");
        (s["seats_left"].clone(), s["waiting_list_open"].clone())
    };
    assert_eq!(seen(&listed().await), (json!(2), json!(true)));
    assert_eq!(
        seen(&listed().await),
        (json!(2), json!(true)),
        "served again"
    );
    assert_eq!(
        app.enrol(&o[0].token, &session).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        seen(&listed().await),
        (json!(1), json!(true)),
        "after an enrolment"
    );
    let path = format!("/admin/sessions/{session}");
    let a = app
        .call("PATCH", &path, Some(&staff), Some(json!({ "capacity": 5 })))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    assert_eq!(
        seen(&listed().await),
        (json!(4), json!(true)),
        "after a staff change"
    );
    // The enrolment closes on 1 March at 18:00 (that instant still open), the session starts
    // on 15 March at 09:00.
    app.set_clock("2027-03-01T17:59");
    assert_eq!(seen(&listed().await), (json!(4), json!(true)));
    app.set_clock("2027-03-01T18:01");
    assert_eq!(seen(&listed().await), (json!(4), json!(false)), "closed");
    app.set_clock("2027-03-15T09:01");
    assert!(listed().await.is_none(), "started: no longer upcoming");
    app.set_clock(PLANNING);
    assert_eq!(
        seen(&listed().await),
        (json!(4), json!(true)),
        "the clock set back"
    );
}
