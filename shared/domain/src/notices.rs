//! What officers are told, and when. Every change of an enrolment's state yields a
//! [`Transition`]; [`notice_for`] decides which notice, if any, it deserves. Stores write the
//! notice in the same transaction as the change (a transactional outbox), and the mail is sent
//! after the commit, so that no email announces a change that did not happen.

use crate::ids::{OfficerId, SessionId};
use crate::model::{EnrolmentStatus, Officer, Session, Training};
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
}

/// The kinds of notice. The `key` of a kind is part of the outbox's uniqueness constraint
/// (officer, session, key, schedule version): the same notice is never queued twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeKind {
    EnrolmentConfirmed,
    Waitlisted {
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
    },
    LeftWaitlist,
    SessionChanged,
    SessionCancelled,
    ReminderJ7,
    ReminderJ1,
    /// A session opened for a training the officer registered interest in.
    SessionOpened,
}

impl NoticeKind {
    /// The de-duplication key. Notices that may legitimately repeat (joining the list again
    /// after leaving it) carry a distinguishing `occurrence` in the outbox instead.
    pub fn key(&self) -> &'static str {
        match self {
            NoticeKind::EnrolmentConfirmed => "enrolment_confirmed",
            NoticeKind::Waitlisted { .. } => "waitlisted",
            NoticeKind::OfferMade { .. } => "offer_made",
            NoticeKind::Promoted => "promoted",
            NoticeKind::OfferExpired => "offer_expired",
            NoticeKind::OfferDeclined => "offer_declined",
            NoticeKind::Withdrawn { .. } => "withdrawn",
            NoticeKind::LeftWaitlist => "left_waitlist",
            NoticeKind::SessionChanged => "session_changed",
            NoticeKind::SessionCancelled => "session_cancelled",
            NoticeKind::ReminderJ7 => "reminder_j7",
            NoticeKind::ReminderJ1 => "reminder_j1",
            NoticeKind::SessionOpened => "session_opened",
        }
    }
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
    Some(match (t.from, t.to) {
        (Some(Waitlisted), Confirmed) => NoticeKind::Promoted,
        (Some(Offered), Confirmed) => NoticeKind::EnrolmentConfirmed,
        (_, Confirmed) => NoticeKind::EnrolmentConfirmed,
        (_, Waitlisted) => NoticeKind::Waitlisted {
            position: t.position.unwrap_or(0),
        },
        (_, Offered) => NoticeKind::OfferMade {
            expires_at: t.offer_expires_at?,
        },
        (Some(Offered), Declined) => NoticeKind::OfferDeclined,
        (Some(Waitlisted), Declined) => NoticeKind::LeftWaitlist,
        (_, OfferExpired) => NoticeKind::OfferExpired,
        (_, Withdrawn) => NoticeKind::Withdrawn { late: t.late },
        _ => return None,
    })
}

/// A rendered email, ready for the mail port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: crate::model::Email,
    pub subject: String,
    pub text: String,
}

const DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS: [&str; 12] = [
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

/// Renders a notice as a plain-text French email. (Richer HTML templates and calendar
/// invitations come with the notifications work; the wording here is complete on its own.)
pub fn render(
    kind: &NoticeKind,
    officer: &Officer,
    session: &Session,
    training: &Training,
) -> OutgoingEmail {
    let title = &training.title;
    let when = format!(
        "du {} au {}",
        french_datetime(session.starts_at),
        french_datetime(session.ends_at)
    );
    let place = &session.place;
    let (subject, body) = match kind {
        NoticeKind::EnrolmentConfirmed => (
            format!("Inscription confirmée : {title}"),
            format!(
                "Votre inscription à la session « {title} » est confirmée.\n\nDates : {when}\nLieu : {place}\n\nVous pouvez vous désister sans frais jusqu'au {}.",
                french_datetime(session.free_withdrawal_until)
            ),
        ),
        NoticeKind::Waitlisted { position } => (
            format!("Liste d'attente : {title}"),
            format!(
                "La session « {title} » est complète. Vous êtes inscrit(e) sur la liste d'attente, en position {position}.\n\nDates : {when}\nLieu : {place}\n\nVous serez prévenu(e) dès qu'une place se libère."
            ),
        ),
        NoticeKind::OfferMade { expires_at } => (
            format!("Une place vous est proposée : {title}"),
            format!(
                "Une place s'est libérée pour la session « {title} ».\n\nDates : {when}\nLieu : {place}\n\nAcceptez-la ou déclinez-la dans l'application avant le {} ; passé ce délai, elle sera proposée à la personne suivante.",
                french_datetime(*expires_at)
            ),
        ),
        NoticeKind::Promoted => (
            format!("Place obtenue : {title}"),
            format!(
                "Une place s'est libérée : vous passez de la liste d'attente à la liste des inscrits de la session « {title} ».\n\nDates : {when}\nLieu : {place}"
            ),
        ),
        NoticeKind::OfferExpired => (
            format!("Proposition expirée : {title}"),
            format!(
                "La place qui vous était proposée pour la session « {title} » n'a pas été acceptée à temps et a été proposée à la personne suivante."
            ),
        ),
        NoticeKind::OfferDeclined => (
            format!("Proposition déclinée : {title}"),
            format!("Vous avez décliné la place proposée pour la session « {title} »."),
        ),
        NoticeKind::Withdrawn { late } => (
            format!("Désistement enregistré : {title}"),
            if *late {
                format!(
                    "Votre désistement de la session « {title} » est enregistré. Il intervient après la date limite de désistement sans frais ({}) : il est compté comme tardif et la place peut être facturée.",
                    french_datetime(session.free_withdrawal_until)
                )
            } else {
                format!("Votre désistement de la session « {title} » est enregistré, sans frais.")
            },
        ),
        NoticeKind::LeftWaitlist => (
            format!("Sortie de la liste d'attente : {title}"),
            format!("Vous avez quitté la liste d'attente de la session « {title} »."),
        ),
        NoticeKind::SessionChanged => (
            format!("Session modifiée : {title}"),
            format!("La session « {title} » a été modifiée.\n\nDates : {when}\nLieu : {place}"),
        ),
        NoticeKind::SessionCancelled => (
            format!("Session annulée : {title}"),
            format!(
                "La session « {title} » prévue {when} est annulée. Nous vous prions de nous excuser pour ce contretemps."
            ),
        ),
        NoticeKind::ReminderJ7 | NoticeKind::ReminderJ1 => (
            format!("Rappel : {title} le {}", french_date(session.starts_at)),
            format!(
                "Rappel : vous êtes inscrit(e) à la session « {title} ».\n\nDates : {when}\nLieu : {place}"
            ),
        ),
        NoticeKind::SessionOpened => (
            format!("Nouvelle session : {title}"),
            format!(
                "Une session de la formation « {title} », qui vous intéresse, est ouverte aux inscriptions.\n\nDates : {when}\nLieu : {place}\nClôture des inscriptions : {}",
                french_datetime(session.enrolment_closes_at)
            ),
        ),
    };
    let greeting = format!("Bonjour {} {},\n\n", officer.grade, officer.last_name);
    OutgoingEmail {
        to: officer.email.clone(),
        subject: one_line(&subject),
        text: format!("{greeting}{body}\n\nLa cellule formation de la MiRVOG\n"),
    }
}

/// A subject line never carries CR or LF, whatever a title contains.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
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
    fn promotions_and_confirmations_are_told_and_imports_of_attendance_are_not() {
        let t = |from, to| Transition {
            session_id: SessionId::generate(),
            officer_id: OfficerId::generate(),
            from,
            to,
            late: false,
            position: Some(3),
            offer_expires_at: None,
        };
        use EnrolmentStatus::*;
        assert_eq!(
            notice_for(&t(Some(Waitlisted), Confirmed)),
            Some(NoticeKind::Promoted)
        );
        assert_eq!(
            notice_for(&t(None, Confirmed)),
            Some(NoticeKind::EnrolmentConfirmed)
        );
        assert_eq!(
            notice_for(&t(None, Waitlisted)),
            Some(NoticeKind::Waitlisted { position: 3 })
        );
        assert_eq!(notice_for(&t(Some(Confirmed), Attended)), None);
    }
}
