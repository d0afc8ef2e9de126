//! Adapters that need no cloud service: the outbox mailer (every email written as an `.eml`
//! file) and the clocks (the system clock, and a settable one for the local mode).

use async_trait::async_trait;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::notices::OutgoingEmail;
use cassiopee_domain::ports::{Clock, Mailer};
use cassiopee_domain::time::Instant;
use chrono::{Duration, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The clock of a deployed function.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Utc::now()
    }
}

/// A clock that runs with real time from an offset that can be set or advanced, so that
/// deadlines, offer expiries and reminders can be tried without waiting.
#[derive(Default)]
pub struct SettableClock {
    offset: RwLock<Duration>,
}

impl SettableClock {
    pub fn set(&self, now: Instant) {
        if let Ok(mut o) = self.offset.write() {
            *o = now - Utc::now();
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut o) = self.offset.write() {
            *o += by;
        }
    }
}

impl Clock for SettableClock {
    fn now(&self) -> Instant {
        let offset = self
            .offset
            .read()
            .map(|o| *o)
            .unwrap_or_else(|_| Duration::zero());
        Utc::now() + offset
    }
}

/// A clock frozen at one instant, for tests.
pub struct FixedClock(RwLock<Instant>);

impl FixedClock {
    pub fn at(now: Instant) -> Self {
        Self(RwLock::new(now))
    }

    pub fn set(&self, now: Instant) {
        if let Ok(mut t) = self.0.write() {
            *t = now;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Instant {
        self.0.read().map(|t| *t).unwrap_or_else(|_| Utc::now())
    }
}

/// Writes every email as an RFC 5322 `.eml` file in a folder (the local outbox). The MIME
/// message is built by `lettre`, as a real mailer would send it.
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
    sequence: std::sync::atomic::AtomicU64,
}

impl OutboxMailer {
    pub fn new(dir: &Path, from: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            DomainError::internal(format!("cannot create outbox {}: {e}", dir.display()))
        })?;
        let from = from
            .parse()
            .map_err(|e| DomainError::internal(format!("bad sender: {e}")))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            from,
            sequence: Default::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

enum Body {
    Text(SinglePart),
    Alternative(MultiPart),
}

/// Builds the MIME message of an email. Shared by every mailer so that they send the same bytes.
pub fn mime_message(from: &Mailbox, email: &OutgoingEmail) -> Result<Message> {
    let to: Mailbox = email
        .to
        .as_str()
        .parse()
        .map_err(|e| DomainError::internal(format!("bad recipient: {e}")))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.as_str())
        .date(std::time::SystemTime::from(email.date))
        .message_id(None)
        .header(MIME_VERSION_1_0);
    // The text alone, or text and HTML as alternatives of the same content; inside a
    // multipart/mixed when files go with it.
    let body = match &email.html {
        Some(html) => Body::Alternative(MultiPart::alternative_plain_html(
            email.text.clone(),
            html.clone(),
        )),
        None => Body::Text(SinglePart::plain(email.text.clone())),
    };
    let built = if email.attachments.is_empty() {
        match body {
            Body::Text(_) => builder
                .header(ContentType::TEXT_PLAIN)
                .body(email.text.clone()),
            Body::Alternative(parts) => builder.multipart(parts),
        }
    } else {
        let mut parts = match body {
            Body::Text(part) => MultiPart::mixed().singlepart(part),
            Body::Alternative(alt) => MultiPart::mixed().multipart(alt),
        };
        for a in &email.attachments {
            let content_type = ContentType::parse(&a.content_type).map_err(|e| {
                DomainError::internal(format!("bad attachment type {:?}: {e}", a.content_type))
            })?;
            parts = parts.singlepart(
                MimeAttachment::new(a.filename.clone()).body(a.bytes.clone(), content_type),
            );
        }
        builder.multipart(parts)
    };
    built.map_err(|e| DomainError::internal(format!("cannot build email: {e}")))
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &OutgoingEmail, _notice: Option<i64>) -> Result<Option<String>> {
        let message = mime_message(&self.from, email)?;
        // Names sort in the order the emails were written: real time, then a sequence for
        // emails written within the same microsecond.
        let seq = self
            .sequence
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{}-{seq:06}.eml", Utc::now().format("%Y%m%dT%H%M%S%.6fZ"));
        let path = self.dir.join(&name);
        std::fs::write(&path, message.formatted())
            .map_err(|e| DomainError::internal(format!("cannot write {}: {e}", path.display())))?;
        tracing::debug!(outbox = %self.dir.display(), "email written to the outbox");
        // The file's name stands for the provider's message id.
        Ok(Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cassiopee_domain::model::Email;

    #[test]
    fn the_settable_clock_moves_by_what_it_is_told() {
        let clock = SettableClock::default();
        let target = Utc::now() + Duration::days(30);
        clock.set(target);
        assert!((clock.now() - target).num_seconds().abs() < 2);
        clock.advance(Duration::hours(48));
        assert!(
            (clock.now() - (target + Duration::hours(48)))
                .num_seconds()
                .abs()
                < 2
        );
    }

    #[tokio::test]
    async fn the_outbox_mailer_writes_a_parseable_eml_with_a_french_subject() {
        let dir = std::env::temp_dir().join(format!("cassiopee-outbox-{}", ulid::Ulid::generate()));
        let mailer = OutboxMailer::new(&dir, "Cassiopée <no-reply@cassiopee.invalid>").unwrap();
        let email = OutgoingEmail {
            to: Email::parse("jean.dupont@intradef.example").unwrap(),
            subject: "Inscription confirmée : Lire un bilan".into(),
            text: "Bonjour,\n\nVotre inscription est confirmée.".into(),
            html: None,
            date: Utc::now(),
            attachments: Vec::new(),
        };
        let name = mailer.send(&email, Some(7)).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(name.as_deref(), files[0].file_name().to_str());
        let raw = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(raw.contains("To: jean.dupont@intradef.example"), "{raw}");
        // Non-ASCII subjects are encoded (RFC 2047), never sent raw.
        let subject = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.is_ascii() && subject.contains("=?utf-8?"), "{raw}");
        assert!(raw.lines().any(|l| l.starts_with("Message-ID: <")), "{raw}");
        assert!(raw.lines().any(|l| l == "MIME-Version: 1.0"), "{raw}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_email_with_an_attachment_is_multipart_with_the_file_as_its_own_part() {
        let from: Mailbox = "Cassiopée <no-reply@cassiopee.invalid>".parse().unwrap();
        let email = OutgoingEmail {
            to: Email::parse("jean.dupont@intradef.example").unwrap(),
            subject: "Invitation".into(),
            text: "Bonjour,\n\nVeuillez trouver l'invitation jointe.".into(),
            html: None,
            date: Utc::now(),
            attachments: vec![cassiopee_domain::notices::Attachment {
                filename: "invitation.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
                bytes: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
        };
        let raw = String::from_utf8(mime_message(&from, &email).unwrap().formatted()).unwrap();
        assert!(raw.contains("Content-Type: multipart/mixed;"), "{raw}");
        assert!(
            raw.contains("Content-Disposition: attachment; filename=\"invitation.ics\""),
            "{raw}"
        );
        assert!(
            raw.contains("text/calendar; charset=utf-8; method=REQUEST"),
            "{raw}"
        );
        assert!(raw.contains("BEGIN:VCALENDAR"), "{raw}");
        assert!(raw.contains("Veuillez trouver"), "{raw}");
    }

    fn with_html(attachments: Vec<cassiopee_domain::notices::Attachment>) -> OutgoingEmail {
        OutgoingEmail {
            to: Email::parse("jean.dupont@intradef.example").unwrap(),
            subject: "Place obtenue".into(),
            text: "Mon général,\n\nUne place s'est libérée.".into(),
            html: Some("<p>Mon général,</p><p>Une place s'est libérée.</p>".into()),
            date: Utc::now(),
            attachments,
        }
    }

    #[test]
    fn an_email_with_html_offers_text_and_html_as_alternatives() {
        let from: Mailbox = "Cassiopée <no-reply@cassiopee.invalid>".parse().unwrap();
        let raw = String::from_utf8(
            mime_message(&from, &with_html(Vec::new()))
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(
            raw.contains("Content-Type: multipart/alternative;"),
            "{raw}"
        );
        assert!(!raw.contains("multipart/mixed"), "{raw}");
        let text = raw.find("Content-Type: text/plain").expect("a text part");
        let html = raw.find("Content-Type: text/html").expect("an html part");
        // RFC 2046: the preferred (richest) alternative comes last.
        assert!(text < html, "{raw}");
    }

    #[test]
    fn an_email_with_html_and_a_file_nests_the_alternatives_in_a_mixed_part() {
        let from: Mailbox = "Cassiopée <no-reply@cassiopee.invalid>".parse().unwrap();
        let email = with_html(vec![cassiopee_domain::notices::Attachment {
            filename: "invitation.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
            bytes: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
        }]);
        let raw = String::from_utf8(mime_message(&from, &email).unwrap().formatted()).unwrap();
        let mixed = raw.find("Content-Type: multipart/mixed;").expect("mixed");
        let alternative = raw
            .find("Content-Type: multipart/alternative;")
            .expect("alternative");
        let calendar = raw.find("method=REQUEST").expect("calendar part");
        assert!(mixed < alternative && alternative < calendar, "{raw}");
        assert!(raw.contains("Content-Type: text/html"), "{raw}");
        assert!(
            raw.contains("Content-Disposition: attachment; filename=\"invitation.ics\""),
            "{raw}"
        );
    }
}
