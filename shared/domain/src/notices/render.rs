//! Notices rendered as emails: a French plain-text part and an HTML part, from the templates
//! under `shared/domain/templates/`, with a calendar invitation attached where the officer's
//! agenda should change.
//!
//! The templates are rendered by `minijinja`. They are embedded in the binary with
//! `include_str!` (a Lambda function reads no file at run time) and parsed once per process.
//! minijinja was chosen over askama because its templates stay plain files that someone who
//! writes the letters can correct without reading Rust, it escapes by file extension (`.html`
//! escaped, `.txt` left as typed), and it adds no procedural macro to the build; the price is
//! that a template error shows at run time, so the tests render every kind.

use super::{
    FieldChange, NoticeKind, OutgoingEmail, closing, french_date, french_dates, french_datetime,
    one_line, salutation,
};
use crate::calendar::{self, Method, Organizer};
use crate::error::{DomainError, Result};
use crate::links::{self, LinkAction, LinkClaims};
use crate::model::{EnrolmentStatus, Officer, Session, Training};
use crate::time::Instant;
use minijinja::{AutoEscape, Environment, Error, Output, State, UndefinedBehavior, Value};
use serde::Serialize;
use std::fmt::{self, Write as _};
use std::sync::OnceLock;

/// What the renderer needs besides the records, built once at cold start and carried by
/// `Deps`: where the app is, the secret that signs links, who organises the sessions.
#[derive(Clone, Default)]
pub struct NotifySettings {
    /// The address of the web app, without a trailing slash: links and pointers start with it.
    pub public_url: String,
    /// Signs the one-time links; without it the emails point to the app instead.
    pub link_secret: Option<Vec<u8>>,
    pub organizer: Organizer,
}

impl fmt::Debug for NotifySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifySettings")
            .field("public_url", &self.public_url)
            .field(
                "link_secret",
                &self.link_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("organizer", &self.organizer)
            .finish()
    }
}

impl NotifySettings {
    /// The context of emails written at `now`.
    pub fn context(&self, now: Instant) -> RenderContext {
        RenderContext {
            now,
            public_url: self.public_url.trim_end_matches('/').to_string(),
            link_secret: self.link_secret.clone(),
            organizer: self.organizer.clone(),
        }
    }
}

/// Everything an email depends on that is not a record: the time, the app's address, the link
/// secret and the organiser of the invitations.
#[derive(Clone)]
pub struct RenderContext {
    pub now: Instant,
    pub public_url: String,
    pub link_secret: Option<Vec<u8>>,
    pub organizer: Organizer,
}

/// Facts read from the store when the notice is delivered, not when it was queued.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryFacts {
    /// The officer's enrolment in the session now, if any: an invitation goes with a
    /// session change only to those confirmed, and a cancellation only to those who held a
    /// seat.
    pub status: Option<EnrolmentStatus>,
    /// The `SEQUENCE` of the calendar event (see [`calendar::sequence`]).
    pub sequence: u32,
    /// Other sessions the officer is confirmed in whose dates overlap this one's.
    pub overlaps: Vec<Overlap>,
}

/// A session that overlaps the one an email is about, as the officer reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub title: String,
    pub reference: String,
    pub dates: String,
}

impl Overlap {
    pub fn of(session: &Session, training: &Training) -> Self {
        Self {
            title: training.title.clone(),
            reference: session.reference.clone(),
            dates: french_dates(session),
        }
    }
}

/// What the templates read. Every field is always present (strict undefined behaviour), so
/// that a misspelt name in a template fails the tests instead of printing nothing.
#[derive(Serialize)]
struct View<'a> {
    subject: &'a str,
    salutation: String,
    closing: String,
    /// How soon the session starts, for reminders.
    soon: String,
    title: &'a str,
    reference: &'a str,
    dates: String,
    start: String,
    place: &'a str,
    trainer: Option<&'a str>,
    cut_off: String,
    withdrawal_open: bool,
    enrolment_closes: String,
    seats_left: u32,
    started: bool,
    app_url: &'a str,
    session_url: String,
    my_url: String,
    by_staff: bool,
    late: bool,
    position: Option<u32>,
    expires: Option<String>,
    accept_url: Option<String>,
    decline_url: Option<String>,
    leave_url: Option<String>,
    changes: &'a [FieldChange],
    overlaps: &'a [Overlap],
    invitation: Option<&'static str>,
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "layout.txt",
    "layout.html",
    "details.txt",
    "details.html",
    "withdrawal.txt",
    "withdrawal.html",
    "overlap.txt",
    "overlap.html",
    "leave.txt",
    "leave.html",
    "calendar_note.txt",
    "calendar_note.html",
    "enrolment_confirmed.txt",
    "enrolment_confirmed.html",
    "waitlisted.txt",
    "waitlisted.html",
    "waitlist_moved.txt",
    "waitlist_moved.html",
    "offer_made.txt",
    "offer_made.html",
    "promoted.txt",
    "promoted.html",
    "offer_expired.txt",
    "offer_expired.html",
    "offer_declined.txt",
    "offer_declined.html",
    "withdrawn.txt",
    "withdrawn.html",
    "left_waitlist.txt",
    "left_waitlist.html",
    "session_changed.txt",
    "session_changed.html",
    "session_cancelled.txt",
    "session_cancelled.html",
    "reminder_j7.txt",
    "reminder_j7.html",
    "reminder_j1.txt",
    "reminder_j1.html",
    "session_opened.txt",
    "session_opened.html",
    "feedback_request.txt",
    "feedback_request.html",
    "waitlist_closed.txt",
    "waitlist_closed.html",
    "invitation.txt",
    "invitation.html",
    "digest.txt",
    "digest.html",
);

/// The templates, parsed once. A template that does not parse is reported on every render
/// (and by the tests), never by a panic.
pub(super) fn environment() -> Result<&'static Environment<'static>> {
    static ENV: OnceLock<std::result::Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_formatter(html_formatter);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(|e| DomainError::internal(e.clone()))
}

/// Escapes strings in HTML templates the way the HTML standard requires (`&`, `<`, `>`, `"`,
/// `'`), leaving `/` as typed: minijinja's default also escapes `/`, which is valid but turns
/// every address of a link into `https:&#x2f;&#x2f;…`, a form some mail filters distrust.
fn html_formatter(
    out: &mut Output,
    state: &State,
    value: &Value,
) -> std::result::Result<(), Error> {
    let Some(text) = value
        .as_str()
        .filter(|_| state.auto_escape() == AutoEscape::Html && !value.is_safe())
    else {
        return minijinja::escape_formatter(out, state, value);
    };
    for c in text.chars() {
        let written = match c {
            '&' => out.write_str("&amp;"),
            '<' => out.write_str("&lt;"),
            '>' => out.write_str("&gt;"),
            '"' => out.write_str("&quot;"),
            '\'' => out.write_str("&#39;"),
            c => out.write_char(c),
        };
        written.map_err(Error::from)?;
    }
    Ok(())
}

/// Renders the text and HTML parts of template `name` (without extension).
pub(super) fn render_pair(name: &str, view: &impl Serialize) -> Result<(String, String)> {
    let env = environment()?;
    let one = |ext: &str| {
        env.get_template(&format!("{name}.{ext}"))
            .and_then(|t| t.render(view))
            .map_err(|e| DomainError::internal(format!("template {name}.{ext}: {e:#}")))
    };
    Ok((tidy_text(&one("txt")?), one("html")?))
}

/// Text as a mail client shows it: no trailing spaces, at most one blank line in a row, one
/// final line break.
fn tidy_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank = 0;
    for line in raw.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// How soon the session starts, as a reminder says it, from the Paris day of `now`: "dans une
/// semaine", "demain", "aujourd'hui", "dans 3 jours" (a reminder sent late by a job that was
/// down says the truth).
fn how_soon(session: &Session, now: Instant) -> String {
    let today = crate::time::in_paris(now).date_naive();
    match (session.first_day - today).num_days() {
        ..=0 => "aujourd'hui".to_string(),
        1 => "demain".to_string(),
        7 => "dans une semaine".to_string(),
        n => format!("dans {n} jours"),
    }
}

fn subject(kind: &NoticeKind, session: &Session, title: &str, now: Instant) -> String {
    let day = french_date(session.starts_at);
    match kind {
        NoticeKind::EnrolmentConfirmed { .. } => format!("Inscription confirmée : {title}"),
        NoticeKind::Waitlisted { .. } => format!("Liste d'attente : {title}"),
        NoticeKind::WaitlistMoved { .. } => format!("Nouveau rang en liste d'attente : {title}"),
        NoticeKind::OfferMade { .. } => format!("Une place vous est proposée : {title}"),
        NoticeKind::Promoted => format!("Place obtenue : {title}"),
        NoticeKind::OfferExpired => format!("Proposition expirée : {title}"),
        NoticeKind::OfferDeclined => format!("Proposition déclinée : {title}"),
        NoticeKind::Withdrawn { .. } => format!("Désistement enregistré : {title}"),
        NoticeKind::LeftWaitlist => format!("Sortie de la liste d'attente : {title}"),
        NoticeKind::SessionChanged { .. } => format!("Session modifiée : {title}"),
        NoticeKind::SessionCancelled => format!("Session annulée : {title}"),
        NoticeKind::ReminderJ7 | NoticeKind::ReminderJ1 => {
            format!("Rappel : {title}, {} ({day})", how_soon(session, now))
        }
        NoticeKind::SessionOpened => format!("Nouvelle session : {title}"),
        NoticeKind::FeedbackRequest => format!("Votre avis sur la session : {title}"),
        NoticeKind::WaitlistClosed => format!("Liste d'attente close : {title}"),
        NoticeKind::Invitation => format!("Places disponibles : {title}"),
    }
}

/// The calendar method attached to a notice, if any.
fn invitation_method(kind: &NoticeKind, facts: &DeliveryFacts) -> Option<Method> {
    let confirmed = facts.status == Some(EnrolmentStatus::Confirmed);
    match kind {
        NoticeKind::EnrolmentConfirmed { .. }
        | NoticeKind::Promoted
        | NoticeKind::ReminderJ7
        | NoticeKind::ReminderJ1 => Some(Method::Request),
        NoticeKind::SessionChanged { .. } if confirmed => Some(Method::Request),
        NoticeKind::Withdrawn { .. } => Some(Method::Cancel),
        NoticeKind::SessionCancelled if confirmed => Some(Method::Cancel),
        _ => None,
    }
}

fn link(
    ctx: &RenderContext,
    action: LinkAction,
    session: &Session,
    officer: &Officer,
    expires_at: Instant,
) -> Option<String> {
    let secret = ctx.link_secret.as_deref()?;
    let claims = LinkClaims::new(action, session.id.clone(), officer.id.clone(), expires_at);
    Some(links::link_url(
        &ctx.public_url,
        &links::sign(secret, &claims),
    ))
}

/// Renders a notice to one officer as an email: subject, text, HTML and, where the officer's
/// agenda changes, a calendar invitation or cancellation.
pub fn render(
    kind: &NoticeKind,
    officer: &Officer,
    session: &Session,
    training: &Training,
    facts: &DeliveryFacts,
    ctx: &RenderContext,
) -> Result<OutgoingEmail> {
    let subject = one_line(&subject(kind, session, &training.title, ctx.now));
    let method = invitation_method(kind, facts);
    let (mut expires, mut accept_url, mut decline_url, mut leave_url) = (None, None, None, None);
    let (mut by_staff, mut late, mut position) = (false, false, None);
    match kind {
        NoticeKind::EnrolmentConfirmed { by_staff: b } => by_staff = *b,
        NoticeKind::Withdrawn {
            late: l,
            by_staff: b,
        } => (late, by_staff) = (*l, *b),
        NoticeKind::Waitlisted { position: p } | NoticeKind::WaitlistMoved { position: p } => {
            position = Some(*p);
            leave_url = link(
                ctx,
                LinkAction::LeaveWaitlist,
                session,
                officer,
                session.starts_at,
            );
        }
        NoticeKind::OfferMade { expires_at } => {
            expires = Some(french_datetime(*expires_at));
            accept_url = link(ctx, LinkAction::AcceptOffer, session, officer, *expires_at);
            decline_url = link(ctx, LinkAction::DeclineOffer, session, officer, *expires_at);
        }
        _ => {}
    }
    let changes: &[FieldChange] = match kind {
        NoticeKind::SessionChanged { changes } => changes,
        _ => &[],
    };
    let app_url = ctx.public_url.as_str();
    let view = View {
        subject: &subject,
        salutation: salutation(officer),
        closing: closing(officer),
        soon: how_soon(session, ctx.now),
        title: &training.title,
        reference: &session.reference,
        dates: french_dates(session),
        start: french_datetime(session.starts_at),
        place: &session.place,
        trainer: session.trainer.as_deref().filter(|t| !t.is_empty()),
        cut_off: french_datetime(session.free_withdrawal_until),
        withdrawal_open: ctx.now <= session.free_withdrawal_until,
        enrolment_closes: french_datetime(session.enrolment_closes_at),
        seats_left: session.seats_left(),
        started: ctx.now >= session.starts_at,
        app_url,
        session_url: format!("{app_url}/officier/sessions/{}", session.id),
        my_url: format!("{app_url}/officier/mes-formations"),
        by_staff,
        late,
        position,
        expires,
        accept_url,
        decline_url,
        leave_url,
        changes,
        overlaps: &facts.overlaps,
        invitation: method.map(Method::as_str),
    };
    let (text, html) = render_pair(kind.key(), &view)?;
    let attachments = match method {
        Some(m) => vec![calendar::attachment(
            m,
            calendar::invitation(
                m,
                session,
                training,
                officer,
                &ctx.organizer,
                facts.sequence,
                ctx.now,
            ),
        )],
        None => Vec::new(),
    };
    Ok(OutgoingEmail {
        to: officer.email.clone(),
        subject,
        text,
        html: Some(html),
        date: ctx.now,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{day, officer, session, training};
    use crate::links::{LinkError, verify};
    use crate::time::parse_instant;

    const SECRET: &[u8] = b"a test secret of at least 32 bytes";

    fn ctx(secret: bool) -> RenderContext {
        NotifySettings {
            public_url: "https://cassiopee.example/".into(),
            link_secret: secret.then(|| SECRET.to_vec()),
            organizer: Organizer::default(),
        }
        .context(parse_instant("2026-05-04T10:00").expect("instant"))
    }

    fn records(title: &str) -> (Officer, Session, Training) {
        let t = training(title);
        let s = session(&t, day(2026, 6, 1), day(2026, 6, 2), "09:00-17:30");
        (officer("Général de corps d'armée"), s, t)
    }

    fn confirmed() -> DeliveryFacts {
        DeliveryFacts {
            status: Some(EnrolmentStatus::Confirmed),
            sequence: 2,
            overlaps: Vec::new(),
        }
    }

    fn all_kinds() -> Vec<NoticeKind> {
        let expires_at = parse_instant("2026-05-06T10:00").expect("instant");
        vec![
            NoticeKind::EnrolmentConfirmed { by_staff: false },
            NoticeKind::EnrolmentConfirmed { by_staff: true },
            NoticeKind::Waitlisted { position: 3 },
            NoticeKind::WaitlistMoved { position: 1 },
            NoticeKind::OfferMade { expires_at },
            NoticeKind::Promoted,
            NoticeKind::OfferExpired,
            NoticeKind::OfferDeclined,
            NoticeKind::Withdrawn {
                late: false,
                by_staff: false,
            },
            NoticeKind::Withdrawn {
                late: true,
                by_staff: true,
            },
            NoticeKind::LeftWaitlist,
            NoticeKind::SessionChanged {
                changes: Vec::new(),
            },
            NoticeKind::SessionCancelled,
            NoticeKind::ReminderJ7,
            NoticeKind::ReminderJ1,
            NoticeKind::SessionOpened,
            NoticeKind::FeedbackRequest,
            NoticeKind::WaitlistClosed,
            NoticeKind::Invitation,
        ]
    }

    #[test]
    fn every_kind_renders_a_text_and_an_html_part_to_the_officer() {
        let (o, s, t) = records("Lire un bilan");
        for kind in all_kinds() {
            for secret in [true, false] {
                let email = render(&kind, &o, &s, &t, &confirmed(), &ctx(secret))
                    .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
                assert_eq!(email.to, o.email);
                assert!(email.subject.contains("Lire un bilan"), "{kind:?}");
                assert!(email.text.starts_with("Mon général,\n\n"), "{kind:?}");
                assert!(
                    email
                        .text
                        .contains("mon général, l'expression de notre haute considération"),
                    "{kind:?}"
                );
                assert!(!email.text.contains("\n\n\n"), "{kind:?}: {}", email.text);
                assert!(!email.text.contains("{{") && !email.text.contains("{%"));
                let html = email.html.expect("html part");
                assert!(html.starts_with("<!DOCTYPE html>"), "{kind:?}");
                assert!(html.contains("<p style=\"margin:0 0 16px 0;\">Mon général,</p>"));
                assert!(html.contains("Lire un bilan"), "{kind:?}");
            }
        }
    }

    #[test]
    fn an_admiral_is_addressed_as_such() {
        let (_, s, t) = records("Lire un bilan");
        let o = officer("Vice-amiral d'escadre");
        let email =
            render(&NoticeKind::Promoted, &o, &s, &t, &confirmed(), &ctx(true)).expect("render");
        assert!(email.text.starts_with("Amiral,\n"));
        assert!(email.text.contains("d'agréer, amiral, l'expression"));
    }

    #[test]
    fn a_confirmation_gives_french_dates_and_the_withdrawal_deadline() {
        let (o, s, t) = records("Lire un bilan");
        let email = render(
            &NoticeKind::EnrolmentConfirmed { by_staff: false },
            &o,
            &s,
            &t,
            &confirmed(),
            &ctx(true),
        )
        .expect("render");
        assert_eq!(email.subject, "Inscription confirmée : Lire un bilan");
        assert!(
            email
                .text
                .contains("Dates : du lundi 1er juin 2026 au mardi 2 juin 2026, de 09h00 à 17h30"),
            "{}",
            email.text
        );
        assert!(email.text.contains("Lieu : École militaire, Paris"));
        assert!(email.text.contains("Intervenant : Mme Durand"));
        assert!(
            email
                .text
                .contains("sans frais jusqu'au lundi 25 mai 2026 à 23h59"),
            "{}",
            email.text
        );
        let html = email.html.expect("html");
        assert!(html.contains("lundi 1er juin 2026"));
        assert_eq!(email.attachments.len(), 1);
        let ics = String::from_utf8(email.attachments[0].bytes.clone()).expect("utf-8");
        assert!(ics.contains("METHOD:REQUEST"));
        assert!(ics.contains("SEQUENCE:2"));
    }

    #[test]
    fn reminders_say_how_soon_the_session_starts_from_the_day_they_are_sent() {
        let (o, s, t) = records("Lire un bilan");
        let at = |when: &str| {
            let mut c = ctx(true);
            c.now = parse_instant(when).expect("instant");
            c
        };
        let remind = |kind: NoticeKind, when: &str| {
            render(&kind, &o, &s, &t, &confirmed(), &at(when)).expect("render")
        };
        // The session starts on Monday 1 June 2026.
        let j7 = remind(NoticeKind::ReminderJ7, "2026-05-25T09:00");
        let j1 = remind(NoticeKind::ReminderJ1, "2026-05-31T09:00");
        assert!(
            j7.text
                .contains("commence dans une semaine, le lundi 1er juin 2026 à 09h00."),
            "{}",
            j7.text
        );
        assert!(
            j1.text
                .contains("commence demain, lundi 1er juin 2026 à 09h00."),
            "{}",
            j1.text
        );
        assert!(!j1.text.contains("dans une semaine"));
        assert_ne!(j7.subject, j1.subject);
        assert!(j1.subject.contains("demain"));
        // Sent late (the job was down): the truth, not "in a week".
        let late = remind(NoticeKind::ReminderJ7, "2026-05-29T15:00");
        assert!(
            late.text.contains("commence dans 3 jours, le lundi"),
            "{}",
            late.text
        );
        assert!(late.subject.contains("dans 3 jours"), "{}", late.subject);
        let same_day = remind(NoticeKind::ReminderJ1, "2026-06-01T07:00");
        assert!(
            same_day.text.contains("commence aujourd'hui, lundi"),
            "{}",
            same_day.text
        );
        assert_eq!(j7.attachments.len(), 1);
    }

    #[test]
    fn titles_are_escaped_in_html_and_kept_in_text() {
        let (o, s, t) = records("Droit <b>& éthique");
        let email =
            render(&NoticeKind::Promoted, &o, &s, &t, &confirmed(), &ctx(true)).expect("render");
        assert!(email.text.contains("« Droit <b>& éthique »"));
        let html = email.html.expect("html");
        assert!(html.contains("Droit &lt;b&gt;&amp; éthique"), "{html}");
        assert!(
            html.contains("d&#39;agréer"),
            "apostrophes are escaped too: {html}"
        );
        assert!(!html.contains("<b>&"));
        assert_eq!(email.subject, "Place obtenue : Droit <b>& éthique");
    }

    #[test]
    fn an_offer_carries_signed_accept_and_decline_links_until_it_expires() {
        let (o, s, t) = records("Lire un bilan");
        let expires_at = parse_instant("2026-05-06T10:00").expect("instant");
        let kind = NoticeKind::OfferMade { expires_at };
        let email = render(&kind, &o, &s, &t, &confirmed(), &ctx(true)).expect("render");
        assert!(
            email
                .text
                .contains("Cette proposition vaut jusqu'au mercredi 6 mai 2026 à 10h00.")
        );
        let urls: Vec<&str> = email
            .text
            .lines()
            .filter(|l| l.starts_with("https://cassiopee.example/liens/"))
            .collect();
        assert_eq!(urls.len(), 2, "{}", email.text);
        let claims = |url: &str| {
            verify(
                SECRET,
                url.trim_start_matches("https://cassiopee.example/liens/"),
                ctx(true).now,
            )
        };
        let accept = claims(urls[0]).expect("accept link");
        let decline = claims(urls[1]).expect("decline link");
        assert_eq!(accept.action, LinkAction::AcceptOffer);
        assert_eq!(decline.action, LinkAction::DeclineOffer);
        assert_eq!(
            (accept.officer_id, accept.session_id),
            (o.id.clone(), s.id.clone())
        );
        assert_eq!(accept.expires_at, expires_at);
        assert_eq!(
            verify(
                SECRET,
                urls[0].trim_start_matches("https://cassiopee.example/liens/"),
                expires_at
            ),
            Err(LinkError::Expired)
        );
        let html = email.html.expect("html");
        assert!(
            html.contains("Accepter la place")
                && html.contains("href=\"https://cassiopee.example/liens/"),
            "{html}"
        );
        assert!(email.attachments.is_empty());
    }

    #[test]
    fn without_a_link_secret_the_emails_point_to_the_app() {
        let (o, s, t) = records("Lire un bilan");
        let expires_at = parse_instant("2026-05-06T10:00").expect("instant");
        for kind in [
            NoticeKind::OfferMade { expires_at },
            NoticeKind::Waitlisted { position: 2 },
            NoticeKind::WaitlistMoved { position: 2 },
        ] {
            let email = render(&kind, &o, &s, &t, &confirmed(), &ctx(false)).expect("render");
            assert!(!email.text.contains("/liens/"), "{kind:?}");
            assert!(
                email
                    .text
                    .contains("https://cassiopee.example/officier/mes-formations"),
                "{kind:?}: {}",
                email.text
            );
        }
    }

    #[test]
    fn a_waitlisted_officer_gets_a_leave_link_valid_until_the_start() {
        let (o, s, t) = records("Lire un bilan");
        let email = render(
            &NoticeKind::Waitlisted { position: 4 },
            &o,
            &s,
            &t,
            &DeliveryFacts::default(),
            &ctx(true),
        )
        .expect("render");
        assert!(email.text.contains("au rang 4"));
        let url = email
            .text
            .lines()
            .find(|l| l.contains("/liens/"))
            .expect("a leave link");
        let token = url.rsplit('/').next().expect("token");
        let claims = verify(SECRET, token, ctx(true).now).expect("valid");
        assert_eq!(claims.action, LinkAction::LeaveWaitlist);
        assert_eq!(claims.expires_at, s.starts_at);
    }

    #[test]
    fn a_late_withdrawal_says_what_late_means_and_cancels_the_event() {
        let (o, s, t) = records("Lire un bilan");
        let kind = NoticeKind::Withdrawn {
            late: true,
            by_staff: false,
        };
        let email =
            render(&kind, &o, &s, &t, &DeliveryFacts::default(), &ctx(true)).expect("render");
        assert!(email.text.contains("compté comme tardif"), "{}", email.text);
        assert!(email.text.contains("la place peut être facturée"));
        assert!(email.text.contains("lundi 25 mai 2026 à 23h59"));
        let on_time = NoticeKind::Withdrawn {
            late: false,
            by_staff: false,
        };
        let email =
            render(&on_time, &o, &s, &t, &DeliveryFacts::default(), &ctx(true)).expect("render");
        assert!(email.text.contains("n'entraîne aucun frais"));
        assert_eq!(email.attachments.len(), 1);
        assert_eq!(
            email.attachments[0].content_type,
            "text/calendar; charset=utf-8; method=CANCEL"
        );
    }

    #[test]
    fn a_session_change_lists_old_and_new_values_and_names_overlaps() {
        let (o, s, t) = records("Lire un bilan");
        let mut moved = s.clone();
        moved.place = "Toulon".into();
        let kind = NoticeKind::SessionChanged {
            changes: crate::notices::session_changes(&s, &moved),
        };
        let facts = DeliveryFacts {
            overlaps: vec![Overlap {
                title: "Gouvernance".into(),
                reference: "GOUV-2026-B".into(),
                dates: "le mardi 2 juin 2026, de 09h00 à 12h00".into(),
            }],
            ..confirmed()
        };
        let email = render(&kind, &o, &moved, &t, &facts, &ctx(true)).expect("render");
        assert!(
            email
                .text
                .contains("- Lieu : École militaire, Paris → Toulon"),
            "{}",
            email.text
        );
        assert!(
            email
                .text
                .contains("chevauche la session « Gouvernance » (GOUV-2026-B")
        );
        let html = email.html.expect("html");
        assert!(html.contains("<s>École militaire, Paris</s>"));
        assert!(html.contains("Gouvernance"));
        assert_eq!(email.attachments.len(), 1, "confirmed: invitation updated");

        let waiting = DeliveryFacts {
            status: Some(EnrolmentStatus::Waitlisted),
            ..DeliveryFacts::default()
        };
        let email = render(&kind, &o, &moved, &t, &waiting, &ctx(true)).expect("render");
        assert!(email.attachments.is_empty(), "no seat, no invitation");
    }

    #[test]
    fn a_cancellation_sends_a_calendar_cancel_only_to_those_seated() {
        let (o, s, t) = records("Lire un bilan");
        let kind = NoticeKind::SessionCancelled;
        let seated = render(&kind, &o, &s, &t, &confirmed(), &ctx(true)).expect("render");
        assert!(seated.text.contains("est annulée"));
        assert_eq!(seated.attachments.len(), 1);
        let ics = String::from_utf8(seated.attachments[0].bytes.clone()).expect("utf-8");
        assert!(ics.contains("METHOD:CANCEL") && ics.contains("STATUS:CANCELLED"));
        let waiting = DeliveryFacts {
            status: Some(EnrolmentStatus::Waitlisted),
            ..DeliveryFacts::default()
        };
        let email = render(&kind, &o, &s, &t, &waiting, &ctx(true)).expect("render");
        assert!(email.attachments.is_empty());
    }
}
