//! Personal data: an officer's export of everything held about them, erasure on request, and
//! the purge of officers whose accompaniment ended long ago.
//!
//! What the statistics need survives an erasure without naming anyone: enrolments, their
//! history and feedback scores move to a random id (see `Store::erase_officer`), so fill
//! rates, attendance, costs and relevance of past sessions do not change.

use chrono::Months;
use serde::Serialize;

use crate::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::error::{DomainError, Result};
use crate::ids::OfficerId;
use crate::model::{
    Actor, Enrolment, EnrolmentChange, Feedback, Officer, ProgrammeItem, SessionStatus,
};
use crate::ports::{DomainEvent, Erasure, NoticeRecord, WithdrawCommand, WithdrawOutcome};
use crate::time::{Instant, paris_date};
use crate::usecases::{Deps, publish, record};

/// The months after the end of an accompaniment before its officer is purged, by default.
pub const DEFAULT_RETENTION_MONTHS: u32 = 12;

/// One enrolment in an export, with what it was about and its history.
#[derive(Clone, Debug, Serialize)]
pub struct ExportedEnrolment {
    #[serde(flatten)]
    pub enrolment: Enrolment,
    pub session_reference: Option<String>,
    pub training_title: Option<String>,
    #[serde(with = "crate::time::paris_serde::option")]
    pub session_starts_at: Option<Instant>,
    pub history: Vec<EnrolmentChange>,
}

/// Everything Cassiopée holds about one officer, as they may ask for it.
#[derive(Clone, Debug, Serialize)]
pub struct DataExport {
    #[serde(with = "crate::time::paris_serde")]
    pub exported_at: Instant,
    pub officer: Officer,
    pub enrolments: Vec<ExportedEnrolment>,
    pub programme: Vec<ProgrammeItem>,
    /// Codes and titles of the trainings they said they are interested in.
    pub interests: Vec<serde_json::Value>,
    pub feedback: Vec<Feedback>,
    pub notifications: Vec<NoticeRecord>,
    #[serde(with = "crate::time::paris_serde::option")]
    pub calendar_link_created_at: Option<Instant>,
    /// The audit log's lines about them (who changed what, when).
    pub audit: Vec<AuditEntry>,
}

pub async fn export_officer_data(
    deps: &Deps,
    officer: &OfficerId,
    actor: Actor,
) -> Result<DataExport> {
    let store = &deps.store;
    let o = store
        .officer(officer)
        .await?
        .ok_or_else(DomainError::officer_not_found)?;
    let mut enrolments = Vec::new();
    for e in store.officer_enrolments(officer).await? {
        let session = store.session(&e.session_id).await?;
        let training = match &session {
            Some(s) => store.training(&s.training_id).await?,
            None => None,
        };
        let history = store.enrolment_history(&e.id).await?;
        enrolments.push(ExportedEnrolment {
            session_reference: session.as_ref().map(|s| s.reference.clone()),
            training_title: training.map(|t| t.title),
            session_starts_at: session.map(|s| s.starts_at),
            history,
            enrolment: e,
        });
    }
    let mut interests = Vec::new();
    for t in store.officer_interests(officer).await? {
        if let Some(t) = store.training(&t).await? {
            interests
                .push(serde_json::json!({ "training_id": t.id, "code": t.code, "title": t.title }));
        }
    }
    let feedback = store
        .all_feedback()
        .await?
        .into_iter()
        .filter(|f| &f.officer_id == officer)
        .collect();
    let now = deps.now();
    let export = DataExport {
        exported_at: now,
        officer: o,
        enrolments,
        programme: store.programme(officer).await?,
        interests,
        feedback,
        notifications: store.officer_notices(officer).await?,
        calendar_link_created_at: store.calendar_token_created(officer).await?,
        audit: store.audit(&AuditSubject::Officer(officer.clone())).await?,
    };
    let line = AuditEntry::new(AuditAction::DataExported, &actor, now).officer(officer);
    record(deps, vec![line]).await;
    Ok(export)
}

/// What an erasure did, as staff and the officer read it.
#[derive(Clone, Debug, Serialize)]
pub struct ErasureReport {
    #[serde(flatten)]
    pub erasure: Erasure,
    /// Seats and places on waiting lists of sessions to come, given up first.
    pub seats_released: u32,
}

/// Erases an officer's personal data: first gives up what they hold in sessions to come (so
/// that the next on each waiting list is offered the seat), then erases (see
/// `Store::erase_officer`), then records who did it and why, under the new id.
pub async fn erase_officer(
    deps: &Deps,
    officer: &OfficerId,
    actor: Actor,
    reason: &str,
) -> Result<ErasureReport> {
    let reason = crate::usecases::check_text("reason", reason, 500, true)?;
    let store = &deps.store;
    if store.officer(officer).await?.is_none() {
        return Err(if store.is_erased(officer).await? {
            already_erased()
        } else {
            DomainError::officer_not_found()
        });
    }
    let now = deps.now();
    let mut events = Vec::new();
    let mut seats_released = release_upcoming(deps, officer, &actor, now, &mut events).await?;
    let Some(erasure) = store.erase_officer(officer, now).await? else {
        return Err(already_erased());
    };
    // An enrolment that committed between those withdrawals and the erasure now holds its seat
    // under the pseudonym: give it back too.
    seats_released += release_upcoming(deps, &erasure.pseudonym, &actor, now, &mut events).await?;
    // An officer's own request is recorded under the pseudonym: the former id goes everywhere.
    let mut actor = actor;
    if actor.id == officer.as_str() {
        actor.id = erasure.pseudonym.to_string();
    }
    let line = AuditEntry::new(AuditAction::OfficerErased, &actor, now)
        .officer(&erasure.pseudonym)
        .reason(Some(&reason))
        .created(&serde_json::json!({
            "enrolments_kept": erasure.enrolments_kept,
            "feedback_kept": erasure.feedback_kept,
            "notices_deleted": erasure.notices_deleted,
            "seats_released": seats_released,
        }));
    record(deps, vec![line]).await;
    // Withdrawals queued notices to the erased officer; they went with the ledger. Others'
    // (promotions made with the withdrawals) go with the sender the last event wakes.
    events.push(DomainEvent::NoticesQueued);
    publish(deps, events).await;
    tracing::info!(seats_released, "officer erased");
    Ok(ErasureReport {
        erasure,
        seats_released,
    })
}

/// Withdraws the officer from every scheduled session not begun that they are enrolled or
/// waiting in; answers how many, and adds the SeatReleased events of the seats freed.
async fn release_upcoming(
    deps: &Deps,
    officer: &OfficerId,
    actor: &Actor,
    now: Instant,
    events: &mut Vec<DomainEvent>,
) -> Result<u32> {
    let store = &deps.store;
    let mut released = 0;
    for e in store.officer_enrolments(officer).await? {
        if !e.status.is_active() {
            continue;
        }
        // Only a scheduled session's seat can be given up: the store refuses to withdraw from
        // a cancelled one, which would fail the erasure half done. Its enrolment is kept under
        // the pseudonym like the past ones; nobody waits for a seat there.
        let upcoming = store
            .session(&e.session_id)
            .await?
            .is_some_and(|s| s.status == SessionStatus::Scheduled && s.starts_at > now);
        if !upcoming {
            continue;
        }
        let cmd = WithdrawCommand {
            session_id: e.session_id.clone(),
            officer_id: officer.clone(),
            actor: actor.clone(),
            now,
        };
        let outcome = store.withdraw(&cmd).await?.outcome;
        released += 1;
        if matches!(
            outcome,
            WithdrawOutcome::Withdrawn { .. } | WithdrawOutcome::DeclinedOffer
        ) {
            events.push(DomainEvent::SeatReleased {
                session_id: e.session_id.clone(),
            });
        }
    }
    Ok(released)
}

fn already_erased() -> DomainError {
    DomainError::conflict(
        "officer-erased",
        "Les données de cet officier ont déjà été effacées.",
    )
}

/// Whether an officer's accompaniment ended more than `months` months before `today`.
pub fn purge_due(officer: &Officer, today: chrono::NaiveDate, months: u32) -> bool {
    officer
        .accompaniment_end
        .checked_add_months(Months::new(months))
        .is_some_and(|limit| limit < today)
}

/// Erases every officer whose accompaniment ended more than `months` months ago and who holds
/// nothing in a session to come. Run daily by compute-statistics; answers how many were erased.
pub async fn purge_ended_accompaniments(deps: &Deps, months: u32) -> Result<u32> {
    let now = deps.now();
    let today = paris_date(now);
    let mut erased = 0;
    for officer in deps.store.officers().await? {
        if !purge_due(&officer, today, months) {
            continue;
        }
        // The reason names no date: the end of an accompaniment would point to the officer.
        let reason = format!(
            "Durée de conservation écoulée : accompagnement terminé depuis plus de \
             {months} mois."
        );
        match erase_officer(deps, &officer.id, Actor::system("purge"), &reason).await {
            Ok(_) => erased += 1,
            Err(e) => tracing::error!(error = %e, "purge: an officer could not be erased"),
        }
    }
    Ok(erased)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EnrolmentStatus;
    use chrono::NaiveDate;

    fn ended(on: NaiveDate) -> Officer {
        Officer {
            id: OfficerId::generate(),
            last_name: "Martin".into(),
            first_name: "Anne".into(),
            grade: "Général de brigade".into(),
            branch: "Terre".into(),
            email: crate::model::Email::parse("anne.martin@intradef.gouv.fr").unwrap(),
            phone: None,
            accompaniment_start: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            accompaniment_end: on,
            advisor_id: None,
        }
    }

    #[test]
    fn purge_waits_the_whole_retention_after_the_end() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let o = ended(d(2025, 6, 30));
        assert!(!purge_due(&o, d(2026, 6, 30), 12));
        assert!(purge_due(&o, d(2026, 7, 1), 12));
        assert!(!purge_due(&o, d(2026, 7, 1), 13));
        // Month ends clamp: 31 January + 1 month is the end of February.
        let o = ended(d(2026, 1, 31));
        assert!(!purge_due(&o, d(2026, 2, 28), 1));
        assert!(purge_due(&o, d(2026, 3, 1), 1));
    }

    #[test]
    fn active_statuses_are_what_an_erasure_gives_up() {
        assert!(EnrolmentStatus::Confirmed.is_active());
        assert!(EnrolmentStatus::Waitlisted.is_active());
        assert!(!EnrolmentStatus::Attended.is_active());
    }
}
