//! Hostile requests, generated: every route of the table, called by an officer, by staff or by
//! nobody, with path ids that exist, that do not, or that are junk, and with JSON bodies made
//! of the fields the API knows filled with values meant to break them (wrong types, huge and
//! negative numbers, 10,000-character strings, CR/LF, impossible dates). Whatever comes, the
//! answer is never a server error, and a refusal is a problem with a code and a French detail.
//!
//! Bounded: `CASSIOPEE_HOSTILE_CASES` requests (default 300) on one demo store.

use crate::helpers::*;
use cassiopee_api::routes::ROUTES;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

const FIELDS: &[&str] = &[
    "training_id",
    "reference",
    "first_day",
    "last_day",
    "daily_hours",
    "place",
    "capacity",
    "enrolment_closes_at",
    "free_withdrawal_until",
    "trainer",
    "waitlist_mode",
    "offer_hours",
    "officer_id",
    "position",
    "reason",
    "status",
    "rating",
    "relevance",
    "comment",
    "kind",
    "code",
    "title",
    "theme",
    "modality",
    "length_days",
    "provider",
    "session_cost",
    "trainee_cost",
    "min_group",
    "max_group",
    "email",
    "now",
    "advance",
    "ids",
    "unknown",
];

fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("x".repeat(10_000)),
        Just("Titre\r\nBcc: pirate@example.org".to_string()),
        Just("31/02/2027".to_string()),
        Just("2027-13-01".to_string()),
        Just("07/06/1827".to_string()),
        Just("2027-03-28T02:30".to_string()),
        Just("25:00-26:00".to_string()),
        Just("=HYPERLINK(\"http://x\")".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("01KDVDNA00G8QD9VX6DEAEP295".to_string()),
        Just("offer".to_string()),
        Just("required".to_string()),
        Just("présent".to_string()),
        "\\PC{0,40}",
    ]
}

fn nasty_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        nasty_string().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e300)),
        Just(json!(4.5)),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!([]))),
        Just(Some(json!("texte"))),
        prop::collection::btree_map(prop::sample::select(FIELDS), nasty_value(), 0..6).prop_map(
            |m| {
                let map: Map<String, Value> =
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                Some(Value::Object(map))
            }
        ),
    ]
}

#[derive(Debug, Clone)]
enum Who {
    Nobody,
    Officer,
    Staff,
}

#[derive(Debug, Clone)]
struct Case {
    route: usize,
    ids: Vec<usize>,
    who: Who,
    body: Option<Value>,
    query: Option<String>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..ROUTES.len(),
        prop::collection::vec(0usize..6, 3),
        prop_oneof![Just(Who::Nobody), Just(Who::Officer), Just(Who::Staff)],
        body(),
        prop::option::of(prop_oneof![
            Just("from=31/02/2027&to=junk".to_string()),
            Just("group=nothing&from=2027-01-01".to_string()),
            Just("theme=%00%FF&modality=x&available=maybe".to_string()),
            Just("token=".to_string()),
            "[a-z_]{1,8}=\\PC{0,20}",
        ]),
    )
        .prop_map(|(route, ids, who, body, query)| Case {
            route,
            ids,
            who,
            body,
            query,
        })
}

/// Percent-encodes what a URI cannot carry, keeping `=`, `&` and `%` as written (so that a
/// malformed escape stays malformed).
fn encode_query(q: &str) -> String {
    let mut out = String::new();
    for b in q.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=&%/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_generated_request_gets_a_server_error_and_every_refusal_is_a_french_problem() {
    let app = TestApp::demo("2026-12-01T10:00").await;
    let officer = app.sign_in(OFFICER_EMAIL).await;
    let staff = app.staff().await;
    let sessions = app.call("GET", "/sessions", Some(&officer), None).await;
    let session = sessions.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let officer_id = app.officer_id(OFFICER_EMAIL).await;
    let trainings = app.call("GET", "/trainings", Some(&officer), None).await;
    let training = trainings.body["trainings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Ids that exist, one that does not, and junk.
    let pool = [
        session,
        officer_id,
        training,
        "01JZZZZZZZZZZZZZZZZZZZZZZZ".to_string(),
        "..%2F..%2Fetc".to_string(),
        "1".to_string(),
    ];
    let cases: u32 = std::env::var("CASSIOPEE_HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let mut answers = Vec::new();
    for _ in 0..cases {
        let tree = case().new_tree(&mut runner).expect("a case");
        answers.push(tree.current());
    }
    let mut codes = std::collections::BTreeSet::new();
    let mut successes = 0;
    for c in answers {
        let route = &ROUTES[c.route];
        let mut n = 0;
        let mut path = String::new();
        for part in route.path.split('/').skip(1) {
            path.push('/');
            if part.starts_with('{') {
                path.push_str(&pool[c.ids[n % c.ids.len()]]);
                n += 1;
            } else {
                path.push_str(part);
            }
        }
        if let Some(q) = &c.query {
            path = format!("{path}?{}", encode_query(q));
        }
        let token = match c.who {
            Who::Nobody => None,
            Who::Officer => Some(officer.as_str()),
            Who::Staff => Some(staff.as_str()),
        };
        let a = app.call(route.method, &path, token, c.body.clone()).await;
        assert!(
            a.status.as_u16() < 500,
            "{} {path} as {:?} with {:?}: {a:?}",
            route.method,
            c.who,
            c.body
        );
        if a.status.is_client_error() && a.content_type.contains("json") {
            assert_problem_shape(&a);
            codes.insert(a.body["code"].as_str().unwrap_or_default().to_string());
        }
        if a.status.is_success() {
            successes += 1;
        }
    }
    // The requests reached the handlers' checks, and some went through: the generator is not
    // stopped at the door.
    assert!(successes > 0, "no request succeeded: {codes:?}");
    for expected in ["unauthenticated", "forbidden"] {
        assert!(
            codes.contains(expected),
            "{expected} never answered: {codes:?}"
        );
    }
    assert!(codes.len() >= 6, "only {codes:?}");
}
