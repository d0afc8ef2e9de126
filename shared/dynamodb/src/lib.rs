//! The DynamoDB store: Cassiopée's storage port on one table.
//!
//! It behaves as the embedded SQLite store does (that store is the reference), with every
//! invariant checked by condition expressions inside `TransactWriteItems`:
//!
//! * `enrol` is one transaction with no read before it: the session's conditions (scheduled,
//!   window, a free seat and nobody waiting) and the enrolment's and idempotency item's absence
//!   are all conditions. When it is cancelled, the items returned in `CancellationReasons` say
//!   why, and the same rules as the embedded store's turn them into the answer; a full session
//!   falls back to a second transaction that joins the waiting list at a position pinned by
//!   its conditions (see `src/enrol.rs`).
//! * The other operations read first, then write with conditions that re-check what they read:
//!   every session carries a revision `rev`, bumped by each write to the session or to one of
//!   its enrolments, and each enrolment a change counter `changes`. A condition that fails
//!   means someone else wrote in between: the operation reads again and starts over, a bounded
//!   number of times.
//! * Each state change writes its notice in the same transaction (the transactional outbox),
//!   with the notice's uniqueness as an `attribute_not_exists` condition on its key.
//!
//! The keys and the access patterns they serve are listed in `src/keys.rs`.
//!
//! Tests: `tests/contract.rs` runs the same cases on this store (against moto's server over
//! HTTP, one table per test) and on the embedded store, and compares the two step by step on
//! seeded interleavings. `CARGO_TARGET_DIR=… cargo test -p cassiopee-dynamodb` starts
//! `scripts/moto_server.py` from `.venv` itself, or uses `CASSIOPEE_MOTO_ENDPOINT`.

mod enrol;
mod imports;
mod items;
mod keys;
mod moves;
mod outbox;
mod privacy;
mod secrets;
mod sessions;
mod tx;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use cassiopee_domain::audit::{AuditEntry, AuditSubject};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::import::{EnrolmentRow, OfficerRow, SessionRow, StaffRow, TrainingRow};
use cassiopee_domain::model::{
    Actor, Email, Enrolment, EnrolmentChange, EnrolmentStatus, Feedback, Officer, Origin,
    ProgrammeItem, Session, Staff, Training,
};
use cassiopee_domain::notices::{Notice, Transition, notice_for};
use cassiopee_domain::ports::{
    DeliveryStatus, EnrolCommand, Enrolled, Erasure, NoticeRecord, Promoted, QueuedNotice,
    QuotaCharge, RosterLine, RowOutcome, SessionPatch, SessionQuery, SessionUpdated,
    StatisticsSnapshot, Store, TrainingDemand, WithdrawCommand, Withdrawal,
};
use cassiopee_domain::time::Instant;
use items::{Item, SessionMeta, micros, n, s};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tx::{Query, Role, SortOp, Write};

/// The store. Cheap to clone; build it once per process from a shared client.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    gates: Arc<enrol::Gates>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            gates: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

fn attribute(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| DomainError::internal(format!("dynamodb request: {e}")))
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| DomainError::internal(format!("dynamodb request: {e}")))
}

/// Creates the table with the keys and indexes of `infra/template.yaml`, and waits until it is
/// active. A table that already exists is left as it is (the local mode calls this at start).
pub async fn create_table(client: &Client, table: &str) -> Result<(), DomainError> {
    let all = Projection::builder()
        .projection_type(ProjectionType::All)
        .build();
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(keys::PK, KeyType::Hash)?)
        .key_schema(key_element(keys::SK, KeyType::Range)?)
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(keys::LSI1)
                .key_schema(key_element(keys::PK, KeyType::Hash)?)
                .key_schema(key_element(keys::LSI1SK, KeyType::Range)?)
                .projection(all.clone())
                .build()
                .map_err(|e| DomainError::internal(format!("dynamodb request: {e}")))?,
        );
    for name in [
        keys::PK,
        keys::SK,
        keys::LSI1SK,
        keys::GSI1PK,
        keys::GSI1SK,
        keys::GSI2PK,
        keys::GSI2SK,
        keys::GSI3PK,
        keys::GSI3SK,
    ] {
        request = request.attribute_definitions(attribute(name)?);
    }
    for (index, pk, sk) in [
        (keys::GSI1, keys::GSI1PK, keys::GSI1SK),
        (keys::GSI2, keys::GSI2PK, keys::GSI2SK),
        (keys::GSI3, keys::GSI3PK, keys::GSI3SK),
    ] {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key_element(pk, KeyType::Hash)?)
                .key_schema(key_element(sk, KeyType::Range)?)
                .projection(all.clone())
                .build()
                .map_err(|e| DomainError::internal(format!("dynamodb request: {e}")))?,
        );
    }
    let created = match request.send().await {
        Ok(_) => true,
        Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
            if e.err().is_resource_in_use_exception() =>
        {
            false
        }
        Err(e) => return Err(tx::sdk("CreateTable")(e)),
    };
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(tx::sdk("DescribeTable"))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            if created {
                // Stored answers to enrolment requests expire (see `enrol`).
                client
                    .update_time_to_live()
                    .table_name(table)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .attribute_name(keys::TTL)
                            .enabled(true)
                            .build()
                            .map_err(|e| DomainError::internal(format!("dynamodb request: {e}")))?,
                    )
                    .send()
                    .await
                    .map_err(tx::sdk("UpdateTimeToLive"))?;
            }
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(DomainError::internal(format!(
        "dynamodb table {table} is not active after a minute"
    )))
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the operations.

/// How an enrolment write is conditioned: the item must not exist yet, or must still be the
/// one that was read (same change counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prior {
    New,
    Seen { changes: u32 },
}

impl Prior {
    fn next_changes(self) -> u32 {
        match self {
            Prior::New => 1,
            Prior::Seen { changes } => changes + 1,
        }
    }
}

/// Notices written in one transaction, numbered in writing order.
pub(crate) struct Outbox {
    now: Instant,
    seq: u32,
}

impl Outbox {
    pub(crate) fn new(now: Instant) -> Self {
        Self { now, seq: 0 }
    }

    pub(crate) fn write(&mut self, notice: &Notice) -> Result<Write> {
        let w = outbox::notice_write(notice, self.now, self.seq)?;
        self.seq += 1;
        Ok(w)
    }
}

/// Writes the whole enrolment item over the one that was read, as an update: every attribute
/// of `item` is set and those its state leaves out are removed, so that the result is `item`
/// except for what the update does not name, the copy of the officer's record (when `item`
/// has none): a change of status keeps the copy, and a copy rewritten meanwhile (an officer
/// import) is not put back as it was read. Attributes are named in order, so that the same
/// item always makes the same request.
fn enrolment_update(item: Item) -> Write {
    let key = tx::key_of(&item);
    let mut attributes: Vec<(String, AttributeValue)> = item
        .into_iter()
        .filter(|(name, _)| name != keys::PK && name != keys::SK)
        .collect();
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut w = Write::update(Role::Enrolment, key);
    for name in items::ENROLMENT_OPTIONAL {
        if !attributes.iter().any(|(n, _)| n == name) {
            w = w.remove(name);
        }
    }
    for (name, value) in attributes {
        w = w.set(&name, value);
    }
    w
}

/// Writes an enrolment's new state, its history line and the notice it deserves, as the
/// embedded store's `record` does: the notice comes from `notice_for` on the transition, with
/// the enrolment's change counter as its version; imports tell nobody. Answers the new counter.
///
/// `officer`, when given, is the officer's record to copy onto the enrolment item (see
/// `items::OFFICER_COPY`); without it, a new item has no copy and an existing one keeps its own.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    writes: &mut Vec<Write>,
    outbox: &mut Outbox,
    e: &mut Enrolment,
    prior: Prior,
    from: Option<EnrolmentStatus>,
    actor: &Actor,
    now: Instant,
    reason: Option<&str>,
    notify: Option<u32>,
    officer: Option<&Officer>,
) -> Result<u32> {
    e.updated_at = now;
    e.updated_by = actor.id.clone();
    e.origin = actor.origin;
    let changes = prior.next_changes();
    let item = items::enrolment_item(e, changes, officer);
    writes.push(match prior {
        Prior::New => Write::put(Role::Enrolment, item).return_old().when_absent(),
        Prior::Seen { changes } => enrolment_update(item)
            .return_old()
            .when_eq("changes", n(changes)),
    });
    let change = EnrolmentChange {
        at: now,
        from,
        to: e.status,
        actor: actor.id.clone(),
        origin: actor.origin,
        reason: reason.map(str::to_string),
    };
    writes.push(Write::put(Role::History, items::change_item(e, changes, &change)).when_absent());
    if actor.origin != Origin::Import {
        let t = Transition {
            session_id: e.session_id.clone(),
            officer_id: e.officer_id.clone(),
            from,
            to: e.status,
            late: e.late,
            position: notify,
            offer_expires_at: e.offer_expires_at,
            by_staff: actor.origin == Origin::Staff,
        };
        if let Some(kind) = notice_for(&t) {
            writes.push(outbox.write(&Notice {
                officer_id: e.officer_id.clone(),
                session_id: e.session_id.clone(),
                kind,
                version: changes,
            })?);
        }
    }
    Ok(changes)
}

/// Writes a session's counters as the embedded store's `save_counters` does, conditioned on
/// the revision that was read, and never past the capacity (the embedded store's CHECK).
pub(crate) fn save_counters(s: &Session, meta: SessionMeta, last_rank: Option<i64>) -> Write {
    let mut w = Write::update(Role::Session, keys::session(&s.id))
        .set("seats_taken", n(s.seats_taken))
        .set("waiting", n(s.waiting))
        .set("waiting_peak", n(s.waiting_peak.max(s.waiting)))
        .set("seats_marked", n(s.seats_marked))
        .add("rev", n(1))
        .when_eq("rev", n(meta.rev))
        .when(|w| format!("{} >= {}", w.name("capacity"), w.value(n(s.seats_taken))));
    if let Some(rank) = last_rank.filter(|r| *r > meta.last_rank) {
        w = w.set("last_rank", n(rank));
    }
    w
}

/// Bumps a session's revision, conditioned on the one that was read: for a change of an
/// enrolment that moves no counter (an accepted offer, a move in the waiting list).
pub(crate) fn touch_session(id: &SessionId, meta: SessionMeta) -> Write {
    Write::update(Role::Session, keys::session(id))
        .add("rev", n(1))
        .when_eq("rev", n(meta.rev))
}

pub(crate) fn contention(op: &str) -> DomainError {
    DomainError::unavailable(format!(
        "dynamodb {op}: conditions kept failing under concurrent writes; gave up after {} attempts",
        tx::MAX_OPTIMISTIC_ATTEMPTS
    ))
}

impl DynamoStore {
    pub(crate) async fn find_session(
        &self,
        id: &SessionId,
    ) -> Result<Option<(Session, SessionMeta)>> {
        match self.get(&keys::session(id)).await? {
            Some(item) => Ok(Some(items::session_from(&item)?).filter(|(_, meta)| !meta.deleted)),
            None => Ok(None),
        }
    }

    pub(crate) async fn load_session(&self, id: &SessionId) -> Result<(Session, SessionMeta)> {
        self.find_session(id)
            .await?
            .ok_or_else(DomainError::session_not_found)
    }

    pub(crate) async fn load_enrolment(
        &self,
        session: &SessionId,
        officer: &OfficerId,
    ) -> Result<Option<(Enrolment, u32)>> {
        match self.get(&keys::enrolment(session, officer)).await? {
            Some(item) => Ok(Some(items::enrolment_from(&item)?)),
            None => Ok(None),
        }
    }

    /// A session and those of its enrolments that `filter` lets through, in one strongly
    /// consistent Query of its partition (an item the filter keeps out is read, not sent).
    ///
    /// The Query reads the partition backwards, so that the session item (`SESSION` sorts
    /// after `ENROL#` and `FEEDBACK#`) is read before the enrolments: a Query is not a
    /// snapshot, but any change to an enrolment committed after the session was read bumps its
    /// `rev`, and a write conditioned on the `rev` read then fails, as after a GetItem of the
    /// session followed by a Query of its enrolments.
    pub(crate) async fn load_session_with(
        &self,
        id: &SessionId,
        filter: tx::Filter,
    ) -> Result<(Session, SessionMeta, Vec<(Enrolment, u32)>)> {
        let found = self
            .query(
                Query::table(keys::session_partition(id))
                    .backwards()
                    .filter(filter),
            )
            .await?;
        let mut session = None;
        let mut enrolments = Vec::new();
        for item in &found {
            let (_, sk) = tx::key_of(item);
            if sk == keys::session(id).1 {
                session = Some(items::session_from(item)?);
            } else if sk.starts_with(keys::ENROLMENT_PREFIX) {
                enrolments.push(items::enrolment_from(item)?);
            }
        }
        match session.filter(|(_, meta)| !meta.deleted) {
            Some((s, meta)) => Ok((s, meta, enrolments)),
            None => Err(DomainError::session_not_found()),
        }
    }

    /// Every enrolment of a session, as it is (strongly consistent).
    pub(crate) async fn enrolments_of(&self, session: &SessionId) -> Result<Vec<(Enrolment, u32)>> {
        self.query(Query::table(keys::session_partition(session)).sort(
            SortOp::BeginsWith,
            keys::SK,
            keys::ENROLMENT_PREFIX,
        ))
        .await?
        .iter()
        .map(items::enrolment_from)
        .collect()
    }

    /// The waiting list in order (rank, then id), as it is.
    pub(crate) async fn waiting_list(&self, session: &SessionId) -> Result<Vec<(Enrolment, u32)>> {
        self.query(Query::lsi1(keys::session_partition(session)))
            .await?
            .iter()
            .map(items::enrolment_from)
            .collect()
    }

    pub(crate) async fn officers_by_id(
        &self,
        ids: &[OfficerId],
    ) -> Result<HashMap<OfficerId, Officer>> {
        let keys: Vec<_> = ids.iter().map(keys::officer).collect();
        self.get_many(&keys)
            .await?
            .values()
            .map(|item| items::officer_from(item).map(|o| (o.id.clone(), o)))
            .collect()
    }

    async fn one_by_email(&self, email: &Email, kind: &str) -> Result<Option<Item>> {
        let found = self
            .query(
                Query::global(keys::GSI2, keys::GSI2PK, keys::email(email))
                    .sort(SortOp::BeginsWith, keys::GSI2SK, kind)
                    .limit(1),
            )
            .await?;
        Ok(found.into_iter().next())
    }

    async fn collection(&self, kind: &str) -> Result<Vec<Item>> {
        self.query(Query::global(keys::GSI1, keys::GSI1PK, kind))
            .await
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn staff_by_email(&self, email: &Email) -> Result<Option<Staff>> {
        self.one_by_email(email, keys::STAFF_KIND)
            .await?
            .map(|i| items::staff_from(&i))
            .transpose()
    }

    async fn staff_by_id(&self, id: &StaffId) -> Result<Option<Staff>> {
        self.get(&keys::staff(id))
            .await?
            .map(|i| items::staff_from(&i))
            .transpose()
    }

    async fn staff_list(&self) -> Result<Vec<Staff>> {
        let mut staff = self
            .collection(keys::STAFF_KIND)
            .await?
            .iter()
            .map(items::staff_from)
            .collect::<Result<Vec<_>>>()?;
        staff.sort_by(|a, b| {
            (&a.last_name, &a.first_name, &a.id).cmp(&(&b.last_name, &b.first_name, &b.id))
        });
        Ok(staff)
    }

    async fn officer(&self, id: &OfficerId) -> Result<Option<Officer>> {
        self.get(&keys::officer(id))
            .await?
            .map(|i| items::officer_from(&i))
            .transpose()
    }

    async fn officer_by_email(&self, email: &Email) -> Result<Option<Officer>> {
        self.one_by_email(email, keys::OFFICER_KIND)
            .await?
            .map(|i| items::officer_from(&i))
            .transpose()
    }

    async fn officers(&self) -> Result<Vec<Officer>> {
        let mut officers = self
            .collection(keys::OFFICER_KIND)
            .await?
            .iter()
            .map(items::officer_from)
            .collect::<Result<Vec<_>>>()?;
        officers.sort_by(|a, b| {
            (a.accompaniment_end, &a.last_name, &a.id).cmp(&(
                b.accompaniment_end,
                &b.last_name,
                &b.id,
            ))
        });
        Ok(officers)
    }

    async fn is_empty(&self) -> Result<bool> {
        for kind in [keys::STAFF_KIND, keys::OFFICER_KIND, keys::SESSION_KIND] {
            let found = self
                .query(Query::global(keys::GSI1, keys::GSI1PK, kind).limit(1))
                .await?;
            if !found.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn training(&self, id: &TrainingId) -> Result<Option<Training>> {
        self.get(&keys::training(id))
            .await?
            .map(|i| items::training_from(&i))
            .transpose()
    }

    async fn trainings(&self, include_archived: bool) -> Result<Vec<TrainingDemand>> {
        self.trainings_impl(include_archived).await
    }

    async fn insert_training(&self, training: &Training) -> Result<()> {
        self.insert_training_impl(training).await
    }

    async fn update_training(&self, training: &Training) -> Result<()> {
        self.update_training_impl(training).await
    }

    async fn session(&self, id: &SessionId) -> Result<Option<Session>> {
        Ok(self.find_session(id).await?.map(|(s, _)| s))
    }

    async fn sessions(&self, query: &SessionQuery) -> Result<Vec<Session>> {
        self.sessions_impl(query).await
    }

    async fn insert_session(&self, session: &Session, now: Instant) -> Result<()> {
        self.insert_session_impl(session, now).await
    }

    async fn update_session(
        &self,
        id: &SessionId,
        patch: &SessionPatch,
        actor: &Actor,
        now: Instant,
    ) -> Result<SessionUpdated> {
        self.update_session_impl(id, patch, actor, now).await
    }

    async fn cancel_session(&self, id: &SessionId, actor: &Actor, now: Instant) -> Result<Session> {
        self.cancel_session_impl(id, actor, now).await
    }

    async fn delete_session(&self, id: &SessionId, actor: &Actor, now: Instant) -> Result<()> {
        self.delete_session_impl(id, actor, now).await
    }

    async fn enrolment(&self, s: &SessionId, o: &OfficerId) -> Result<Option<Enrolment>> {
        Ok(self.load_enrolment(s, o).await?.map(|(e, _)| e))
    }

    async fn waitlist_position(&self, s: &SessionId, o: &OfficerId) -> Result<Option<u32>> {
        let Some((e, _)) = self.load_enrolment(s, o).await? else {
            return Ok(None);
        };
        if e.status != EnrolmentStatus::Waitlisted {
            return Ok(None);
        }
        let ahead = self
            .count(Query::lsi1(keys::session_partition(s)).sort(
                SortOp::Lt,
                keys::LSI1SK,
                keys::waiting_order(e.rank, &e.id),
            ))
            .await?;
        Ok(Some(ahead + 1))
    }

    async fn officer_enrolments(&self, o: &OfficerId) -> Result<Vec<Enrolment>> {
        self.query(
            Query::global(keys::GSI2, keys::GSI2PK, keys::officer_partition(o)).sort(
                SortOp::BeginsWith,
                keys::GSI2SK,
                keys::ENROLMENT_PREFIX,
            ),
        )
        .await?
        .iter()
        .map(|i| items::enrolment_from(i).map(|(e, _)| e))
        .collect()
    }

    async fn roster(&self, s: &SessionId) -> Result<Vec<RosterLine>> {
        self.roster_impl(s).await
    }

    async fn enrolment_history(&self, id: &EnrolmentId) -> Result<Vec<EnrolmentChange>> {
        self.query(Query::table(keys::change_partition(id)).sort(
            SortOp::BeginsWith,
            keys::SK,
            keys::CHANGE_PREFIX,
        ))
        .await?
        .iter()
        .map(items::change_from)
        .collect()
    }

    async fn enrol(&self, cmd: &EnrolCommand) -> Result<Enrolled> {
        self.enrol_impl(cmd).await
    }

    async fn withdraw(&self, cmd: &WithdrawCommand) -> Result<Withdrawal> {
        self.withdraw_impl(cmd).await
    }

    async fn answer_offer(
        &self,
        s: &SessionId,
        o: &OfficerId,
        accept: bool,
        actor: &Actor,
        now: Instant,
    ) -> Result<EnrolmentStatus> {
        self.answer_offer_impl(s, o, accept, actor, now).await
    }

    async fn promote(&self, s: &SessionId, now: Instant) -> Result<Vec<Promoted>> {
        self.promote_impl(s, now).await
    }

    async fn expire_offers(&self, now: Instant) -> Result<Vec<SessionId>> {
        self.expire_offers_impl(now).await
    }

    async fn move_in_waitlist(
        &self,
        s: &SessionId,
        o: &OfficerId,
        position: u32,
        reason: &str,
        actor: &Actor,
        now: Instant,
    ) -> Result<u32> {
        self.move_in_waitlist_impl(s, o, position, reason, actor, now)
            .await
    }

    async fn mark_attendance(
        &self,
        s: &SessionId,
        o: &OfficerId,
        status: EnrolmentStatus,
        actor: &Actor,
        now: Instant,
    ) -> Result<()> {
        self.mark_attendance_impl(s, o, status, actor, now).await
    }

    async fn programme(&self, o: &OfficerId) -> Result<Vec<ProgrammeItem>> {
        let mut items = self
            .query(Query::table(keys::officer_partition(o)).sort(
                SortOp::BeginsWith,
                keys::SK,
                keys::PLAN_PREFIX,
            ))
            .await?
            .iter()
            .map(items::programme_from)
            .collect::<Result<Vec<_>>>()?;
        items.sort_by(|a, b| (a.planned_at, &a.training_id).cmp(&(b.planned_at, &b.training_id)));
        Ok(items)
    }

    async fn plan_training(&self, item: &ProgrammeItem) -> Result<()> {
        self.plan_training_impl(item).await
    }

    async fn unplan_training(&self, o: &OfficerId, t: &TrainingId) -> Result<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(items::keyed(&keys::plan(o, t))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(tx::sdk("DeleteItem"))?;
        tx::spent("DeleteItem", out.consumed_capacity.as_slice());
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn register_interest(&self, o: &OfficerId, t: &TrainingId, now: Instant) -> Result<bool> {
        self.register_interest_impl(o, t, now).await
    }

    async fn take_quota(
        &self,
        subject: &str,
        use_id: &str,
        window_start: Instant,
        window_seconds: i64,
        limit: u32,
    ) -> Result<bool> {
        if limit == 0 {
            return Ok(false);
        }
        let charge = QuotaCharge::new(subject, use_id, window_start, window_seconds, limit);
        self.write_one(enrol::quota_write(&charge)).await
    }

    async fn release_quota(
        &self,
        subject: &str,
        use_id: &str,
        window_start: Instant,
    ) -> Result<()> {
        let one = aws_sdk_dynamodb::types::AttributeValue::Ss(vec![use_id.to_string()]);
        let write = Write::update(Role::Quota, keys::quota(subject, micros(window_start)))
            .delete_from("uses", one)
            .when(|w| format!("attribute_exists({})", w.name("uses")));
        self.write_one(write).await?;
        Ok(())
    }

    async fn interested_officers(&self, t: &TrainingId) -> Result<Vec<OfficerId>> {
        self.interested_in(t).await
    }

    async fn queue_notices(&self, notices: &[Notice], now: Instant) -> Result<u32> {
        self.queue_notices_impl(notices, now).await
    }

    async fn pending_notices(&self, limit: u32) -> Result<Vec<QueuedNotice>> {
        self.pending_notices_impl(limit).await
    }

    async fn claim_notice(&self, id: i64, until: Instant, now: Instant) -> Result<bool> {
        self.claim_notice_impl(id, until, now).await
    }

    async fn mark_notice_sent(
        &self,
        id: i64,
        message_id: Option<&str>,
        now: Instant,
    ) -> Result<()> {
        self.mark_notice_sent_impl(id, message_id, now).await
    }

    async fn mark_notice_dropped(&self, id: i64, reason: &str, _now: Instant) -> Result<()> {
        // Out of the queue, as a sent notice leaves it; an unknown id changes nothing.
        self.write_one(
            Write::update(Role::Notice, keys::notice(id))
                .set("status", s("dropped"))
                .set("last_error", s(reason))
                .remove(keys::GSI3PK)
                .remove(keys::GSI3SK)
                .when_present()
                .when(|w| {
                    let st = w.name("status");
                    format!("{st} <> {}", w.value(s("sent")))
                }),
        )
        .await?;
        Ok(())
    }

    async fn mark_notice_failed(&self, id: i64, error: &str, now: Instant) -> Result<()> {
        self.mark_notice_failed_impl(id, error, now).await
    }

    async fn officer_notices(&self, o: &OfficerId) -> Result<Vec<NoticeRecord>> {
        self.officer_notices_impl(o).await
    }

    async fn session_notices(&self, se: &SessionId) -> Result<Vec<NoticeRecord>> {
        self.session_notices_impl(se).await
    }

    async fn undelivered_between(&self, from: Instant, to: Instant) -> Result<Vec<NoticeRecord>> {
        self.undelivered_between_impl(from, to).await
    }

    async fn record_delivery(&self, id: i64, status: DeliveryStatus, at: Instant) -> Result<bool> {
        self.record_delivery_impl(id, status, at).await
    }

    async fn mark_notices_read(
        &self,
        o: &OfficerId,
        ids: Option<&[i64]>,
        now: Instant,
    ) -> Result<u32> {
        self.mark_notices_read_impl(o, ids, now).await
    }

    async fn set_calendar_token(&self, o: &OfficerId, hash: &str, now: Instant) -> Result<()> {
        self.set_calendar_token_impl(o, hash, now).await
    }

    async fn revoke_calendar_token(&self, o: &OfficerId) -> Result<bool> {
        self.revoke_calendar_token_impl(o).await
    }

    async fn calendar_token_created(&self, o: &OfficerId) -> Result<Option<Instant>> {
        self.calendar_token_created_impl(o).await
    }

    async fn officer_by_calendar_token(&self, hash: &str) -> Result<Option<Officer>> {
        match self.calendar_token_officer(hash).await? {
            Some(id) => self.officer(&id).await,
            None => Ok(None),
        }
    }

    async fn claim_once(&self, key: &str, now: Instant) -> Result<bool> {
        self.claim_once_impl(key, now).await
    }

    async fn record_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        self.record_audit_impl(entries).await
    }

    async fn audit(&self, subject: &AuditSubject) -> Result<Vec<AuditEntry>> {
        self.audit_impl(subject).await
    }

    async fn officer_interests(&self, o: &OfficerId) -> Result<Vec<TrainingId>> {
        self.officer_interests_impl(o).await
    }

    async fn erase_officer(&self, o: &OfficerId, now: Instant) -> Result<Option<Erasure>> {
        self.erase_officer_impl(o, now).await
    }

    async fn is_erased(&self, o: &OfficerId) -> Result<bool> {
        self.is_erased_impl(o).await
    }

    async fn confirmed_between(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<(Session, Enrolment)>> {
        self.confirmed_between_impl(from, to).await
    }

    async fn import_staff(&self, rows: &[StaffRow]) -> Result<Vec<RowOutcome>> {
        self.import_staff_impl(rows).await
    }

    async fn import_officers(&self, rows: &[OfficerRow]) -> Result<Vec<RowOutcome>> {
        self.import_officers_impl(rows).await
    }

    async fn import_trainings(&self, rows: &[TrainingRow]) -> Result<Vec<RowOutcome>> {
        self.import_trainings_impl(rows).await
    }

    async fn import_sessions(&self, rows: &[SessionRow], now: Instant) -> Result<Vec<RowOutcome>> {
        self.import_sessions_impl(rows, now).await
    }

    async fn import_enrolments(
        &self,
        rows: &[EnrolmentRow],
        actor: &Actor,
        now: Instant,
    ) -> Result<Vec<RowOutcome>> {
        self.import_enrolments_impl(rows, actor, now).await
    }

    async fn save_feedback(&self, feedback: &Feedback) -> Result<()> {
        self.save_feedback_impl(feedback).await
    }

    async fn session_feedback(&self, session: &SessionId) -> Result<Vec<Feedback>> {
        self.query(Query::table(keys::session_partition(session)).sort(
            SortOp::BeginsWith,
            keys::SK,
            keys::FEEDBACK_PREFIX,
        ))
        .await?
        .iter()
        .map(items::feedback_from)
        .collect()
    }

    async fn all_feedback(&self) -> Result<Vec<Feedback>> {
        let mut all = self
            .collection(keys::FEEDBACK_KIND)
            .await?
            .iter()
            .map(items::feedback_from)
            .collect::<Result<Vec<_>>>()?;
        all.sort_by(|a, b| (&a.session_id, &a.officer_id).cmp(&(&b.session_id, &b.officer_id)));
        Ok(all)
    }

    async fn all_sessions_with_enrolments(&self) -> Result<Vec<(Session, Vec<Enrolment>)>> {
        let mut out = Vec::new();
        for item in self.collection(keys::SESSION_KIND).await? {
            let (session, _) = items::session_from(&item)?;
            let enrolments = self
                .enrolments_of(&session.id)
                .await?
                .into_iter()
                .map(|(e, _)| e)
                .collect();
            out.push((session, enrolments));
        }
        Ok(out)
    }

    async fn save_statistics(&self, snapshot: &StatisticsSnapshot) -> Result<()> {
        let json = serde_json::to_string(snapshot).map_err(DomainError::internal)?;
        let mut item = items::keyed(&keys::statistics());
        item.insert("snapshot".into(), s(json));
        item.insert("computed_at".into(), n(micros(snapshot.computed_at)));
        self.write_one(Write::put(Role::Session, item)).await?;
        Ok(())
    }

    async fn statistics(&self) -> Result<Option<StatisticsSnapshot>> {
        let Some(item) = self.get(&keys::statistics()).await? else {
            return Ok(None);
        };
        let raw = items::Reader(&item).s("snapshot")?;
        serde_json::from_str(&raw)
            .map(Some)
            .map_err(DomainError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_enrolment_starts_its_change_counter_at_one() {
        assert_eq!(Prior::New.next_changes(), 1);
        assert_eq!(Prior::Seen { changes: 4 }.next_changes(), 5);
    }
}
