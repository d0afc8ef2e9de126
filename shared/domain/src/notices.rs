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
    SessionChanged,
    SessionCancelled,
    ReminderJ7,
    ReminderJ1,
    /// A session opened for a training the officer registered interest in.
    SessionOpened,
    /// The session is over and the officer attended: their opinion is asked, once.
    FeedbackRequest,
}

impl NoticeKind {
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
            NoticeKind::SessionChanged => "session_changed",
            NoticeKind::SessionCancelled => "session_cancelled",
            NoticeKind::ReminderJ7 => "reminder_j7",
            NoticeKind::ReminderJ1 => "reminder_j1",
            NoticeKind::SessionOpened => "session_opened",
            NoticeKind::FeedbackRequest => "feedback_request",
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
    pub text: String,
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

/// How a letter to a general officer opens: "Mon général", "Amiral", or the name for the
/// corps whose appellation depends on a civility the spreadsheets do not give.
pub fn salutation(officer: &Officer) -> String {
    let grade = officer.grade.to_lowercase();
    if grade.contains("amiral") {
        "Amiral,".to_string()
    } else if grade.starts_with("général") {
        "Mon général,".to_string()
    } else {
        format!(
            "Bonjour {} {},",
            officer.first_name,
            display_name(&officer.last_name)
        )
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

fn hm(t: Instant) -> String {
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

/// Renders a notice as a plain-text French email. (HTML templates and calendar invitations
/// come with the notifications work; the wording here is complete on its own.)
pub fn render(
    kind: &NoticeKind,
    officer: &Officer,
    session: &Session,
    training: &Training,
    now: Instant,
) -> OutgoingEmail {
    let title = &training.title;
    let details = format!(
        "Dates : {}\nLieu : {}",
        french_dates(session),
        session.place
    );
    let cut_off = french_datetime(session.free_withdrawal_until);
    let (subject, body) = match kind {
        NoticeKind::EnrolmentConfirmed { by_staff } => {
            let who = if *by_staff {
                format!("La cellule formation vous a inscrit à la session « {title} ».")
            } else {
                format!("Votre inscription à la session « {title} » est confirmée.")
            };
            let withdrawal = if now <= session.free_withdrawal_until {
                format!("Vous pouvez vous désister sans frais jusqu'au {cut_off}.")
            } else {
                format!(
                    "La date limite de désistement sans frais ({cut_off}) est passée : un \
                     désistement serait désormais compté comme tardif."
                )
            };
            (
                format!("Inscription confirmée : {title}"),
                format!("{who}\n\n{details}\n\n{withdrawal}"),
            )
        }
        NoticeKind::Waitlisted { position } => (
            format!("Liste d'attente : {title}"),
            format!(
                "La session « {title} » est complète. Votre nom figure sur la liste d'attente, \
                 au rang {position}.\n\n{details}\n\nNous vous écrirons dès qu'une place se libère."
            ),
        ),
        NoticeKind::WaitlistMoved { position } => (
            format!("Liste d'attente : {title}"),
            format!(
                "La cellule formation a modifié l'ordre de la liste d'attente de la session \
                 « {title} » : vous êtes désormais au rang {position}.\n\n{details}"
            ),
        ),
        NoticeKind::OfferMade { expires_at } => (
            format!("Une place vous est proposée : {title}"),
            format!(
                "Une place s'est libérée pour la session « {title} ».\n\n{details}\n\n\
                 Acceptez-la ou déclinez-la dans l'application avant le {} ; passé ce délai, elle \
                 sera proposée à la personne suivante.",
                french_datetime(*expires_at)
            ),
        ),
        NoticeKind::Promoted => (
            format!("Place obtenue : {title}"),
            format!(
                "Une place s'est libérée : vous passez de la liste d'attente à la liste des \
                 inscrits de la session « {title} ».\n\n{details}"
            ),
        ),
        NoticeKind::OfferExpired => (
            format!("Proposition expirée : {title}"),
            format!(
                "La place qui vous était proposée pour la session « {title} » n'a pas été \
                 acceptée à temps ; elle a été proposée à la personne suivante."
            ),
        ),
        NoticeKind::OfferDeclined => (
            format!("Proposition déclinée : {title}"),
            format!("Vous avez décliné la place proposée pour la session « {title} »."),
        ),
        NoticeKind::Withdrawn { late, by_staff } => {
            let what = if *by_staff {
                format!("La cellule formation a annulé votre inscription à la session « {title} ».")
            } else {
                format!("Votre désistement de la session « {title} » est enregistré.")
            };
            let cost = if *late {
                format!(
                    "Il intervient après la date limite de désistement sans frais ({cut_off}) : \
                     il est compté comme tardif et la place peut être facturée."
                )
            } else {
                "Il intervient dans les délais : il n'entraîne aucun frais.".to_string()
            };
            (
                format!("Désistement enregistré : {title}"),
                format!("{what}\n\n{cost}"),
            )
        }
        NoticeKind::LeftWaitlist => (
            format!("Sortie de la liste d'attente : {title}"),
            format!("Vous ne figurez plus sur la liste d'attente de la session « {title} »."),
        ),
        NoticeKind::SessionChanged => (
            format!("Session modifiée : {title}"),
            format!(
                "La session « {title} » a été modifiée. Voici ses nouvelles modalités.\n\n{details}"
            ),
        ),
        NoticeKind::SessionCancelled => (
            format!("Session annulée : {title}"),
            format!(
                "La session « {title} » prévue {} est annulée. Nous vous prions de nous excuser \
                 pour ce contretemps.",
                french_dates(session)
            ),
        ),
        NoticeKind::ReminderJ7 | NoticeKind::ReminderJ1 => (
            format!("Rappel : {title} le {}", french_date(session.starts_at)),
            format!("Nous vous rappelons votre inscription à la session « {title} ».\n\n{details}"),
        ),
        NoticeKind::SessionOpened => (
            format!("Nouvelle session : {title}"),
            format!(
                "Une session de la formation « {title} », qui vous intéresse, est ouverte aux \
                 inscriptions.\n\n{details}\nClôture des inscriptions : {}",
                french_datetime(session.enrolment_closes_at)
            ),
        ),
        NoticeKind::FeedbackRequest => (
            format!("Votre avis sur la session : {title}"),
            format!(
                "Vous avez suivi la session « {title} » {}. Votre avis aide la cellule \
                 formation à choisir les prochaines sessions.\n\n\
                 Dans l'application, rubrique « Mes formations », notez la session (de 1 à 5) \
                 et son intérêt pour votre projet (de 1 à 5) ; un commentaire est facultatif et \
                 n'est lu que par la cellule formation. Une seule réponse par session.",
                french_dates(session)
            ),
        ),
    };
    OutgoingEmail {
        to: officer.email.clone(),
        subject: one_line(&subject),
        text: format!(
            "{}\n\n{body}\n\nLa cellule formation de la MiRVOG\n\
             Pour toute question, adressez-vous à votre conseiller ou à la cellule formation.\n",
            salutation(officer)
        ),
        date: now,
        attachments: Vec::new(),
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
    fn surnames_in_capitals_are_written_as_in_a_letter() {
        assert_eq!(display_name("KERJEAN"), "Kerjean");
        assert_eq!(display_name("LE BIHAN"), "Le Bihan");
        assert_eq!(display_name("N'DIAYE-MARTIN"), "N'Diaye-Martin");
        assert_eq!(display_name("de Villiers"), "de Villiers");
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
