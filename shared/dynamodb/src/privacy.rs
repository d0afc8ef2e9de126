//! The audit log and erasures.
//!
//! An audit line is its own item, in the session's or the training's partition of `gsi1` and
//! in the officer's of `gsi2`; enrolment changes carry the same index keys (`items::change_item`),
//! so that one query per view reads both, in time order.
//!
//! An erasure moves what is kept (enrolments, their history, feedback scores, audit lines) to a
//! new random id and deletes the rest. It takes many writes: the tombstone `ERASED#<old id>` is
//! written first with the new id, and loses it only once everything is done, so that erasing
//! again after a failure finishes the job with the same new id. Each step is idempotent.

use aws_sdk_dynamodb::types::AttributeValue;
use cassiopee_domain::audit::{AuditEntry, AuditSubject};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, TrainingId};
use cassiopee_domain::model::{Officer, Origin};
use cassiopee_domain::ports::Erasure;
use cassiopee_domain::time::Instant;

use crate::items::{self, Item, Reader, keyed, micros, n, s};
use crate::keys::{self, Key};
use crate::tx::{Commit, Query, Role, SortOp, Write, key_of};
use crate::{DynamoStore, contention};

/// Writes per transaction when moving or deleting many items.
const CHUNK: usize = 25;
/// What DynamoDB allows in one transaction.
const MAX_WRITES: usize = 100;

fn json_attr(v: &Option<serde_json::Value>) -> Option<AttributeValue> {
    v.as_ref().map(|v| s(v.to_string()))
}

fn audit_item(e: &AuditEntry) -> Item {
    let id = cassiopee_domain::ids::fresh();
    let mut item = keyed(&keys::audit_line(&id));
    let order = keys::audit_order(micros(e.at), &id);
    let view = match (&e.session_id, &e.training_id) {
        (Some(session), _) => Some(keys::session_audit(session)),
        (None, Some(training)) => Some(keys::training_audit(training)),
        (None, None) => None,
    };
    if let Some(view) = view {
        item.insert(keys::GSI1PK.into(), s(view));
        item.insert(keys::GSI1SK.into(), s(order.clone()));
    }
    if let Some(officer) = &e.officer_id {
        item.insert(keys::GSI2PK.into(), s(keys::officer_partition(officer)));
        item.insert(
            keys::GSI2SK.into(),
            s(format!("{}{order}", keys::AUDIT_PREFIX)),
        );
        item.insert("officer_id".into(), s(officer.as_str()));
    }
    item.insert("at".into(), n(micros(e.at)));
    item.insert("actor".into(), s(&e.actor));
    item.insert("origin".into(), s(e.origin.as_str()));
    item.insert("action".into(), s(&e.action));
    let mut opt = |name: &str, v: Option<AttributeValue>| {
        if let Some(v) = v {
            item.insert(name.into(), v);
        }
    };
    opt("session_id", e.session_id.as_ref().map(|i| s(i.as_str())));
    opt("training_id", e.training_id.as_ref().map(|i| s(i.as_str())));
    opt("before", json_attr(&e.before));
    opt("after", json_attr(&e.after));
    opt("reason", e.reason.as_deref().map(s));
    item
}

/// An item of an audit view: an audit line, or an enrolment change (which has `to`).
fn entry_from(item: &Item) -> Result<AuditEntry> {
    let r = Reader(item);
    if item.contains_key("to") {
        let change = items::change_from(item)?;
        let session = SessionId::from_stored(r.s("session_id")?);
        let officer = OfficerId::from_stored(r.s("officer_id")?);
        return Ok(AuditEntry::of_enrolment_change(&session, &officer, &change));
    }
    let json = |name: &str| -> Result<Option<serde_json::Value>> {
        match r.opt_s(name)? {
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|_| r.bad(name)),
            None => Ok(None),
        }
    };
    Ok(AuditEntry {
        at: r.instant("at")?,
        actor: r.s("actor")?,
        origin: Origin::parse(&r.s("origin")?).ok_or_else(|| r.bad("origin"))?,
        action: r.s("action")?,
        session_id: r.opt_s("session_id")?.map(SessionId::from_stored),
        officer_id: r.opt_s("officer_id")?.map(OfficerId::from_stored),
        training_id: r.opt_s("training_id")?.map(TrainingId::from_stored),
        before: json("before")?,
        after: json("after")?,
        reason: r.opt_s("reason")?,
    })
}

/// The item with every string naming `old` naming `new` instead: keys, index keys, the
/// officer's id, the author of their own changes. Ids are ULIDs, so nothing else matches.
fn rekeyed(item: &Item, old: &str, new: &str) -> Item {
    item.iter()
        .map(|(name, value)| {
            let value = match value {
                AttributeValue::S(text) if text.contains(old) => {
                    AttributeValue::S(text.replace(old, new))
                }
                other => other.clone(),
            };
            (name.clone(), value)
        })
        .collect()
}

impl DynamoStore {
    pub(crate) async fn record_audit_impl(&self, entries: &[AuditEntry]) -> Result<()> {
        match entries {
            [] => Ok(()),
            [one] => self
                .write_one(Write::put(Role::Audit, audit_item(one)))
                .await
                .map(|_| ()),
            many => {
                self.commit_all(
                    many.iter()
                        .map(|e| Write::put(Role::Audit, audit_item(e)))
                        .collect(),
                )
                .await
            }
        }
    }

    pub(crate) async fn audit_impl(&self, subject: &AuditSubject) -> Result<Vec<AuditEntry>> {
        let query = match subject {
            AuditSubject::Session(id) => {
                Query::global(keys::GSI1, keys::GSI1PK, keys::session_audit(id))
            }
            AuditSubject::Training(id) => {
                Query::global(keys::GSI1, keys::GSI1PK, keys::training_audit(id))
            }
            AuditSubject::Officer(id) => Query::global(
                keys::GSI2,
                keys::GSI2PK,
                keys::officer_partition(id),
            )
            .sort(SortOp::BeginsWith, keys::GSI2SK, keys::AUDIT_PREFIX),
        };
        let mut out = self
            .query(query)
            .await?
            .iter()
            .map(entry_from)
            .collect::<Result<Vec<_>>>()?;
        cassiopee_domain::audit::sort_lines(&mut out);
        Ok(out)
    }

    pub(crate) async fn officer_interests_impl(&self, o: &OfficerId) -> Result<Vec<TrainingId>> {
        let trainings = self.collection(keys::TRAINING_KIND).await?;
        let keys: Vec<Key> = trainings
            .iter()
            .map(|t| {
                Reader(t)
                    .s("id")
                    .map(|id| keys::interest(&TrainingId::from_stored(id), o))
            })
            .collect::<Result<_>>()?;
        let mut found = self
            .get_many(&keys)
            .await?
            .values()
            .map(|i| {
                let r = Reader(i);
                Ok((r.i64("at")?, TrainingId::from_stored(r.s("training_id")?)))
            })
            .collect::<Result<Vec<_>>>()?;
        found.sort();
        Ok(found.into_iter().map(|(_, t)| t).collect())
    }

    pub(crate) async fn is_erased_impl(&self, o: &OfficerId) -> Result<bool> {
        Ok(self.get(&keys::erasure(o)).await?.is_some())
    }

    /// Starts an erasure (the tombstone with the new id) or finds the one left unfinished.
    async fn begin_erasure(
        &self,
        o: &OfficerId,
        now: Instant,
    ) -> Result<Option<(OfficerId, Instant)>> {
        for _ in 0..2 {
            if let Some(item) = self.get(&keys::erasure(o)).await? {
                let r = Reader(&item);
                return Ok(r
                    .opt_s("pseudonym")?
                    .map(|p| (OfficerId::from_stored(p), now)));
            }
            if self.get(&keys::officer(o)).await?.is_none() {
                return Err(DomainError::officer_not_found());
            }
            // The tombstone keeps no time: it would tie it to the pseudonym's audit line.
            let pseudonym = OfficerId::untimed();
            let mut tomb = keyed(&keys::erasure(o));
            tomb.insert("pseudonym".into(), s(pseudonym.as_str()));
            if self
                .write_one(Write::put(Role::Officer, tomb).when_absent())
                .await?
            {
                return Ok(Some((pseudonym, now)));
            }
            // Another erasure of the same officer began meanwhile: join it.
        }
        Err(contention("erase_officer"))
    }

    async fn commit_all(&self, writes: Vec<Write>) -> Result<()> {
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            let chunk: Vec<Write> = writes.by_ref().take(CHUNK).collect();
            if let Commit::Failed(_) = self.commit(chunk, None).await? {
                return Err(contention("batch of writes"));
            }
        }
        Ok(())
    }

    /// Moves the officer's enrolments, their history and feedback on them to the pseudonym and
    /// to a new enrolment id (an imported enrolment's id is derived from the address too), one
    /// transaction each: their keys hold the ids, so each move is a delete and a put. The
    /// delete is conditioned on the item being there, so that an index read that lags behind a
    /// move already made cannot make it twice. Answers the enrolments and feedback moved.
    async fn move_enrolments(&self, o: &OfficerId, pseudonym: &OfficerId) -> Result<(u32, u32)> {
        let (old, new) = (o.as_str(), pseudonym.as_str());
        let index = Query::global(keys::GSI2, keys::GSI2PK, keys::officer_partition(o)).sort(
            SortOp::BeginsWith,
            keys::GSI2SK,
            keys::ENROLMENT_PREFIX,
        );
        let enrolments = self.query(index).await?;
        let (mut enrolments_kept, mut feedback_kept) = (0u32, 0u32);
        for item in &enrolments {
            let r = Reader(item);
            let session = SessionId::from_stored(r.s("session_id")?);
            let old_enrolment = r.s("id")?;
            let new_enrolment = EnrolmentId::untimed().to_string();
            let moved = |i: &Item| rekeyed(&rekeyed(i, old, new), &old_enrolment, &new_enrolment);
            // The copy of the officer's record (their name, e-mail…) is not moved: the kept
            // enrolment carries the erased stand-in instead, as a roster shows it.
            let mut kept = moved(item);
            kept.insert(
                items::OFFICER_COPY.into(),
                items::officer_copy(&Officer::erased(pseudonym.clone())),
            );
            let mut writes = vec![
                Write::delete(Role::Enrolment, key_of(item)).when_present(),
                Write::put(Role::Enrolment, kept),
            ];
            let history = self
                .query(
                    Query::table(keys::change_partition(&EnrolmentId::from_stored(
                        old_enrolment.clone(),
                    )))
                    .sort(SortOp::BeginsWith, keys::SK, keys::CHANGE_PREFIX),
                )
                .await?;
            for line in &history {
                writes.push(Write::delete(Role::History, key_of(line)));
                writes.push(Write::put(Role::History, moved(line)));
            }
            if let Some(feedback) = self.get(&keys::feedback(&session, o)).await? {
                let mut kept = moved(&feedback);
                kept.remove("comment");
                writes.push(Write::delete(Role::Feedback, key_of(&feedback)));
                writes.push(Write::put(Role::Feedback, kept));
                feedback_kept += 1;
            }
            if writes.len() > MAX_WRITES {
                return Err(DomainError::internal(format!(
                    "erase_officer: an enrolment with {} history lines is too long to move in \
                     one transaction",
                    history.len()
                )));
            }
            match self.commit(writes, None).await? {
                Commit::Done => enrolments_kept += 1,
                // Moved already, by an earlier run that the index still showed.
                c if c.failure(Role::Enrolment).is_some() => {}
                _ => return Err(contention("erase_officer")),
            }
        }
        Ok((enrolments_kept, feedback_kept))
    }

    pub(crate) async fn erase_officer_impl(
        &self,
        o: &OfficerId,
        now: Instant,
    ) -> Result<Option<Erasure>> {
        let Some((pseudonym, erased_at)) = self.begin_erasure(o, now).await? else {
            return Ok(None);
        };
        let (old, new) = (o.as_str(), pseudonym.as_str());
        let officer_index = |prefix: &'static str| {
            Query::global(keys::GSI2, keys::GSI2PK, keys::officer_partition(o)).sort(
                SortOp::BeginsWith,
                keys::GSI2SK,
                prefix,
            )
        };

        // Enrolments, their history and feedback on them move to the pseudonym; see
        // `move_enrolments`.
        let (mut enrolments_kept, mut feedback_kept) = self.move_enrolments(o, &pseudonym).await?;

        // Audit lines keep their keys; their index keys and authors change. History lines went
        // with their enrolments (an index that lags may still show them here: skipped), and a
        // line is rewritten only while it exists.
        let lines = self.query(officer_index(keys::AUDIT_PREFIX)).await?;
        self.commit_all(
            lines
                .iter()
                .filter(|item| !item.contains_key("to"))
                .map(|item| Write::put(Role::Audit, rekeyed(item, old, new)).when_present())
                .collect(),
        )
        .await?;

        // The ledger goes.
        let notices = self.query(officer_index(keys::NOTICE_PREFIX)).await?;
        let notices_deleted = u32::try_from(notices.len()).unwrap_or(u32::MAX);
        self.commit_all(
            notices
                .iter()
                .map(|item| Write::delete(Role::Notice, key_of(item)))
                .collect(),
        )
        .await?;

        // Interests, with the demand counters they feed.
        for training in self.officer_interests_impl(o).await? {
            let writes = vec![
                Write::delete(Role::Interest, keys::interest(&training, o)).when_present(),
                Write::update(Role::Training, keys::training(&training))
                    .add("interested", n(-1))
                    .when_present(),
            ];
            // A failed condition means another run took it away already.
            self.commit(writes, None).await?;
        }

        // The officer's own partition: the record (and its e-mail index), the programme, the
        // calendar token and its guard; then the quota windows.
        let own = self.query(Query::table(keys::officer_partition(o))).await?;
        let mut writes = Vec::new();
        for item in &own {
            if let Some(hash) = Reader(item).opt_s("token_hash")? {
                writes.push(Write::delete(Role::Guard, keys::calendar_token(&hash)));
            }
            writes.push(Write::delete(Role::Officer, key_of(item)));
        }
        let quota = self
            .query(Query::table(keys::quota(&format!("changes:{o}"), 0).0))
            .await?;
        writes.extend(quota.iter().map(|i| Write::delete(Role::Quota, key_of(i))));
        self.commit_all(writes).await?;

        // An enrolment of the officer's own that committed while this ran (after the index read
        // above, before their record went) was not moved, and carries a copy of their record.
        // None can commit now (an enrolment checks that its officer's record exists): a second
        // pass moves those the index shows by now.
        let (late, late_feedback) = self.move_enrolments(o, &pseudonym).await?;
        enrolments_kept += late;
        feedback_kept += late_feedback;

        // Done: the tombstone forgets the new id.
        self.write_one(Write::update(Role::Officer, keys::erasure(o)).remove("pseudonym"))
            .await?;
        Ok(Some(Erasure {
            erased_at,
            pseudonym,
            enrolments_kept,
            feedback_kept,
            notices_deleted,
        }))
    }
}
