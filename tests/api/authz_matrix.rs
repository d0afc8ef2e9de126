//! The authorization matrix: every route of the route table, called by each kind of caller,
//! answers the status written here. A route added to the table without a row here fails the
//! test, and so does a row for a route that no longer exists.
//!
//! Callers: nobody (no token); officer A, confirmed in the session under test; officer B, not
//! enrolled in it; a staff member; and the same staff member's address in a token without the
//! `staff` group (an identity provider account that was never put in the group).
//!
//! Each route runs on a fresh store; its callers go in an order where none can open a door for
//! the next (nobody, the group-less token, officer B, officer A, then staff). Paths use the real
//! session, training and officer A's id where the route takes one; bodies are `{}` (so that an
//! allowed caller meets validation, which proves the authorization check let it through).

use crate::helpers::*;
use cassiopee_api::routes::ROUTES;
use serde_json::json;

const NOW: &str = "2027-01-10T10:00";

#[derive(Clone, Copy, Debug)]
enum Caller {
    Nobody,
    OfficerA,
    OfficerB,
    Staff,
    NoStaffGroup,
}

const CALLERS: [Caller; 5] = [
    Caller::Nobody,
    Caller::OfficerA,
    Caller::OfficerB,
    Caller::Staff,
    Caller::NoStaffGroup,
];

/// Route → expected status for [nobody, officer A, officer B, staff, token without the group].
///
/// 401: no token. 403: the wrong side (an officer on `/admin/`, staff on an officer's own
/// action, a token whose address is no officer's and carries no staff group). 400 and 422: the
/// caller was let through and met validation of the empty body. 404 for officer B: the
/// enrolment or offer addressed is A's, and B's own does not exist. 409 for officer A: already
/// enrolled; for staff deleting the session: A holds a seat in it.
const MATRIX: &[(&str, [u16; 5])] = &[
    ("GET /sessions", [401, 200, 200, 200, 403]),
    ("GET /sessions/{id}", [401, 200, 200, 200, 403]),
    ("POST /sessions/{id}/enrolment", [401, 409, 201, 403, 403]),
    (
        "POST /sessions/{id}/offer/accept",
        [401, 404, 404, 403, 403],
    ),
    (
        "POST /sessions/{id}/offer/decline",
        [401, 404, 404, 403, 403],
    ),
    ("DELETE /sessions/{id}/enrolment", [401, 200, 404, 403, 403]),
    // No bearer token needed: the link's signed token (a random one here) is checked.
    ("GET /liens/{token}", [404, 404, 404, 404, 404]),
    ("POST /liens/{token}", [404, 404, 404, 404, 404]),
    ("GET /me", [401, 200, 200, 200, 403]),
    ("GET /me/enrolments", [401, 200, 200, 403, 403]),
    ("GET /me/programme", [401, 200, 200, 403, 403]),
    ("GET /me/export", [401, 200, 200, 403, 403]),
    ("POST /me/erasure", [401, 400, 400, 403, 403]),
    (
        "POST /me/enrolments/{id}/feedback",
        [401, 400, 400, 403, 403],
    ),
    ("GET /me/notifications", [401, 200, 200, 403, 403]),
    (
        "POST /me/notifications/{id}/read",
        [401, 404, 404, 403, 403],
    ),
    ("POST /me/notifications/read-all", [401, 200, 200, 403, 403]),
    ("GET /me/calendar-link", [401, 200, 200, 403, 403]),
    ("POST /me/calendar-link", [401, 201, 201, 403, 403]),
    ("DELETE /me/calendar-link", [401, 204, 204, 403, 403]),
    // No bearer token needed: the feed's own token (missing here) is its authentication.
    ("GET /me/calendar.ics", [400, 400, 400, 400, 400]),
    ("GET /trainings", [401, 200, 200, 200, 403]),
    ("POST /trainings/{id}/interest", [401, 201, 201, 403, 403]),
    ("GET /admin/trainings", [401, 403, 403, 200, 403]),
    ("POST /admin/trainings", [401, 403, 403, 400, 403]),
    ("GET /admin/trainings/{id}", [401, 403, 403, 200, 403]),
    ("PUT /admin/trainings/{id}", [401, 403, 403, 400, 403]),
    (
        "POST /admin/trainings/{id}/archive",
        [401, 403, 403, 200, 403],
    ),
    ("GET /admin/trainings/{id}/audit", [401, 403, 403, 200, 403]),
    ("GET /admin/sessions", [401, 403, 403, 200, 403]),
    ("POST /admin/sessions", [401, 403, 403, 400, 403]),
    ("GET /admin/sessions/{id}", [401, 403, 403, 200, 403]),
    ("PATCH /admin/sessions/{id}", [401, 403, 403, 200, 403]),
    (
        "POST /admin/sessions/{id}/cancel",
        [401, 403, 403, 200, 403],
    ),
    ("GET /admin/sessions/{id}/roster", [401, 403, 403, 200, 403]),
    (
        "POST /admin/sessions/{id}/enrolments",
        [401, 403, 403, 400, 403],
    ),
    (
        "DELETE /admin/sessions/{id}/enrolments/{officer_id}",
        [401, 403, 403, 200, 403],
    ),
    (
        "GET /admin/sessions/{id}/enrolments/{officer_id}/history",
        [401, 403, 403, 200, 403],
    ),
    (
        "POST /admin/sessions/{id}/waitlist/{officer_id}/move",
        [401, 403, 403, 400, 403],
    ),
    (
        "PUT /admin/sessions/{id}/attendance/{officer_id}",
        [401, 403, 403, 400, 403],
    ),
    ("DELETE /admin/sessions/{id}", [401, 403, 403, 409, 403]),
    (
        "GET /admin/sessions/{id}/feedback",
        [401, 403, 403, 200, 403],
    ),
    (
        "GET /admin/sessions/{id}/notifications",
        [401, 403, 403, 200, 403],
    ),
    ("GET /admin/sessions/{id}/audit", [401, 403, 403, 200, 403]),
    ("GET /admin/enrolments", [401, 403, 403, 200, 403]),
    ("GET /admin/programmes", [401, 403, 403, 200, 403]),
    ("GET /admin/officers", [401, 403, 403, 200, 403]),
    ("GET /admin/officers/{id}", [401, 403, 403, 200, 403]),
    (
        "GET /admin/officers/{id}/notifications",
        [401, 403, 403, 200, 403],
    ),
    ("GET /admin/officers/{id}/audit", [401, 403, 403, 200, 403]),
    ("GET /admin/officers/{id}/export", [401, 403, 403, 200, 403]),
    (
        "POST /admin/officers/{id}/erasure",
        [401, 403, 403, 400, 403],
    ),
    (
        "PUT /admin/officers/{id}/programme/{training_id}",
        [401, 403, 403, 400, 403],
    ),
    (
        "DELETE /admin/officers/{id}/programme/{training_id}",
        [401, 403, 403, 404, 403],
    ),
    ("GET /admin/staff", [401, 403, 403, 200, 403]),
    ("GET /admin/statistics", [401, 403, 403, 200, 403]),
    ("POST /admin/imports/{kind}", [401, 403, 403, 422, 403]),
];

struct World {
    app: TestApp,
    session: String,
    training: String,
    officer_a: String,
    tokens: [Option<String>; 5],
}

async fn world() -> World {
    let app = TestApp::with_staff(NOW).await;
    let session = app.create_session(5, json!({})).await;
    let training = app.training_id("FIN-01").await;
    let officers = app.officers("matrix", 2).await;
    let a = app.enrol(&officers[0].token, &session).await;
    assert_eq!(a.status.as_u16(), 201, "{a:?}");
    let sub = ulid::Ulid::generate().to_string();
    let no_group = app
        .local
        .signer
        .sign(&sub, STAFF_EMAIL, false)
        .expect("token");
    let staff = app.staff().await;
    World {
        session,
        training,
        officer_a: officers[0].id.clone(),
        tokens: [
            None,
            Some(officers[0].token.clone()),
            Some(officers[1].token.clone()),
            Some(staff),
            Some(no_group),
        ],
        app,
    }
}

fn path_for(template: &str, w: &World) -> String {
    let id = if template.starts_with("/admin/trainings/") || template.starts_with("/trainings/") {
        w.training.clone()
    } else if template.starts_with("/admin/officers/") {
        w.officer_a.clone()
    } else {
        w.session.clone()
    };
    template
        .split('/')
        .map(|segment| match segment {
            "{id}" => id.clone(),
            "{officer_id}" => w.officer_a.clone(),
            "{training_id}" => w.training.clone(),
            "{kind}" => "officers".to_string(),
            s if s.starts_with('{') => ulid::Ulid::generate().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_matrix_says() {
    let mut observed = Vec::new();
    let mut wrong = Vec::new();
    for route in ROUTES {
        let key = format!("{} {}", route.method, route.path);
        let expected = MATRIX.iter().find(|(k, _)| *k == key).map(|(_, s)| *s);
        let mut row = [0u16; 5];
        let w = world().await;
        for i in [0, 4, 2, 1, 3] {
            let caller = CALLERS[i];
            let path = path_for(route.path, &w);
            let body = matches!(route.method, "POST" | "PUT" | "PATCH").then(|| json!({}));
            let a = w
                .app
                .call(route.method, &path, w.tokens[i].as_deref(), body)
                .await;
            row[i] = a.status.as_u16();
            if a.status.as_u16() >= 400 {
                assert_problem_shape(&a);
            }
            if let Some(e) = expected
                && e[i] != row[i]
            {
                wrong.push(format!(
                    "{key} as {caller:?}: {} (expected {})",
                    a.status, e[i]
                ));
            }
        }
        observed.push(format!("    (\"{key}\", {row:?}),"));
        if expected.is_none() {
            wrong.push(format!("{key}: no row in MATRIX"));
        }
    }
    for (key, _) in MATRIX {
        if !ROUTES
            .iter()
            .any(|r| format!("{} {}", r.method, r.path) == *key)
        {
            wrong.push(format!("{key}: in MATRIX but not a route"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\n\nobserved:\n{}",
        wrong.join("\n"),
        observed.join("\n")
    );
}
