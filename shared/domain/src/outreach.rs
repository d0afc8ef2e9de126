//! What Cassiopée tells people without anyone asking: invitations to sessions that are still
//! short of their minimum group, the end of a waiting list that never reached someone, and the
//! staff's daily digest. Each runs from the scheduled send-reminders function; each notice goes
//! through the outbox with a version of its own, so that a job run twice (the scheduler
//! delivers at least once) tells nobody twice.

use crate::error::Result;
use crate::ids::{OfficerId, TrainingId};
use crate::model::{EnrolmentStatus, SessionStatus};
use crate::notices::{Notice, NoticeKind};
use crate::ports::SessionQuery;
use crate::time::Instant;
use crate::usecases::{Deps, deliver_pending, reminder_due};
use chrono::Duration;
use std::collections::{BTreeSet, HashMap};

/// How many days before a session still short of its minimum group the officers who planned
/// or asked for its training are invited, unless the settings say otherwise.
pub const DEFAULT_INVITATION_DAYS: i64 = 21;

/// How long after a waiting list closed its people are still told (a job that was down for a
/// few days catches up; older sessions are history).
const CLOSED_LIST_CATCH_UP_DAYS: i64 = 7;

/// Whether the invitation to a session is due: from 09:00 Paris time `days` days before its
/// first day, as long as enrolment is open.
fn invitation_due(session: &crate::model::Session, days: i64, now: Instant) -> bool {
    reminder_due(session, days).is_some_and(|t| t <= now) && now <= session.enrolment_closes_at
}

/// Targeted invitations: for each session starting within `days` days that is still under its
/// training's minimum group and has a seat left, one invitation to every officer whose
/// programme plans that training or who registered interest in it, and who has no enrolment in
/// the session, has not done or booked the training in another session, and whose
/// accompaniment has not ended before the session. Answers how many were queued.
pub async fn invite_to_undersubscribed_sessions(deps: &Deps, days: i64) -> Result<u32> {
    let now = deps.now();
    let query = SessionQuery {
        from: Some(now),
        to: Some(now + Duration::days(days + 1)),
        ..SessionQuery::default()
    };
    let mut due = Vec::new();
    for session in deps.store.sessions(&query).await? {
        if session.status != SessionStatus::Scheduled
            || session.seats_left() == 0
            || !invitation_due(&session, days, now)
        {
            continue;
        }
        let Some(training) = deps.store.training(&session.training_id).await? else {
            continue;
        };
        if session.seats_filled() < training.min_group {
            due.push(session);
        }
    }
    if due.is_empty() {
        return Ok(0);
    }

    // Who plans what: one read per officer, once per run, only when a session is due.
    let officers = deps.store.officers().await?;
    let mut planned: HashMap<TrainingId, BTreeSet<OfficerId>> = HashMap::new();
    for officer in &officers {
        for item in deps.store.programme(&officer.id).await? {
            planned
                .entry(item.training_id)
                .or_default()
                .insert(officer.id.clone());
        }
    }
    let officers: HashMap<_, _> = officers.into_iter().map(|o| (o.id.clone(), o)).collect();

    let mut notices = Vec::new();
    for session in &due {
        let mut candidates = planned
            .get(&session.training_id)
            .cloned()
            .unwrap_or_default();
        candidates.extend(deps.store.interested_officers(&session.training_id).await?);
        let enrolled: BTreeSet<OfficerId> = deps
            .store
            .roster(&session.id)
            .await?
            .into_iter()
            .map(|line| line.officer.id)
            .collect();
        for officer_id in candidates.difference(&enrolled) {
            let Some(officer) = officers.get(officer_id) else {
                continue;
            };
            if officer.accompaniment_end < session.first_day
                || has_the_training(deps, officer_id, &session.training_id).await?
            {
                continue;
            }
            notices.push(Notice {
                officer_id: officer_id.clone(),
                session_id: session.id.clone(),
                kind: NoticeKind::Invitation,
                version: 0,
            });
        }
    }
    queue_and_deliver(deps, &notices, now).await
}

/// Whether the officer attended, holds or waits for a seat in some session of the training.
async fn has_the_training(deps: &Deps, officer: &OfficerId, training: &TrainingId) -> Result<bool> {
    for e in deps.store.officer_enrolments(officer).await? {
        let counts = e.status.is_active() || e.status == EnrolmentStatus::Attended;
        if !counts {
            continue;
        }
        if let Some(s) = deps.store.session(&e.session_id).await?
            && &s.training_id == training
            && s.status != SessionStatus::Cancelled
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The end of a waiting list: once a session's enrolment has closed, nobody is promoted any
/// more, and everyone still waiting is told, once, that no seat came free for them. Answers
/// how many were queued.
pub async fn close_waiting_lists(deps: &Deps) -> Result<u32> {
    let now = deps.now();
    // The close is before the start, and a session lasts at most a year.
    let query = SessionQuery {
        from: Some(now - Duration::days(CLOSED_LIST_CATCH_UP_DAYS)),
        to: Some(now + Duration::days(366)),
        ..SessionQuery::default()
    };
    let mut notices = Vec::new();
    for session in deps.store.sessions(&query).await? {
        let closed = session.enrolment_closes_at < now
            && now - session.enrolment_closes_at <= Duration::days(CLOSED_LIST_CATCH_UP_DAYS);
        if session.status != SessionStatus::Scheduled || session.waiting == 0 || !closed {
            continue;
        }
        for line in deps.store.roster(&session.id).await? {
            if line.enrolment.status == EnrolmentStatus::Waitlisted {
                notices.push(Notice {
                    officer_id: line.officer.id,
                    session_id: session.id.clone(),
                    kind: NoticeKind::WaitlistClosed,
                    version: 0,
                });
            }
        }
    }
    queue_and_deliver(deps, &notices, now).await
}

async fn queue_and_deliver(deps: &Deps, notices: &[Notice], now: Instant) -> Result<u32> {
    let queued = deps.store.queue_notices(notices, now).await?;
    if queued > 0 {
        deliver_pending(deps).await;
    }
    Ok(queued)
}
