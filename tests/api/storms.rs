use crate::helpers::*;
use axum::http::StatusCode;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_officers_at_once_for_twenty_seats_give_twenty_confirmed_and_a_gapless_list() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let emails = app.add_officers("storm", 200).await;
    let session = app.create_session(20, serde_json::json!({})).await;
    let mut tokens = Vec::new();
    for e in &emails {
        tokens.push(app.sign_in(e).await);
    }

    let path = format!("/sessions/{session}/enrolment");
    let reqs = tokens
        .iter()
        .map(|t| app.request("POST", &path, Some(t), None))
        .collect();
    let answers = app.concurrently(reqs).await;

    let mut confirmed = 0;
    let mut positions = Vec::new();
    for a in &answers {
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        match a.body["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => positions.push(a.body["position"].as_u64().unwrap()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(confirmed, 20);
    positions.sort_unstable();
    assert_eq!(positions, (1..=180).collect::<Vec<u64>>());

    let s = app.session(&session).await;
    assert_eq!(s["seats_taken"], 20);
    assert_eq!(s["waiting"], 180);
    let roster = app.roster(&session).await;
    assert_eq!(count(&roster, "confirmed"), 20);
    assert_eq!(count(&roster, "waitlisted"), 180);
    let listed: Vec<u64> = roster
        .iter()
        .filter_map(|l| l["position"].as_u64())
        .collect();
    assert_eq!(listed, (1..=180).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_officer_sending_the_same_enrolment_fifty_times_at_once_gets_one_enrolment() {
    let app = TestApp::with_staff("2027-01-10T10:00").await;
    let emails = app.add_officers("twice", 2).await;
    let session = app.create_session(5, serde_json::json!({})).await;
    let token = app.sign_in(&emails[0]).await;
    let path = format!("/sessions/{session}/enrolment");

    // Retries carrying the same Idempotency-Key all get the first answer.
    let reqs = (0..50)
        .map(|_| {
            axum::http::Request::builder()
                .method("POST")
                .uri(&path)
                .header("authorization", format!("Bearer {token}"))
                .header("idempotency-key", "k-123")
                .body(axum::body::Body::empty())
                .unwrap()
        })
        .collect();
    let keyed = app.concurrently(reqs).await;
    for a in &keyed {
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        assert_eq!(a.body["status"], "confirmed");
    }
    let replayed = keyed
        .iter()
        .filter(|a| a.headers.get("idempotent-replayed").is_some())
        .count();
    assert_eq!(replayed, 49);

    // Without a key, the duplicates are refused, and still only one enrolment exists.
    let t2 = app.sign_in(&emails[1]).await;
    let plain = app
        .concurrently(
            (0..50)
                .map(|_| app.request("POST", &path, Some(&t2), None))
                .collect(),
        )
        .await;
    assert_eq!(
        plain
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .count(),
        1
    );
    assert!(
        plain
            .iter()
            .filter(|a| a.status != StatusCode::CREATED)
            .all(|a| a.status == StatusCode::CONFLICT && a.body["code"] == "already-enrolled")
    );

    let roster = app.roster(&session).await;
    assert_eq!(roster.len(), 2);
    let s = app.session(&session).await;
    assert_eq!(s["seats_taken"], 2);
    let unique: BTreeSet<_> = statuses(&roster).into_iter().map(|(e, _)| e).collect();
    assert_eq!(unique.len(), 2);
}
