//! Who may call what: anonymous callers, officers on staff routes, staff on officer actions,
//! forged tokens, unknown accounts, and one officer reaching for another's enrolment.

use crate::helpers::*;
use axum::http::StatusCode;
use cassiopee_api::routes::{Op, ROUTES, Route};
use serde_json::json;

const PLANNING: &str = "2027-01-10T10:00";

/// A concrete path for a route template: `id` (or a fresh ULID) for `{id}`, a fresh ULID for
/// every other id, `officers` for the import kind.
fn concrete_with(route: &Route, id: Option<&str>) -> String {
    route
        .path
        .split('/')
        .map(|segment| match segment {
            "{kind}" => "officers".to_string(),
            "{id}" if id.is_some() => id.unwrap_or_default().to_string(),
            s if s.starts_with('{') => ulid::Ulid::generate().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn concrete(route: &Route) -> String {
    concrete_with(route, None)
}

/// Base64url without padding, as in a JWT.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A token claiming to be staff, in the shape the local authorizer issues, under `header`,
/// with `signature`.
fn forged(header: serde_json::Value, signature: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": ulid::Ulid::generate().to_string(),
        "email": STAFF_EMAIL,
        "cognito:groups": ["staff"],
        "iss": "cassiopee-local",
        "aud": "cassiopee",
        "iat": now,
        "exp": now + 3600,
    });
    format!(
        "{}.{}.{signature}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

#[tokio::test]
async fn every_officer_and_staff_route_refuses_an_anonymous_caller() {
    let app = TestApp::with_staff(PLANNING).await;
    let staff = app.staff().await;
    let before = app.session_snapshot(&staff).await;
    assert!(ROUTES.len() > 30, "the route table should be complete");

    // The public routes authenticate by a secret of their own (tested in `ledger`).
    for route in ROUTES.iter().filter(|r| !r.op.is_public()) {
        let path = concrete(route);
        let a = app.call(route.method, &path, None, None).await;

        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{} {path}: {a:?}",
            route.method
        );
        assert_problem_shape(&a);
    }
    assert_eq!(app.session_snapshot(&staff).await, before);
}

#[tokio::test]
async fn an_officer_is_refused_every_staff_route() {
    let app = TestApp::with_staff(PLANNING).await;
    let officer = app.sign_in(OFFICER_EMAIL).await;
    let session = app.create_session(5, json!({})).await;
    let staff = app.staff().await;
    let before = app.session_snapshot(&staff).await;
    let roster = app.roster(&session).await;
    let admin: Vec<&Route> = ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/admin/"))
        .collect();
    assert!(admin.len() > 20);

    for route in admin {
        // With made-up ids, and on a real session where the route takes one.
        let mut paths = vec![concrete(route)];
        if route.path.starts_with("/admin/sessions/{id}") {
            paths.push(concrete_with(route, Some(&session)));
        }
        for path in paths {
            let a = app
                .call(route.method, &path, Some(&officer), Some(json!({})))
                .await;

            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{} {path}: {a:?}",
                route.method
            );
            assert_problem_shape(&a);
        }
    }
    assert_eq!(app.session_snapshot(&staff).await, before);
    assert_eq!(app.roster(&session).await, roster);
}

#[tokio::test]
async fn staff_are_refused_the_officer_only_actions() {
    let app = TestApp::with_staff(PLANNING).await;
    let staff = app.staff().await;
    let session = app.create_session(5, json!({})).await;
    let fin01 = app.training_id("FIN-01").await;
    let officer_only = [
        Op::Enrol,
        Op::AcceptOffer,
        Op::DeclineOffer,
        Op::Withdraw,
        Op::MyEnrolments,
        Op::MyProgramme,
        Op::MyNotifications,
        Op::RegisterInterest,
    ];

    for route in ROUTES.iter().filter(|r| officer_only.contains(&r.op)) {
        let id = if route.op == Op::RegisterInterest {
            &fin01
        } else {
            &session
        };
        let path = concrete_with(route, Some(id));
        let a = app.call(route.method, &path, Some(&staff), None).await;

        assert_problem(&a, StatusCode::FORBIDDEN, "forbidden");
    }
    assert!(app.roster(&session).await.is_empty());
    let trainings = app
        .call("GET", "/admin/trainings", Some(&staff), None)
        .await;
    let fin = trainings.body["trainings"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["code"] == "FIN-01").cloned())
        .expect("FIN-01");
    assert_eq!(fin["interested"], 0);
    // Staff still see the sessions and their own profile.
    let me = app.call("GET", "/me", Some(&staff), None).await;
    assert_eq!(me.body["role"], "staff", "{me:?}");
}

#[tokio::test]
async fn a_forged_or_garbled_token_is_refused_as_unauthenticated() {
    let app = TestApp::with_staff(PLANNING).await;
    let staff = app.staff().await;
    let officer = app.sign_in(OFFICER_EMAIL).await;
    let before = app.session_snapshot(&staff).await;
    let body = app.session_body(5, json!({})).await;
    let real_signature = staff.rsplit('.').next().unwrap_or_default().to_string();
    let mut tampered = officer.clone().into_bytes();
    let middle = officer.len() - 20;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii token");
    let tokens = [
        "garbage".to_string(),
        "a.b.c".to_string(),
        String::new(),
        tampered,
        forged(json!({ "alg": "HS256", "typ": "JWT" }), &real_signature),
        forged(json!({ "alg": "none", "typ": "JWT" }), ""),
        format!("{staff}x"),
    ];

    for token in &tokens {
        let me = app.call("GET", "/me", Some(token), None).await;
        let create = app
            .call("POST", "/admin/sessions", Some(token), Some(body.clone()))
            .await;

        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{token}: {me:?}");
        assert_problem_shape(&me);
        assert_eq!(
            create.status,
            StatusCode::UNAUTHORIZED,
            "{token}: {create:?}"
        );
        assert_problem_shape(&create);
    }
    // A scheme other than Bearer identifies nobody.
    let basic = axum::http::Request::builder()
        .method("GET")
        .uri("/me")
        .header("authorization", format!("Basic {staff}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let a = app.send(basic).await;
    assert_problem(&a, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(app.session_snapshot(&staff).await, before);
}

#[tokio::test]
async fn signing_in_with_an_unknown_email_is_refused_and_no_token_is_issued() {
    let app = TestApp::with_staff(PLANNING).await;

    let unknown = app
        .call(
            "POST",
            "/dev/sign-in",
            None,
            Some(json!({ "email": "inconnu@intradef.example" })),
        )
        .await;

    assert_problem(&unknown, StatusCode::NOT_FOUND, "unknown-account");
    assert!(unknown.body.get("token").is_none(), "{unknown:?}");
}

#[tokio::test]
async fn a_valid_token_for_an_account_not_in_the_store_gets_nothing() {
    let app = TestApp::with_staff(PLANNING).await;
    let staff = app.staff().await;
    let before = app.session_snapshot(&staff).await;
    // Tokens the identity provider could issue: one for someone unknown here, one giving the
    // staff group to an officer's address.
    let sub = ulid::Ulid::generate().to_string();
    let signer = &app.local.signer;
    let stranger = signer
        .sign(&sub, "inconnu@intradef.example", false)
        .expect("token");
    let stranger_staff = signer
        .sign(&sub, "inconnu@intradef.example", true)
        .expect("token");
    let officer_as_staff = signer.sign(&sub, OFFICER_EMAIL, true).expect("token");
    let body = app.session_body(5, json!({})).await;

    let me = app.call("GET", "/me", Some(&stranger), None).await;
    let list = app.call("GET", "/sessions", Some(&stranger), None).await;
    let admin = app
        .call("GET", "/admin/officers", Some(&stranger_staff), None)
        .await;
    let escalated = app
        .call("GET", "/admin/officers", Some(&officer_as_staff), None)
        .await;
    let create = app
        .call(
            "POST",
            "/admin/sessions",
            Some(&officer_as_staff),
            Some(body),
        )
        .await;

    for a in [&me, &list, &admin, &escalated, &create] {
        assert_problem(a, StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(app.session_snapshot(&staff).await, before);
}

#[tokio::test]
async fn an_officer_sees_only_their_own_standing_in_a_session() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("standing", 2).await;
    let (a, b) = (&o[0], &o[1]);
    let session = app.create_session(1, json!({})).await;
    app.enrol(&b.token, &session).await;

    let seen_by_a = app
        .call("GET", &format!("/sessions/{session}"), Some(&a.token), None)
        .await;

    assert_eq!(seen_by_a.status, StatusCode::OK, "{seen_by_a:?}");
    assert_eq!(
        seen_by_a.body["me"],
        serde_json::Value::Null,
        "{seen_by_a:?}"
    );
    let text = seen_by_a.body.to_string();
    assert!(!text.contains(&b.email) && !text.contains(&b.id), "{text}");

    app.enrol(&a.token, &session).await;
    let me_a = app.standing(&a.token, &session).await;
    let me_b = app.standing(&b.token, &session).await;
    assert_eq!(me_a["status"], "waitlisted", "{me_a}");
    assert_eq!(me_a["position"], 1, "{me_a}");
    assert_eq!(me_b["status"], "confirmed", "{me_b}");
    let mine = app
        .call("GET", "/me/enrolments", Some(&a.token), None)
        .await;
    let listed = mine.body["enrolments"].as_array().expect("enrolments");
    assert_eq!(listed.len(), 1, "{mine:?}");
    assert_eq!(listed[0]["officer_id"], a.id.as_str(), "{mine:?}");
}

#[tokio::test]
async fn an_officer_cannot_withdraw_or_answer_for_someone_else() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("other", 3).await;
    let (a, b) = (&o[0], &o[1]);
    let session = app
        .create_session(1, json!({ "waitlist_mode": "offer", "offer_hours": 48 }))
        .await;
    app.enrol(&b.token, &session).await;
    let roster = app.roster(&session).await;

    let withdrawn = app.withdraw(&a.token, &session).await;

    assert_problem(&withdrawn, StatusCode::NOT_FOUND, "enrolment-not-found");
    assert_eq!(app.roster(&session).await, roster);
    assert_eq!(status_of(&roster, &b.email).as_deref(), Some("confirmed"));

    // B is offered a seat; A can neither accept nor decline it.
    app.enrol(&o[2].token, &session).await;
    app.withdraw(&b.token, &session).await;
    app.enrol(&b.token, &session).await;
    app.withdraw(&o[2].token, &session).await;
    let roster = app.roster(&session).await;
    assert_eq!(
        status_of(&roster, &b.email).as_deref(),
        Some("offered"),
        "{roster:?}"
    );
    for verb in ["accept", "decline"] {
        let path = format!("/sessions/{session}/offer/{verb}");
        let answered = app.call("POST", &path, Some(&a.token), None).await;
        assert_problem(&answered, StatusCode::NOT_FOUND, "offer-not-found");
    }
    assert_eq!(app.roster(&session).await, roster);
}

#[tokio::test]
async fn an_officer_id_in_the_body_never_enrols_someone_else() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("body", 2).await;
    let (a, b) = (&o[0], &o[1]);
    let session = app.create_session(5, json!({})).await;
    let path = format!("/sessions/{session}/enrolment");

    let enrolled = app
        .call(
            "POST",
            &path,
            Some(&a.token),
            Some(json!({ "officer_id": b.id })),
        )
        .await;
    let via_admin = app
        .call(
            "POST",
            &format!("/admin/sessions/{session}/enrolments"),
            Some(&a.token),
            Some(json!({ "officer_id": b.id })),
        )
        .await;

    assert_problem(&via_admin, StatusCode::FORBIDDEN, "forbidden");
    let roster = app.roster(&session).await;
    assert_eq!(status_of(&roster, &b.email), None, "{roster:?}");
    if enrolled.status.is_success() {
        assert_eq!(
            statuses(&roster),
            vec![(a.email.clone(), "confirmed".to_string())]
        );
    } else {
        assert!(enrolled.status.is_client_error(), "{enrolled:?}");
        assert_problem_shape(&enrolled);
        assert!(roster.is_empty(), "{roster:?}");
    }
    let me_b = app.standing(&b.token, &session).await;
    assert_eq!(me_b, serde_json::Value::Null);
}
