use crate::helpers::*;
use axum::http::StatusCode;
use std::collections::BTreeSet;

/// The changes an officer may make in ten minutes (`usecases::CHANGE_LIMIT`).
const QUOTA: usize = cassiopee_domain::usecases::CHANGE_LIMIT as usize;

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

    // Retries carrying the same Idempotency-Key all get the first answer; a replay changes
    // nothing, so only the first counts against the officer's quota of changes.
    let keyed_requests = || {
        (0..50)
            .map(|_| {
                axum::http::Request::builder()
                    .method("POST")
                    .uri(&path)
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", "k-123")
                    .body(axum::body::Body::empty())
                    .unwrap()
            })
            .collect()
    };
    let keyed = app.concurrently(keyed_requests()).await;
    for a in &keyed {
        assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
        assert_eq!(a.body["status"], "confirmed");
    }
    let replayed = |answers: &[Answer]| {
        answers
            .iter()
            .filter(|a| a.headers.get("idempotent-replayed").is_some())
            .count()
    };
    assert_eq!(replayed(&keyed), 49);
    // Ten minutes on, the same retries are answered again, every one a replay.
    app.set_clock("2027-01-10T10:10");
    let later = app.concurrently(keyed_requests()).await;
    assert_eq!(replayed(&later), 50);
    // Those fifty replays counted nothing: the window they fell in still holds ten changes.
    let others: Vec<_> = {
        let mut v = Vec::new();
        for i in 0..=QUOTA {
            v.push(
                app.create_session(5, serde_json::json!({ "reference": format!("R-{i}") }))
                    .await,
            );
        }
        v
    };
    for s in &others[..QUOTA] {
        assert_eq!(app.enrol(&token, s).await.status, StatusCode::CREATED);
    }
    let over = app.enrol(&token, &others[QUOTA]).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS, "{over:?}");

    // Without a key, the duplicates are refused (or limited), and still only one enrolment
    // exists.
    let t2 = app.sign_in(&emails[1]).await;
    let plain = app
        .concurrently(
            (0..50)
                .map(|_| app.request("POST", &path, Some(&t2), None))
                .collect(),
        )
        .await;
    let with = |status| plain.iter().filter(|a| a.status == status).count();
    assert_eq!(with(StatusCode::CREATED), 1);
    // A refused duplicate gives its use back, so how many were limited depends on the timing;
    // every other answer is the refusal of a duplicate.
    assert_eq!(
        with(StatusCode::CONFLICT) + with(StatusCode::TOO_MANY_REQUESTS),
        49
    );
    assert!(
        plain
            .iter()
            .filter(|a| a.status == StatusCode::CONFLICT)
            .all(|a| a.body["code"] == "already-enrolled")
    );
    assert!(with(StatusCode::CONFLICT) >= QUOTA - 1);

    let roster = app.roster(&session).await;
    assert_eq!(roster.len(), 2);
    let s = app.session(&session).await;
    assert_eq!(s["seats_taken"], 2);
    let unique: BTreeSet<_> = statuses(&roster).into_iter().map(|(e, _)| e).collect();
    assert_eq!(unique.len(), 2);
}

#[tokio::test]
async fn an_officer_making_change_after_change_is_told_to_wait_and_staff_are_not() {
    let app = TestApp::with_staff("2027-01-10T10:03").await;
    let o = app.officers("quota", 1).await.remove(0);
    let staff = app.staff().await;
    let sessions = {
        let mut v = Vec::new();
        for i in 0..6 {
            v.push(
                app.create_session(5, serde_json::json!({ "reference": format!("Q-{i}") }))
                    .await,
            );
        }
        v
    };
    // Refused changes cost nothing: ten enrolments in a session that does not exist.
    for _ in 0..10 {
        let a = app.enrol(&o.token, "01JZZZZZZZZZZZZZZZZZZZZZZZ").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{a:?}");
    }
    // Five enrolments and five withdrawals: ten changes, all served.
    for s in &sessions[..5] {
        assert_eq!(app.enrol(&o.token, s).await.status, StatusCode::CREATED);
        assert_eq!(app.withdraw(&o.token, s).await.status, StatusCode::OK);
    }
    // The eleventh is refused with a French message and when to come back; nothing changed.
    let a = app.enrol(&o.token, &sessions[5]).await;
    assert_problem(&a, StatusCode::TOO_MANY_REQUESTS, "too-many-changes");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("réessayez dans 7 minutes"),
        "{a:?}"
    );
    assert_eq!(
        a.headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or("")),
        Some("420")
    );
    assert_eq!(app.roster(&sessions[5]).await.len(), 0);
    // Reading is not a change, and staff acting for the officer are not limited.
    let me = app
        .call("GET", "/me/enrolments", Some(&o.token), None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    let path = format!("/admin/sessions/{}/enrolments", sessions[5]);
    let a = app
        .call(
            "POST",
            &path,
            Some(&staff),
            Some(serde_json::json!({ "officer_id": o.id })),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{a:?}");
    // The next window starts at 10:10.
    app.set_clock("2027-01-10T10:10");
    assert_eq!(
        app.withdraw(&o.token, &sessions[5]).await.status,
        StatusCode::OK
    );
}
