use axum::body::Body;
use axum::http::{Request, StatusCode};
use cassiopee_api::config::Settings;
use cassiopee_domain::time::parse_instant;
use cassiopee_local::{Local, seed};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::PathBuf;
use tower::ServiceExt;

pub const STAFF_EMAIL: &str = "hugues.vidal@intradef.example";
pub const OFFICER_EMAIL: &str = "herve.kerjean@intradef.example";
/// The header line of `officiers.csv`.
pub const OFFICERS_HEADER: &str = "Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;\
    Début d'accompagnement;Fin d'accompagnement;Durée (mois);Conseiller MiRVOG\n";

pub struct TestApp {
    pub local: Local,
    pub router: axum::Router,
    pub dir: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl TestApp {
    /// A fresh, empty store.
    pub async fn empty() -> Self {
        let dir = std::env::temp_dir().join(format!("cassiopee-test-{}", ulid::Ulid::generate()));
        let settings = Settings::from_lookup(|k| match k {
            "CASSIOPEE_DATA" => Some(dir.to_string_lossy().into_owned()),
            _ => None,
        })
        .expect("settings");
        let local = Local::open(&settings).await.expect("open local");
        let router = local.router();
        Self { local, router, dir }
    }

    /// A fresh store with the demo data imported, the clock set to `now`.
    pub async fn demo(now: &str) -> Self {
        let app = Self::empty().await;
        app.set_clock(now);
        seed::seed_if_empty(&app.local.deps)
            .await
            .expect("seed")
            .expect("was empty");
        app
    }

    /// The staff and catalogue only, with the clock at `now`: a blank planning to test rules on.
    pub async fn with_staff(now: &str) -> Self {
        let app = Self::empty().await;
        app.set_clock(now);
        for (kind, bytes) in &seed::DEMO_FILES[..3] {
            cassiopee_domain::usecases::import(
                &app.local.deps,
                *kind,
                bytes,
                cassiopee_domain::model::Actor::import("test"),
            )
            .await
            .expect("import");
        }
        app
    }

    pub fn set_clock(&self, now: &str) {
        self.local
            .clock
            .set(parse_instant(now).expect("test instant"));
    }

    /// Sends one request, then waits for the notices it queued to be sent (by the local bus's
    /// sender thread, after the answer), so that the outbox shows them.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let answer = send_on(self.router.clone(), req).await;
        self.settle().await;
        answer
    }

    /// Waits until the notices queued so far have been sent.
    pub async fn settle(&self) {
        self.local.deps.events.settle().await;
    }

    /// Sends every request at once, each from its own task on the multi-threaded runtime, and
    /// answers in the order given.
    pub async fn concurrently(&self, reqs: Vec<Request<Body>>) -> Vec<Answer> {
        let handles: Vec<_> = reqs
            .into_iter()
            .map(|r| tokio::spawn(send_on(self.router.clone(), r)))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("request task"));
        }
        self.settle().await;
        out
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Request<Body> {
        build_request(method, path, token, body)
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.send(build_request(method, path, token, body)).await
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    pub async fn sign_in(&self, email: &str) -> String {
        let a = self
            .call(
                "POST",
                "/dev/sign-in",
                None,
                Some(json!({ "email": email })),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "sign-in {email}: {a:?}");
        a.body["token"].as_str().expect("token").to_string()
    }

    pub async fn staff(&self) -> String {
        self.sign_in(STAFF_EMAIL).await
    }

    /// Adds officers `prefix-1@…` to `prefix-n@…` through the officers import.
    pub async fn add_officers(&self, prefix: &str, n: usize) -> Vec<String> {
        let mut csv = String::from(OFFICERS_HEADER);
        let mut emails = Vec::new();
        for i in 1..=n {
            let email = format!("{prefix}-{i}@intradef.example");
            csv.push_str(&format!("Test{i};Officier;Général de brigade;Armée de Terre;{email};;01/01/2026;31/12/2027;24;H. Vidal\n"));
            emails.push(email);
        }
        let a = self.import_officers(&csv).await;
        assert_eq!(a.body["rejected"], 0, "{a:?}");
        emails
    }

    /// Imports an officers sheet (header and rows) as staff; answers the report.
    pub async fn import_officers(&self, csv: &str) -> Answer {
        let staff = self.staff().await;
        let a = self
            .raw(
                "POST",
                "/admin/imports/officers",
                &staff,
                "text/csv",
                csv.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        a
    }

    pub async fn training_id(&self, code: &str) -> String {
        let staff = self.staff().await;
        let a = self
            .call("GET", "/admin/trainings", Some(&staff), None)
            .await;
        a.body["trainings"]
            .as_array()
            .expect("trainings")
            .iter()
            .find(|t| t["code"] == code)
            .and_then(|t| t["id"].as_str())
            .expect("training code")
            .to_string()
    }

    /// Plans a session of FIN-01 with the given capacity and body overrides.
    pub async fn create_session(&self, capacity: u32, overrides: Value) -> String {
        let staff = self.staff().await;
        let body = self.session_body(capacity, overrides).await;
        let a = self
            .call("POST", "/admin/sessions", Some(&staff), Some(body))
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        a.body["id"].as_str().expect("id").to_string()
    }

    pub async fn roster(&self, session: &str) -> Vec<Value> {
        let staff = self.staff().await;
        let a = self
            .call(
                "GET",
                &format!("/admin/sessions/{session}/roster"),
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        a.body["roster"].as_array().expect("roster").clone()
    }

    pub async fn session(&self, session: &str) -> Value {
        let staff = self.staff().await;
        let a = self
            .call(
                "GET",
                &format!("/admin/sessions/{session}"),
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        a.body
    }

    pub fn outbox(&self) -> Vec<cassiopee_local::dev::OutboxEntry> {
        cassiopee_local::dev::read_outbox(&self.local.outbox_dir)
    }
}

pub fn build_request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).expect("request")
}

pub async fn send_on(router: axum::Router, req: Request<Body>) -> Answer {
    let response = router.oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer {
        status,
        content_type,
        body,
        headers,
    }
}

/// Status of each roster line, keyed by officer email.
pub fn statuses(roster: &[Value]) -> Vec<(String, String)> {
    roster
        .iter()
        .map(|l| {
            (
                l["officer"]["email"].as_str().unwrap_or("").to_string(),
                l["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn count(roster: &[Value], status: &str) -> usize {
    roster.iter().filter(|l| l["status"] == status).count()
}

// --- Helpers of the rules, auth and errors tests.

/// An officer added for a test, signed in.
pub struct TestOfficer {
    pub email: String,
    pub token: String,
    pub id: String,
}

impl TestApp {
    /// Adds officers `prefix-1@…` to `prefix-n@…`, signs each in and looks up their ids.
    pub async fn officers(&self, prefix: &str, n: usize) -> Vec<TestOfficer> {
        let emails = self.add_officers(prefix, n).await;
        let mut out = Vec::new();
        for email in emails {
            let token = self.sign_in(&email).await;
            let id = self.officer_id(&email).await;
            out.push(TestOfficer { email, token, id });
        }
        out
    }

    /// The id of the officer with this email, as staff see it.
    pub async fn officer_id(&self, email: &str) -> String {
        let staff = self.staff().await;
        let a = self
            .call("GET", "/admin/officers", Some(&staff), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        a.body["officers"]
            .as_array()
            .expect("officers")
            .iter()
            .find(|o| o["email"] == email)
            .and_then(|o| o["id"].as_str())
            .unwrap_or_else(|| panic!("no officer {email}"))
            .to_string()
    }

    /// The body `create_session` sends, with the overrides applied.
    pub async fn session_body(&self, capacity: u32, overrides: Value) -> Value {
        let mut body = json!({
            "training_id": self.training_id("FIN-01").await,
            "first_day": "2027-03-15",
            "last_day": "2027-03-16",
            "daily_hours": "09:00-17:30",
            "place": "École militaire, Paris 7e",
            "capacity": capacity,
            "enrolment_closes_at": "2027-03-01T18:00",
            "free_withdrawal_until": "2027-03-08",
        });
        if let (Some(b), Some(o)) = (body.as_object_mut(), overrides.as_object()) {
            for (k, v) in o {
                b.insert(k.clone(), v.clone());
            }
        }
        body
    }

    /// Like `create_session`, but answers whatever came back.
    pub async fn try_create_session(&self, capacity: u32, overrides: Value) -> Answer {
        let staff = self.staff().await;
        let body = self.session_body(capacity, overrides).await;
        self.call("POST", "/admin/sessions", Some(&staff), Some(body))
            .await
    }

    /// The officer signed in with `token` enrols in `session`.
    pub async fn enrol(&self, token: &str, session: &str) -> Answer {
        let path = format!("/sessions/{session}/enrolment");
        self.call("POST", &path, Some(token), None).await
    }

    /// The officer signed in with `token` withdraws from `session`.
    pub async fn withdraw(&self, token: &str, session: &str) -> Answer {
        let path = format!("/sessions/{session}/enrolment");
        self.call("DELETE", &path, Some(token), None).await
    }

    /// The caller's own standing in `session` (`me` of `GET /sessions/{id}`).
    pub async fn standing(&self, token: &str, session: &str) -> Value {
        let a = self
            .call("GET", &format!("/sessions/{session}"), Some(token), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{a:?}");
        a.body["me"].clone()
    }

    /// Runs a scheduled job now (`promote-waitlist`, `send-reminders`, `compute-statistics`).
    pub async fn run_job(&self, name: &str) -> Value {
        let a = self
            .call("POST", &format!("/dev/jobs/{name}"), None, None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{name}: {a:?}");
        a.body["result"].clone()
    }

    /// Checks the session's counters against its roster: `seats_taken` is confirmed plus
    /// offered, `waiting` is the waiting list, and the seats taken never exceed the capacity.
    pub async fn assert_counters(&self, session: &str) {
        let s = self.session(session).await;
        let roster = self.roster(session).await;
        let holding = count(&roster, "confirmed") + count(&roster, "offered");
        assert_eq!(
            s["seats_taken"].as_u64(),
            Some(holding as u64),
            "seats_taken against the roster {:?}",
            statuses(&roster)
        );
        assert_eq!(
            s["waiting"].as_u64(),
            Some(count(&roster, "waitlisted") as u64),
            "waiting against the roster {:?}",
            statuses(&roster)
        );
        assert!(
            s["seats_taken"].as_u64() <= s["capacity"].as_u64(),
            "more seats taken than the capacity: {s}"
        );
    }

    /// Emails written to `email` whose subject contains `subject`.
    pub fn emails_to(&self, email: &str, subject: &str) -> usize {
        self.outbox()
            .iter()
            .filter(|m| m.to.contains(email) && m.subject.contains(subject))
            .count()
    }
}

/// The status of the roster line of `email`, if any.
pub fn status_of(roster: &[Value], email: &str) -> Option<String> {
    roster
        .iter()
        .find(|l| l["officer"]["email"] == email)
        .and_then(|l| l["status"].as_str())
        .map(str::to_string)
}

/// The waiting list, in order, as emails.
pub fn waiting_order(roster: &[Value]) -> Vec<String> {
    let mut waiting: Vec<(u64, String)> = roster
        .iter()
        .filter(|l| l["status"] == "waitlisted")
        .map(|l| {
            (
                l["position"].as_u64().unwrap_or(u64::MAX),
                l["officer"]["email"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    waiting.sort();
    waiting.into_iter().map(|(_, e)| e).collect()
}

/// Checks an error answer: `application/problem+json` with the status, the stable code (also
/// the last segment of `type`), a title and a French detail free of serde's English.
pub fn assert_problem(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{a:?}");
    assert_problem_shape(a);
    assert_eq!(a.body["code"], code, "{a:?}");
}

/// Checks the shape of an error answer, whatever its status and code.
pub fn assert_problem_shape(a: &Answer) {
    assert_eq!(a.content_type, "application/problem+json", "{a:?}");
    assert_eq!(
        a.body["status"].as_u64(),
        Some(u64::from(a.status.as_u16())),
        "{a:?}"
    );
    let code = a.body["code"].as_str().unwrap_or_default();
    assert!(!code.is_empty(), "{a:?}");
    let kind = a.body["type"].as_str().unwrap_or_default();
    assert!(kind.ends_with(&format!("/{code}")), "{a:?}");
    assert!(
        !a.body["title"].as_str().unwrap_or_default().is_empty(),
        "{a:?}"
    );
    let detail = a.body["detail"].as_str().unwrap_or_default();
    assert!(!detail.is_empty(), "{a:?}");
    for english in [
        "expected",
        "unknown field",
        "missing field",
        "at line",
        "invalid type",
        "invalid value",
        "invalid length",
        "duplicate field",
        "unknown variant",
    ] {
        assert!(!detail.contains(english), "English in the detail: {a:?}");
    }
}
