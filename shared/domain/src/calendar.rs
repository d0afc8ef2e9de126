//! Calendar invitations (iTIP over email, RFC 5546) and the officer's calendar feed, written
//! with the `icalendar` crate.
//!
//! Every (session, officer) pair has one event UID, [`uid`], used by the invitation, its
//! updates, its cancellation and the feed, so that a calendar application updates the event it
//! already holds instead of adding a second one. Updates are ordered by `SEQUENCE`, which must
//! rise at each change: [`sequence`] adds the session's schedule version and the number of
//! changes in the enrolment's history, two counts that only ever grow.
//!
//! Implementation notes: times are written in UTC (`…Z`), from the instants the session holds
//! (its Paris dates and hours were resolved once, when it was planned), so no VTIMEZONE is
//! needed and the clock changes cannot shift an event. A session over several days is one
//! event from its first morning to its last evening: the daily hours are in the description.

use crate::ids::{OfficerId, SessionId};
use crate::model::{Enrolment, EnrolmentStatus, Officer, Session, SessionStatus, Training};
use crate::notices::{Attachment, display_name, french_dates};
use crate::time::Instant;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// The `PRODID` of every calendar Cassiopée writes.
pub const PRODID: &str = "-//MiRVOG//Cassiopee//FR";

/// The file name of an attached invitation.
pub const FILENAME: &str = "invitation.ics";

/// The iTIP method of an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A new or updated event: enrolment confirmed, promoted, session changed, reminders.
    Request,
    /// The event is off: withdrawal, session cancelled.
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// Who sends the invitations: the training cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organizer {
    pub name: String,
    pub email: String,
}

impl Default for Organizer {
    fn default() -> Self {
        Self {
            name: "Cellule formation de la MiRVOG".into(),
            email: "formation@cassiopee.mirvog.invalid".into(),
        }
    }
}

/// The event UID of one officer's place in one session.
pub fn uid(session: &SessionId, officer: &OfficerId) -> String {
    format!("{session}-{officer}@cassiopee.mirvog")
}

/// The `SEQUENCE` of the event: the session's schedule version plus the number of changes in
/// the enrolment's history, plus one once the session is cancelled. It rises when the session
/// is moved or cancelled and when the enrolment changes (a withdrawal after a confirmation, a
/// second enrolment after a withdrawal); none of the three ever goes back.
pub fn sequence(session: &Session, history_len: usize) -> u32 {
    let cancelled = u32::from(session.status == SessionStatus::Cancelled);
    session
        .schedule_version
        .saturating_add(u32::try_from(history_len).unwrap_or(u32::MAX))
        .saturating_add(cancelled)
}

fn calendar(method: Option<Method>) -> Calendar {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", PRODID))
        .append_property(("CALSCALE", "GREGORIAN"));
    match method {
        Some(m) => cal.append_property(("METHOD", m.as_str())),
        None => cal.append_property(("METHOD", "PUBLISH")),
    };
    cal
}

fn mailto(email: &str) -> String {
    format!("mailto:{email}")
}

fn event(
    session: &Session,
    training: &Training,
    officer: &Officer,
    organizer: &Organizer,
    sequence: u32,
    cancelled: bool,
    now: Instant,
) -> Event {
    let mut organizer_prop = Property::new("ORGANIZER", mailto(&organizer.email));
    organizer_prop.add_parameter("CN", &organizer.name);
    let mut attendee = Property::new("ATTENDEE", mailto(officer.email.as_str()));
    attendee
        .add_parameter(
            "CN",
            &format!(
                "{} {}",
                officer.first_name,
                display_name(&officer.last_name)
            ),
        )
        .add_parameter("ROLE", "REQ-PARTICIPANT")
        .add_parameter("PARTSTAT", if cancelled { "DECLINED" } else { "ACCEPTED" });
    let mut description = format!(
        "Session {} de la formation « {} », {}.",
        session.reference,
        training.title,
        french_dates(session)
    );
    if let Some(trainer) = &session.trainer {
        description.push_str(&format!("\nIntervenant : {trainer}"));
    }
    let mut ev = Event::new();
    ev.uid(&uid(&session.id, &officer.id))
        .sequence(sequence)
        .timestamp(now)
        .starts(session.starts_at)
        .ends(session.ends_at)
        .summary(&training.title)
        .location(&session.place)
        .description(&description)
        .append_property(organizer_prop)
        .append_multi_property(attendee)
        .status(if cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        });
    ev.done()
}

/// The invitation (or its cancellation) of one officer to one session, as an `.ics` text.
/// A `Cancel` carries `STATUS:CANCELLED`; send it only to officers who held a seat.
pub fn invitation(
    method: Method,
    session: &Session,
    training: &Training,
    officer: &Officer,
    organizer: &Organizer,
    sequence: u32,
    now: Instant,
) -> String {
    let cancelled = method == Method::Cancel;
    let mut cal = calendar(Some(method));
    cal.push(event(
        session, training, officer, organizer, sequence, cancelled, now,
    ));
    cal.done().to_string()
}

/// The invitation as an email attachment, with the content type calendar clients look for.
pub fn attachment(method: Method, ics: String) -> Attachment {
    Attachment {
        filename: FILENAME.to_string(),
        content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
        bytes: ics.into_bytes(),
    }
}

/// One event of an officer's calendar feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEntry {
    pub session: Session,
    pub training: Training,
    /// As [`sequence`] computes it for the enrolment.
    pub sequence: u32,
    /// Shown as `STATUS:CANCELLED`: the session was cancelled, or the officer withdrew.
    pub cancelled: bool,
}

impl FeedEntry {
    /// The feed's entry for one enrolment, if it has one: a seat confirmed or attended (off
    /// when the session was cancelled), or a seat given up (shown cancelled, so that a
    /// calendar that subscribed earlier drops the event). Waiting lists and offers are not
    /// shown: the officer holds no seat yet.
    pub fn of(
        session: &Session,
        training: &Training,
        enrolment: &Enrolment,
        history_len: usize,
    ) -> Option<Self> {
        let cancelled = match enrolment.status {
            EnrolmentStatus::Confirmed | EnrolmentStatus::Attended => {
                session.status == SessionStatus::Cancelled
            }
            EnrolmentStatus::Withdrawn => true,
            _ => return None,
        };
        Some(Self {
            session: session.clone(),
            training: training.clone(),
            sequence: sequence(session, history_len),
            cancelled,
        })
    }
}

/// An officer's calendar feed (`METHOD:PUBLISH`): one event per entry, with the UIDs and
/// sequences of the invitations, so that a calendar holding both shows each session once.
pub fn feed(
    officer: &Officer,
    entries: &[FeedEntry],
    organizer: &Organizer,
    now: Instant,
) -> String {
    let mut cal = calendar(None);
    cal.append_property(("X-WR-CALNAME", "Mes formations – Cassiopée"));
    for e in entries {
        cal.push(event(
            &e.session,
            &e.training,
            officer,
            organizer,
            e.sequence,
            e.cancelled,
            now,
        ));
    }
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{day, officer, session, training};
    use crate::time::parse_instant;

    fn now() -> Instant {
        parse_instant("2026-03-02T10:00").expect("instant")
    }

    fn parse(ics: &str) -> (Calendar, Event) {
        let cal: Calendar = ics.parse().expect("the invitation parses back");
        let ev = cal.events().next().expect("one event").clone();
        (cal, ev)
    }

    #[test]
    fn an_invitation_is_a_request_with_a_stable_uid_and_utc_times() {
        let t = training("Gouvernance des établissements publics");
        let s = session(&t, day(2026, 6, 1), day(2026, 6, 2), "09:00-17:30");
        let o = officer("Général de brigade");
        let ics = invitation(Method::Request, &s, &t, &o, &Organizer::default(), 3, now());
        let (cal, ev) = parse(&ics);
        assert_eq!(cal.property_value("METHOD"), Some("REQUEST"));
        assert_eq!(ev.get_uid(), Some(uid(&s.id, &o.id).as_str()));
        assert!(
            ev.get_uid()
                .is_some_and(|u| u.ends_with("@cassiopee.mirvog"))
        );
        assert_eq!(ev.get_sequence(), Some(3));
        assert_eq!(ev.property_value("STATUS"), Some("CONFIRMED"));
        assert_eq!(ev.property_value("DTSTART"), Some("20260601T070000Z"));
        assert_eq!(ev.property_value("DTEND"), Some("20260602T153000Z"));
        assert_eq!(ev.get_summary(), Some(t.title.as_str()));
        assert_eq!(ev.get_location(), Some("École militaire, Paris"));
        assert_eq!(ev.property_value("DTSTAMP"), Some("20260302T090000Z"));
        assert!(
            ev.property_value("ORGANIZER")
                .is_some_and(|v| v.starts_with("mailto:"))
        );
        let attendees = ev.get_attendees();
        assert_eq!(attendees.len(), 1);
        // Long lines are folded at 75 octets (RFC 5545 § 3.1); unfold them to read.
        let unfolded = ics.replace("\r\n ", "");
        assert!(
            unfolded.contains("ATTENDEE;CN=Yann Kerjean;PARTSTAT=ACCEPTED"),
            "{ics}"
        );
        assert!(
            unfolded.contains(":mailto:yann.kerjean@intradef.example\r\n"),
            "{ics}"
        );
        assert!(ics.contains("\r\n"), "lines end with CRLF");
    }

    #[test]
    fn a_cancellation_keeps_the_uid_and_says_cancelled() {
        let t = training("Lire un bilan");
        let s = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let o = officer("Amiral");
        let ics = invitation(Method::Cancel, &s, &t, &o, &Organizer::default(), 4, now());
        let (cal, ev) = parse(&ics);
        assert_eq!(cal.property_value("METHOD"), Some("CANCEL"));
        assert_eq!(ev.property_value("STATUS"), Some("CANCELLED"));
        assert_eq!(ev.get_uid(), Some(uid(&s.id, &o.id).as_str()));
        assert_eq!(ev.get_sequence(), Some(4));
        let a = attachment(Method::Cancel, ics);
        assert_eq!(a.filename, "invitation.ics");
        assert_eq!(
            a.content_type,
            "text/calendar; charset=utf-8; method=CANCEL"
        );
    }

    #[test]
    fn start_times_are_utc_on_each_side_of_the_clock_changes() {
        let t = training("Lire un bilan");
        let o = officer("Général de division");
        // 09:00 in Paris: 08:00Z in winter time, 07:00Z in summer time.
        let cases = [
            (day(2026, 3, 27), "20260327T080000Z"),
            (day(2026, 3, 30), "20260330T070000Z"),
            (day(2026, 10, 23), "20261023T070000Z"),
            (day(2026, 10, 26), "20261026T080000Z"),
            (day(2027, 3, 26), "20270326T080000Z"),
            (day(2027, 3, 29), "20270329T070000Z"),
            (day(2027, 10, 29), "20271029T070000Z"),
            (day(2027, 11, 1), "20271101T080000Z"),
        ];
        for (first, expected) in cases {
            let s = session(&t, first, first, "09:00-17:00");
            let ics = invitation(Method::Request, &s, &t, &o, &Organizer::default(), 1, now());
            let (_, ev) = parse(&ics);
            assert_eq!(ev.property_value("DTSTART"), Some(expected), "{first}");
            assert!(ev.property_value("DTEND").is_some_and(|v| v.ends_with('Z')));
        }
    }

    #[test]
    fn the_sequence_rises_after_a_schedule_change() {
        let t = training("Lire un bilan");
        let mut s = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let o = officer("Amiral");
        let before = sequence(&s, 1);
        s.schedule_version += 1;
        let after = sequence(&s, 1);
        assert!(after > before);
        let seq_of = |s: &Session, n| {
            let ics = invitation(Method::Request, s, &t, &o, &Organizer::default(), n, now());
            parse(&ics).1.get_sequence()
        };
        assert_eq!(seq_of(&s, after), Some(before + 1));
        // A withdrawal adds a line to the history: its cancellation outranks the invitation.
        assert!(sequence(&s, 2) > after);
        // So does cancelling the session, which changes neither count.
        let mut cancelled = s.clone();
        cancelled.status = SessionStatus::Cancelled;
        assert!(sequence(&cancelled, 1) > after);
    }

    #[test]
    fn a_title_with_commas_and_semicolons_survives_the_round_trip() {
        let t = training("Droit, éthique; et <b>&</b> responsabilité");
        let s = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let o = officer("Amiral");
        let ics = invitation(Method::Request, &s, &t, &o, &Organizer::default(), 1, now());
        assert_eq!(parse(&ics).1.get_summary(), Some(t.title.as_str()));
    }

    #[test]
    fn the_feed_publishes_one_event_per_seat_with_cancelled_ones_marked() {
        let t = training("Lire un bilan");
        let o = officer("Amiral");
        let kept = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let mut cancelled = session(&t, day(2026, 7, 1), day(2026, 7, 1), "09:00-12:00");
        cancelled.status = SessionStatus::Cancelled;
        let entries = [
            FeedEntry {
                session: kept.clone(),
                training: t.clone(),
                sequence: 2,
                cancelled: false,
            },
            FeedEntry {
                session: cancelled.clone(),
                training: t.clone(),
                sequence: 5,
                cancelled: true,
            },
        ];
        let ics = feed(&o, &entries, &Organizer::default(), now());
        let cal: Calendar = ics.parse().expect("the feed parses back");
        let method = cal.property_value("METHOD");
        assert!(method.is_none() || method == Some("PUBLISH"));
        let events: Vec<&Event> = cal.events().collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].get_uid(), Some(uid(&kept.id, &o.id).as_str()));
        assert_eq!(events[0].get_sequence(), Some(2));
        assert_eq!(events[0].property_value("STATUS"), Some("CONFIRMED"));
        assert_eq!(
            events[1].get_uid(),
            Some(uid(&cancelled.id, &o.id).as_str())
        );
        assert_eq!(events[1].property_value("STATUS"), Some("CANCELLED"));
    }

    #[test]
    fn feed_entries_show_seats_only() {
        use crate::ids::EnrolmentId;
        use crate::model::Origin;
        let t = training("Lire un bilan");
        let mut s = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let o = officer("Amiral");
        let e = |status| Enrolment {
            id: EnrolmentId::generate(),
            session_id: s.id.clone(),
            officer_id: o.id.clone(),
            status,
            late: false,
            joined_at: now(),
            confirmed_at: None,
            offer_expires_at: None,
            updated_at: now(),
            updated_by: "x".into(),
            origin: Origin::Officer,
            rank: 0,
        };
        let confirmed = FeedEntry::of(&s, &t, &e(EnrolmentStatus::Confirmed), 1);
        assert!(confirmed.is_some_and(|f| !f.cancelled && f.sequence == 2));
        assert!(FeedEntry::of(&s, &t, &e(EnrolmentStatus::Waitlisted), 1).is_none());
        assert!(
            FeedEntry::of(&s, &t, &e(EnrolmentStatus::Withdrawn), 2).is_some_and(|f| f.cancelled)
        );
        s.status = SessionStatus::Cancelled;
        assert!(
            FeedEntry::of(&s, &t, &e(EnrolmentStatus::Confirmed), 1).is_some_and(|f| f.cancelled)
        );
    }
}
