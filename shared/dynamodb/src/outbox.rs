//! The transactional outbox.
//!
//! A notice is an item keyed by a hash of its uniqueness key (officer, session, kind, version),
//! written with `attribute_not_exists` in the transaction of the change it announces. While it
//! waits for delivery it sits in the sparse `OUTBOX` queue of `gsi3`; sending it (or failing it
//! for the fifth time) removes it from the queue.
//!
//! A change that concerns a whole session (a new session for those interested, a changed or
//! cancelled session for those enrolled) may concern more officers than a transaction holds
//! items. Up to [`DIRECT_NOTICES`] recipients, their notices are written in the change's
//! transaction; beyond, that transaction writes one fan-out item naming every recipient, and
//! the fan-out is expanded into notices right after the commit. Should the process stop in
//! between, `pending_notices` expands what is left first: the intent to notify is committed
//! with the change either way.

use crate::items::{self, Item, Reader, micros, n, s};
use crate::keys;
use crate::tx::{MAX_OPTIMISTIC_ATTEMPTS, Query, Role, SortOp, Write, backoff};
use crate::{DynamoStore, contention};
use aws_sdk_dynamodb::types::AttributeValue;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::notices::{Notice, NoticeKind};
use cassiopee_domain::ports::{DeliveryStatus, NoticeRecord, QueuedNotice};
use cassiopee_domain::time::Instant;

/// Recipients whose notices go straight into the change's transaction.
pub(crate) const DIRECT_NOTICES: usize = 90;
/// Delivery attempts after which a notice leaves the queue (as in the embedded store).
const MAX_DELIVERY_ATTEMPTS: u32 = 5;

/// The write that queues one notice, unless the same one is already queued.
pub(crate) fn notice_write(notice: &Notice, now: Instant, seq: u32) -> Result<Write> {
    let payload = serde_json::to_string(&notice.kind).map_err(DomainError::internal)?;
    let kind = notice.kind.key();
    let id = keys::notice_id(&notice.officer_id, &notice.session_id, kind, notice.version);
    let order = keys::notice_order(micros(now), seq, id);
    let mut item = items::keyed(&keys::notice(id));
    item.insert(
        keys::GSI2PK.into(),
        s(keys::officer_partition(&notice.officer_id)),
    );
    item.insert(
        keys::GSI2SK.into(),
        s(format!("{}{order}", keys::NOTICE_PREFIX)),
    );
    item.insert(
        keys::GSI1PK.into(),
        s(keys::session_notices_partition(&notice.session_id)),
    );
    item.insert(keys::GSI1SK.into(), s(order.clone()));
    item.insert(keys::GSI3PK.into(), s(keys::OUTBOX_QUEUE));
    item.insert(keys::GSI3SK.into(), s(order));
    item.insert("id".into(), n(id));
    item.insert("officer_id".into(), s(notice.officer_id.as_str()));
    item.insert("session_id".into(), s(notice.session_id.as_str()));
    item.insert("kind_key".into(), s(kind));
    item.insert("payload".into(), s(payload));
    item.insert("version".into(), n(notice.version));
    item.insert("queued_at".into(), n(micros(now)));
    item.insert("status".into(), s("pending"));
    item.insert("attempts".into(), n(0));
    Ok(Write::put(Role::Notice, item).when_absent())
}

/// The notices of one change to a whole session.
pub(crate) struct SessionNotices {
    session: SessionId,
    kind: NoticeKind,
    version: u32,
    officers: Vec<OfficerId>,
    now: Instant,
}

impl SessionNotices {
    pub(crate) fn new(
        session: &SessionId,
        kind: NoticeKind,
        version: u32,
        officers: Vec<OfficerId>,
        now: Instant,
    ) -> Result<Self> {
        Ok(Self {
            session: session.clone(),
            kind,
            version,
            officers,
            now,
        })
    }

    fn fans_out(&self) -> bool {
        self.officers.len() > DIRECT_NOTICES
    }

    /// What goes into the change's transaction: the notices, or one fan-out item.
    pub(crate) fn writes(&self) -> Result<Vec<Write>> {
        if !self.fans_out() {
            return self
                .officers
                .iter()
                .enumerate()
                .map(|(i, officer)| {
                    notice_write(
                        &Notice {
                            officer_id: officer.clone(),
                            session_id: self.session.clone(),
                            kind: self.kind.clone(),
                            version: self.version,
                        },
                        self.now,
                        i as u32,
                    )
                })
                .collect();
        }
        let key = keys::fanout(&self.session, self.kind.key(), self.version);
        let mut item = items::keyed(&key);
        item.insert(keys::GSI3PK.into(), s(keys::FANOUT_QUEUE));
        item.insert(
            keys::GSI3SK.into(),
            s(format!("{}#{}", keys::sortable(micros(self.now)), key.0)),
        );
        item.insert("session_id".into(), s(self.session.as_str()));
        item.insert(
            "payload".into(),
            s(serde_json::to_string(&self.kind).map_err(DomainError::internal)?),
        );
        item.insert("version".into(), n(self.version));
        item.insert("queued_at".into(), n(micros(self.now)));
        item.insert(
            "officers".into(),
            AttributeValue::L(self.officers.iter().map(|o| s(o.as_str())).collect()),
        );
        Ok(vec![Write::put(Role::Fanout, item).when_absent()])
    }

    /// After the commit: turns the fan-out, if any, into notices.
    pub(crate) async fn expand(&self, store: &DynamoStore) -> Result<()> {
        if !self.fans_out() {
            return Ok(());
        }
        let key = keys::fanout(&self.session, self.kind.key(), self.version);
        if let Some(item) = store.get(&key).await? {
            store.expand_fanout(&item).await?;
        }
        Ok(())
    }
}

fn queued_from(item: &Item) -> Result<QueuedNotice> {
    let r = Reader(item);
    let kind: NoticeKind = serde_json::from_str(&r.s("payload")?).map_err(DomainError::internal)?;
    Ok(QueuedNotice {
        id: r.i64("id")?,
        notice: Notice {
            officer_id: OfficerId::from_stored(r.s("officer_id")?),
            session_id: SessionId::from_stored(r.s("session_id")?),
            kind,
            version: r.u32("version")?,
        },
        attempts: r.u32("attempts")?,
    })
}

impl DynamoStore {
    /// Writes the notices a fan-out names (each only if new), then removes the fan-out.
    async fn expand_fanout(&self, item: &Item) -> Result<()> {
        let r = Reader(item);
        let session = SessionId::from_stored(r.s("session_id")?);
        let kind: NoticeKind =
            serde_json::from_str(&r.s("payload")?).map_err(DomainError::internal)?;
        let version = r.u32("version")?;
        let queued_at = r.instant("queued_at")?;
        let officers = match item.get("officers") {
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|v| match v {
                    AttributeValue::S(o) => Ok(OfficerId::from_stored(o.clone())),
                    _ => Err(DomainError::internal(
                        "dynamodb: malformed fan-out recipient",
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            _ => {
                return Err(DomainError::internal(
                    "dynamodb: fan-out without recipients",
                ));
            }
        };
        for (i, officer) in officers.into_iter().enumerate() {
            let notice = Notice {
                officer_id: officer,
                session_id: session.clone(),
                kind: kind.clone(),
                version,
            };
            self.write_one(notice_write(&notice, queued_at, i as u32)?)
                .await?;
        }
        self.write_one(Write::delete(Role::Fanout, crate::tx::key_of(item)))
            .await?;
        Ok(())
    }

    pub(crate) async fn queue_notices_impl(&self, notices: &[Notice], now: Instant) -> Result<u32> {
        let mut new = 0;
        for (i, notice) in notices.iter().enumerate() {
            if self.write_one(notice_write(notice, now, i as u32)?).await? {
                new += 1;
            }
        }
        Ok(new)
    }

    pub(crate) async fn pending_notices_impl(&self, limit: u32) -> Result<Vec<QueuedNotice>> {
        let fanouts = self
            .query(Query::global(keys::GSI3, keys::GSI3PK, keys::FANOUT_QUEUE))
            .await?;
        for item in &fanouts {
            self.expand_fanout(item).await?;
        }
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut queued = self
            .query(
                Query::global(keys::GSI3, keys::GSI3PK, keys::OUTBOX_QUEUE).limit(limit as usize),
            )
            .await?
            .iter()
            .map(queued_from)
            .collect::<Result<Vec<_>>>()?;
        queued.retain(|q| q.attempts < MAX_DELIVERY_ATTEMPTS);
        Ok(queued)
    }

    /// A notice is queued while it carries the outbox index's key (pending, or failed with
    /// attempts left); the turn is a time on the item, taken under a condition.
    pub(crate) async fn claim_notice_impl(
        &self,
        id: i64,
        until: Instant,
        now: Instant,
    ) -> Result<bool> {
        self.write_one(
            Write::update(Role::Notice, keys::notice(id))
                .set("claimed_until", n(micros(until)))
                .when(|w| format!("attribute_exists({})", w.name(keys::GSI3PK)))
                .when(|w| {
                    let c = w.name("claimed_until");
                    format!(
                        "attribute_not_exists({c}) OR {c} <= {}",
                        w.value(n(micros(now)))
                    )
                }),
        )
        .await
    }

    pub(crate) async fn mark_notice_sent_impl(
        &self,
        id: i64,
        message_id: Option<&str>,
        now: Instant,
    ) -> Result<()> {
        // An unknown id changes nothing, as an UPDATE matching no row.
        let mut w = Write::update(Role::Notice, keys::notice(id))
            .set("status", s("sent"))
            .set("sent_at", n(micros(now)))
            .add("attempts", n(1))
            .remove(keys::GSI3PK)
            .remove(keys::GSI3SK)
            .when_present();
        if let Some(m) = message_id {
            w = w.set("message_id", s(m));
        }
        self.write_one(w).await?;
        Ok(())
    }

    pub(crate) async fn session_notices_impl(&self, se: &SessionId) -> Result<Vec<NoticeRecord>> {
        self.query(
            Query::global(
                keys::GSI1,
                keys::GSI1PK,
                keys::session_notices_partition(se),
            )
            .backwards(),
        )
        .await?
        .iter()
        .map(record_from)
        .collect()
    }

    pub(crate) async fn undelivered_between_impl(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<NoticeRecord>> {
        if from >= to {
            return Ok(Vec::new());
        }
        // `BETWEEN` includes its upper bound's prefix: the end is exclusive here.
        let end = micros(to);
        let mut records = self
            .query(
                Query::global(keys::GSI3, keys::GSI3PK, keys::UNDELIVERED_QUEUE).sort(
                    SortOp::Between(keys::sortable(end)),
                    keys::GSI3SK,
                    keys::sortable(micros(from)),
                ),
            )
            .await?
            .iter()
            .map(record_from)
            .collect::<Result<Vec<_>>>()?;
        records.retain(|r| r.delivery_at.is_some_and(|at| at < to));
        Ok(records)
    }

    pub(crate) async fn record_delivery_impl(
        &self,
        id: i64,
        status: DeliveryStatus,
        at: Instant,
    ) -> Result<bool> {
        // One conditional update: the report lands only on a known notice whose stored report
        // ranks lower, so duplicates and late reports of a lower rank change nothing.
        let rank = status.rank();
        let changed = self
            .write_one(
                Write::update(Role::Notice, keys::notice(id))
                    .set("delivery", s(status.as_str()))
                    .set("delivery_rank", n(rank))
                    .set("delivery_at", n(micros(at)))
                    .when_present()
                    .when(|w| {
                        let a = w.name("delivery_rank");
                        let v = w.value(n(rank));
                        format!("attribute_not_exists({a}) OR {a} < {v}")
                    }),
            )
            .await?;
        // A sent notice has left the outbox queue, so its sparse index is free: it now lists
        // the notice among the undelivered ones, by report time, for the staff's digest. Only
        // once sent, so that a report can never take a notice out of the queue.
        if changed && matches!(status, DeliveryStatus::Bounced | DeliveryStatus::Complained) {
            self.write_one(
                Write::update(Role::Notice, keys::notice(id))
                    .set(keys::GSI3PK, s(keys::UNDELIVERED_QUEUE))
                    .set(keys::GSI3SK, s(keys::notice_order(micros(at), 0, id)))
                    .when_eq("status", s("sent")),
            )
            .await?;
        }
        Ok(changed)
    }

    pub(crate) async fn mark_notices_read_impl(
        &self,
        o: &OfficerId,
        ids: Option<&[i64]>,
        now: Instant,
    ) -> Result<u32> {
        let mut count = 0;
        for record in self.officer_notices_impl(o).await? {
            if record.read_at.is_some() || ids.is_some_and(|ids| !ids.contains(&record.id)) {
                continue;
            }
            let read = self
                .write_one(
                    Write::update(Role::Notice, keys::notice(record.id))
                        .set("read_at", n(micros(now)))
                        .when_eq("officer_id", s(o.as_str()))
                        .when(|w| {
                            let a = w.name("read_at");
                            format!("attribute_not_exists({a})")
                        }),
                )
                .await?;
            if read {
                count += 1;
            }
        }
        Ok(count)
    }

    pub(crate) async fn mark_notice_failed_impl(
        &self,
        id: i64,
        error: &str,
        now: Instant,
    ) -> Result<()> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let Some(item) = self.get(&keys::notice(id)).await? else {
                return Ok(());
            };
            let attempts = Reader(&item).u32("attempts")?;
            let mut w = Write::update(Role::Notice, keys::notice(id))
                .set("status", s("failed"))
                .set("attempts", n(attempts + 1))
                .set("last_error", s(error))
                .set(
                    "claimed_until",
                    n(micros(
                        now + cassiopee_domain::notices::retry_delay(attempts + 1),
                    )),
                )
                .when_eq("attempts", n(attempts));
            if attempts + 1 >= MAX_DELIVERY_ATTEMPTS {
                w = w.remove(keys::GSI3PK).remove(keys::GSI3SK);
            }
            if self.write_one(w).await? {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(contention("mark_notice_failed"))
    }

    pub(crate) async fn officer_notices_impl(&self, o: &OfficerId) -> Result<Vec<NoticeRecord>> {
        self.query(
            Query::global(keys::GSI2, keys::GSI2PK, keys::officer_partition(o))
                .sort(SortOp::BeginsWith, keys::GSI2SK, keys::NOTICE_PREFIX)
                .backwards(),
        )
        .await?
        .iter()
        .map(record_from)
        .collect()
    }
}

fn record_from(item: &Item) -> Result<NoticeRecord> {
    let r = Reader(item);
    Ok(NoticeRecord {
        id: r.i64("id")?,
        officer_id: OfficerId::from_stored(r.s("officer_id")?),
        session_id: SessionId::from_stored(r.s("session_id")?),
        kind: r.s("kind_key")?,
        queued_at: r.instant("queued_at")?,
        sent_at: r.opt_i64("sent_at")?.map(items::instant),
        status: r.s("status")?,
        attempts: r.u32_or_zero("attempts")?,
        last_error: r.opt_s("last_error")?,
        message_id: r.opt_s("message_id")?,
        delivery: r
            .opt_s("delivery")?
            .as_deref()
            .and_then(DeliveryStatus::parse),
        delivery_at: r.opt_i64("delivery_at")?.map(items::instant),
        read_at: r.opt_i64("read_at")?.map(items::instant),
    })
}
