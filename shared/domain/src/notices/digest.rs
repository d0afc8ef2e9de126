//! The staff's daily digest: what needs a look today, in one email. The structs are plain data
//! that a job fills from the store; [`render_digest`] only writes them out.

use super::render::{RenderContext, render_pair};
use super::{french_datetime, one_line};
use crate::error::Result;
use crate::model::{Email, Staff};
use crate::notices::{OutgoingEmail, kind_label};
use crate::time::{Instant, paris_start_of_day};
use chrono::NaiveDate;
use serde::Serialize;

/// A session as a staff member recognises it in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestSession {
    pub reference: String,
    pub title: String,
    pub starts_at: Instant,
}

/// A withdrawal made after the free-withdrawal cut-off: the seat may be billed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateWithdrawal {
    pub officer_name: String,
    pub session: DigestSession,
    pub at: Instant,
}

/// A session still short of its training's minimum group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnderMinimum {
    pub session: DigestSession,
    pub confirmed: u32,
    pub min_group: u32,
    pub capacity: u32,
}

/// An email that could not be delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounce {
    pub officer_name: String,
    pub address: Email,
    /// The notice's kind key (`offer_made`, …).
    pub kind: String,
    pub at: Instant,
}

/// An officer confirmed in two sessions whose dates overlap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clash {
    pub officer_name: String,
    pub first: DigestSession,
    pub second: DigestSession,
}

/// What the digest of one Paris day reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub day: NaiveDate,
    pub late_withdrawals: Vec<LateWithdrawal>,
    pub under_minimum: Vec<UnderMinimum>,
    pub bounced: Vec<Bounce>,
    pub clashes: Vec<Clash>,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.late_withdrawals.is_empty()
            && self.under_minimum.is_empty()
            && self.bounced.is_empty()
            && self.clashes.is_empty()
    }
}

#[derive(Serialize)]
struct SessionLine {
    reference: String,
    title: String,
    date: String,
}

impl From<&DigestSession> for SessionLine {
    fn from(s: &DigestSession) -> Self {
        Self {
            reference: s.reference.clone(),
            title: s.title.clone(),
            date: french_datetime(s.starts_at),
        }
    }
}

#[derive(Serialize)]
struct LateLine {
    officer: String,
    session: SessionLine,
    at: String,
}

#[derive(Serialize)]
struct UnderLine {
    session: SessionLine,
    confirmed: u32,
    min_group: u32,
    capacity: u32,
    missing: u32,
}

#[derive(Serialize)]
struct BounceLine {
    officer: String,
    address: String,
    what: &'static str,
    at: String,
}

#[derive(Serialize)]
struct ClashLine {
    officer: String,
    first: SessionLine,
    second: SessionLine,
}

#[derive(Serialize)]
struct DigestView<'a> {
    subject: &'a str,
    salutation: String,
    closing: &'static str,
    app_url: &'a str,
    day: String,
    empty: bool,
    late: Vec<LateLine>,
    under: Vec<UnderLine>,
    bounced: Vec<BounceLine>,
    clashes: Vec<ClashLine>,
}

/// The daily digest for one staff member. An empty digest still renders ("rien à signaler"):
/// whether to send it is the job's choice.
pub fn render_digest(staff: &Staff, digest: &Digest, ctx: &RenderContext) -> Result<OutgoingEmail> {
    let day = super::french_date(paris_start_of_day(digest.day));
    let subject = if digest.is_empty() {
        format!("Cassiopée – point du {day} : rien à signaler")
    } else {
        let n = digest.late_withdrawals.len()
            + digest.under_minimum.len()
            + digest.bounced.len()
            + digest.clashes.len();
        let s = if n > 1 { "s" } else { "" };
        format!("Cassiopée – point du {day} : {n} point{s} à examiner")
    };
    let subject = one_line(&subject);
    let view = DigestView {
        subject: &subject,
        salutation: format!("Bonjour {},", staff.first_name),
        closing: "Ce point est adressé chaque matin aux membres de la cellule formation.",
        app_url: &ctx.public_url,
        day,
        empty: digest.is_empty(),
        late: digest
            .late_withdrawals
            .iter()
            .map(|l| LateLine {
                officer: l.officer_name.clone(),
                session: (&l.session).into(),
                at: french_datetime(l.at),
            })
            .collect(),
        under: digest
            .under_minimum
            .iter()
            .map(|u| UnderLine {
                session: (&u.session).into(),
                confirmed: u.confirmed,
                min_group: u.min_group,
                capacity: u.capacity,
                missing: u.min_group.saturating_sub(u.confirmed),
            })
            .collect(),
        bounced: digest
            .bounced
            .iter()
            .map(|b| BounceLine {
                officer: b.officer_name.clone(),
                address: b.address.to_string(),
                what: kind_label(&b.kind),
                at: french_datetime(b.at),
            })
            .collect(),
        clashes: digest
            .clashes
            .iter()
            .map(|c| ClashLine {
                officer: c.officer_name.clone(),
                first: (&c.first).into(),
                second: (&c.second).into(),
            })
            .collect(),
    };
    let (text, html) = render_pair("digest", &view)?;
    Ok(OutgoingEmail {
        to: staff.email.clone(),
        subject,
        text,
        html: Some(html),
        date: ctx.now,
        attachments: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{day, staff};
    use crate::notices::NotifySettings;
    use crate::time::parse_instant;

    fn at(raw: &str) -> Instant {
        parse_instant(raw).expect("instant")
    }

    fn session(reference: &str, title: &str, starts: &str) -> DigestSession {
        DigestSession {
            reference: reference.into(),
            title: title.into(),
            starts_at: at(starts),
        }
    }

    fn ctx() -> RenderContext {
        NotifySettings {
            public_url: "https://cassiopee.example".into(),
            ..NotifySettings::default()
        }
        .context(at("2026-06-01T07:00"))
    }

    #[test]
    fn the_digest_lists_each_point_with_what_staff_need_to_act() {
        let member = staff();
        let digest = Digest {
            day: day(2026, 6, 1),
            late_withdrawals: vec![LateWithdrawal {
                officer_name: "Général Yann Kerjean".into(),
                session: session("GOUV-2026-A", "Gouvernance <b>&", "2026-06-08T09:00"),
                at: at("2026-05-31T18:30"),
            }],
            under_minimum: vec![UnderMinimum {
                session: session("BIL-2026-C", "Lire un bilan", "2026-06-15T09:00"),
                confirmed: 2,
                min_group: 5,
                capacity: 12,
            }],
            bounced: vec![Bounce {
                officer_name: "Amiral Anne Le Bihan".into(),
                address: Email::parse("anne.lebihan@intradef.example").expect("email"),
                kind: "offer_made".into(),
                at: at("2026-05-31T09:12"),
            }],
            clashes: vec![Clash {
                officer_name: "Général Paul Martin".into(),
                first: session("GOUV-2026-A", "Gouvernance", "2026-06-08T09:00"),
                second: session("BIL-2026-D", "Lire un bilan", "2026-06-08T14:00"),
            }],
        };
        let email = render_digest(&member, &digest, &ctx()).expect("render");
        assert_eq!(email.to, member.email);
        assert_eq!(
            email.subject,
            "Cassiopée – point du lundi 1er juin 2026 : 4 points à examiner"
        );
        let text = &email.text;
        assert!(text.starts_with("Bonjour Claire,\n"), "{text}");
        assert!(text.contains("Désistements tardifs (1)"), "{text}");
        assert!(text.contains("- Général Yann Kerjean : « Gouvernance <b>& » (GOUV-2026-A, lundi 8 juin 2026 à 09h00), désistement du dimanche 31 mai 2026 à 18h30"), "{text}");
        assert!(
            text.contains(
                "2 inscrits pour un minimum de 5 (capacité 12) ; il manque 3 participants."
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Amiral Anne Le Bihan <anne.lebihan@intradef.example> : proposition de place"
            ),
            "{text}"
        );
        assert!(text.contains("« Gouvernance » (GOUV-2026-A, lundi 8 juin 2026 à 09h00) et « Lire un bilan » (BIL-2026-D, lundi 8 juin 2026 à 14h00)"), "{text}");
        let html = email.html.expect("html");
        assert!(html.contains("Gouvernance &lt;b&gt;&amp;"), "{html}");
        assert!(
            html.contains("&lt;anne.lebihan@intradef.example&gt;"),
            "{html}"
        );
    }

    #[test]
    fn an_empty_digest_says_there_is_nothing_to_report() {
        let digest = Digest {
            day: day(2026, 6, 1),
            late_withdrawals: Vec::new(),
            under_minimum: Vec::new(),
            bounced: Vec::new(),
            clashes: Vec::new(),
        };
        let email = render_digest(&staff(), &digest, &ctx()).expect("render");
        assert!(email.subject.ends_with("rien à signaler"));
        assert!(email.text.contains("Rien à signaler aujourd'hui."));
        assert!(!email.text.contains("Désistements tardifs"));
    }
}
