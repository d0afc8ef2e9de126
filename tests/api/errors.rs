//! Bad requests: each one answers an `application/problem+json` error in French, and stores
//! nothing.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

const PLANNING: &str = "2027-01-10T10:00";

/// A planning with one session, and what is needed to compare its state before and after.
struct World {
    app: TestApp,
    staff: String,
    officer: String,
    session: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::with_staff(PLANNING).await;
        let session = app.create_session(5, json!({})).await;
        let staff = app.staff().await;
        let officer = app.sign_in(OFFICER_EMAIL).await;
        Self {
            app,
            staff,
            officer,
            session,
        }
    }

    /// Every session's counters, the catalogue and the session's roster.
    async fn state(&self) -> Value {
        let trainings = self
            .app
            .call(
                "GET",
                "/admin/trainings?archived=true",
                Some(&self.staff),
                None,
            )
            .await;
        let catalogue: Vec<Value> = trainings.body["trainings"]
            .as_array()
            .expect("trainings")
            .iter()
            .map(|t| json!([t["id"], t["code"], t["title"], t["archived"]]))
            .collect();
        let session = self.app.session(&self.session).await;
        json!({
            "sessions": self.app.session_snapshot(&self.staff).await,
            "catalogue": catalogue,
            "session": [session["capacity"], session["place"], session["status"]],
            "roster": statuses(&self.app.roster(&self.session).await),
        })
    }

    async fn create(&self, body: Value) -> Answer {
        self.app
            .call("POST", "/admin/sessions", Some(&self.staff), Some(body))
            .await
    }

    async fn create_raw(&self, body: impl Into<Vec<u8>>) -> Answer {
        self.app
            .raw(
                "POST",
                "/admin/sessions",
                &self.staff,
                "application/json",
                body.into(),
            )
            .await
    }

    async fn patch(&self, body: Value) -> Answer {
        let path = format!("/admin/sessions/{}", self.session);
        self.app
            .call("PATCH", &path, Some(&self.staff), Some(body))
            .await
    }

    async fn body(&self, overrides: Value) -> Value {
        self.app.session_body(5, overrides).await
    }
}

fn field(a: &Answer) -> Option<&str> {
    a.body["errors"][0]["field"].as_str()
}

fn detail(a: &Answer) -> &str {
    a.body["detail"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn malformed_json_is_a_400_explained_in_french() {
    let w = World::new().await;
    let before = w.state().await;

    let cut = w.create_raw(r#"{"capacity": 5, "place": "#).await;
    let trailing = w.create_raw(r#"{"capacity": 5,}"#).await;
    let not_object = w.create_raw("[1, 2, 3]").await;

    assert_problem(&cut, StatusCode::BAD_REQUEST, "malformed-request");
    assert!(detail(&cut).contains("JSON valide"), "{cut:?}");
    assert_problem(&trailing, StatusCode::BAD_REQUEST, "malformed-request");
    assert!(detail(&trailing).contains("ligne 1"), "{trailing:?}");
    assert!(not_object.status.is_client_error(), "{not_object:?}");
    assert_problem_shape(&not_object);
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_body_that_is_a_json_array_is_refused_even_when_it_lists_every_field() {
    let w = World::new().await;
    let before = w.state().await;
    let training = w.app.training_id("FIN-01").await;
    // The fields of a session in the order the server happens to declare them.
    let positional = json!([
        training,
        null,
        "2027-03-15",
        "2027-03-16",
        "09:00-17:30",
        "École militaire, Paris 7e",
        5,
        "2027-03-01T18:00",
        "2027-03-08",
        null,
        "direct",
        null
    ]);

    let a = w.create_raw(positional.to_string()).await;

    assert!(a.status.is_client_error(), "{a:?}");
    assert_problem_shape(&a);
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_json_array_too_short_for_a_body_is_refused_in_french() {
    let w = World::new().await;
    let before = w.state().await;
    let path = format!(
        "/admin/sessions/{}/waitlist/{}/move",
        w.session,
        ulid::Ulid::generate()
    );

    let create = w.create_raw(r#"["x"]"#).await;
    let patch = w.patch(json!(["x"])).await;
    let moved = w
        .app
        .call("POST", &path, Some(&w.staff), Some(json!([1])))
        .await;

    for a in [&create, &patch, &moved] {
        assert_problem(a, StatusCode::BAD_REQUEST, "malformed-request");
        assert!(
            !detail(a).contains("Body"),
            "a type name of the server: {a:?}"
        );
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_refused() {
    let w = World::new().await;
    let before = w.state().await;
    let body = w.body(json!({})).await.to_string().into_bytes();

    let a = w
        .app
        .raw("POST", "/admin/sessions", &w.staff, "text/plain", body)
        .await;

    assert_problem(&a, StatusCode::BAD_REQUEST, "malformed-request");
    assert!(detail(&a).contains("JSON"), "{a:?}");
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn an_unknown_field_is_refused_by_name() {
    let w = World::new().await;
    let before = w.state().await;

    let create = w.create(w.body(json!({ "colour": "rouge" })).await).await;
    let patch = w.patch(json!({ "capacity": 6, "seats": 10 })).await;

    for (a, name) in [(&create, "colour"), (&patch, "seats")] {
        assert!(a.status.is_client_error(), "{a:?}");
        assert_problem_shape(a);
        assert!(detail(a).contains(name), "{a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_field_given_twice_is_refused_in_french() {
    let w = World::new().await;
    let before = w.state().await;
    let body = w.body(json!({})).await.to_string();
    let twice = body.replacen('{', r#"{"capacity":7,"#, 1);
    assert!(twice.matches("\"capacity\"").count() == 2, "{twice}");

    let create = w.create_raw(twice).await;
    let path = format!("/admin/sessions/{}", w.session);
    let patch = br#"{"capacity": 6, "capacity": 7}"#.to_vec();
    let patch = w
        .app
        .raw("PATCH", &path, &w.staff, "application/json", patch)
        .await;

    for a in [&create, &patch] {
        assert!(a.status.is_client_error(), "{a:?}");
        assert_problem_shape(a);
        assert!(detail(a).contains("capacity"), "{a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_value_outside_a_list_of_choices_is_refused_in_french() {
    let w = World::new().await;
    let before = w.state().await;

    let mode = w
        .create(w.body(json!({ "waitlist_mode": "sometimes" })).await)
        .await;
    let attendance = w
        .app
        .call(
            "PUT",
            &format!(
                "/admin/sessions/{}/attendance/{}",
                w.session,
                ulid::Ulid::generate()
            ),
            Some(&w.staff),
            Some(json!({ "status": "peut-être" })),
        )
        .await;

    for a in [&mode, &attendance] {
        assert!(a.status.is_client_error(), "{a:?}");
        assert_problem_shape(a);
    }
    assert!(
        detail(&mode).contains("sometimes") && detail(&mode).contains("offer"),
        "{mode:?}"
    );
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_refused_on_its_field() {
    let w = World::new().await;
    let before = w.state().await;

    let text = w.create(w.body(json!({ "capacity": "ten" })).await).await;
    let negative = w.create(w.body(json!({ "capacity": -3 })).await).await;
    let fraction = w.patch(json!({ "capacity": 2.5 })).await;
    let place = w.patch(json!({ "place": 12 })).await;

    for a in [&text, &negative, &fraction] {
        assert!(a.status.is_client_error(), "{a:?}");
        assert_problem_shape(a);
        assert!(detail(a).contains("capacity"), "{a:?}");
    }
    assert!(place.status.is_client_error(), "{place:?}");
    assert!(detail(&place).contains("place"), "{place:?}");
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_number_too_large_for_any_capacity_is_refused() {
    let w = World::new().await;
    let before = w.state().await;

    let create = w
        .create(w.body(json!({ "capacity": 99_999_999_999u64 })).await)
        .await;
    let patch = w.patch(json!({ "capacity": 99_999_999_999u64 })).await;
    let absurd = w
        .create_raw(
            w.body(json!({}))
                .await
                .to_string()
                .replace("\"capacity\":5", "\"capacity\":1e400"),
        )
        .await;

    for a in [&create, &patch, &absurd] {
        assert!(a.status.is_client_error(), "{a:?}");
        assert_problem_shape(a);
    }
    assert!(detail(&create).contains("capacity"), "{create:?}");
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_capacity_above_the_largest_room_is_a_422_on_the_capacity_field() {
    let w = World::new().await;
    let before = w.state().await;

    let create = w.create(w.body(json!({ "capacity": 5000 })).await).await;
    let patch = w.patch(json!({ "capacity": 5000 })).await;

    for a in [&create, &patch] {
        assert_problem(a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(field(a), Some("capacity"), "{a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_ten_thousand_character_place_is_a_422_on_the_place_field() {
    let w = World::new().await;
    let before = w.state().await;
    let long = "x".repeat(10_000);

    let create = w.create(w.body(json!({ "place": long })).await).await;
    let patch = w.patch(json!({ "place": long })).await;

    for a in [&create, &patch] {
        assert_problem(a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(field(a), Some("place"), "{a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_line_break_in_a_place_or_a_title_is_a_422_on_that_field() {
    let w = World::new().await;
    let before = w.state().await;
    let training = json!({
        "code": "FIN-99",
        "title": "Lire un bilan\r\nBcc: tout-le-monde@intradef.example",
        "theme": "Finance",
        "modality": "présentiel",
        "length_days": 2,
        "provider": "Cabinet Valmont Formation",
        "session_cost": "3 900",
        "trainee_cost": "0",
        "min_group": 5,
        "max_group": 12,
    });
    let fin01 = w.app.training_id("FIN-01").await;

    let mut answers = Vec::new();
    for place in [
        "École militaire\r\nParis 7e",
        "École militaire\nParis 7e",
        "École\rmilitaire",
        "École militaire\u{2028}Paris 7e",
        "École militaire\u{2029}Paris 7e",
    ] {
        answers.push((
            "place",
            w.create(w.body(json!({ "place": place })).await).await,
        ));
        answers.push(("place", w.patch(json!({ "place": place })).await));
    }
    let title = w
        .app
        .call(
            "POST",
            "/admin/trainings",
            Some(&w.staff),
            Some(training.clone()),
        )
        .await;
    answers.push(("title", title));
    let path = format!("/admin/trainings/{fin01}");
    let updated = w
        .app
        .call("PUT", &path, Some(&w.staff), Some(training))
        .await;
    answers.push(("title", updated));

    for (name, a) in &answers {
        assert_problem(a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(field(a), Some(*name), "{a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused() {
    let w = World::new().await;
    let before = w.state().await;
    let huge = w
        .body(json!({ "place": "x".repeat(70 * 1024) }))
        .await
        .to_string();
    assert!(huge.len() > 64 * 1024);

    let create = w.create_raw(huge.clone()).await;
    let patch = w
        .app
        .raw(
            "PATCH",
            &format!("/admin/sessions/{}", w.session),
            &w.staff,
            "application/json",
            huge.into_bytes(),
        )
        .await;

    for a in [&create, &patch] {
        assert!(
            a.status == StatusCode::BAD_REQUEST || a.status == StatusCode::PAYLOAD_TOO_LARGE,
            "{a:?}"
        );
        assert_problem_shape(a);
        assert!(detail(a).contains("64"), "{a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn an_id_that_is_not_an_id_in_the_path_is_not_found() {
    let w = World::new().await;
    let before = w.state().await;

    let read = w
        .app
        .call("GET", "/sessions/not-an-id", Some(&w.officer), None)
        .await;
    let enrol = w
        .app
        .call(
            "POST",
            "/sessions/not-an-id/enrolment",
            Some(&w.officer),
            None,
        )
        .await;
    let admin = w
        .app
        .call("GET", "/admin/sessions/not-an-id", Some(&w.staff), None)
        .await;
    let traversal = w
        .app
        .call(
            "GET",
            "/admin/sessions/..%2F..%2Fetc/roster",
            Some(&w.staff),
            None,
        )
        .await;
    let unknown = w
        .app
        .call(
            "GET",
            &format!("/sessions/{}", ulid::Ulid::generate()),
            Some(&w.officer),
            None,
        )
        .await;

    for a in [&read, &enrol, &admin, &traversal, &unknown] {
        assert_problem(a, StatusCode::NOT_FOUND, "session-not-found");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let w = World::new().await;
    let before = w.state().await;

    let anonymous = w.app.call("GET", "/nowhere", None, None).await;
    let signed_in = w
        .app
        .call("POST", "/admin/nowhere", Some(&w.staff), Some(json!({})))
        .await;
    let deeper = w
        .app
        .call("GET", "/sessions/a/b/c", Some(&w.officer), None)
        .await;

    for a in [&anonymous, &signed_in, &deeper] {
        assert_problem(a, StatusCode::NOT_FOUND, "route-not-found");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_wrong_method_is_a_405_naming_the_allowed_ones() {
    let w = World::new().await;
    let before = w.state().await;
    let enrolment = format!("/sessions/{}/enrolment", w.session);

    let put = w.app.call("PUT", &enrolment, Some(&w.officer), None).await;
    let patch = w
        .app
        .call("PATCH", "/sessions", Some(&w.officer), Some(json!({})))
        .await;
    let delete = w
        .app
        .call(
            "PUT",
            &format!("/admin/sessions/{}", w.session),
            Some(&w.staff),
            None,
        )
        .await;

    let allow = |a: &Answer| {
        let mut methods: Vec<String> = a
            .headers
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        methods.sort();
        methods
    };
    for a in [&put, &patch, &delete] {
        assert_problem(a, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    }
    assert_eq!(allow(&put), vec!["DELETE", "POST"], "{put:?}");
    assert_eq!(allow(&patch), vec!["GET"], "{patch:?}");
    assert_eq!(allow(&delete), vec!["DELETE", "GET", "PATCH"], "{delete:?}");
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn a_bad_query_parameter_is_a_422_on_that_parameter() {
    let w = World::new().await;
    let before = w.state().await;
    let cases = [
        ("/sessions?modality=xyz", "modality"),
        ("/sessions?from=31/31/2026", "from"),
        ("/sessions?to=demain", "to"),
        ("/sessions?available=maybe", "available"),
        ("/me/enrolments?when=soon", "when"),
    ];

    for (path, name) in cases {
        let a = w.app.call("GET", path, Some(&w.officer), None).await;

        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(field(&a), Some(name), "{path}: {a:?}");
    }
    for (path, name) in [
        ("/admin/sessions?modality=xyz", "modality"),
        ("/admin/trainings?archived=maybe", "archived"),
        ("/admin/programmes?behind=1", "behind"),
    ] {
        let a = w.app.call("GET", path, Some(&w.staff), None).await;

        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(field(&a), Some(name), "{path}: {a:?}");
    }
    assert_eq!(w.state().await, before);
}

#[tokio::test]
async fn an_idempotency_key_of_300_characters_is_refused_and_enrols_nobody() {
    let w = World::new().await;
    let before = w.state().await;
    let enrol = |key: String| {
        Request::builder()
            .method("POST")
            .uri(format!("/sessions/{}/enrolment", w.session))
            .header("authorization", format!("Bearer {}", w.officer))
            .header("idempotency-key", key)
            .body(Body::empty())
            .expect("request")
    };

    let long = w.app.send(enrol("k".repeat(300))).await;
    let spaces = w
        .app
        .send(enrol("une cle avec des espaces".to_string()))
        .await;
    let accented = w.app.send(enrol("clé-éphémère".to_string())).await;

    for a in [&long, &spaces, &accented] {
        assert_problem(a, StatusCode::BAD_REQUEST, "malformed-request");
        assert!(detail(a).contains("Idempotency-Key"), "{a:?}");
    }
    assert_eq!(w.state().await, before);
    assert!(w.app.roster(&w.session).await.is_empty());
}

#[tokio::test]
async fn an_idempotency_key_of_255_printable_characters_is_still_accepted() {
    let w = World::new().await;
    let req = Request::builder()
        .method("POST")
        .uri(format!("/sessions/{}/enrolment", w.session))
        .header("authorization", format!("Bearer {}", w.officer))
        .header("idempotency-key", "k".repeat(255))
        .body(Body::empty())
        .expect("request");

    let a = w.app.send(req).await;

    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    assert_eq!(w.app.roster(&w.session).await.len(), 1);
}

#[tokio::test]
async fn session_list_bounds_are_days_or_instants_of_this_century() {
    let app = TestApp::demo("2026-12-01T10:00").await;
    let officer = app.sign_in(OFFICER_EMAIL).await;
    for ok in ["2027-02-01", "01/02/2027", "2027-02-01T10:00"] {
        let a = app
            .call("GET", &format!("/sessions?from={ok}"), Some(&officer), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{ok}: {a:?}");
    }
    for bad in [
        "1827-01-01",
        "0000-01-01",
        "2027-02-31",
        "2027-13-01",
        "demain",
    ] {
        let a = app
            .call(
                "GET",
                &format!("/sessions?from={bad}"),
                Some(&officer),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-field");
        assert_eq!(a.body["errors"][0]["field"], "from", "{bad}: {a:?}");
        assert!(
            !a.body["detail"].as_str().unwrap_or("").contains("heure"),
            "a day is refused as a day: {a:?}"
        );
    }
}

#[tokio::test]
async fn a_body_sent_where_none_is_read_is_refused_and_nothing_happens() {
    let w = World::new().await;
    let before = w.state().await;
    let path = format!("/sessions/{}/enrolment", w.session);
    let with = |body: Vec<u8>| {
        let officer = w.officer.clone();
        let path = path.clone();
        let app = &w.app;
        async move {
            app.raw("POST", &path, &officer, "application/json", body)
                .await
        }
    };
    let a = with(br#"{"officer_id": "someone-else"}"#.to_vec()).await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "malformed-request");
    assert!(detail(&a).contains("sans corps"), "{a:?}");
    let a = with(vec![b'x'; 2_600_000]).await;
    assert_problem(&a, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    assert_eq!(w.state().await, before, "nothing stored");
    // Nothing, blanks or an empty object are no body at all.
    assert_eq!(with(b" {} \n".to_vec()).await.status, StatusCode::CREATED);
    let a = w
        .app
        .call("DELETE", &path, Some(&w.officer), Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");
}

#[tokio::test]
async fn a_listing_whose_period_ends_before_it_starts_is_refused_and_a_single_day_is_not() {
    let app = TestApp::demo("2026-12-01T10:00").await;
    let officer = app.sign_in(OFFICER_EMAIL).await;
    let staff = app.staff().await;
    for (path, token) in [("/sessions", &officer), ("/admin/sessions", &staff)] {
        let a = app
            .call(
                "GET",
                &format!("{path}?from=2027-03-02&to=2027-03-01"),
                Some(token),
                None,
            )
            .await;
        assert_problem(&a, StatusCode::UNPROCESSABLE_ENTITY, "invalid-period");
        let day = app
            .call(
                "GET",
                &format!("{path}?from=2027-03-02&to=2027-03-02"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(day.status, StatusCode::OK, "{path}: {day:?}");
    }
}
