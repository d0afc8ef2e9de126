//! The catalogue, sessions and their planning, rosters, programme and interest.

use crate::items::{self, SessionMeta, micros, n, s};
use crate::keys;
use crate::outbox::SessionNotices;
use crate::tx::{Commit, MAX_OPTIMISTIC_ATTEMPTS, Query, Role, SortOp, Write, backoff};
use crate::{DynamoStore, contention};
use aws_sdk_dynamodb::types::AttributeValue;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{OfficerId, SessionId, TrainingId};
use cassiopee_domain::model::{
    Actor, EnrolmentStatus, Feedback, Officer, ProgrammeItem, Session, SessionStatus, Training,
};
use cassiopee_domain::notices::{self, NoticeKind};
use cassiopee_domain::ports::{
    RosterLine, SessionPatch, SessionQuery, SessionUpdated, TrainingDemand,
};
use cassiopee_domain::rules;
use cassiopee_domain::time::Instant;
use std::collections::HashMap;

fn code_taken(code: &str) -> DomainError {
    DomainError::conflict(
        "training-code-taken",
        format!("Le code de formation {code} est déjà utilisé."),
    )
}

fn reference_taken(reference: &str) -> DomainError {
    DomainError::conflict(
        "session-reference-taken",
        format!("La référence de session {reference} est déjà utilisée."),
    )
}

/// Sets the planning attributes of a session (and removes the trainer when there is none).
pub(crate) fn set_planning(mut w: Write, session: &Session) -> Write {
    for (k, v) in items::session_planning(session) {
        w = w.set(k, v);
    }
    if session.trainer.is_none() {
        w = w.remove("trainer");
    }
    w
}

/// A condition on the training's demand counter as read: an interest registered in between
/// fails it, so that nobody interested misses the notice of a new session.
fn interested_was(w: Write, seen: u32) -> Write {
    if seen == 0 {
        w.when(|w| {
            let name = w.name("interested");
            format!("attribute_not_exists({name}) OR {name} = {}", w.value(n(0)))
        })
    } else {
        w.when_eq("interested", n(seen))
    }
}

/// Sorting rank of a status in a roster: seated first, then offers, then the waiting list.
fn roster_group(status: EnrolmentStatus) -> u8 {
    match status {
        EnrolmentStatus::Confirmed
        | EnrolmentStatus::Attended
        | EnrolmentStatus::Absent
        | EnrolmentStatus::Excused => 0,
        EnrolmentStatus::Offered => 1,
        EnrolmentStatus::Waitlisted => 2,
        _ => 3,
    }
}

impl DynamoStore {
    pub(crate) async fn trainings_impl(
        &self,
        include_archived: bool,
    ) -> Result<Vec<TrainingDemand>> {
        let mut out = Vec::new();
        for item in self.collection(keys::TRAINING_KIND).await? {
            let training = items::training_from(&item)?;
            if training.archived && !include_archived {
                continue;
            }
            let interested = items::Reader(&item).u32_or_zero("interested")?;
            out.push(TrainingDemand {
                training,
                interested,
            });
        }
        out.sort_by(|a, b| a.training.code.cmp(&b.training.code));
        Ok(out)
    }

    pub(crate) async fn insert_training_impl(&self, t: &Training) -> Result<()> {
        let mut guard = items::keyed(&keys::training_code(&t.code));
        guard.insert("training_id".into(), s(t.id.as_str()));
        let writes = vec![
            Write::put(Role::Training, items::training_item(t, true)).when_absent(),
            Write::put(Role::Guard, guard).when_absent(),
        ];
        match self.commit(writes, None).await? {
            Commit::Done => Ok(()),
            // A code in use, or (as the embedded store's primary key would say) an id in use.
            Commit::Failed(_) => Err(code_taken(&t.code)),
        }
    }

    pub(crate) async fn update_training_impl(&self, t: &Training) -> Result<()> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let Some(item) = self.get(&keys::training(&t.id)).await? else {
                return Err(DomainError::training_not_found());
            };
            let old = items::training_from(&item)?;
            let mut update = Write::update(Role::Training, keys::training(&t.id))
                .when_present()
                .when_eq("code", s(&old.code));
            for (k, v) in items::training_fields(t) {
                update = update.set(k, v);
            }
            let mut writes = vec![update.set(items::EDITED, AttributeValue::Bool(true))];
            if old.code != t.code {
                let mut guard = items::keyed(&keys::training_code(&t.code));
                guard.insert("training_id".into(), s(t.id.as_str()));
                writes.push(Write::put(Role::Guard, guard).when_absent());
                writes.push(
                    Write::delete(Role::Training, keys::training_code(&old.code))
                        .when_eq("training_id", s(t.id.as_str())),
                );
            }
            match self.commit(writes, None).await? {
                Commit::Done => return Ok(()),
                c if c.failure(Role::Guard).is_some() => return Err(code_taken(&t.code)),
                _ => backoff(attempt).await,
            }
        }
        Err(contention("update_training"))
    }

    pub(crate) async fn sessions_impl(&self, q: &SessionQuery) -> Result<Vec<Session>> {
        // The catalogue is read only to filter on a training's theme or modality: trainings
        // are archived, never deleted, so every session has its own.
        let filters_on_training = q.theme.is_some() || q.modality.is_some();
        let trainings: HashMap<TrainingId, Training> = if filters_on_training {
            self.collection(keys::TRAINING_KIND)
                .await?
                .iter()
                .map(|i| items::training_from(i).map(|t| (t.id.clone(), t)))
                .collect::<Result<_>>()?
        } else {
            HashMap::new()
        };
        if let (Some(from), Some(to)) = (q.from, q.to)
            && from > to
        {
            return Ok(Vec::new());
        }
        let mut query = Query::global(keys::GSI1, keys::GSI1PK, keys::SESSION_KIND);
        // `gsi1sk` is `<starts_at>#<reference>`: a start bound on its own sorts before every
        // key of that instant.
        query = match (q.from, q.to) {
            (Some(from), Some(to)) => query.sort(
                SortOp::Between(keys::sortable(micros(to))),
                keys::GSI1SK,
                keys::sortable(micros(from)),
            ),
            (Some(from), None) => {
                query.sort(SortOp::Ge, keys::GSI1SK, keys::sortable(micros(from)))
            }
            (None, Some(to)) => query.sort(SortOp::Lt, keys::GSI1SK, keys::sortable(micros(to))),
            (None, None) => query,
        };
        let mut out = Vec::new();
        for item in self.query(query).await? {
            let (session, _) = items::session_from(&item)?;
            // `BETWEEN` includes the upper bound's prefix: the end is exclusive.
            if q.to.is_some_and(|to| session.starts_at >= to) {
                continue;
            }
            if filters_on_training {
                let Some(training) = trainings.get(&session.training_id) else {
                    continue;
                };
                // SQLite's lower() folds ASCII letters only; fold the same way.
                if q.theme
                    .as_ref()
                    .is_some_and(|theme| !training.theme.eq_ignore_ascii_case(theme))
                {
                    continue;
                }
                if q.modality.is_some_and(|m| training.modality != m) {
                    continue;
                }
            }
            if q.training_id
                .as_ref()
                .is_some_and(|t| session.training_id != *t)
            {
                continue;
            }
            if q.available_only && session.seats_taken >= session.capacity {
                continue;
            }
            if !q.include_cancelled && session.status == SessionStatus::Cancelled {
                continue;
            }
            out.push(session);
        }
        Ok(out)
    }

    /// The officers who registered interest in a training, in the order they did.
    pub(crate) async fn interested_in(&self, training: &TrainingId) -> Result<Vec<OfficerId>> {
        let mut interests = self
            .query(Query::table(keys::training_partition(training)).sort(
                SortOp::BeginsWith,
                keys::SK,
                keys::INTEREST_PREFIX,
            ))
            .await?
            .iter()
            .map(|i| {
                let r = items::Reader(i);
                Ok((r.i64("at")?, OfficerId::from_stored(r.s("officer_id")?)))
            })
            .collect::<Result<Vec<_>>>()?;
        interests.sort();
        Ok(interests.into_iter().map(|(_, o)| o).collect())
    }

    pub(crate) async fn insert_session_impl(&self, se: &Session, now: Instant) -> Result<()> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let training = self.get(&keys::training(&se.training_id)).await?;
            let Some(training) = training else {
                return Err(DomainError::training_not_found());
            };
            let seen = items::Reader(&training).u32_or_zero("interested")?;
            let officers = self.interested_in(&se.training_id).await?;

            let meta = SessionMeta {
                rev: 0,
                last_rank: 0,
                edited_in_app: true,
                ..SessionMeta::default()
            };
            let mut guard = items::keyed(&keys::session_reference(&se.reference));
            guard.insert("session_id".into(), s(se.id.as_str()));
            let mut writes = vec![
                Write::put(Role::Session, items::session_item(se, meta)).when_absent(),
                Write::put(Role::Guard, guard).when_absent(),
                interested_was(
                    Write::check(Role::Training, keys::training(&se.training_id)).when_present(),
                    seen,
                ),
            ];
            let notices = SessionNotices::new(&se.id, NoticeKind::SessionOpened, 1, officers, now)?;
            writes.extend(notices.writes()?);
            match self.commit(writes, None).await? {
                Commit::Done => {
                    notices.expand(self).await?;
                    return Ok(());
                }
                c if c.failure(Role::Session).is_some() || c.failure(Role::Guard).is_some() => {
                    return Err(reference_taken(&se.reference));
                }
                _ => backoff(attempt).await,
            }
        }
        Err(contention("insert_session"))
    }

    pub(crate) async fn update_session_impl(
        &self,
        id: &SessionId,
        patch: &SessionPatch,
        _actor: &Actor,
        now: Instant,
    ) -> Result<SessionUpdated> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let (mut se, meta) = self.load_session(id).await?;
            if se.status != SessionStatus::Scheduled {
                return Err(DomainError::conflict(
                    "session-not-editable",
                    "Une session annulée ou terminée ne peut plus être modifiée.",
                ));
            }
            let before = se.clone();
            if let Some(mode) = patch.waitlist {
                if !mode.is_on() && se.waiting > 0 {
                    return Err(DomainError::conflict(
                        "waitlist-not-empty",
                        format!(
                            "Impossible de désactiver la liste d'attente : {} officier(s) y figurent.",
                            se.waiting
                        ),
                    ));
                }
                se.waitlist = mode;
            }
            let mut enrolments = None;
            if let Some(capacity) = patch.capacity {
                let list = self.enrolments_of(id).await?;
                let count = |st: EnrolmentStatus| {
                    list.iter().filter(|(e, _)| e.status == st).count() as u32
                };
                rules::check_capacity(
                    capacity,
                    se.waitlist,
                    count(EnrolmentStatus::Confirmed),
                    count(EnrolmentStatus::Offered),
                )?;
                se.capacity = capacity;
                enrolments = Some(list);
            } else if se.capacity == 0 && !se.waitlist.is_on() {
                rules::check_capacity(0, se.waitlist, 0, 0)?;
            }
            if let Some(sched) = &patch.schedule {
                se.first_day = sched.first_day;
                se.last_day = sched.last_day;
                se.hours = sched.hours;
                se.starts_at = sched.starts_at;
                se.ends_at = sched.ends_at;
                se.enrolment_closes_at = sched.enrolment_closes_at;
                se.free_withdrawal_until = sched.free_withdrawal_until;
            }
            if let Some(place) = &patch.place {
                se.place = place.clone();
            }
            if let Some(trainer) = &patch.trainer {
                se.trainer = trainer.clone();
            }
            let changes = notices::session_changes(&before, &se);
            let materially_changed = !changes.is_empty();
            if se.starts_at != before.starts_at || se.ends_at != before.ends_at {
                if now >= before.starts_at {
                    return Err(DomainError::conflict(
                        "session-started",
                        "Cette session a déjà commencé : ses dates ne peuvent plus être modifiées.",
                    ));
                }
                if se.starts_at <= now {
                    return Err(DomainError::field(
                        "first_day",
                        "Une session ne peut être déplacée dans le passé.",
                    ));
                }
            }
            if materially_changed {
                se.schedule_version += 1;
            }
            let write = set_planning(Write::update(Role::Session, keys::session(id)), &se)
                .set(items::EDITED, AttributeValue::Bool(true))
                .add("rev", n(1))
                .when_eq("rev", n(meta.rev));
            let mut writes = vec![write];
            let mut notices = None;
            if materially_changed {
                let list = match enrolments {
                    Some(list) => list,
                    None => self.enrolments_of(id).await?,
                };
                let active = list
                    .into_iter()
                    .filter(|(e, _)| e.status.is_active())
                    .map(|(e, _)| e.officer_id)
                    .collect();
                let batch = SessionNotices::new(
                    id,
                    NoticeKind::SessionChanged { changes },
                    se.schedule_version,
                    active,
                    now,
                )?;
                writes.extend(batch.writes()?);
                notices = Some(batch);
            }
            if let Commit::Done = self.commit(writes, None).await? {
                if let Some(batch) = notices {
                    batch.expand(self).await?;
                }
                return Ok(SessionUpdated {
                    capacity_raised: se.capacity > before.capacity,
                    materially_changed,
                    session: se,
                });
            }
            backoff(attempt).await;
        }
        Err(contention("update_session"))
    }

    pub(crate) async fn cancel_session_impl(
        &self,
        id: &SessionId,
        _actor: &Actor,
        now: Instant,
    ) -> Result<Session> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let (mut se, meta) = self.load_session(id).await?;
            match se.status {
                SessionStatus::Scheduled => {}
                SessionStatus::Cancelled => {
                    return Err(DomainError::conflict(
                        "session-cancelled",
                        "Cette session est déjà annulée.",
                    ));
                }
                SessionStatus::Completed => {
                    return Err(DomainError::conflict(
                        "session-completed",
                        "Une session terminée ne peut être annulée.",
                    ));
                }
            }
            if now >= se.starts_at {
                return Err(DomainError::conflict(
                    "session-started",
                    "Cette session a déjà commencé : elle ne peut plus être annulée.",
                ));
            }
            se.status = SessionStatus::Cancelled;
            let active = self
                .enrolments_of(id)
                .await?
                .into_iter()
                .filter(|(e, _)| e.status.is_active())
                .map(|(e, _)| e.officer_id)
                .collect();
            let mut writes = vec![
                Write::update(Role::Session, keys::session(id))
                    .set("status", s(SessionStatus::Cancelled.as_str()))
                    .add("rev", n(1))
                    .when_eq("rev", n(meta.rev)),
            ];
            let notices = SessionNotices::new(id, NoticeKind::SessionCancelled, 1, active, now)?;
            writes.extend(notices.writes()?);
            if let Commit::Done = self.commit(writes, None).await? {
                notices.expand(self).await?;
                return Ok(se);
            }
            backoff(attempt).await;
        }
        Err(contention("cancel_session"))
    }

    /// Soft delete, as the embedded store's: refused while an enrolment is live; the revision
    /// condition makes sure none became live since the enrolments were read.
    pub(crate) async fn delete_session_impl(
        &self,
        id: &SessionId,
        _actor: &Actor,
        now: Instant,
    ) -> Result<()> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let (_, meta) = self.load_session(id).await?;
            let live = self
                .enrolments_of(id)
                .await?
                .iter()
                .filter(|(e, _)| e.status.is_active() || items::is_marked(e.status))
                .count() as u32;
            if live > 0 {
                return Err(DomainError::session_not_deletable(live));
            }
            let write = Write::update(Role::Session, keys::session(id))
                .set(items::DELETED, n(micros(now)))
                .remove(keys::GSI1PK)
                .add("rev", n(1))
                .when_eq("rev", n(meta.rev));
            if let Commit::Done = self.commit(vec![write], None).await? {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(contention("delete_session"))
    }

    /// One answer per (officer, session), from an officer marked present: the feedback item's
    /// absence and the enrolment's status are the transaction's conditions.
    pub(crate) async fn save_feedback_impl(&self, f: &Feedback) -> Result<()> {
        let writes = vec![
            Write::put(Role::Feedback, items::feedback_item(f)).when_absent(),
            Write::check(
                Role::Enrolment,
                keys::enrolment(&f.session_id, &f.officer_id),
            )
            .when_eq("status", s(EnrolmentStatus::Attended.as_str())),
        ];
        match self.commit(writes, None).await? {
            Commit::Done => Ok(()),
            c if c.failure(Role::Enrolment).is_some() => Err(DomainError::feedback_not_attended()),
            _ => Err(DomainError::feedback_already_given()),
        }
    }

    /// One Query of the session's enrolments, which carry a copy of their officer's record.
    /// Only enrolments written before they carried one make the officers be read, in one
    /// BatchGetItem of those alone.
    pub(crate) async fn roster_impl(&self, sid: &SessionId) -> Result<Vec<RosterLine>> {
        let enrolments = self
            .query(Query::table(keys::session_partition(sid)).sort(
                SortOp::BeginsWith,
                keys::SK,
                keys::ENROLMENT_PREFIX,
            ))
            .await?
            .iter()
            .map(|item| {
                let (e, _) = items::enrolment_from(item)?;
                Ok((e, items::officer_copy_from(item)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let uncopied: Vec<OfficerId> = enrolments
            .iter()
            .filter(|(_, copy)| copy.is_none())
            .map(|(e, _)| e.officer_id.clone())
            .collect();
        let officers = if uncopied.is_empty() {
            HashMap::new()
        } else {
            self.officers_by_id(&uncopied).await?
        };
        // An enrolment whose officer was erased shows with the pseudonym's stand-in, as the
        // embedded store's row for it does (the erasure writes it as the copy; an enrolment
        // without one finds no officer under the pseudonym).
        let mut lines: Vec<RosterLine> = enrolments
            .into_iter()
            .map(|(e, copy)| {
                let officer = copy
                    .or_else(|| officers.get(&e.officer_id).cloned())
                    .unwrap_or_else(|| Officer::erased(e.officer_id.clone()));
                RosterLine {
                    enrolment: e,
                    officer,
                    position: None,
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            let key = |l: &RosterLine| {
                let status = l.enrolment.status;
                (
                    roster_group(status),
                    if status == EnrolmentStatus::Waitlisted {
                        l.enrolment.rank
                    } else {
                        0
                    },
                )
            };
            key(a)
                .cmp(&key(b))
                .then_with(|| a.officer.last_name.cmp(&b.officer.last_name))
                .then_with(|| a.officer.first_name.cmp(&b.officer.first_name))
                .then_with(|| a.enrolment.id.cmp(&b.enrolment.id))
        });
        let mut position = 0;
        for line in &mut lines {
            if line.enrolment.status == EnrolmentStatus::Waitlisted {
                position += 1;
                line.position = Some(position);
            }
        }
        Ok(lines)
    }

    pub(crate) async fn confirmed_between_impl(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<(Session, cassiopee_domain::model::Enrolment)>> {
        let sessions = self
            .sessions_impl(&SessionQuery {
                from: Some(from),
                to: Some(to),
                include_cancelled: true,
                ..Default::default()
            })
            .await?;
        let mut out = Vec::new();
        for session in sessions {
            if session.status != SessionStatus::Scheduled {
                continue;
            }
            for (e, _) in self.enrolments_of(&session.id).await? {
                if e.status == EnrolmentStatus::Confirmed {
                    out.push((session.clone(), e));
                }
            }
        }
        out.sort_by(|a, b| (a.0.starts_at, &a.1.id).cmp(&(b.0.starts_at, &b.1.id)));
        Ok(out)
    }

    pub(crate) async fn plan_training_impl(&self, item: &ProgrammeItem) -> Result<()> {
        let writes = vec![
            Write::update(
                Role::Programme,
                keys::plan(&item.officer_id, &item.training_id),
            )
            .set("officer_id", s(item.officer_id.as_str()))
            .set("training_id", s(item.training_id.as_str()))
            .set("kind", s(item.kind.as_str()))
            .set_once("planned_by", s(&item.planned_by))
            .set_once("planned_at", n(micros(item.planned_at))),
            Write::check(Role::Officer, keys::officer(&item.officer_id)).when_present(),
            Write::check(Role::Training, keys::training(&item.training_id)).when_present(),
        ];
        match self.commit(writes, None).await? {
            Commit::Done => Ok(()),
            c if c.failure(Role::Officer).is_some() => Err(DomainError::officer_not_found()),
            _ => Err(DomainError::training_not_found()),
        }
    }

    pub(crate) async fn register_interest_impl(
        &self,
        o: &OfficerId,
        t: &TrainingId,
        now: Instant,
    ) -> Result<bool> {
        let mut interest = items::keyed(&keys::interest(t, o));
        interest.insert("officer_id".into(), s(o.as_str()));
        interest.insert("training_id".into(), s(t.as_str()));
        interest.insert("at".into(), n(micros(now)));
        let writes = vec![
            Write::put(Role::Interest, interest).when_absent(),
            Write::update(Role::Training, keys::training(t))
                .add("interested", n(1))
                .when_present(),
            Write::check(Role::Officer, keys::officer(o)).when_present(),
        ];
        match self.commit(writes, None).await? {
            Commit::Done => Ok(true),
            c if c.failure(Role::Interest).is_some() => Ok(false),
            c if c.failure(Role::Officer).is_some() => Err(DomainError::officer_not_found()),
            _ => Err(DomainError::training_not_found()),
        }
    }
}
