//! What the emails say and carry: both parts, the calendar invitation and its updates, and
//! the list of what changed when a session is moved.

use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::json;

const PLANNING: &str = "2027-01-10T10:00";

fn sequence_of(ics: &str) -> u32 {
    ics.lines()
        .find_map(|l| l.strip_prefix("SEQUENCE:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no SEQUENCE in {ics}"))
}

#[tokio::test]
async fn moving_a_session_tells_what_changed_and_updates_the_invitation() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("moved", 2).await;
    let session = app.create_session(1, json!({})).await;
    app.enrol(&o[0].token, &session).await;
    app.enrol(&o[1].token, &session).await;
    let staff = app.staff().await;
    let path = format!("/admin/sessions/{session}");

    let confirmation = app
        .outbox()
        .into_iter()
        .find(|e| e.to == o[0].email && e.subject.contains("Inscription confirmée"))
        .expect("a confirmation");
    assert!(
        confirmation
            .html
            .as_deref()
            .is_some_and(|h| h.contains("<html"))
    );
    assert!(
        confirmation
            .text
            .contains("lundi 15 mars 2027 au mardi 16 mars 2027"),
        "{}",
        confirmation.text
    );
    let invitation = &confirmation.attachments[0];
    assert_eq!(invitation.filename, "invitation.ics");
    assert!(invitation.content_type.contains("method=REQUEST"));
    // 09:00 in Paris on 15 March 2027 is 08:00Z (winter time).
    assert!(
        invitation.text.contains("DTSTART:20270315T080000Z"),
        "{}",
        invitation.text
    );
    let first_sequence = sequence_of(&invitation.text);

    let before = app.outbox().len();
    let capacity_only = app
        .call("PATCH", &path, Some(&staff), Some(json!({ "capacity": 1 })))
        .await;
    assert_eq!(capacity_only.status, StatusCode::OK, "{capacity_only:?}");
    assert_eq!(app.outbox().len(), before, "a capacity edit tells nobody");

    let moved = json!({ "first_day": "2027-04-12", "last_day": "2027-04-13", "place": "Toulon" });
    let a = app.call("PATCH", &path, Some(&staff), Some(moved)).await;
    assert_eq!(a.status, StatusCode::OK, "{a:?}");

    let changed: Vec<_> = app
        .outbox()
        .into_iter()
        .filter(|e| e.subject.contains("Session modifiée"))
        .collect();
    assert_eq!(changed.len(), 2, "the confirmed and the waiting officer");
    let seated = changed.iter().find(|e| e.to == o[0].email).expect("seated");
    assert!(
        seated
            .text
            .contains("- Lieu : École militaire, Paris 7e → Toulon"),
        "{}",
        seated.text
    );
    assert!(
        seated.text.contains(
            "- Dates : du lundi 15 mars 2027 au mardi 16 mars 2027 → du lundi 12 avril 2027 au mardi 13 avril 2027"
        ),
        "{}",
        seated.text
    );
    let update = &seated.attachments[0].text;
    // 12 April 2027 is in summer time: 09:00 in Paris is 07:00Z.
    assert!(update.contains("DTSTART:20270412T070000Z"), "{update}");
    assert!(sequence_of(update) > first_sequence);
    let waiting = changed
        .iter()
        .find(|e| e.to == o[1].email)
        .expect("waiting");
    assert!(waiting.attachments.is_empty(), "no seat, no invitation");
}

#[tokio::test]
async fn a_waiting_officer_gets_a_link_to_leave_the_list() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("waiting", 2).await;
    let session = app.create_session(1, json!({})).await;
    app.enrol(&o[0].token, &session).await;
    app.enrol(&o[1].token, &session).await;
    let email = app
        .outbox()
        .into_iter()
        .find(|e| e.to == o[1].email && e.subject.contains("Liste d'attente"))
        .expect("waitlisted");
    assert!(email.text.contains("au rang 1"), "{}", email.text);
    assert!(
        email.text.contains("http://127.0.0.1:8080/liens/"),
        "{}",
        email.text
    );
}

#[tokio::test]
async fn the_calendar_feed_holds_the_seats_with_the_invitations_uids() {
    let app = TestApp::with_staff(PLANNING).await;
    let o = app.officers("feed", 2).await;
    let kept = app.create_session(1, json!({})).await;
    let left = app
        .create_session(
            1,
            json!({ "first_day": "2027-04-12", "last_day": "2027-04-12" }),
        )
        .await;
    app.enrol(&o[0].token, &kept).await;
    app.enrol(&o[0].token, &left).await;
    app.withdraw(&o[0].token, &left).await;
    app.enrol(&o[1].token, &kept).await;

    let officer = cassiopee_domain::ids::OfficerId::parse(&o[0].id).expect("id");
    let feed = cassiopee_domain::usecases::calendar_feed(&app.local.deps, &officer)
        .await
        .expect("feed");

    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2, "{feed}");
    assert!(feed.contains("METHOD:PUBLISH"), "{feed}");
    let unfolded = feed.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("UID:{kept}-{}@cassiopee.mirvog", o[0].id)));
    assert!(unfolded.contains(&format!("UID:{left}-{}@cassiopee.mirvog", o[0].id)));
    assert_eq!(feed.matches("STATUS:CANCELLED").count(), 1, "{feed}");
    let invitation = app
        .outbox()
        .into_iter()
        .find(|e| e.to == o[0].email && e.subject.contains("Désistement"))
        .expect("the withdrawal");
    let cancel = &invitation.attachments[0];
    assert!(cancel.content_type.contains("method=CANCEL"));
    assert!(cancel.text.contains("STATUS:CANCELLED"));
}
