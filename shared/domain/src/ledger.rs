//! The notification ledger: what was queued, sent and delivered to whom, as staff and officers
//! read it, and the delivery reports of the mail provider that complete it.
//!
//! The outbox line is the ledger line: the store keeps, per notice, its queueing and sending
//! times, attempts and last error, the provider's message id, the last delivery report (kept
//! monotone, see [`DeliveryStatus::rank`]) and when the officer read it in the application.

use crate::error::{DomainError, Result};
use crate::ids::{OfficerId, SessionId, TrainingId};
use crate::model::{Session, Training};
use crate::ports::{DeliveryStatus, NoticeRecord};
use crate::time::Instant;
use crate::usecases::Deps;
use serde::Serialize;
use std::collections::HashMap;

/// The name of the email tag (an SES `EmailTags` entry) that carries the outbox id of the
/// notice an email delivers; SES hands it back in every event about that email.
pub const NOTICE_TAG: &str = "notice";

/// The French name of a kind of notice, by its outbox key.
pub fn label(kind_key: &str) -> &'static str {
    match kind_key {
        "enrolment_confirmed" => "Inscription confirmée",
        "waitlisted" => "Inscription sur la liste d'attente",
        "waitlist_moved" => "Rang modifié sur la liste d'attente",
        "offer_made" => "Place proposée",
        "promoted" => "Place obtenue",
        "offer_expired" => "Proposition expirée",
        "offer_declined" => "Proposition déclinée",
        "withdrawn" => "Désistement enregistré",
        "left_waitlist" => "Sortie de la liste d'attente",
        "session_changed" => "Session modifiée",
        "session_cancelled" => "Session annulée",
        "reminder_j7" => "Rappel : la session a lieu dans une semaine",
        "reminder_j1" => "Rappel : la session a lieu demain",
        "session_opened" => "Nouvelle session ouverte",
        "feedback_request" => "Votre avis est demandé",
        _ => "Notification",
    }
}

/// The French name of where a notice stands: the provider's report when there is one,
/// otherwise what the outbox did.
pub fn delivery_label(record: &NoticeRecord) -> &'static str {
    match (record.delivery, record.status.as_str()) {
        (Some(DeliveryStatus::Bounced), _) => "Rejeté par le serveur du destinataire",
        (Some(DeliveryStatus::Complained), _) => "Signalé comme indésirable",
        (Some(DeliveryStatus::Delivered), _) => "Distribué",
        (None, "sent") => "Envoyé",
        (None, "failed") => "Échec d'envoi",
        (None, "dropped") => "Non envoyé : plus d'actualité",
        _ => "En attente d'envoi",
    }
}

/// Longest error text shown to staff.
const MAX_ERROR_SHOWN: usize = 300;

/// One notice as a page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationView {
    #[serde(flatten)]
    pub record: NoticeRecord,
    /// The kind, in French.
    pub label: String,
    /// `label : training title`, as the officer's list shows it.
    pub title: String,
    pub session_reference: Option<String>,
    pub delivery_label: String,
    pub read: bool,
}

fn shorten(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_ERROR_SHOWN)
        .collect();
    if text.chars().count() > MAX_ERROR_SHOWN {
        out.push('…');
    }
    out
}

async fn views(
    deps: &Deps,
    records: Vec<NoticeRecord>,
    for_staff: bool,
) -> Result<Vec<NotificationView>> {
    let mut sessions: HashMap<SessionId, Option<Session>> = HashMap::new();
    let mut trainings: HashMap<TrainingId, Option<Training>> = HashMap::new();
    let mut out = Vec::with_capacity(records.len());
    for mut record in records {
        if !sessions.contains_key(&record.session_id) {
            let s = deps.store.session(&record.session_id).await?;
            sessions.insert(record.session_id.clone(), s);
        }
        let session = sessions.get(&record.session_id).cloned().flatten();
        let training = match &session {
            Some(s) => {
                if !trainings.contains_key(&s.training_id) {
                    let t = deps.store.training(&s.training_id).await?;
                    trainings.insert(s.training_id.clone(), t);
                }
                trainings.get(&s.training_id).cloned().flatten()
            }
            None => None,
        };
        let label = label(&record.kind);
        let title = match &training {
            Some(t) => format!("{label} : {}", t.title),
            None => label.to_string(),
        };
        if for_staff {
            record.last_error = record.last_error.as_deref().map(shorten);
        } else {
            // What the mail adapter said is for staff only.
            record.last_error = None;
            record.message_id = None;
        }
        out.push(NotificationView {
            label: label.to_string(),
            title,
            session_reference: session.map(|s| s.reference),
            delivery_label: delivery_label(&record).to_string(),
            read: record.read_at.is_some(),
            record,
        });
    }
    Ok(out)
}

/// The officer's own notifications, newest first, and how many are unread.
pub async fn my_notifications(
    deps: &Deps,
    officer: &OfficerId,
) -> Result<(Vec<NotificationView>, usize)> {
    let list = views(deps, deps.store.officer_notices(officer).await?, false).await?;
    let unread = list.iter().filter(|n| !n.read).count();
    Ok((list, unread))
}

/// What was sent to one officer, for staff.
pub async fn officer_notifications(
    deps: &Deps,
    officer: &OfficerId,
) -> Result<Vec<NotificationView>> {
    deps.store
        .officer(officer)
        .await?
        .ok_or_else(DomainError::officer_not_found)?;
    views(deps, deps.store.officer_notices(officer).await?, true).await
}

/// What was sent about one session, for staff.
pub async fn session_notifications(
    deps: &Deps,
    session: &SessionId,
) -> Result<Vec<NotificationView>> {
    deps.store
        .session(session)
        .await?
        .ok_or_else(DomainError::session_not_found)?;
    views(deps, deps.store.session_notices(session).await?, true).await
}

pub fn notification_not_found() -> DomainError {
    DomainError::not_found(
        "notification-not-found",
        "Cette notification n'existe pas ou ne vous est pas adressée.",
    )
}

/// Marks one of the officer's notices read. Another officer's notice is "not found", as one
/// that does not exist.
pub async fn mark_read(deps: &Deps, officer: &OfficerId, id: i64) -> Result<()> {
    let own = deps
        .store
        .officer_notices(officer)
        .await?
        .iter()
        .any(|n| n.id == id);
    if !own {
        return Err(notification_not_found());
    }
    deps.store
        .mark_notices_read(officer, Some(&[id]), deps.now())
        .await?;
    Ok(())
}

/// Marks every notice of the officer read; answers how many were unread.
pub async fn mark_all_read(deps: &Deps, officer: &OfficerId) -> Result<u32> {
    deps.store
        .mark_notices_read(officer, None, deps.now())
        .await
}

/// A delivery report of the mail provider, about one notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryReport {
    pub notice_id: i64,
    pub status: DeliveryStatus,
    pub at: Instant,
}

/// Records a report; answers whether it changed the ledger (a duplicate, a report about an
/// unknown notice or one that would lower the status changes nothing).
pub async fn record_delivery(deps: &Deps, report: &DeliveryReport) -> Result<bool> {
    let changed = deps
        .store
        .record_delivery(report.notice_id, report.status, report.at)
        .await?;
    tracing::info!(
        notice = report.notice_id,
        status = report.status.as_str(),
        changed,
        "delivery report"
    );
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_notice_has_a_french_label() {
        for key in [
            "enrolment_confirmed",
            "waitlisted",
            "waitlist_moved",
            "offer_made",
            "promoted",
            "offer_expired",
            "offer_declined",
            "withdrawn",
            "left_waitlist",
            "session_changed",
            "session_cancelled",
            "reminder_j7",
            "reminder_j1",
            "session_opened",
            "feedback_request",
        ] {
            assert_ne!(label(key), "Notification", "{key}");
        }
    }

    #[test]
    fn long_errors_are_cut_and_lose_their_line_breaks() {
        let long = format!("a\nb{}", "x".repeat(400));
        let short = shorten(&long);
        assert!(short.starts_with("a b"));
        assert_eq!(short.chars().count(), MAX_ERROR_SHOWN + 1);
    }
}
