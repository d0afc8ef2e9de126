//! The one-time links of the emails, opened without signing in: `GET` never acts, `POST`
//! acts once; a second click, an expired link and an altered one change nothing.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::links::{LinkAction, LinkClaims, sign};
use cassiopee_domain::time::parse_instant;
use serde_json::json;

const NOW: &str = "2027-01-10T10:00";

fn secret(app: &TestApp) -> Vec<u8> {
    app.local
        .deps
        .notify
        .link_secret
        .clone()
        .expect("the local server has a link secret")
}

fn token(app: &TestApp, action: LinkAction, session: &str, officer: &str, until: &str) -> String {
    let claims = LinkClaims::new(
        action,
        SessionId::parse(session).unwrap(),
        OfficerId::parse(officer).unwrap(),
        parse_instant(until).unwrap(),
    );
    sign(&secret(app), &claims)
}

/// A form post as a browser sends it (no bearer token), or a JSON call.
async fn post(app: &TestApp, token: &str, json_answer: bool) -> Answer {
    let mut req = Request::builder()
        .method("POST")
        .uri(format!("/liens/{token}"))
        .header("content-type", "application/x-www-form-urlencoded");
    req = req.header(
        "accept",
        if json_answer {
            "application/json"
        } else {
            "text/html,application/xhtml+xml"
        },
    );
    app.send(req.body(Body::empty()).unwrap()).await
}

async fn get_page(app: &TestApp, token: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method("GET")
        .uri(format!("/liens/{token}"))
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let a = send_raw(app, req).await;
    (a.0, a.1)
}

async fn send_raw(app: &TestApp, req: Request<Body>) -> (StatusCode, String, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let r = app.router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned(), ct)
}

#[tokio::test]
async fn leaving_the_waiting_list_by_link_asks_first_acts_once_and_needs_no_sign_in() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(1, json!({})).await;
    let o = app.officers("lien", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);
    let t = token(
        &app,
        LinkAction::LeaveWaitlist,
        &session,
        &o[1].id,
        "2027-03-15T09:00",
    );

    // The page says what the link will do; opening it (as a mail scanner would) changes nothing.
    for _ in 0..2 {
        let (status, page) = get_page(&app, &t).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Quitter la liste d'attente"), "{page}");
        assert!(page.contains("<form method=\"post\""), "{page}");
        assert!(page.contains("lang=\"fr\""));
    }
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("waitlisted")
    );

    let first = post(&app, &t, false).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first.content_type.starts_with("text/html"),
        "{}",
        first.content_type
    );
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("declined")
    );
    let emails = app.emails_to(&o[1].email, "Sortie de la liste d'attente");
    assert_eq!(emails, 1);

    // A second click: already done, nothing changes.
    let again = post(&app, &t, true).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.body["outcome"], "already_done");
    assert_eq!(
        app.emails_to(&o[1].email, "Sortie de la liste d'attente"),
        1
    );
    // Opened again, the page offers nothing more to do.
    let (status, page) = get_page(&app, &t).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("n'a plus d'objet"), "{page}");
    assert!(!page.contains("<form"), "{page}");
    app.assert_counters(&session).await;
}

#[tokio::test]
async fn an_offer_is_accepted_by_link_and_a_link_to_an_answered_offer_is_settled() {
    let app = TestApp::with_staff(NOW).await;
    let session = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 24 }))
        .await;
    let o = app.officers("offre", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);
    assert_eq!(app.withdraw(&o[0].token, &session).await.status, 200);
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("offered")
    );
    let accept = token(
        &app,
        LinkAction::AcceptOffer,
        &session,
        &o[1].id,
        "2027-01-11T10:00",
    );
    let done = post(&app, &accept, true).await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    assert_eq!(done.body["outcome"], "done");
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("confirmed")
    );

    let emails = app.outbox().len();

    // Declining an offer that is no longer there: the link's question is settled, the link
    // changes nothing and says so as its page does.
    let decline = token(
        &app,
        LinkAction::DeclineOffer,
        &session,
        &o[1].id,
        "2027-01-11T10:00",
    );
    let refused = post(&app, &decline, true).await;
    assert_problem(&refused, StatusCode::CONFLICT, "link-settled");
    assert_problem_shape(&refused);
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("confirmed")
    );
    assert_eq!(app.outbox().len(), emails);
}

#[tokio::test]
async fn expired_and_altered_links_change_nothing_and_say_so() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(1, json!({})).await;
    let o = app.officers("perime", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);

    let expired = token(
        &app,
        LinkAction::LeaveWaitlist,
        &session,
        &o[1].id,
        "2027-01-09T10:00",
    );
    let a = post(&app, &expired, true).await;
    assert_problem(&a, StatusCode::GONE, "link-expired");
    let (status, page) = get_page(&app, &expired).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("expiré"), "{page}");

    let good = token(
        &app,
        LinkAction::LeaveWaitlist,
        &session,
        &o[1].id,
        "2027-03-15T09:00",
    );
    let mut altered = good.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let a = post(&app, &altered, true).await;
    assert_problem(&a, StatusCode::NOT_FOUND, "link-invalid");
    let a = post(&app, "pas-un-lien", false).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("waitlisted")
    );
}

/// The token of the first one-time link (`/liens/{token}`) in an email, as the officer clicks it.
fn link_in(text: &str) -> String {
    let start = text.find("/liens/").expect("a one-time link in the email");
    text[start + "/liens/".len()..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .expect("a token")
        .to_string()
}

#[tokio::test]
async fn a_leave_the_waiting_list_link_used_after_a_promotion_keeps_the_seat() {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(1, json!({})).await;
    let o = app.officers("promu", 2).await;
    assert_eq!(app.enrol(&o[0].token, &session).await.status, 201);
    assert_eq!(app.enrol(&o[1].token, &session).await.status, 201);
    let email = app
        .outbox()
        .into_iter()
        .find(|e| e.to == o[1].email && e.subject.contains("Liste d'attente"))
        .expect("the waiting-list email");
    let t = link_in(&email.text);

    // The first officer leaves: the waiting one is promoted and holds the seat.
    assert_eq!(app.withdraw(&o[0].token, &session).await.status, 200);
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("confirmed")
    );
    let emails = app.outbox().len();

    // The old link no longer has anything to do, by its page as by its button.
    let a = post(&app, &t, true).await;
    assert_problem(&a, StatusCode::CONFLICT, "link-settled");
    let (status, page) = get_page(&app, &t).await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert_eq!(
        status_of(&app.roster(&session).await, &o[1].email).as_deref(),
        Some("confirmed")
    );
    assert_eq!(
        app.outbox().len(),
        emails,
        "no email for a link that did nothing"
    );
    app.assert_counters(&session).await;
}
