//! The operations that move people after they enrolled: withdraw, answer an offer, promote,
//! expire offers, move in the waiting list, mark attendance.
//!
//! Each reads the session and the enrolments it needs (strongly consistent), applies the same
//! rules as the embedded store, and writes in one transaction whose conditions re-check what
//! it read: the session's `rev` (unchanged means no enrolment of the session changed either)
//! and each enrolment's `changes`. The session's counters are written as absolute values,
//! which those conditions make safe, and never above the capacity.
//!
//! A withdrawal reads the session, the officer's enrolment and the waiting list in one Query
//! of the session's partition, and gives the seat it frees to the head of the list in its own
//! transaction (the promotion that its SeatReleased event runs then finds nothing to do).

use crate::items::{self, is_marked, micros, n, s};
use crate::keys;
use crate::tx::{
    Commit, Filter, MAX_OPTIMISTIC_ATTEMPTS, MAX_TX_ITEMS, Query, Role, SortOp, Write, backoff,
};
use crate::{DynamoStore, Outbox, Prior, contention, record, save_counters, touch_session};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::model::{Actor, Enrolment, EnrolmentStatus, Session, SessionStatus};
use cassiopee_domain::ports::{Promoted, WithdrawCommand, WithdrawOutcome, Withdrawal};
use cassiopee_domain::rules::{self, WithdrawalTiming};
use cassiopee_domain::time::Instant;

fn not_enrolled() -> DomainError {
    DomainError::not_found(
        "enrolment-not-found",
        "Vous n'êtes pas inscrit(e) à cette session.",
    )
}

/// Promotions per transaction: the session item, then an enrolment, its history line and its
/// notice for each.
const PROMOTIONS_PER_TX: usize = (MAX_TX_ITEMS - 1) / 3;

impl DynamoStore {
    /// One Query of the session's partition (the session, the officer's enrolment and the
    /// waiting list), then one transaction that withdraws and, when a seat is freed and the
    /// rules allow it, gives it to the head of the list, as the embedded store does. The
    /// session's `rev` condition fails the transaction if anything in the session changed
    /// since the Query: it is read and tried again.
    pub(crate) async fn withdraw_impl(&self, cmd: &WithdrawCommand) -> Result<Withdrawal> {
        let me = cmd.officer_id.as_str().to_string();
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            // Only the session item, the officer's enrolment and those waiting come back.
            let filter = Filter::default().when(|f| {
                format!(
                    "attribute_exists({}) OR {} = {} OR {} = {}",
                    f.name("capacity"),
                    f.name("status"),
                    f.value(s(EnrolmentStatus::Waitlisted.as_str())),
                    f.name("officer_id"),
                    f.value(s(me.clone())),
                )
            });
            let (mut session, meta, enrolments) =
                self.load_session_with(&cmd.session_id, filter).await?;
            let (mine, mut line): (Vec<_>, Vec<_>) = enrolments
                .into_iter()
                .partition(|(e, _)| e.officer_id == cmd.officer_id);
            let (mut e, changes) = mine
                .into_iter()
                .next()
                .filter(|(e, _)| e.status.is_active())
                .ok_or_else(not_enrolled)?;
            let from = e.status;
            let outcome = match from {
                EnrolmentStatus::Confirmed => {
                    let timing = rules::check_withdrawal(&session, cmd.now)?;
                    e.status = EnrolmentStatus::Withdrawn;
                    e.late = timing == WithdrawalTiming::Late;
                    session.seats_taken = session.seats_taken.saturating_sub(1);
                    WithdrawOutcome::Withdrawn { late: e.late }
                }
                EnrolmentStatus::Offered => {
                    e.status = EnrolmentStatus::Declined;
                    e.offer_expires_at = None;
                    session.seats_taken = session.seats_taken.saturating_sub(1);
                    WithdrawOutcome::DeclinedOffer
                }
                _ => {
                    e.status = EnrolmentStatus::Declined;
                    session.waiting = session.waiting.saturating_sub(1);
                    WithdrawOutcome::LeftWaitlist
                }
            };
            let mut writes = Vec::new();
            let mut outbox = Outbox::new(cmd.now);
            record(
                &mut writes,
                &mut outbox,
                &mut e,
                Prior::Seen { changes },
                Some(from),
                &cmd.actor,
                cmd.now,
                None,
                None,
                None,
            )?;
            let promoted = if outcome == WithdrawOutcome::LeftWaitlist {
                Vec::new()
            } else {
                line.retain(|(o, _)| o.status == EnrolmentStatus::Waitlisted);
                line.sort_by(|(a, _), (b, _)| (a.rank, &a.id).cmp(&(b.rank, &b.id)));
                promote_next(
                    &mut session,
                    &mut line.into_iter(),
                    1,
                    &mut writes,
                    &mut outbox,
                    cmd.now,
                )?
            };
            writes.push(save_counters(&session, meta, None));
            if let Commit::Done = self.commit(writes, None).await? {
                return Ok(Withdrawal { outcome, promoted });
            }
            backoff(attempt).await;
        }
        Err(contention("withdraw"))
    }

    pub(crate) async fn answer_offer_impl(
        &self,
        sid: &SessionId,
        oid: &OfficerId,
        accept: bool,
        actor: &Actor,
        now: Instant,
    ) -> Result<EnrolmentStatus> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let (mut session, meta) = self.load_session(sid).await?;
            let (mut e, changes) = self
                .load_enrolment(sid, oid)
                .await?
                .filter(|(e, _)| e.status == EnrolmentStatus::Offered)
                .ok_or_else(|| {
                    DomainError::not_found(
                        "offer-not-found",
                        "Aucune place ne vous est proposée pour cette session.",
                    )
                })?;
            if e.offer_expires_at.is_some_and(|t| t <= now) {
                return Err(DomainError::conflict(
                    "offer-expired",
                    "Le délai pour accepter cette place est dépassé.",
                ));
            }
            let mut writes = Vec::new();
            if accept {
                rules::check_enrolment_window(&session, now, true)?;
                e.status = EnrolmentStatus::Confirmed;
                e.confirmed_at = Some(now);
                writes.push(touch_session(sid, meta));
            } else {
                e.status = EnrolmentStatus::Declined;
                session.seats_taken = session.seats_taken.saturating_sub(1);
                writes.push(save_counters(&session, meta, None));
            }
            e.offer_expires_at = None;
            let mut outbox = Outbox::new(now);
            record(
                &mut writes,
                &mut outbox,
                &mut e,
                Prior::Seen { changes },
                Some(EnrolmentStatus::Offered),
                actor,
                now,
                None,
                None,
                None,
            )?;
            if let Commit::Done = self.commit(writes, None).await? {
                return Ok(e.status);
            }
            backoff(attempt).await;
        }
        Err(contention("answer_offer"))
    }

    /// Gives free seats to the next in line while the rules allow it, as the embedded store's
    /// `promote_in` does; more than a transaction's worth commits in several transactions, each
    /// leaving the counters true. With nothing to give (no free seat, nobody waiting, or the
    /// rules say no), the session's read is the only call.
    pub(crate) async fn promote_impl(
        &self,
        sid: &SessionId,
        now: Instant,
    ) -> Result<Vec<Promoted>> {
        let mut promoted = Vec::new();
        let mut attempt = 0;
        loop {
            let (mut session, meta) = self.load_session(sid).await?;
            if !can_promote(&session, now) {
                return Ok(promoted);
            }
            let mut line = self.waiting_list(sid).await?.into_iter();
            let mut writes = Vec::new();
            let mut outbox = Outbox::new(now);
            let batch = promote_next(
                &mut session,
                &mut line,
                PROMOTIONS_PER_TX,
                &mut writes,
                &mut outbox,
                now,
            )?;
            if batch.is_empty() {
                return Ok(promoted);
            }
            let full = batch.len() == PROMOTIONS_PER_TX;
            writes.push(save_counters(&session, meta, None));
            match self.commit(writes, None).await? {
                Commit::Done => {
                    promoted.extend(batch);
                    if !full {
                        return Ok(promoted);
                    }
                }
                Commit::Failed(_) => {
                    attempt += 1;
                    if attempt >= MAX_OPTIMISTIC_ATTEMPTS {
                        return Err(contention("promote"));
                    }
                    backoff(attempt).await;
                }
            }
        }
    }

    /// Expires the offers whose time is up, one transaction each, then answers the open
    /// sessions with a free seat and people waiting.
    pub(crate) async fn expire_offers_impl(&self, now: Instant) -> Result<Vec<SessionId>> {
        let due = self
            .query(
                Query::global(keys::GSI3, keys::GSI3PK, keys::OFFERS_QUEUE).sort(
                    SortOp::Lt,
                    keys::GSI3SK,
                    keys::sortable_upper(micros(now)),
                ),
            )
            .await?;
        let actor = Actor::system("offer-expiry");
        for item in due {
            let (listed, _) = items::enrolment_from(&item)?;
            let mut attempt = 0;
            loop {
                // The index may lag: the enrolment as it is decides.
                let (mut session, meta) = self.load_session(&listed.session_id).await?;
                let Some((mut e, changes)) = self
                    .load_enrolment(&listed.session_id, &listed.officer_id)
                    .await?
                else {
                    break;
                };
                if e.status != EnrolmentStatus::Offered
                    || e.offer_expires_at.is_none_or(|t| t > now)
                {
                    break;
                }
                session.seats_taken = session.seats_taken.saturating_sub(1);
                e.status = EnrolmentStatus::OfferExpired;
                let mut writes = vec![save_counters(&session, meta, None)];
                let mut outbox = Outbox::new(now);
                record(
                    &mut writes,
                    &mut outbox,
                    &mut e,
                    Prior::Seen { changes },
                    Some(EnrolmentStatus::Offered),
                    &actor,
                    now,
                    None,
                    None,
                    None,
                )?;
                if let Commit::Done = self.commit(writes, None).await? {
                    break;
                }
                attempt += 1;
                if attempt >= MAX_OPTIMISTIC_ATTEMPTS {
                    return Err(contention("expire_offers"));
                }
                backoff(attempt).await;
            }
        }
        let filter = Filter::default()
            .when(|f| format!("{} = {}", f.name("status"), f.value(s("scheduled"))))
            .when(|f| format!("{} < {}", f.name("seats_taken"), f.name("capacity")))
            .when(|f| format!("{} > {}", f.name("waiting"), f.value(n(0))))
            .when(|f| format!("{} >= {}", f.name("closes_at"), f.value(n(micros(now)))));
        self.query(
            Query::global(keys::GSI1, keys::GSI1PK, keys::SESSION_KIND)
                .sort(SortOp::Gt, keys::GSI1SK, keys::sortable_upper(micros(now)))
                .filter(filter),
        )
        .await?
        .iter()
        .map(|item| items::session_from(item).map(|(s, _)| s.id))
        .collect()
    }

    pub(crate) async fn move_in_waitlist_impl(
        &self,
        sid: &SessionId,
        oid: &OfficerId,
        position: u32,
        reason: &str,
        actor: &Actor,
        now: Instant,
    ) -> Result<u32> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let (_, meta) = self.load_session(sid).await?;
            let (mut e, changes) = self
                .load_enrolment(sid, oid)
                .await?
                .filter(|(e, _)| e.status == EnrolmentStatus::Waitlisted)
                .ok_or_else(|| {
                    DomainError::not_found(
                        "not-waitlisted",
                        "Cet officier n'est pas sur la liste d'attente.",
                    )
                })?;
            let others: Vec<_> = self
                .waiting_list(sid)
                .await?
                .into_iter()
                .filter(|(o, _)| o.id != e.id)
                .collect();
            let ranks: Vec<i64> = others.iter().map(|(o, _)| o.rank).collect();
            let Some(rank) = rules::rank_for_position(&ranks, position as usize) else {
                // Neighbours are adjacent: space the whole list out, keeping its order, then
                // start over from what is stored.
                self.renumber(sid, meta, &others).await?;
                continue;
            };
            e.rank = rank;
            // The entry lands at the asked position, or last when that is beyond the list.
            let told = (position as usize).max(1).min(ranks.len() + 1) as u32;
            let mut writes = Vec::new();
            let w = touch_session(sid, meta);
            writes.push(if rank > meta.last_rank {
                w.set("last_rank", n(rank))
            } else {
                w
            });
            let mut outbox = Outbox::new(now);
            record(
                &mut writes,
                &mut outbox,
                &mut e,
                Prior::Seen { changes },
                Some(EnrolmentStatus::Waitlisted),
                actor,
                now,
                Some(reason),
                Some(told),
                None,
            )?;
            if let Commit::Done = self.commit(writes, None).await? {
                let ahead = others
                    .iter()
                    .filter(|(o, _)| (o.rank, &o.id) < (e.rank, &e.id))
                    .count();
                return Ok(ahead as u32 + 1);
            }
            backoff(attempt).await;
        }
        Err(contention("move_in_waitlist"))
    }

    /// Gives the waiting list ranks a million apart, above every rank handed out, in order.
    /// The list is rewritten from its tail, a transaction at a time: the part already
    /// rewritten sits above the part not yet rewritten, so the order holds at every step, and a
    /// concurrent change stops the renumbering at a consistent point (the caller starts over).
    /// Like the embedded store's renumbering, this is no change of state: no history line.
    async fn renumber(
        &self,
        sid: &SessionId,
        meta: crate::items::SessionMeta,
        list: &[(cassiopee_domain::model::Enrolment, u32)],
    ) -> Result<()> {
        const STEP: i64 = 1_000_000;
        let top = list
            .iter()
            .map(|(e, _)| e.rank)
            .max()
            .unwrap_or(0)
            .max(meta.last_rank);
        let rank_of = |i: usize| top.saturating_add((i as i64 + 1).saturating_mul(STEP));
        let new_last = rank_of(list.len());
        let mut rev = meta.rev;
        let indexed: Vec<(usize, &(cassiopee_domain::model::Enrolment, u32))> =
            list.iter().enumerate().collect();
        for chunk in indexed.rchunks(MAX_TX_ITEMS - 1) {
            let mut writes = vec![
                Write::update(Role::Session, keys::session(sid))
                    .set("last_rank", n(new_last.max(meta.last_rank)))
                    .add("rev", n(1))
                    .when_eq("rev", n(rev)),
            ];
            for (i, (e, changes)) in chunk {
                let rank = rank_of(*i);
                writes.push(
                    Write::update(Role::Enrolment, keys::enrolment(sid, &e.officer_id))
                        .set("rank", n(rank))
                        .set(keys::LSI1SK, s(keys::waiting_order(rank, &e.id)))
                        .when_eq("changes", n(*changes))
                        .when_eq("status", s(EnrolmentStatus::Waitlisted.as_str())),
                );
            }
            match self.commit(writes, None).await? {
                Commit::Done => rev += 1,
                Commit::Failed(_) => return Ok(()),
            }
        }
        Ok(())
    }

    pub(crate) async fn mark_attendance_impl(
        &self,
        sid: &SessionId,
        oid: &OfficerId,
        status: EnrolmentStatus,
        actor: &Actor,
        now: Instant,
    ) -> Result<()> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let (mut session, meta) = self.load_session(sid).await?;
            if session.status == SessionStatus::Cancelled {
                return Err(DomainError::conflict(
                    "session-cancelled",
                    "Cette session a été annulée.",
                ));
            }
            if now < session.starts_at {
                return Err(DomainError::conflict(
                    "session-not-started",
                    "La présence se note une fois la session commencée.",
                ));
            }
            let (mut e, changes) = self
                .load_enrolment(sid, oid)
                .await?
                .ok_or_else(DomainError::enrolment_not_found)?;
            if e.status == status {
                return Ok(());
            }
            if !e.status.can_become(status) {
                return Err(DomainError::conflict(
                    "attendance-not-applicable",
                    format!(
                        "La présence ne se note que pour un officier inscrit (statut actuel : {}).",
                        e.status.label_fr()
                    ),
                ));
            }
            let from = e.status;
            if from == EnrolmentStatus::Confirmed {
                session.seats_taken = session.seats_taken.saturating_sub(1);
            }
            match (is_marked(from), is_marked(status)) {
                (false, true) => session.seats_marked += 1,
                (true, false) => session.seats_marked = session.seats_marked.saturating_sub(1),
                _ => {}
            }
            e.status = status;
            let mut writes = vec![save_counters(&session, meta, None)];
            let mut outbox = Outbox::new(now);
            record(
                &mut writes,
                &mut outbox,
                &mut e,
                Prior::Seen { changes },
                Some(from),
                actor,
                now,
                None,
                None,
                None,
            )?;
            if let Commit::Done = self.commit(writes, None).await? {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(contention("mark_attendance"))
    }
}

/// A free seat, someone waiting, and rules that give the seat now.
fn can_promote(session: &Session, now: Instant) -> bool {
    session.seats_taken < session.capacity
        && session.waiting > 0
        && rules::promotion_for(session, now).is_some()
}

/// Gives free seats to the next in `line` (the waiting list in order) while the rules allow
/// it, `most` at the most: each promoted enrolment, its history line and its notice go into
/// `writes`, and `session`'s counters move (the caller saves them).
fn promote_next(
    session: &mut Session,
    line: &mut impl Iterator<Item = (Enrolment, u32)>,
    most: usize,
    writes: &mut Vec<Write>,
    outbox: &mut Outbox,
    now: Instant,
) -> Result<Vec<Promoted>> {
    let actor = Actor::system("promote-waitlist");
    let mut batch = Vec::new();
    while session.seats_taken < session.capacity && session.waiting > 0 && batch.len() < most {
        let Some(promotion) = rules::promotion_for(session, now) else {
            break;
        };
        let Some((mut next, changes)) = line.next() else {
            break;
        };
        let from = next.status;
        promotion.apply(&mut next, now);
        session.seats_taken += 1;
        session.waiting -= 1;
        record(
            writes,
            outbox,
            &mut next,
            Prior::Seen { changes },
            Some(from),
            &actor,
            now,
            None,
            None,
            None,
        )?;
        batch.push(Promoted::of(&next));
    }
    Ok(batch)
}
