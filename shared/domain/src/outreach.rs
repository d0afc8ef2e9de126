//! What Cassiopée tells people without anyone asking: invitations to sessions that are still
//! short of their minimum group, the end of a waiting list that never reached someone, and the
//! staff's daily digest. Each runs from the scheduled send-reminders function; each notice goes
//! through the outbox with a version of its own, so that a job run twice (the scheduler
//! delivers at least once) tells nobody twice. The notices are queued here and sent by the
//! job's drain of the outbox (`usecases::drain_outbox`).

use crate::error::Result;
use crate::ids::{OfficerId, TrainingId};
use crate::model::{EnrolmentStatus, Officer, Session, SessionStatus, Training};
use crate::notices::{
    Bounce, Clash as DigestClash, Digest, DigestSession, LateWithdrawal, UnderMinimum,
    render_digest,
};
use crate::notices::{Notice, NoticeKind, display_name, redact_addresses};
use crate::ports::SessionQuery;
use crate::time::{Instant, in_paris, paris};
use crate::usecases::{Deps, clashing_sessions, reminder_due};
use chrono::{Duration, NaiveDate, NaiveTime};
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
    deps.store.queue_notices(&notices, now).await
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
    deps.store.queue_notices(&notices, now).await
}

/// The digest goes out from this Paris hour, once a day.
const DIGEST_HOUR: u32 = 8;

/// Sessions starting within this many days are checked for their minimum group and clashes.
pub const DIGEST_HORIZON_DAYS: i64 = 21;

/// What the digest of `day` reports: the late withdrawals made in the day before the digest
/// hour, the sessions starting within [`DIGEST_HORIZON_DAYS`] still under their minimum group,
/// the emails that bounced or drew a complaint in that day, and the officers seated in two
/// overlapping upcoming sessions.
pub async fn digest_of(deps: &Deps, day: NaiveDate) -> Result<Digest> {
    let until = digest_time(day).unwrap_or_else(|| deps.now());
    let since = until - Duration::days(1);
    let trainings: HashMap<TrainingId, Training> = deps
        .store
        .trainings(true)
        .await?
        .into_iter()
        .map(|t| (t.training.id.clone(), t.training))
        .collect();
    let brief = |s: &Session| DigestSession {
        reference: s.reference.clone(),
        title: trainings
            .get(&s.training_id)
            .map(|t| t.title.clone())
            .unwrap_or_default(),
        starts_at: s.starts_at,
    };
    let mut digest = Digest {
        day,
        late_withdrawals: Vec::new(),
        under_minimum: Vec::new(),
        bounced: Vec::new(),
        clashes: Vec::new(),
    };
    // A late withdrawal is after the cut-off, so before the start: the sessions not started
    // a day ago hold them all.
    let query = SessionQuery {
        from: Some(since),
        ..SessionQuery::default()
    };
    let mut seen_pairs = BTreeSet::new();
    for session in deps.store.sessions(&query).await? {
        let roster = deps.store.roster(&session.id).await?;
        for line in &roster {
            let e = &line.enrolment;
            if e.status == EnrolmentStatus::Withdrawn
                && e.late
                && (since..until).contains(&e.updated_at)
            {
                digest.late_withdrawals.push(LateWithdrawal {
                    officer_name: officer_name(&line.officer),
                    session: brief(&session),
                    at: e.updated_at,
                });
            }
        }
        let soon = session.starts_at > until
            && session.starts_at <= until + Duration::days(DIGEST_HORIZON_DAYS)
            && session.status == SessionStatus::Scheduled;
        if !soon {
            continue;
        }
        if let Some(t) = trainings.get(&session.training_id)
            && session.seats_filled() < t.min_group
        {
            digest.under_minimum.push(UnderMinimum {
                session: brief(&session),
                confirmed: session.seats_filled(),
                min_group: t.min_group,
                capacity: session.capacity,
            });
        }
        for line in roster.iter().filter(|l| l.enrolment.status.holds_seat()) {
            for other in clashing_sessions(deps, &line.officer.id, &session).await? {
                // Each pair once, whichever of the two sessions finds it.
                let mut pair = [session.id.clone(), other.id.clone()];
                pair.sort();
                if seen_pairs.insert((line.officer.id.clone(), pair)) {
                    let (first, second) = if other.starts_at < session.starts_at {
                        (&other, &session)
                    } else {
                        (&session, &other)
                    };
                    digest.clashes.push(DigestClash {
                        officer_name: officer_name(&line.officer),
                        first: brief(first),
                        second: brief(second),
                    });
                }
            }
        }
    }
    for record in deps.store.undelivered_between(since, until).await? {
        let Some(officer) = deps.store.officer(&record.officer_id).await? else {
            continue;
        };
        digest.bounced.push(Bounce {
            officer_name: officer_name(&officer),
            address: officer.email.clone(),
            kind: record.kind.clone(),
            at: record.delivery_at.unwrap_or(until),
        });
    }
    digest.late_withdrawals.sort_by_key(|l| l.at);
    digest.under_minimum.sort_by_key(|u| u.session.starts_at);
    digest.bounced.sort_by_key(|b| b.at);
    Ok(digest)
}

/// The instant of the digest of `day`: 08:00 Paris time.
fn digest_time(day: NaiveDate) -> Option<Instant> {
    paris(day, NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0)?).ok()
}

fn officer_name(o: &Officer) -> String {
    format!(
        "{} {} {}",
        o.grade,
        o.first_name,
        display_name(&o.last_name)
    )
}

/// The staff's daily digest: from 08:00 Paris time, once a day to each member of staff (the
/// claim in the store makes a second run, or a second instance, send nothing). A day with
/// nothing to report sends nothing. Answers how many were sent.
pub async fn send_staff_digests(deps: &Deps) -> Result<u32> {
    let now = deps.now();
    let day = in_paris(now).date_naive();
    if digest_time(day).is_none_or(|t| now < t) {
        return Ok(0);
    }
    let staff = deps.store.staff_list().await?;
    let mut digest = None;
    let mut sent = 0;
    for member in staff {
        // Claimed before sending: a digest is sent at most once; a failed send is logged.
        let key = format!("digest:{}:{day}", member.id);
        if !deps.store.claim_once(&key, now).await? {
            continue;
        }
        if digest.is_none() {
            digest = Some(digest_of(deps, day).await?);
        }
        let Some(d) = digest.as_ref().filter(|d| !d.is_empty()) else {
            continue;
        };
        let email = render_digest(&member, d, &deps.notify.context(now))?;
        match deps.mailer.send(&email, None).await {
            Ok(_) => sent += 1,
            Err(e) => tracing::error!(
                staff = %member.id,
                error = %redact_addresses(&e.to_string()),
                "daily digest not sent"
            ),
        }
    }
    Ok(sent)
}
