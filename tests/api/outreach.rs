//! What the scheduled send-reminders function tells people unprompted: invitations to a
//! session still short of its minimum group, and the end of a waiting list.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

const PLANNING: &str = "2027-01-10T10:00";

#[tokio::test]
async fn a_session_short_of_its_minimum_invites_those_who_planned_or_asked_for_it_once() {
    let app = TestApp::with_staff(PLANNING).await;
    let staff = app.staff().await;
    // FIN-01 needs at least 5; the session starts on 15 March 2027.
    let training = app.training_id("FIN-01").await;
    let session = app.create_session(8, json!({})).await;
    let o = app.officers("invite", 5).await;
    let plan = |officer: &str| format!("/admin/officers/{officer}/programme/{training}");
    for officer in [&o[0], &o[2], &o[3]] {
        let a = app
            .call(
                "PUT",
                &plan(&officer.id),
                Some(&staff),
                Some(json!({ "kind": "required" })),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
    }
    let interest = format!("/trainings/{training}/interest");
    for officer in [&o[1], &o[2]] {
        let a = app
            .call("POST", &interest, Some(&officer.token), None)
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    }
    // o[3] is already enrolled; o[4] neither planned nor asked.
    assert_eq!(
        app.enrol(&o[3].token, &session).await.status,
        StatusCode::CREATED
    );

    // Three weeks before the first day, at 09:00 Paris time: not a minute earlier.
    app.set_clock("2027-02-22T08:59:50");
    assert_eq!(app.run_job("send-reminders").await["invitations_queued"], 0);
    app.set_clock("2027-02-22T09:00");
    assert_eq!(app.run_job("send-reminders").await["invitations_queued"], 3);
    for (officer, invited) in [(&o[0], 1), (&o[1], 1), (&o[2], 1), (&o[3], 0), (&o[4], 0)] {
        assert_eq!(
            app.emails_to(&officer.email, "Places disponibles"),
            invited,
            "{}",
            officer.email
        );
    }
    // The next runs, and a repeated delivery of the schedule, invite nobody again.
    app.set_clock("2027-02-23T09:00");
    app.run_job("send-reminders").await;
    app.run_job("send-reminders").await;
    assert_eq!(app.emails_to(&o[0].email, "Places disponibles"), 1);
    let invitation = app
        .outbox()
        .into_iter()
        .find(|e| e.to == o[1].email && e.subject.contains("Places disponibles"))
        .expect("invitation");
    assert!(
        invitation.text.contains("15 mars 2027"),
        "{}",
        invitation.text
    );
}

#[tokio::test]
async fn a_session_at_its_minimum_invites_nobody() {
    let app = TestApp::with_staff(PLANNING).await;
    let training = app.training_id("FIN-01").await;
    let session = app.create_session(8, json!({})).await;
    let o = app.officers("full", 6).await;
    for officer in &o[..5] {
        assert_eq!(
            app.enrol(&officer.token, &session).await.status,
            StatusCode::CREATED
        );
    }
    let interest = format!("/trainings/{training}/interest");
    app.call("POST", &interest, Some(&o[5].token), None).await;
    app.set_clock("2027-02-22T09:00");
    assert_eq!(app.run_job("send-reminders").await["invitations_queued"], 0);
}

#[tokio::test]
async fn those_still_waiting_when_enrolment_closes_are_told_once() {
    let app = TestApp::with_staff(PLANNING).await;
    let session = app.create_session(1, json!({})).await;
    let o = app.officers("closed", 3).await;
    for officer in &o {
        app.enrol(&officer.token, &session).await;
    }
    app.withdraw(&o[2].token, &session).await;
    // Enrolment closes on 1 March 2027 at 18:00 (the local clock runs on from what it is set
    // to).
    app.set_clock("2027-03-01T17:59");
    assert_eq!(
        app.run_job("send-reminders").await["waitlist_closed_queued"],
        0
    );
    app.set_clock("2027-03-01T18:01");
    assert_eq!(
        app.run_job("send-reminders").await["waitlist_closed_queued"],
        1
    );
    app.run_job("send-reminders").await;
    assert_eq!(app.emails_to(&o[1].email, "Liste d'attente close"), 1);
    assert_eq!(app.emails_to(&o[0].email, "Liste d'attente close"), 0);
    assert_eq!(app.emails_to(&o[2].email, "Liste d'attente close"), 0);
}

#[tokio::test]
async fn staff_get_one_digest_a_day_from_eight_with_what_needs_a_look() {
    use crate::ledger::{report, ses_event};
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("digest", 2).await;
    // Two FIN-01 sessions (minimum 5) on the same days, a fortnight away.
    let dates = json!({
        "first_day": "2027-01-25", "last_day": "2027-01-26",
        "enrolment_closes_at": "2027-01-20T18:00", "free_withdrawal_until": "2027-01-10T12:00",
    });
    let mut a = dates.clone();
    a["reference"] = json!("DIG-A");
    let mut b = dates.clone();
    b["reference"] = json!("DIG-B");
    let first = app.create_session(8, a).await;
    let second = app.create_session(8, b).await;
    app.enrol(&o[0].token, &first).await;
    app.enrol(&o[0].token, &second).await;
    app.enrol(&o[1].token, &first).await;
    // A late withdrawal the day before, and a bounced confirmation.
    app.set_clock("2027-01-11T10:00");
    assert_eq!(
        app.withdraw(&o[1].token, &first).await.status,
        StatusCode::OK
    );
    let mine = app
        .call("GET", "/me/notifications", Some(&o[0].token), None)
        .await;
    let confirmation = mine.body["notifications"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["kind"] == "enrolment_confirmed"))
        .and_then(|n| n["id"].as_i64())
        .expect("a confirmation");
    report(
        &app,
        ses_event(confirmation, "Bounce", "2027-01-11T12:00:00Z"),
    )
    .await;

    app.set_clock("2027-01-12T07:59:50");
    assert_eq!(app.run_job("send-reminders").await["staff_digests_sent"], 0);
    app.set_clock("2027-01-12T08:00:10");
    assert_eq!(app.run_job("send-reminders").await["staff_digests_sent"], 4);
    assert_eq!(app.run_job("send-reminders").await["staff_digests_sent"], 0);
    assert_eq!(app.emails_to(STAFF_EMAIL, "point du"), 1);
    let digest = app
        .outbox()
        .into_iter()
        .find(|e| e.to == STAFF_EMAIL && e.subject.contains("point du"))
        .expect("digest");
    assert!(
        digest.subject.contains("mardi 12 janvier 2027"),
        "{}",
        digest.subject
    );
    for expected in [
        "Désistements tardifs (1)",
        "Sessions sous l'effectif minimum (2)",
        "Courriels non distribués (1)",
        "Inscriptions qui se chevauchent (1)",
        "DIG-A",
        "DIG-B",
        "digest-1@intradef.example",
    ] {
        assert!(
            digest.text.contains(expected),
            "{expected}: {}",
            digest.text
        );
    }
    // The next morning, with nothing new in the day before, the sessions still short and the
    // clash are told again; the withdrawal and the bounce are not.
    app.set_clock("2027-01-13T08:30");
    assert_eq!(app.run_job("send-reminders").await["staff_digests_sent"], 4);
    let next = app
        .outbox()
        .into_iter()
        .rfind(|e| e.to == STAFF_EMAIL && e.subject.contains("point du"))
        .expect("second digest");
    assert!(!next.text.contains("Désistements tardifs"), "{}", next.text);
    assert!(
        !next.text.contains("Courriels non distribués"),
        "{}",
        next.text
    );
    assert!(
        next.text.contains("Inscriptions qui se chevauchent (1)"),
        "{}",
        next.text
    );
}

#[tokio::test]
async fn a_cancellation_tells_every_officer_after_answering_and_the_sweep_sends_nothing_twice() {
    let app = TestApp::with_staff(PLANNING).await;
    let staff = app.staff().await;
    let session = app.create_session(40, json!({})).await;
    let o = app.officers("many", 40).await;
    for officer in &o {
        assert_eq!(
            app.enrol(&officer.token, &session).await.status,
            StatusCode::CREATED
        );
    }
    let cancelled = |app: &TestApp| {
        app.outbox()
            .iter()
            .filter(|e| e.subject.contains("Session annulée"))
            .count()
    };
    let a = app
        .call(
            "POST",
            &format!("/admin/sessions/{session}/cancel"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    // The sender woken by the cancellation sends all forty notices (more than one batch of
    // the store's reads); the minute's sweep then finds nothing left to send.
    assert_eq!(cancelled(&app), 40);
    app.run_job("promote-waitlist").await;
    assert_eq!(cancelled(&app), 40);
}

#[tokio::test]
async fn a_notice_that_no_longer_holds_when_its_turn_comes_is_dropped_not_sent() {
    use cassiopee_domain::ids::{OfficerId, SessionId};
    use cassiopee_domain::notices::{Notice, NoticeKind};
    let app = TestApp::with_staff(PLANNING).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("stale", 1).await.remove(0);
    assert_eq!(
        app.enrol(&o.token, &session).await.status,
        StatusCode::CREATED
    );
    // A reminder still queued (its send failed, say) when the officer gives the seat up.
    let reminder = Notice {
        officer_id: OfficerId::parse(&o.id).expect("id"),
        session_id: SessionId::parse(&session).expect("id"),
        kind: NoticeKind::ReminderJ7,
        version: 1,
    };
    let deps = &app.local.deps;
    assert_eq!(
        deps.store
            .queue_notices(&[reminder], deps.now())
            .await
            .expect("queue"),
        1
    );
    assert_eq!(
        app.withdraw(&o.token, &session).await.status,
        StatusCode::OK
    );
    assert_eq!(app.emails_to(&o.email, "Rappel"), 0);
    assert_eq!(app.emails_to(&o.email, "Désistement"), 1);
    let staff = app.staff().await;
    let ledger = app
        .call(
            "GET",
            &format!("/admin/officers/{}/notifications", o.id),
            Some(&staff),
            None,
        )
        .await;
    let line = ledger.body["notifications"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["kind"] == "reminder_j7"))
        .cloned()
        .expect("the reminder in the ledger");
    assert_eq!(line["status"], "dropped", "{line}");
    assert_eq!(
        line["delivery_label"], "Non envoyé : plus d'actualité",
        "{line}"
    );
    // Out of the queue for good: the sweep sends nothing more.
    app.run_job("promote-waitlist").await;
    assert_eq!(app.emails_to(&o.email, "Rappel"), 0);
}
