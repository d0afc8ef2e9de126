//! Enrolment: one `TransactWriteItems` with no read before it.
//!
//! The first transaction tries to confirm. Its items and their conditions:
//!
//! | Item | Write | Condition |
//! |---|---|---|
//! | session | `ADD seats_taken 1, rev 1` | exists, `status = scheduled`, `starts_at > now`, `closes_at >= now` (not for staff), `seats_taken < capacity`, `waiting = 0` |
//! | enrolment | put | absent, or (once known) still at the change counter it was returned with |
//! | history line | put | absent |
//! | notice | put | absent (the outbox's uniqueness) |
//! | idempotency item | put (the answer) | absent |
//! | officer | condition check | exists |
//!
//! Each condition that can fail asks for the item as it was (`ReturnValuesOnConditionCheckFailure
//! = ALL_OLD`). When the transaction is cancelled, the reasons are read in the embedded store's
//! order: a stored answer is replayed; a missing session is `session-not-found`; the returned
//! session goes through `rules::check_enrolment_window` (`session-cancelled`,
//! `session-started`, `enrolment-closed`…); an active enrolment is `already-enrolled`; then,
//! when only the seat condition failed, the session as returned says whether to join the
//! waiting list or answer `session-full`.
//!
//! Joining the waiting list is a second transaction whose session item pins the list's tail
//! as returned: `SET waiting = w + 1, last_rank = rank, waiting_peak = max(p, w + 1)` on
//! condition `waiting = w AND last_rank = r AND waiting_peak = p` (plus the window, the list
//! being on, and the session still full). The newcomer's rank
//! is above every rank handed out, so its position is exactly `w + 1`, known before the write
//! and stored as the answer: positions stay 1..n with no gap or repeat however many join at
//! once. A pinned condition that fails returns the new tail, and the join tries again.
//!
//! Joins of one session inside one process queue on a local gate before that second
//! transaction, and the gate remembers the tail its last holder wrote. Without it, n officers
//! joining at once cancel each other O(n²) times; with it, each join usually commits at its
//! first attempt. The gate is only an optimisation: the conditions decide, across processes too.

use crate::items::{self, Item, Reader, micros, n, s};
use crate::keys;
use crate::tx::{Commit, MAX_OPTIMISTIC_ATTEMPTS, Role, Write, backoff};
use crate::{DynamoStore, Outbox, Prior, contention, record};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{EnrolmentId, SessionId};
use cassiopee_domain::model::{Enrolment, EnrolmentStatus, Origin, Session};
use cassiopee_domain::ports::{EnrolCommand, EnrolOutcome, Enrolled, QuotaCharge};
use cassiopee_domain::rules;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The waiting list's tail as a session item holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tail {
    waiting: u32,
    last_rank: i64,
    /// `waiting_peak` as stored (None on an item written before it was kept).
    peak: Option<u32>,
}

type Gate = Arc<tokio::sync::Mutex<Option<Tail>>>;

/// One gate per session this process has seen join its waiting list. Entries are a few bytes
/// and a process sees a few hundred sessions, so they are never evicted.
pub(crate) type Gates = Mutex<HashMap<SessionId, Gate>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    Confirm,
    Wait(Tail),
}

/// How long a stored answer is kept (the table's time to live): a request replayed later than
/// this is no longer a retry.
const IDEMPOTENCY_SECONDS: i64 = 30 * 24 * 3600;

fn already_enrolled(status: EnrolmentStatus, by_staff: bool) -> DomainError {
    let who = if by_staff {
        "Cet officier figure"
    } else {
        "Vous figurez"
    };
    DomainError::conflict(
        "already-enrolled",
        format!(
            "{who} déjà sur cette session (statut : {}).",
            status.label_fr()
        ),
    )
}

fn enrolment_final(status: EnrolmentStatus) -> DomainError {
    DomainError::conflict(
        "enrolment-final",
        format!(
            "Votre inscription à cette session est close (statut : {}).",
            status.label_fr()
        ),
    )
}

fn session_full(session: &Session) -> DomainError {
    if session.waitlist.is_on() {
        DomainError::conflict(
            "session-full",
            "Cette session est complète et ses inscriptions sont closes : la liste d'attente n'est plus ouverte.",
        )
    } else {
        DomainError::conflict("session-full", "Cette session est complète.")
    }
}

/// The stored answer to an earlier request with the same key.
fn replay(item: Option<&Item>, cmd: &EnrolCommand) -> Result<Enrolled> {
    let item = item.ok_or_else(|| {
        DomainError::internal("dynamodb enrol: idempotency item reported without its content")
    })?;
    let r = Reader(item);
    if r.s("session_id")? != cmd.session_id.as_str() {
        return Err(DomainError::invalid(
            "idempotency-key-reused",
            "Cette clé d'idempotence a déjà servi pour une autre session.",
        ));
    }
    let outcome = serde_json::from_str(&r.s("response")?).map_err(DomainError::internal)?;
    Ok(Enrolled {
        outcome,
        replayed: true,
    })
}

/// A `ClientRequestToken` (at most 36 characters) for one attempt of one keyed request.
fn request_token(scope: &str, key: &str, plan: Plan, prior: Prior) -> String {
    let plan = match plan {
        Plan::Confirm => "confirm".to_string(),
        Plan::Wait(t) => format!("wait:{}:{}", t.waiting, t.last_rank),
    };
    let prior = match prior {
        Prior::New => "new".to_string(),
        Prior::Seen { changes } => changes.to_string(),
    };
    format!(
        "{:016x}{:016x}",
        keys::fnv64(&[scope, key, &plan, &prior]),
        keys::fnv64(&[key, scope, &prior, &plan])
    )
}

impl DynamoStore {
    fn gate(&self, id: &SessionId) -> Result<Gate> {
        let mut gates = self
            .gates
            .lock()
            .map_err(|_| DomainError::internal("enrolment gates poisoned"))?;
        Ok(gates.entry(id.clone()).or_default().clone())
    }

    /// The waiting list's tail that this process last saw for a session, if it saw it full:
    /// as its gate keeps it (a gate busy with a join means the session is full too).
    fn known_tail(&self, id: &SessionId) -> Result<Option<Tail>> {
        let gate = {
            let gates = self
                .gates
                .lock()
                .map_err(|_| DomainError::internal("enrolment gates poisoned"))?;
            match gates.get(id) {
                Some(g) => g.clone(),
                None => return Ok(None),
            }
        };
        Ok(match gate.try_lock() {
            Ok(tail) => *tail,
            Err(_) => Some(Tail {
                waiting: 0,
                last_rank: 0,
                peak: None,
            }),
        })
    }

    pub(crate) async fn enrol_impl(&self, cmd: &EnrolCommand) -> Result<Enrolled> {
        let by_staff = cmd.actor.origin == Origin::Staff;
        let scope = format!("enrol:{}", cmd.officer_id);
        let fresh_id = EnrolmentId::generate();
        // An inactive enrolment that the cancellation reasons revealed: joining again reuses it.
        let mut existing: Option<(Enrolment, u32)> = None;
        // A session this process saw full goes straight to its waiting list, after the tail
        // its last join left: one transaction instead of a refused confirmation and the join.
        // The conditions still decide: a seat freed since fails the join, which then confirms.
        let mut plan = match self.known_tail(&cmd.session_id)? {
            Some(tail) => Plan::Wait(tail),
            None => Plan::Confirm,
        };
        let mut gate: Option<tokio::sync::OwnedMutexGuard<Option<Tail>>> = None;

        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            if matches!(plan, Plan::Wait(_)) {
                if gate.is_none() {
                    gate = Some(self.gate(&cmd.session_id)?.lock_owned().await);
                }
                if let Some(tail) = gate.as_deref().copied().flatten() {
                    plan = Plan::Wait(tail);
                }
            }

            let (mut e, prior, from) = match &existing {
                Some((e, changes)) => {
                    (e.clone(), Prior::Seen { changes: *changes }, Some(e.status))
                }
                None => (
                    Enrolment {
                        id: fresh_id.clone(),
                        session_id: cmd.session_id.clone(),
                        officer_id: cmd.officer_id.clone(),
                        status: EnrolmentStatus::Confirmed,
                        late: false,
                        joined_at: cmd.now,
                        confirmed_at: None,
                        offer_expires_at: None,
                        updated_at: cmd.now,
                        updated_by: cmd.actor.id.clone(),
                        origin: cmd.actor.origin,
                        rank: 0,
                    },
                    Prior::New,
                    None,
                ),
            };
            e.late = false;
            e.joined_at = cmd.now;
            e.offer_expires_at = None;
            let mut writes = Vec::new();
            let (outcome, notify, written_tail) = match plan {
                Plan::Confirm => {
                    e.status = EnrolmentStatus::Confirmed;
                    // A confirmed enrolment's rank orders nothing; the waiting list's tail is
                    // left alone so that this transaction needs no read.
                    e.rank = micros(cmd.now);
                    e.confirmed_at = Some(cmd.now);
                    writes.push(self.confirm_write(&cmd.session_id, cmd, by_staff));
                    (EnrolOutcome::Confirmed, None, None)
                }
                Plan::Wait(tail) => {
                    e.status = EnrolmentStatus::Waitlisted;
                    e.rank = rules::next_rank(cmd.now, tail.last_rank);
                    e.confirmed_at = None;
                    let position = tail.waiting + 1;
                    writes.push(wait_write(&cmd.session_id, cmd, tail, e.rank));
                    let written = Tail {
                        waiting: position,
                        last_rank: e.rank,
                        peak: Some(tail.peak.unwrap_or(0).max(position)),
                    };
                    (
                        EnrolOutcome::Waitlisted { position },
                        Some(position),
                        Some(written),
                    )
                }
            };
            let mut outbox = Outbox::new(cmd.now);
            record(
                &mut writes,
                &mut outbox,
                &mut e,
                prior,
                from,
                &cmd.actor,
                cmd.now,
                None,
                notify,
                cmd.officer.as_ref(),
            )?;
            if let Some(key) = &cmd.idempotency_key {
                let response = serde_json::to_string(&outcome).map_err(DomainError::internal)?;
                let mut item = items::keyed(&keys::idempotency(&scope, key));
                item.insert("session_id".into(), s(cmd.session_id.as_str()));
                item.insert("response".into(), s(response));
                item.insert("created_at".into(), n(micros(cmd.now)));
                item.insert(
                    keys::TTL.into(),
                    n(cmd.now.timestamp() + IDEMPOTENCY_SECONDS),
                );
                writes.push(
                    Write::put(Role::Idempotency, item)
                        .when_absent()
                        .return_old(),
                );
            }
            writes.push(Write::check(Role::Officer, keys::officer(&cmd.officer_id)).when_present());
            if let Some(q) = &cmd.quota {
                writes.push(quota_write(q));
            }

            let token = cmd
                .idempotency_key
                .as_deref()
                .map(|k| request_token(&scope, k, plan, prior));
            let failed = match self.commit(writes, token).await? {
                Commit::Done => {
                    if let (Some(guard), Some(tail)) = (gate.as_mut(), written_tail) {
                        **guard = Some(tail);
                    }
                    return Ok(Enrolled {
                        outcome,
                        replayed: false,
                    });
                }
                failed => failed,
            };

            // Why it was cancelled, in the embedded store's order of checks.
            if let Some(f) = failed.failure(Role::Idempotency) {
                return replay(f.item.as_ref(), cmd);
            }
            if let Some(q) = &cmd.quota
                && failed.failure(Role::Quota).is_some()
            {
                return Err(q.refusal(cmd.now));
            }
            let snapshot = match failed.failure(Role::Session) {
                None => None,
                Some(f) => match &f.item {
                    None => return Err(DomainError::session_not_found()),
                    Some(item) => {
                        let (session, meta) = items::session_from(item)?;
                        if meta.deleted {
                            return Err(DomainError::session_not_found());
                        }
                        Some((session, meta))
                    }
                },
            };
            if let Some((session, _)) = &snapshot {
                rules::check_enrolment_window(session, cmd.now, by_staff)?;
            }
            let enrolment_failed = failed.failure(Role::Enrolment);
            if let Some(f) = enrolment_failed {
                existing = match &f.item {
                    // Gone since it was returned: join as new.
                    None => None,
                    Some(item) => {
                        let (e, changes) = items::enrolment_from(item)?;
                        if e.status.is_active() {
                            return Err(already_enrolled(e.status, by_staff));
                        }
                        if !e.status.can_become(EnrolmentStatus::Confirmed) {
                            return Err(enrolment_final(e.status));
                        }
                        Some((e, changes))
                    }
                };
            }
            if failed.failure(Role::Officer).is_some() {
                return Err(DomainError::officer_not_found());
            }
            match snapshot {
                Some((session, meta)) => {
                    let seat_free = session.seats_taken < session.capacity && session.waiting == 0;
                    let can_wait =
                        session.waitlist.is_on() && cmd.now <= session.enrolment_closes_at;
                    plan = if seat_free {
                        Plan::Confirm
                    } else if can_wait {
                        let tail = Tail {
                            waiting: session.waiting,
                            last_rank: meta.last_rank,
                            peak: meta.stored_peak,
                        };
                        if let Some(guard) = gate.as_mut() {
                            **guard = Some(tail);
                        }
                        Plan::Wait(tail)
                    } else {
                        return Err(session_full(&session));
                    };
                }
                None if enrolment_failed.is_none() => {
                    return Err(DomainError::internal(format!(
                        "dynamodb enrol: unexpected failed conditions {failed:?}"
                    )));
                }
                None => {}
            }
            if attempt >= 4 {
                // Others outside this process keep winning the tail: let them through.
                backoff(attempt - 3).await;
            }
        }
        Err(contention("enrol"))
    }

    fn confirm_write(&self, session: &SessionId, cmd: &EnrolCommand, by_staff: bool) -> Write {
        let now = micros(cmd.now);
        let w = Write::update(Role::Session, keys::session(session))
            .add("seats_taken", n(1))
            .add("rev", n(1))
            .when_present()
            .when(not_deleted)
            .when_eq("status", s("scheduled"))
            .when(|w| format!("{} > {}", w.name("starts_at"), w.value(n(now))))
            .when(|w| format!("{} < {}", w.name("seats_taken"), w.name("capacity")))
            .when_eq("waiting", n(0))
            .return_old();
        if by_staff {
            w
        } else {
            w.when(|w| format!("{} >= {}", w.name("closes_at"), w.value(n(now))))
        }
    }
}

/// One use of a quota: a conditional update of the window's set of use ids, which grows only
/// while under the limit, so that two requests at once cannot both take the last use; adding
/// an id already there changes nothing, so that a retry after a lost answer counts once.
/// Written alone by `take_quota`, or in the enrolment's transaction.
pub(crate) fn quota_write(q: &QuotaCharge) -> Write {
    let end = q.window_start.timestamp() + q.window_seconds;
    let one = aws_sdk_dynamodb::types::AttributeValue::Ss(vec![q.use_id.clone()]);
    Write::update(Role::Quota, keys::quota(&q.subject, micros(q.window_start)))
        .add("uses", one)
        .set(keys::TTL, n(end))
        .when(|w| {
            let uses = w.name("uses");
            let id = w.value(s(q.use_id.as_str()));
            format!(
                "attribute_not_exists({uses}) OR size({uses}) < {} OR contains({uses}, {id})",
                w.value(n(q.limit))
            )
        })
        .return_old()
}

fn not_deleted(w: &mut Write) -> String {
    format!("attribute_not_exists({})", w.name(items::DELETED))
}

fn wait_write(session: &SessionId, cmd: &EnrolCommand, tail: Tail, rank: i64) -> Write {
    let now = micros(cmd.now);
    let peak = tail.peak.unwrap_or(0).max(tail.waiting + 1);
    Write::update(Role::Session, keys::session(session))
        .set("waiting", n(tail.waiting + 1))
        .set("last_rank", n(rank))
        .set("waiting_peak", n(peak))
        .add("rev", n(1))
        .when_present()
        .when(not_deleted)
        .when(|w| match tail.peak {
            Some(p) => format!("{} = {}", w.name("waiting_peak"), w.value(n(p))),
            None => format!("attribute_not_exists({})", w.name("waiting_peak")),
        })
        .when_eq("status", s("scheduled"))
        .when(|w| format!("{} > {}", w.name("starts_at"), w.value(n(now))))
        .when(|w| format!("{} >= {}", w.name("closes_at"), w.value(n(now))))
        .when(|w| {
            format!(
                "{} <> {}",
                w.name("waitlist_mode"),
                w.value(s(items::WAITLIST_OFF))
            )
        })
        .when_eq("waiting", n(tail.waiting))
        .when_eq("last_rank", n(tail.last_rank))
        .when(|w| {
            format!(
                "{} >= {} OR {} > {}",
                w.name("seats_taken"),
                w.name("capacity"),
                w.name("waiting"),
                w.value(n(0))
            )
        })
        .return_old()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tokens_fit_dynamodb_and_differ_per_attempt() {
        let a = request_token("enrol:X", "k-1", Plan::Confirm, Prior::New);
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            request_token("enrol:X", "k-1", Plan::Confirm, Prior::New)
        );
        let tail = Tail {
            waiting: 3,
            last_rank: 9,
            peak: Some(4),
        };
        assert_ne!(
            a,
            request_token("enrol:X", "k-1", Plan::Wait(tail), Prior::New)
        );
        assert_ne!(
            a,
            request_token("enrol:X", "k-1", Plan::Confirm, Prior::Seen { changes: 2 })
        );
    }
}
