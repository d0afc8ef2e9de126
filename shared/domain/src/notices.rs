//! What officers are told, and when. Every change of an enrolment's state yields a
//! [`Transition`]; [`notice_for`] decides which notice, if any, it deserves. Stores write the
//! notice in the same transaction as the change (a transactional outbox), and the mail is sent
//! after the commit, so that no email announces a change that did not happen.
//!
//! At delivery, [`render`] writes the notice as an email from the templates of
//! `shared/domain/templates/` (French text and HTML), with signed links (`crate::links`) and a
//! calendar invitation (`crate::calendar`) where they apply; [`render_digest`] writes the
//! staff's daily digest the same way.

mod digest;
mod render;

pub use digest::{
    Bounce, Clash, Digest, DigestSession, LateWithdrawal, UnderMinimum, render_digest,
};
pub use render::{DeliveryFacts, NotifySettings, Overlap, RenderContext, render};

use crate::ids::{OfficerId, SessionId};
use crate::model::{EnrolmentStatus, Officer, Session};
use crate::time::{Instant, in_paris};
use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};

/// One change of one enrolment, as recorded by a store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub session_id: SessionId,
    pub officer_id: OfficerId,
    pub from: Option<EnrolmentStatus>,
    pub to: EnrolmentStatus,
    pub late: bool,
    pub position: Option<u32>,
    pub offer_expires_at: Option<Instant>,
    /// Made by staff on the officer's behalf, not by the officer.
    pub by_staff: bool,
}

/// The kinds of notice. The `key` of a kind is part of the outbox's uniqueness constraint
/// (officer, session, key, schedule version): the same notice is never queued twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeKind {
    EnrolmentConfirmed {
        #[serde(default)]
        by_staff: bool,
    },
    Waitlisted {
        position: u32,
    },
    /// Staff moved the officer on the waiting list.
    WaitlistMoved {
        position: u32,
    },
    OfferMade {
        expires_at: Instant,
    },
    Promoted,
    OfferExpired,
    OfferDeclined,
    Withdrawn {
        late: bool,
        #[serde(default)]
        by_staff: bool,
    },
    LeftWaitlist,
    /// The session's dates, hours, place, trainer or withdrawal cut-off changed. Rows queued
    /// before the changes were recorded read back with none.
    SessionChanged {
        #[serde(default)]
        changes: Vec<FieldChange>,
    },
    SessionCancelled,
    ReminderJ7,
    ReminderJ1,
    /// A session opened for a training the officer registered interest in.
    SessionOpened,
    /// The session is over and the officer attended: their opinion is asked, once.
    FeedbackRequest,
    /// The waiting list is closed (the session started, or its enrolment closed) and the
    /// officer never got a seat.
    WaitlistClosed,
    /// A session of a training the officer planned or registered interest in still has seats.
    Invitation,
}

/// How long a notice whose send has just failed for the `attempts`-th time waits before a
/// sender may take it again: 1, 4, 16, then 64 minutes, so that an outage of the mail provider
/// of up to about an hour and a half loses nothing (the fifth failure gives the notice up), and
/// a sender woken by every change in the meantime does not spend the attempts at once.
pub fn retry_delay(attempts: u32) -> chrono::Duration {
    chrono::Duration::minutes(4_i64.pow(attempts.saturating_sub(1).min(3)))
}

impl NoticeKind {
    /// Whether the notice tells a change of the officer's own enrolment ([`notice_for`]): its
    /// version is then the enrolment's change count when it was queued.
    pub fn tells_an_enrolment_change(&self) -> bool {
        matches!(
            self,
            NoticeKind::EnrolmentConfirmed { .. }
                | NoticeKind::Waitlisted { .. }
                | NoticeKind::WaitlistMoved { .. }
                | NoticeKind::OfferMade { .. }
                | NoticeKind::Promoted
                | NoticeKind::OfferExpired
                | NoticeKind::OfferDeclined
                | NoticeKind::Withdrawn { .. }
                | NoticeKind::LeftWaitlist
        )
    }

    /// The de-duplication key. Notices of state changes carry the enrolment's change count as
    /// their version, so that joining again after leaving is told again.
    pub fn key(&self) -> &'static str {
        match self {
            NoticeKind::EnrolmentConfirmed { .. } => "enrolment_confirmed",
            NoticeKind::Waitlisted { .. } => "waitlisted",
            NoticeKind::WaitlistMoved { .. } => "waitlist_moved",
            NoticeKind::OfferMade { .. } => "offer_made",
            NoticeKind::Promoted => "promoted",
            NoticeKind::OfferExpired => "offer_expired",
            NoticeKind::OfferDeclined => "offer_declined",
            NoticeKind::Withdrawn { .. } => "withdrawn",
            NoticeKind::LeftWaitlist => "left_waitlist",
            NoticeKind::SessionChanged { .. } => "session_changed",
            NoticeKind::SessionCancelled => "session_cancelled",
            NoticeKind::ReminderJ7 => "reminder_j7",
            NoticeKind::ReminderJ1 => "reminder_j1",
            NoticeKind::SessionOpened => "session_opened",
            NoticeKind::FeedbackRequest => "feedback_request",
            NoticeKind::WaitlistClosed => "waitlist_closed",
            NoticeKind::Invitation => "invitation",
        }
    }
}

/// What a notice of `key` is about, as staff read it in a list (the daily digest's bounces).
pub fn kind_label(key: &str) -> &'static str {
    match key {
        "enrolment_confirmed" => "confirmation d'inscription",
        "waitlisted" => "inscription en liste d'attente",
        "waitlist_moved" => "changement de rang en liste d'attente",
        "offer_made" => "proposition de place",
        "promoted" => "place obtenue",
        "offer_expired" => "proposition expirée",
        "offer_declined" => "proposition déclinée",
        "withdrawn" => "désistement",
        "left_waitlist" => "sortie de la liste d'attente",
        "session_changed" => "session modifiée",
        "session_cancelled" => "session annulée",
        "reminder_j7" => "rappel à une semaine",
        "reminder_j1" => "rappel la veille",
        "session_opened" => "ouverture de session",
        "feedback_request" => "demande d'avis",
        "waitlist_closed" => "clôture de la liste d'attente",
        "invitation" => "invitation à s'inscrire",
        _ => "notification",
    }
}

/// Two live sessions whose times intersect (a session ending when the other starts does not
/// overlap it).
pub fn sessions_overlap(a: &Session, b: &Session) -> bool {
    use crate::model::SessionStatus;
    a.status != SessionStatus::Cancelled
        && b.status != SessionStatus::Cancelled
        && a.starts_at < b.ends_at
        && b.starts_at < a.ends_at
}

/// One field of a session that changed, as officers read it: a French label and the old and
/// new values written out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub label: String,
    pub old: String,
    pub new: String,
}

fn french_days(s: &Session) -> String {
    if s.first_day == s.last_day {
        format!("le {}", french_date(s.starts_at))
    } else {
        format!(
            "du {} au {}",
            french_date(s.starts_at),
            french_date(s.ends_at)
        )
    }
}

fn french_hours(s: &Session) -> String {
    format!("de {} à {}", hm(s.starts_at), hm(s.ends_at))
}

/// What changed between two versions of a session that matters to the people enrolled: the
/// days, the daily hours, the place, the trainer and the free-withdrawal cut-off. Capacity,
/// waiting-list mode and anything else give no change, and an empty answer means nobody is
/// told. Both stores call this in `update_session`, inside the transaction.
pub fn session_changes(old: &Session, new: &Session) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut push = |label: &str, old: String, new: String| {
        if old != new {
            changes.push(FieldChange {
                label: label.to_string(),
                old,
                new,
            });
        }
    };
    push("Dates", french_days(old), french_days(new));
    push("Horaires", french_hours(old), french_hours(new));
    push("Lieu", old.place.clone(), new.place.clone());
    let trainer = |s: &Session| {
        s.trainer
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "non précisé".to_string())
    };
    push("Intervenant", trainer(old), trainer(new));
    push(
        "Désistement sans frais jusqu'au",
        french_datetime(old.free_withdrawal_until),
        french_datetime(new.free_withdrawal_until),
    );
    changes
}

/// A notice for one officer about one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub officer_id: OfficerId,
    pub session_id: SessionId,
    pub kind: NoticeKind,
    /// For reminders: the session's schedule version they were computed from. For state
    /// changes: a per-enrolment sequence, so that each change is told once.
    pub version: u32,
}

/// The notice that a transition deserves, if any. Import transitions tell nobody: they record
/// what already happened.
pub fn notice_for(t: &Transition) -> Option<NoticeKind> {
    use EnrolmentStatus::*;
    let by_staff = t.by_staff;
    Some(match (t.from, t.to) {
        (Some(Waitlisted), Confirmed) => NoticeKind::Promoted,
        (_, Confirmed) => NoticeKind::EnrolmentConfirmed { by_staff },
        (Some(Waitlisted), Waitlisted) => NoticeKind::WaitlistMoved {
            position: t.position?,
        },
        (_, Waitlisted) => NoticeKind::Waitlisted {
            position: t.position?,
        },
        (_, Offered) => NoticeKind::OfferMade {
            expires_at: t.offer_expires_at?,
        },
        (Some(Offered), Declined) => NoticeKind::OfferDeclined,
        (Some(Waitlisted), Declined) => NoticeKind::LeftWaitlist,
        (_, OfferExpired) => NoticeKind::OfferExpired,
        (_, Withdrawn) => NoticeKind::Withdrawn {
            late: t.late,
            by_staff,
        },
        _ => return None,
    })
}

/// A rendered email, ready for the mail port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: crate::model::Email,
    pub subject: String,
    /// The plain-text part, always present.
    pub text: String,
    /// The HTML part: mailers send it with the text as `multipart/alternative`.
    pub html: Option<String>,
    /// When it was written, by the clock of the use cases.
    pub date: Instant,
    /// Files sent with it (a calendar invitation, say); the mailers send them as MIME parts.
    pub attachments: Vec<Attachment>,
}

/// A file attached to an email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient sees, e.g. `invitation.ics`.
    pub filename: String,
    /// Its MIME type, parameters included, e.g. `text/calendar; charset=utf-8; method=REQUEST`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

const DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
pub(crate) const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `lundi 1er juin 2026`, in Paris.
pub fn french_date(t: Instant) -> String {
    let p = in_paris(t);
    let day = p.day();
    let day = if day == 1 {
        "1er".to_string()
    } else {
        day.to_string()
    };
    let weekday = DAYS[p.weekday().num_days_from_monday() as usize];
    let month = MONTHS[p.month0() as usize];
    format!("{weekday} {day} {month} {}", p.year())
}

/// `lundi 1er juin 2026 à 09h00`, in Paris.
pub fn french_datetime(t: Instant) -> String {
    let p = in_paris(t);
    format!("{} à {:02}h{:02}", french_date(t), p.hour(), p.minute())
}

/// How a letter names its reader, by their grade: "mon général" for the generals of the army
/// and the air force, "amiral" for admirals, and for the generals of the corps (engineers,
/// commissaries, doctors) the appellation of their grade after "Madame, Monsieur", the
/// administration's form when the civility is not known (the spreadsheets do not give it).
/// `None` for a grade this does not know: the letter then opens "Madame, Monsieur,".
pub fn appellation(officer: &Officer) -> Option<String> {
    let grade = officer.grade.trim().to_lowercase();
    if grade.contains("amiral") {
        Some("amiral".into())
    } else if grade.starts_with("général") {
        Some("mon général".into())
    } else if grade.starts_with("colonel") || grade.starts_with("lieutenant-colonel") {
        Some("mon colonel".into())
    } else if grade.starts_with("capitaine de vaisseau") {
        Some("commandant".into())
    } else if grade.contains("général") {
        let article = if grade.starts_with(['a', 'e', 'é', 'i', 'o', 'u', 'h']) {
            "l'"
        } else {
            "le "
        };
        Some(format!("Madame, Monsieur {article}{grade}"))
    } else {
        None
    }
}

/// Whether the reader holds a general officer's rank (army, air, navy or corps).
fn is_general_officer(officer: &Officer) -> bool {
    let grade = officer.grade.to_lowercase();
    grade.contains("général") || grade.contains("amiral")
}

/// How a letter to the officer opens: "Mon général,", "Amiral,", "Madame, Monsieur le médecin
/// général," (see [`appellation`]).
pub fn salutation(officer: &Officer) -> String {
    match appellation(officer) {
        Some(a) => {
            let mut chars = a.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            format!("{}{},", first.unwrap_or_default(), chars.as_str())
        }
        None => "Madame, Monsieur,".to_string(),
    }
}

/// How a letter to the officer closes, with the same appellation: the high consideration due
/// to a general officer, the distinguished one otherwise.
pub fn closing(officer: &Officer) -> String {
    let regard = if is_general_officer(officer) {
        "notre haute considération"
    } else {
        "notre considération distinguée"
    };
    match appellation(officer) {
        Some(a) => format!("Nous vous prions d'agréer, {a}, l'expression de {regard}."),
        None => format!("Nous vous prions d'agréer, Madame, Monsieur, l'expression de {regard}."),
    }
}

/// A surname as written in a letter: `KERJEAN` becomes `Kerjean`, `LE BIHAN` becomes `Le Bihan`;
/// a name already in mixed case is kept as typed.
pub fn display_name(name: &str) -> String {
    if name.chars().any(char::is_lowercase) {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for c in name.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = matches!(c, ' ' | '-' | '\'' | '’');
    }
    out
}

pub(crate) fn hm(t: Instant) -> String {
    let p = in_paris(t);
    format!("{:02}h{:02}", p.hour(), p.minute())
}

/// "le lundi 7 décembre 2026, de 14h00 à 17h30" or "du lundi 7 au mardi 8 décembre 2026, de
/// 09h00 à 17h30".
pub fn french_dates(session: &Session) -> String {
    let hours = format!("de {} à {}", hm(session.starts_at), hm(session.ends_at));
    if session.first_day == session.last_day {
        format!("le {}, {hours}", french_date(session.starts_at))
    } else {
        format!(
            "du {} au {}, {hours}",
            french_date(session.starts_at),
            french_date(session.ends_at)
        )
    }
}

/// Replaces every e-mail address in a text (an error from a mail provider, say) with
/// `<adresse>`, so that logs and stored errors hold no personal address.
pub fn redact_addresses(text: &str) -> String {
    let is_part = |c: char| c.is_alphanumeric() || "._%+-'".contains(c);
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split('@').enumerate() {
        if i == 0 {
            out.push_str(word);
            continue;
        }
        // `out` ends with the local part of an address, `word` starts with its domain.
        let local = out.chars().rev().take_while(|c| is_part(*c)).count();
        let domain: usize = word
            .char_indices()
            .take_while(|(_, c)| is_part(*c))
            .last()
            .map(|(at, c)| at + c.len_utf8())
            .unwrap_or(0);
        // A full stop after the address ends the sentence, not the domain.
        let domain = word[..domain].trim_end_matches('.').len();
        if local > 0 && word[..domain].contains('.') {
            let keep = out.chars().count() - local;
            out = out.chars().take(keep).collect();
            out.push_str("<adresse>");
            out.push_str(&word[domain..]);
        } else {
            out.push('@');
            out.push_str(word);
        }
    }
    out
}

/// A subject line never carries CR or LF, whatever a title contains.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if crate::import::is_forbidden(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    #[test]
    fn french_dates_read_as_people_write_them() {
        let t = parse_instant("2026-06-01T09:00").expect("instant");
        assert_eq!(french_datetime(t), "lundi 1er juin 2026 à 09h00");
        let t = parse_instant("2026-12-24T17:30").expect("instant");
        assert_eq!(french_date(t), "jeudi 24 décembre 2026");
    }

    #[test]
    fn addresses_are_taken_out_of_provider_errors() {
        assert_eq!(
            redact_addresses(
                "MessageRejected: Email address is not verified: herve.kerjean@intradef.example, \
                 o'neil+x@mail.fr."
            ),
            "MessageRejected: Email address is not verified: <adresse>, <adresse>."
        );
        assert_eq!(
            redact_addresses("no address @ all, a@b"),
            "no address @ all, a@b"
        );
        assert_eq!(redact_addresses(""), "");
    }

    #[test]
    fn every_grade_of_the_spreadsheets_is_addressed_formally() {
        use crate::fixtures::officer;
        let cases = [
            (
                "Général de division",
                "Mon général,",
                "mon général, l'expression de notre haute",
            ),
            (
                "Général de brigade aérienne",
                "Mon général,",
                "mon général, l'expression",
            ),
            (
                "Contre-amiral",
                "Amiral,",
                "amiral, l'expression de notre haute",
            ),
            ("Vice-amiral d'escadre", "Amiral,", "amiral, l'expression"),
            (
                "Ingénieur général de l'armement",
                "Madame, Monsieur l'ingénieur général de l'armement,",
                "Madame, Monsieur l'ingénieur général de l'armement, l'expression de notre haute",
            ),
            (
                "Commissaire général",
                "Madame, Monsieur le commissaire général,",
                "Monsieur le commissaire général, l'expression de notre haute",
            ),
            (
                "Médecin général inspecteur",
                "Madame, Monsieur le médecin général inspecteur,",
                "le médecin général inspecteur, l'expression de notre haute",
            ),
            (
                "Colonel",
                "Mon colonel,",
                "mon colonel, l'expression de notre considération distinguée",
            ),
            (
                "Capitaine de vaisseau",
                "Commandant,",
                "commandant, l'expression de notre considération",
            ),
            (
                "Chargé de mission",
                "Madame, Monsieur,",
                "Madame, Monsieur, l'expression de notre considération",
            ),
        ];
        for (grade, opening, close) in cases {
            let o = officer(grade);
            assert_eq!(salutation(&o), opening, "{grade}");
            assert!(closing(&o).contains(close), "{grade}: {}", closing(&o));
            assert!(!salutation(&o).starts_with("Bonjour"), "{grade}");
        }
    }

    #[test]
    fn surnames_in_capitals_are_written_as_in_a_letter() {
        assert_eq!(display_name("KERJEAN"), "Kerjean");
        assert_eq!(display_name("LE BIHAN"), "Le Bihan");
        assert_eq!(display_name("N'DIAYE-MARTIN"), "N'Diaye-Martin");
        assert_eq!(display_name("de Villiers"), "de Villiers");
    }

    #[test]
    fn outbox_rows_written_before_this_version_still_read() {
        let old = |json: &str| serde_json::from_str::<NoticeKind>(json).expect(json);
        assert_eq!(
            old(r#"{"kind":"session_changed"}"#),
            NoticeKind::SessionChanged {
                changes: Vec::new()
            }
        );
        assert_eq!(old(r#"{"kind":"promoted"}"#), NoticeKind::Promoted);
        assert_eq!(
            old(r#"{"kind":"withdrawn","late":true}"#),
            NoticeKind::Withdrawn {
                late: true,
                by_staff: false
            }
        );
        assert_eq!(
            old(r#"{"kind":"enrolment_confirmed"}"#),
            NoticeKind::EnrolmentConfirmed { by_staff: false }
        );
        assert_eq!(old(r#"{"kind":"reminder_j7"}"#), NoticeKind::ReminderJ7);
        let kind = NoticeKind::SessionChanged {
            changes: vec![FieldChange {
                label: "Lieu".into(),
                old: "Paris".into(),
                new: "Toulon".into(),
            }],
        };
        let json = serde_json::to_string(&kind).expect("json");
        assert_eq!(
            serde_json::from_str::<NoticeKind>(&json).expect("back"),
            kind
        );
        assert_eq!(
            serde_json::to_string(&NoticeKind::WaitlistClosed).expect("json"),
            r#"{"kind":"waitlist_closed"}"#
        );
    }

    #[test]
    fn capacity_or_waiting_list_edits_change_nothing_officers_read() {
        use crate::fixtures::{day, session, training};
        let t = training("Lire un bilan");
        let s = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let mut edited = s.clone();
        edited.capacity += 5;
        edited.waitlist = crate::model::WaitlistMode::Offer { hours: 48 };
        edited.seats_taken = 3;
        assert!(session_changes(&s, &edited).is_empty());
        assert!(session_changes(&s, &s).is_empty());
    }

    #[test]
    fn moved_dates_hours_place_and_trainer_read_old_then_new() {
        use crate::fixtures::{day, session, training};
        let t = training("Lire un bilan");
        let s = session(&t, day(2026, 6, 1), day(2026, 6, 1), "09:00-12:00");
        let mut moved = session(&t, day(2026, 6, 8), day(2026, 6, 9), "14:00-17:30");
        moved.id = s.id.clone();
        moved.place = "Toulon".into();
        moved.trainer = None;
        let changes = session_changes(&s, &moved);
        let read: Vec<(&str, &str, &str)> = changes
            .iter()
            .map(|c| (c.label.as_str(), c.old.as_str(), c.new.as_str()))
            .collect();
        assert_eq!(
            read,
            vec![
                (
                    "Dates",
                    "le lundi 1er juin 2026",
                    "du lundi 8 juin 2026 au mardi 9 juin 2026"
                ),
                ("Horaires", "de 09h00 à 12h00", "de 14h00 à 17h30"),
                ("Lieu", "École militaire, Paris", "Toulon"),
                ("Intervenant", "Mme Durand", "non précisé"),
                (
                    "Désistement sans frais jusqu'au",
                    "lundi 25 mai 2026 à 23h59",
                    "lundi 1er juin 2026 à 23h59"
                ),
            ]
        );
    }

    #[test]
    fn sessions_overlap_when_their_times_intersect() {
        use crate::fixtures::{day, session, training};
        let t = training("Lire un bilan");
        let a = session(&t, day(2026, 6, 1), day(2026, 6, 3), "09:00-17:00");
        let b = session(&t, day(2026, 6, 3), day(2026, 6, 3), "14:00-17:00");
        let c = session(&t, day(2026, 6, 4), day(2026, 6, 4), "09:00-17:00");
        assert!(sessions_overlap(&a, &b) && sessions_overlap(&b, &a));
        assert!(!sessions_overlap(&a, &c));
        let mut cancelled = b.clone();
        cancelled.status = crate::model::SessionStatus::Cancelled;
        assert!(!sessions_overlap(&a, &cancelled));
    }

    #[test]
    fn each_transition_gets_its_notice_and_attendance_gets_none() {
        let t = |from, to| Transition {
            session_id: SessionId::generate(),
            officer_id: OfficerId::generate(),
            from,
            to,
            late: false,
            position: Some(3),
            offer_expires_at: None,
            by_staff: false,
        };
        use EnrolmentStatus::*;
        assert_eq!(
            notice_for(&t(Some(Waitlisted), Confirmed)),
            Some(NoticeKind::Promoted)
        );
        assert_eq!(
            notice_for(&t(None, Confirmed)),
            Some(NoticeKind::EnrolmentConfirmed { by_staff: false })
        );
        assert_eq!(
            notice_for(&t(Some(Waitlisted), Waitlisted)),
            Some(NoticeKind::WaitlistMoved { position: 3 })
        );
        assert_eq!(
            notice_for(&t(None, Waitlisted)),
            Some(NoticeKind::Waitlisted { position: 3 })
        );
        assert_eq!(notice_for(&t(Some(Confirmed), Attended)), None);
    }
}
