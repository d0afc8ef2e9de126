//! The notification ledger through the API: what staff see was sent and delivered, what the
//! officer has read, the SES delivery reports, the personal calendar link, and the promise
//! that each trigger, however often it is delivered, sends one email.

use crate::helpers::*;
use async_trait::async_trait;
use axum::http::StatusCode;
use cassiopee_api::jobs;
use cassiopee_api::routes::Function;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::notices::OutgoingEmail;
use cassiopee_domain::ports::{DomainEvent, Mailer};
use cassiopee_domain::usecases::{self as uc, Deps};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

const NOW: &str = "2027-01-10T10:00";

async fn my_notifications(app: &TestApp, token: &str) -> Value {
    let a = app
        .call("GET", "/me/notifications", Some(token), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
    a.body
}

async fn staff_get(app: &TestApp, path: &str) -> Value {
    let staff = app.staff().await;
    let a = app.call("GET", path, Some(&staff), None).await;
    assert_eq!(a.status, StatusCode::OK, "{path}: {a:?}");
    a.body
}

/// An SES event as EventBridge delivers it, about the email of `notice`.
pub(crate) fn ses_event(notice: i64, event_type: &str, at: &str) -> Value {
    let (detail_type, key) = match event_type {
        "Delivery" => ("Email Delivered", "delivery"),
        "Bounce" => ("Email Bounced", "bounce"),
        _ => ("Email Complained", "complaint"),
    };
    let mut detail = json!({
        "eventType": event_type,
        "mail": {
            "timestamp": at,
            "messageId": "0102018f-test",
            "destination": ["quelqu.un@intradef.example"],
            "tags": { "ses:configuration-set": ["cassiopee-dev"], "notice": [notice.to_string()] }
        }
    });
    detail[key] = json!({ "timestamp": at, "bounceType": "Permanent" });
    json!({
        "version": "0",
        "id": ulid::Ulid::generate().to_string(),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "123456789012",
        "time": at,
        "region": "eu-west-3",
        "resources": [],
        "detail": detail,
    })
}

pub(crate) async fn report(app: &TestApp, event: Value) -> Value {
    jobs::dispatch(&app.local.deps, Function::PromoteWaitlist, event)
        .await
        .expect("the report is read")
}

#[tokio::test]
async fn officers_read_their_own_notifications_and_only_theirs() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("lu", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);

    let mine = my_notifications(&app, &o[0].token).await;
    assert_eq!(mine["unread"], 1, "{mine}");
    let n = &mine["notifications"][0];
    assert_eq!(n["read"], false);
    assert_eq!(n["kind"], "enrolment_confirmed");
    assert!(
        n["title"]
            .as_str()
            .unwrap()
            .starts_with("Inscription confirmée : "),
        "{n}"
    );
    assert!(n.get("last_error").is_none_or(Value::is_null), "{n}");
    let id = n["id"].as_i64().unwrap();

    // Another officer's notice is not found, and stays unread.
    let other = app
        .call(
            "POST",
            &format!("/me/notifications/{id}/read"),
            Some(&o[1].token),
            None,
        )
        .await;
    assert_problem(&other, StatusCode::NOT_FOUND, "notification-not-found");
    assert_eq!(my_notifications(&app, &o[0].token).await["unread"], 1);
    let bad = app
        .call(
            "POST",
            "/me/notifications/abc/read",
            Some(&o[0].token),
            None,
        )
        .await;
    assert_problem(&bad, StatusCode::NOT_FOUND, "notification-not-found");

    let read = app
        .call(
            "POST",
            &format!("/me/notifications/{id}/read"),
            Some(&o[0].token),
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::NO_CONTENT, "{read:?}");
    let mine = my_notifications(&app, &o[0].token).await;
    assert_eq!(
        (
            mine["unread"].clone(),
            mine["notifications"][0]["read"].clone()
        ),
        (json!(0), json!(true))
    );
    // Reading again is harmless.
    let again = app
        .call(
            "POST",
            &format!("/me/notifications/{id}/read"),
            Some(&o[0].token),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);

    // The second officer's notices are untouched by the first one's reading; read-all reads them.
    assert_eq!(my_notifications(&app, &o[1].token).await["unread"], 1);
    assert_eq!(app.withdraw(&o[1].token, &session).await.status, 200);
    assert_eq!(my_notifications(&app, &o[1].token).await["unread"], 2);
    let all = app
        .call(
            "POST",
            "/me/notifications/read-all",
            Some(&o[1].token),
            None,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{all:?}");
    assert_eq!(all.body["marked"], 2);
    assert_eq!(my_notifications(&app, &o[1].token).await["unread"], 0);
}

#[tokio::test]
async fn staff_see_what_was_sent_and_what_ses_reported_even_out_of_order() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("ses", 1).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);

    let list = staff_get(&app, &format!("/admin/sessions/{session}/notifications")).await;
    assert_eq!(list["count"], 1, "{list}");
    let n = &list["notifications"][0];
    assert_eq!(n["status"], "sent");
    assert_eq!(n["attempts"], 1);
    assert_eq!(n["delivery_label"], "Envoyé");
    assert!(
        n["sent_at"].is_string() && n["queued_at"].is_string(),
        "{n}"
    );
    assert!(
        n["message_id"]
            .as_str()
            .is_some_and(|m| m.ends_with(".eml")),
        "{n}"
    );
    let id = n["id"].as_i64().unwrap();

    // Bounced first, then a late "delivered", then the bounce again: bounced it stays.
    let r = report(&app, ses_event(id, "Bounce", "2027-01-10T09:05:00Z")).await;
    assert_eq!(r["changed"], true, "{r}");
    let r = report(&app, ses_event(id, "Delivery", "2027-01-10T09:04:00Z")).await;
    assert_eq!(r["changed"], false, "{r}");
    let r = report(&app, ses_event(id, "Bounce", "2027-01-10T09:05:00Z")).await;
    assert_eq!(r["changed"], false, "{r}");
    // A report about an unknown notice, or without a tag, changes nothing and fails nothing.
    let r = report(&app, ses_event(999_999, "Delivery", "2027-01-10T09:05:00Z")).await;
    assert_eq!(r["changed"], false, "{r}");
    let mut untagged = ses_event(id, "Delivery", "2027-01-10T09:05:00Z");
    untagged["detail"]["mail"]["tags"] = json!({});
    assert_eq!(report(&app, untagged).await["ignored"], true);

    let list = staff_get(&app, &format!("/admin/officers/{}/notifications", o[0].id)).await;
    let n = &list["notifications"][0];
    assert_eq!(n["delivery"], "bounced", "{n}");
    assert_eq!(n["delivery_label"], "Rejeté par le serveur du destinataire");
    assert!(
        n["delivery_at"]
            .as_str()
            .unwrap()
            .starts_with("2027-01-10T10:05:00"),
        "Paris time of the report: {n}"
    );

    // The officer sees the same line without the provider's details.
    let mine = my_notifications(&app, &o[0].token).await;
    assert_eq!(mine["notifications"][0]["delivery"], "bounced");
    assert!(mine["notifications"][0]["message_id"].is_null());

    let unknown = app
        .call(
            "GET",
            &format!("/admin/sessions/{}/notifications", ulid::Ulid::generate()),
            Some(&app.staff().await),
            None,
        )
        .await;
    assert_problem(&unknown, StatusCode::NOT_FOUND, "session-not-found");
}

#[tokio::test]
async fn a_delivered_email_can_still_be_reported_as_complained_but_never_back() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("plainte", 1).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    let id = my_notifications(&app, &o[0].token).await["notifications"][0]["id"]
        .as_i64()
        .unwrap();
    for (kind, changed) in [
        ("Delivery", true),
        ("Delivery", false),
        ("Complaint", true),
        ("Delivery", false),
    ] {
        let r = report(&app, ses_event(id, kind, "2027-01-10T09:06:00Z")).await;
        assert_eq!(r["changed"], changed, "{kind}: {r}");
    }
    let list = staff_get(&app, &format!("/admin/sessions/{session}/notifications")).await;
    assert_eq!(list["notifications"][0]["delivery"], "complained");
}

fn token_of(url: &str) -> String {
    url.split("token=").nth(1).expect("a token").to_string()
}

#[tokio::test]
async fn the_calendar_link_is_created_replaced_and_revoked_and_needs_no_sign_in() {
    let app = TestApp::with_staff(NOW).await;
    let o = app.officers("agenda", 1).await;
    let t = &o[0].token;
    let none = app.call("GET", "/me/calendar-link", Some(t), None).await;
    assert_eq!(none.body["exists"], false, "{none:?}");

    let first = app.call("POST", "/me/calendar-link", Some(t), None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let url = first.body["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:8080/me/calendar.ics?token="),
        "{url}"
    );
    let first_token = token_of(&url);
    assert_eq!(first_token.len(), 43);
    let now = app.call("GET", "/me/calendar-link", Some(t), None).await;
    assert_eq!(now.body["exists"], true);
    assert!(now.body["created_at"].is_string());
    assert!(now.body.get("url").is_none(), "the URL is shown once only");

    // The feed takes no bearer token: its own token is the authentication.
    let feed = |token: String| {
        let app = &app;
        async move {
            app.call(
                "GET",
                &format!("/me/calendar.ics?token={token}"),
                None,
                None,
            )
            .await
        }
    };
    let live = feed(first_token.clone()).await;
    assert_eq!(live.status, StatusCode::OK, "{live:?}");
    assert_eq!(live.content_type, "text/calendar; charset=utf-8");

    let second = app.call("POST", "/me/calendar-link", Some(t), None).await;
    let second_token = token_of(second.body["url"].as_str().unwrap());
    assert_ne!(first_token, second_token);
    assert_problem(
        &feed(first_token).await,
        StatusCode::NOT_FOUND,
        "calendar-link-not-found",
    );
    let live = feed(second_token.clone()).await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(
        live.body
            .as_str()
            .is_some_and(|t| t.starts_with("BEGIN:VCALENDAR")),
        "{live:?}"
    );

    let revoked = app.call("DELETE", "/me/calendar-link", Some(t), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_problem(
        &feed(second_token).await,
        StatusCode::NOT_FOUND,
        "calendar-link-not-found",
    );
    assert_eq!(
        app.call("GET", "/me/calendar-link", Some(t), None)
            .await
            .body["exists"],
        false
    );

    let missing = app.call("GET", "/me/calendar.ics", None, None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{missing:?}");
    assert_problem_shape(&missing);
    assert_problem(
        &feed("pas-un-jeton".into()).await,
        StatusCode::NOT_FOUND,
        "calendar-link-not-found",
    );
}

#[tokio::test]
async fn an_enrolment_and_its_event_delivered_three_times_send_one_email() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("trois", 1).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        let req = build_request(
            "POST",
            &format!("/sessions/{session}/enrolment"),
            Some(&o[0].token),
            None,
        );
        let (mut parts, body) = req.into_parts();
        parts
            .headers
            .insert("idempotency-key", "trois-fois".parse().unwrap());
        answers.push(app.send(axum::http::Request::from_parts(parts, body)).await);
    }
    assert!(answers.iter().all(|a| a.status == 201), "{answers:?}");
    let event = DomainEvent::EnrolmentChanged {
        session_id: cassiopee_domain::ids::SessionId::parse(&session).unwrap(),
        officer_id: cassiopee_domain::ids::OfficerId::parse(&o[0].id).unwrap(),
        status: cassiopee_domain::model::EnrolmentStatus::Confirmed,
    };
    for _ in 0..3 {
        let envelope = jobs::eventbridge_envelope(&event, chrono::Utc::now());
        jobs::dispatch(&app.local.deps, Function::PromoteWaitlist, envelope)
            .await
            .expect("event");
    }
    assert_eq!(app.emails_to(&o[0].email, "Inscription confirmée"), 1);
}

#[tokio::test]
async fn the_reminder_job_run_three_times_sends_one_reminder() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("rappel", 1).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    app.set_clock("2027-03-09T10:00");
    for _ in 0..3 {
        app.run_job("send-reminders").await;
    }
    assert_eq!(app.emails_to(&o[0].email, "Rappel"), 1);
}

#[tokio::test]
async fn a_seat_released_three_times_promotes_and_tells_once() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(1, json!({})).await;
    let o = app.officers("siege", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);
    assert_eq!(app.withdraw(&o[0].token, &session).await.status, 200);
    let event = DomainEvent::SeatReleased {
        session_id: cassiopee_domain::ids::SessionId::parse(&session).unwrap(),
    };
    for _ in 0..3 {
        let envelope = jobs::eventbridge_envelope(&event, chrono::Utc::now());
        jobs::dispatch(&app.local.deps, Function::PromoteWaitlist, envelope)
            .await
            .expect("event");
    }
    assert_eq!(app.emails_to(&o[1].email, "Place obtenue"), 1);
    app.assert_counters(&session).await;
}

/// A mailer whose first send fails, as a provider outage would; the others go through.
struct FailsOnce {
    inner: Arc<dyn Mailer>,
    calls: AtomicU32,
}

#[async_trait]
impl Mailer for FailsOnce {
    async fn send(&self, email: &OutgoingEmail, notice: Option<i64>) -> Result<Option<String>> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(DomainError::internal("provider unavailable"));
        }
        self.inner.send(email, notice).await
    }
}

#[tokio::test]
async fn a_failed_send_then_a_retry_sends_one_email_and_the_ledger_tells_both() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("echec", 1).await;
    let deps = Deps {
        mailer: Arc::new(FailsOnce {
            inner: app.local.deps.mailer.clone(),
            calls: AtomicU32::new(0),
        }),
        // The app's bus would wake its own sender, with the app's mailer: this test sends.
        events: Arc::new(cassiopee_api::config::NoEvents),
        ..app.local.deps.clone()
    };
    enrol_as_officer(&deps, &session, &o[0].id)
        .await
        .expect("enrolled");
    uc::drain_outbox(&deps, uc::JOB_BUDGET).await;
    assert_eq!(app.emails_to(&o[0].email, "Inscription confirmée"), 0);
    let list = staff_get(&app, &format!("/admin/sessions/{session}/notifications")).await;
    let n = &list["notifications"][0];
    assert_eq!(
        (n["status"].clone(), n["attempts"].clone()),
        (json!("failed"), json!(1))
    );
    assert_eq!(n["delivery_label"], "Échec d'envoi");
    assert!(
        n["last_error"]
            .as_str()
            .unwrap()
            .contains("provider unavailable"),
        "{n}"
    );

    // Drains right after the failure (other changes waking the sender) leave it for a minute,
    // so that a short outage does not spend its five attempts; the first drain after does.
    for _ in 0..3 {
        uc::drain_outbox(&deps, uc::JOB_BUDGET).await;
    }
    assert_eq!(app.emails_to(&o[0].email, "Inscription confirmée"), 0);
    let list = staff_get(&app, &format!("/admin/sessions/{session}/notifications")).await;
    assert_eq!(list["notifications"][0]["attempts"], json!(1));
    app.local
        .clock
        .set(app.local.deps.now() + chrono::Duration::minutes(1));
    uc::drain_outbox(&deps, uc::JOB_BUDGET).await;
    assert_eq!(app.emails_to(&o[0].email, "Inscription confirmée"), 1);
    let list = staff_get(&app, &format!("/admin/sessions/{session}/notifications")).await;
    let n = &list["notifications"][0];
    assert_eq!(
        (n["status"].clone(), n["attempts"].clone()),
        (json!("sent"), json!(2))
    );
}

/// A mailer that holds every send until the test lets one through, then hands it on.
struct Gated {
    inner: Arc<dyn Mailer>,
    gate: tokio::sync::Semaphore,
    sent: AtomicU32,
}

#[async_trait]
impl Mailer for Gated {
    async fn send(&self, email: &OutgoingEmail, notice: Option<i64>) -> Result<Option<String>> {
        self.gate
            .acquire()
            .await
            .map_err(DomainError::internal)?
            .forget();
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.send(email, notice).await
    }
}

#[tokio::test]
async fn an_enrolment_answers_before_its_email_is_sent_and_the_sender_sends_it_after() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("differe", 1).await;
    let mailer = Arc::new(Gated {
        inner: app.local.deps.mailer.clone(),
        gate: tokio::sync::Semaphore::new(0),
        sent: AtomicU32::new(0),
    });
    let d = &app.local.deps;
    let deps = cassiopee_api::config::build_deps(
        d.store.clone(),
        mailer.clone(),
        d.clock.clone(),
        d.notify.clone(),
    );

    // The mailer holds every send: an enrolment that sent its own email would never answer.
    let enrolled = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        enrol_as_officer(&deps, &session, &o[0].id),
    )
    .await
    .expect("the enrolment answered while its email was held")
    .expect("enrolled");
    assert_eq!(
        enrolled.outcome,
        cassiopee_domain::ports::EnrolOutcome::Confirmed
    );
    assert_eq!(mailer.sent.load(Ordering::SeqCst), 0);
    assert_eq!(app.emails_to(&o[0].email, "Inscription confirmée"), 0);

    mailer.gate.add_permits(1);
    deps.events.settle().await;
    assert_eq!(mailer.sent.load(Ordering::SeqCst), 1);
    assert_eq!(app.emails_to(&o[0].email, "Inscription confirmée"), 1);
    let list = staff_get(&app, &format!("/admin/sessions/{session}/notifications")).await;
    assert_eq!(list["notifications"][0]["status"], json!("sent"));
}

/// The officer's own enrolment, through the use case with `deps` rather than the router.
async fn enrol_as_officer(
    deps: &Deps,
    session: &str,
    officer: &str,
) -> Result<cassiopee_domain::ports::Enrolled> {
    let officer = cassiopee_domain::ids::OfficerId::parse(officer).expect("officer id");
    let session = cassiopee_domain::ids::SessionId::parse(session).expect("session id");
    let record = deps
        .store
        .officer(&officer)
        .await?
        .expect("the officer is stored");
    let actor = cassiopee_domain::model::Actor::officer(&officer);
    uc::enrol(deps, &session, &record, actor, None, None).await
}

/// The news of a session opened, queued for an interested officer, whose session is cancelled
/// or deleted before its sender's turn comes (the sender runs after the answer): dropped, not
/// sent, and not retried either.
#[tokio::test]
async fn a_session_opened_notice_whose_session_went_before_its_turn_is_dropped() {
    use cassiopee_domain::ids::{OfficerId, SessionId};
    use cassiopee_domain::notices::{Notice, NoticeKind};
    let app = TestApp::with_staff(NOW).await;
    let o = app.officers("ouverte", 1).await;
    let officer = OfficerId::parse(&o[0].id).expect("id");
    let staff = app.staff().await;
    for (gone, path) in [("cancelled", "/cancel"), ("deleted", "")] {
        let session = app.create_session(5, json!({})).await;
        let notice = Notice {
            officer_id: officer.clone(),
            session_id: SessionId::parse(&session).expect("id"),
            kind: NoticeKind::SessionOpened,
            version: 1,
        };
        let store = &app.local.deps.store;
        assert_eq!(
            store
                .queue_notices(&[notice], app.local.deps.now())
                .await
                .expect("queued"),
            1
        );
        let method = if path.is_empty() { "DELETE" } else { "POST" };
        let a = app
            .call(
                method,
                &format!("/admin/sessions/{session}{path}"),
                Some(&staff),
                None,
            )
            .await;
        assert!(a.status.is_success(), "{gone}: {a:?}");
        // A deletion wakes no sender (it tells nobody): the next drain comes to the notice.
        uc::drain_outbox(&app.local.deps, uc::JOB_BUDGET).await;

        assert_eq!(app.emails_to(&o[0].email, "Nouvelle session"), 0, "{gone}");
        let records = store.officer_notices(&officer).await.expect("notices");
        let record = records
            .iter()
            .find(|r| r.kind == "session_opened" && r.session_id.as_str() == session)
            .expect("the notice");
        assert_eq!(
            (record.status.as_str(), record.attempts),
            ("dropped", 0),
            "{gone}"
        );
    }
}

/// An enrolment and its withdrawal whose emails leave together, after both changes: each
/// invitation keeps the sequence of its own change, so the cancellation outranks the request
/// in the officer's calendar whatever order they arrive in.
#[tokio::test]
async fn emails_sent_after_two_changes_keep_the_calendar_sequence_of_each_change() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let o = app.officers("sequence", 1).await;
    let deps = Deps {
        // No sender woken: both emails leave with the drain below.
        events: Arc::new(cassiopee_api::config::NoEvents),
        ..app.local.deps.clone()
    };
    enrol_as_officer(&deps, &session, &o[0].id)
        .await
        .expect("enrolled");
    let officer = cassiopee_domain::ids::OfficerId::parse(&o[0].id).expect("id");
    uc::withdraw(
        &deps,
        &cassiopee_domain::ids::SessionId::parse(&session).expect("id"),
        &officer,
        cassiopee_domain::model::Actor::officer(&officer),
    )
    .await
    .expect("withdrawn");
    assert_eq!(uc::drain_outbox(&deps, uc::JOB_BUDGET).await, 2);

    let sequence = |subject: &str| {
        let mail = app
            .outbox()
            .into_iter()
            .find(|e| e.to == o[0].email && e.subject.contains(subject))
            .unwrap_or_else(|| panic!("no « {subject} » email"));
        let ics = &mail.attachments[0].text;
        ics.lines()
            .find_map(|l| l.strip_prefix("SEQUENCE:"))
            .and_then(|n| n.trim().parse::<u32>().ok())
            .unwrap_or_else(|| panic!("no SEQUENCE in {ics}"))
    };
    let (request, cancel) = (sequence("Inscription confirmée"), sequence("Désistement"));
    assert!(request < cancel, "REQUEST {request}, CANCEL {cancel}");
}
