//! Writes, transactions and reads against the table.
//!
//! Every write is a [`Write`]: a put, update, delete or condition check with its condition,
//! tagged with the [`Role`] it plays, so that a cancelled transaction can say which condition
//! failed (`CancellationReasons` come back in request order, one per item).
//!
//! [`DynamoStore::commit`] retries, with bounded jittered backoff, what DynamoDB asks to retry
//! (transaction conflicts, throttling, a transaction still in progress); a failed condition is
//! handed back to the caller, who decides. Notices whose uniqueness condition fails are dropped
//! and the rest committed, as the embedded store's `ON CONFLICT DO NOTHING` does.

use crate::DynamoStore;
use crate::items::{Item, keyed};
use crate::keys::{self, Key};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ConsumedCapacity, Delete, KeysAndAttributes, Put,
    ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, Select, TransactWriteItem, Update,
};
use cassiopee_domain::error::{DomainError, Result};
use std::collections::HashMap;
use std::time::Duration;

/// DynamoDB's limit on the items of one `TransactWriteItems`.
pub(crate) const MAX_TX_ITEMS: usize = 100;
/// Retries of a transaction that DynamoDB cancels for a conflict or throttling (so one more
/// attempt in all).
const MAX_TRANSIENT_ATTEMPTS: u32 = 8;
/// Attempts of a read-then-conditional-write operation whose conditions keep failing because
/// others write the same session at the same time.
pub(crate) const MAX_OPTIMISTIC_ATTEMPTS: u32 = 64;

/// What an item does in its transaction, to read cancellation reasons by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Session,
    Enrolment,
    History,
    Notice,
    Fanout,
    Idempotency,
    Officer,
    Staff,
    Training,
    /// A uniqueness guard (training code, session reference).
    Guard,
    Interest,
    Programme,
    Feedback,
    Quota,
    Audit,
}

/// An SDK error once the SDK's own retries are spent: overload and lost connections are
/// transient (503, try again), anything else is ours (500).
pub(crate) fn sdk<E, R>(op: &'static str) -> impl FnOnce(SdkError<E, R>) -> DomainError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    move |e| {
        let transient = match &e {
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(se) => se.err().code().is_some_and(overloaded_code),
            _ => false,
        };
        let cause = format!("dynamodb {op}: {}", DisplayErrorContext(&e));
        if transient {
            DomainError::unavailable(cause)
        } else {
            DomainError::internal(cause)
        }
    }
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> DomainError {
    DomainError::internal(format!("dynamodb request: {e}"))
}

enum Kind {
    Put(Item),
    Update(Key),
    Delete(Key),
    Check(Key),
}

/// One write, its condition and the names and values its expressions use. Every attribute
/// name goes through `ExpressionAttributeNames` (`#name`), so reserved words such as
/// `capacity`, `status` or `position` never reach an expression.
pub(crate) struct Write {
    pub role: Role,
    kind: Kind,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    sets: Vec<String>,
    adds: Vec<String>,
    removes: Vec<String>,
    deletes: Vec<String>,
    conditions: Vec<String>,
    return_old: bool,
}

impl Write {
    fn new(role: Role, kind: Kind) -> Self {
        Self {
            role,
            kind,
            names: HashMap::new(),
            values: HashMap::new(),
            sets: Vec::new(),
            adds: Vec::new(),
            removes: Vec::new(),
            deletes: Vec::new(),
            conditions: Vec::new(),
            return_old: false,
        }
    }

    pub fn put(role: Role, item: Item) -> Self {
        Self::new(role, Kind::Put(item))
    }

    pub fn update(role: Role, key: Key) -> Self {
        Self::new(role, Kind::Update(key))
    }

    pub fn delete(role: Role, key: Key) -> Self {
        Self::new(role, Kind::Delete(key))
    }

    pub fn check(role: Role, key: Key) -> Self {
        Self::new(role, Kind::Check(key))
    }

    /// The placeholder of an attribute name.
    pub fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#{attr}");
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    /// The placeholder of a value.
    pub fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    pub fn set(mut self, attr: &str, v: AttributeValue) -> Self {
        let clause = format!("{} = {}", self.name(attr), self.value(v));
        self.sets.push(clause);
        self
    }

    /// `SET attr = if_not_exists(attr, v)`: keeps a value written before.
    pub fn set_once(mut self, attr: &str, v: AttributeValue) -> Self {
        let name = self.name(attr);
        let clause = format!("{name} = if_not_exists({name}, {})", self.value(v));
        self.sets.push(clause);
        self
    }

    pub fn add(mut self, attr: &str, v: AttributeValue) -> Self {
        let clause = format!("{} {}", self.name(attr), self.value(v));
        self.adds.push(clause);
        self
    }

    /// `DELETE attr v`: takes the elements of the set `v` out of the set `attr`.
    pub fn delete_from(mut self, attr: &str, v: AttributeValue) -> Self {
        let clause = format!("{} {}", self.name(attr), self.value(v));
        self.deletes.push(clause);
        self
    }

    pub fn remove(mut self, attr: &str) -> Self {
        let name = self.name(attr);
        self.removes.push(name);
        self
    }

    /// Adds a condition built with this write's placeholders; conditions are AND-ed.
    pub fn when(mut self, build: impl FnOnce(&mut Self) -> String) -> Self {
        let condition = build(&mut self);
        self.conditions.push(format!("({condition})"));
        self
    }

    pub fn when_eq(self, attr: &str, v: AttributeValue) -> Self {
        self.when(|w| format!("{} = {}", w.name(attr), w.value(v)))
    }

    pub fn when_absent(self) -> Self {
        self.when(|w| format!("attribute_not_exists({})", w.name(keys::PK)))
    }

    pub fn when_present(self) -> Self {
        self.when(|w| format!("attribute_exists({})", w.name(keys::PK)))
    }

    /// Asks for the item as it was when the condition failed (in the cancellation reason).
    pub fn return_old(mut self) -> Self {
        self.return_old = true;
        self
    }

    /// The primary key this write targets.
    pub fn target(&self) -> Key {
        match &self.kind {
            Kind::Put(item) => {
                let get = |k: &str| match item.get(k) {
                    Some(AttributeValue::S(v)) => v.clone(),
                    _ => String::new(),
                };
                (get(keys::PK), get(keys::SK))
            }
            Kind::Update(k) | Kind::Delete(k) | Kind::Check(k) => k.clone(),
        }
    }

    fn condition(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| self.conditions.join(" AND "))
    }

    fn update_expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.sets.is_empty() {
            parts.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.adds.is_empty() {
            parts.push(format!("ADD {}", self.adds.join(", ")));
        }
        if !self.removes.is_empty() {
            parts.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        if !self.deletes.is_empty() {
            parts.push(format!("DELETE {}", self.deletes.join(", ")));
        }
        parts.join(" ")
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    fn old(&self) -> Option<ReturnValuesOnConditionCheckFailure> {
        self.return_old
            .then_some(ReturnValuesOnConditionCheckFailure::AllOld)
    }

    fn transact_item(&self, table: &str) -> Result<TransactWriteItem> {
        let item = match &self.kind {
            Kind::Put(item) => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item.clone()))
                    .set_condition_expression(self.condition())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.old())
                    .build()
                    .map_err(build_err)?,
            ),
            Kind::Update(key) => TransactWriteItem::builder().update(
                Update::builder()
                    .table_name(table)
                    .set_key(Some(keyed(key)))
                    .update_expression(self.update_expression())
                    .set_condition_expression(self.condition())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.old())
                    .build()
                    .map_err(build_err)?,
            ),
            Kind::Delete(key) => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(table)
                    .set_key(Some(keyed(key)))
                    .set_condition_expression(self.condition())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.old())
                    .build()
                    .map_err(build_err)?,
            ),
            Kind::Check(key) => TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(keyed(key)))
                    .condition_expression(self.condition().unwrap_or_default())
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.old())
                    .build()
                    .map_err(build_err)?,
            ),
        };
        Ok(item.build())
    }
}

/// A condition that failed in a cancelled transaction.
#[derive(Debug)]
pub(crate) struct Failure {
    pub role: Role,
    /// The item as it was, when the write asked for it and the item existed.
    pub item: Option<Item>,
}

#[derive(Debug)]
pub(crate) enum Commit {
    Done,
    /// Some conditions failed; nothing was written.
    Failed(Vec<Failure>),
}

impl Commit {
    pub fn failure(&self, role: Role) -> Option<&Failure> {
        match self {
            Commit::Done => None,
            Commit::Failed(f) => f.iter().find(|f| f.role == role),
        }
    }
}

/// The error codes of a request refused for load, worth trying again later.
fn overloaded_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "TransactionInProgressException"
    )
}

fn transient_code(code: &str) -> bool {
    matches!(
        code,
        "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"
    )
}

/// A random delay in `0..=cap` milliseconds (full jitter), without a random-number crate:
/// `RandomState` draws fresh keys for every instance.
pub(crate) fn jitter(cap_ms: u64) -> Duration {
    use std::hash::BuildHasher;
    let draw =
        std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now());
    Duration::from_millis(draw % (cap_ms + 1))
}

/// Exponential backoff with full jitter: up to 5 ms, 10 ms, 20 ms… capped at 640 ms.
pub(crate) async fn backoff(attempt: u32) {
    tokio::time::sleep(jitter(5u64 << attempt.min(7))).await;
}

impl DynamoStore {
    /// Runs one `TransactWriteItems`. Answers `Failed` with the conditions that failed; retries
    /// conflicts and throttling a bounded number of times; anything else is an internal error
    /// with its cause. `token` becomes the `ClientRequestToken`.
    pub(crate) async fn commit(
        &self,
        mut writes: Vec<Write>,
        mut token: Option<String>,
    ) -> Result<Commit> {
        if writes.is_empty() {
            return Ok(Commit::Done);
        }
        if writes.len() > MAX_TX_ITEMS {
            return Err(DomainError::internal(format!(
                "dynamodb transaction of {} items (at most {MAX_TX_ITEMS})",
                writes.len()
            )));
        }
        let mut transient = 0;
        loop {
            let items = writes
                .iter()
                .map(|w| w.transact_item(&self.table))
                .collect::<Result<Vec<_>>>()?;
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .set_client_request_token(token.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            let err = match sent {
                Ok(out) => {
                    spent("TransactWriteItems", out.consumed_capacity());
                    return Ok(Commit::Done);
                }
                Err(SdkError::ServiceError(e)) => e.into_err(),
                Err(e) => {
                    return Err(sdk("TransactWriteItems")(e));
                }
            };
            match err {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let reasons = cancelled.cancellation_reasons();
                    let code_at =
                        |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
                    let failed: Vec<usize> = (0..writes.len())
                        .filter(|i| code_at(*i) == "ConditionalCheckFailed")
                        .collect();
                    if !failed.is_empty() {
                        if failed
                            .iter()
                            .all(|i| matches!(writes[*i].role, Role::Notice | Role::Fanout))
                        {
                            // Already queued: skip those notices, keep the change.
                            for i in failed.into_iter().rev() {
                                writes.remove(i);
                            }
                            token = None;
                            continue;
                        }
                        let failures = failed
                            .into_iter()
                            .map(|i| Failure {
                                role: writes[i].role,
                                item: reasons.get(i).and_then(|r| r.item()).cloned(),
                            })
                            .collect();
                        return Ok(Commit::Failed(failures));
                    }
                    let codes: Vec<&str> =
                        reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
                    if codes.iter().any(|c| transient_code(c)) && transient < MAX_TRANSIENT_ATTEMPTS
                    {
                        transient += 1;
                        tracing::debug!(
                            ?codes,
                            attempt = transient,
                            "transaction cancelled; retrying"
                        );
                        backoff(transient).await;
                        continue;
                    }
                    let cause = format!(
                        "dynamodb TransactWriteItems cancelled: {codes:?} ({})",
                        cancelled.message().unwrap_or_default()
                    );
                    return Err(if codes.iter().any(|c| transient_code(c)) {
                        DomainError::unavailable(cause)
                    } else {
                        DomainError::internal(cause)
                    });
                }
                TransactWriteItemsError::IdempotentParameterMismatchException(_)
                    if token.is_some() =>
                {
                    // The token answered an earlier, different request: the idempotency item,
                    // not the token, decides what this one gets.
                    token = None;
                }
                e @ (TransactWriteItemsError::TransactionInProgressException(_)
                | TransactWriteItemsError::ThrottlingException(_)
                | TransactWriteItemsError::ProvisionedThroughputExceededException(_)
                | TransactWriteItemsError::RequestLimitExceeded(_)
                | TransactWriteItemsError::InternalServerError(_)) => {
                    if transient >= MAX_TRANSIENT_ATTEMPTS {
                        return Err(DomainError::unavailable(format!(
                            "dynamodb TransactWriteItems: {} (after {transient} retries)",
                            DisplayErrorContext(&e)
                        )));
                    }
                    transient += 1;
                    backoff(transient).await;
                }
                e => {
                    return Err(DomainError::internal(format!(
                        "dynamodb TransactWriteItems: {}",
                        DisplayErrorContext(&e)
                    )));
                }
            }
        }
    }

    /// Sends one write outside a transaction. Answers false when its condition failed.
    pub(crate) async fn write_one(&self, w: Write) -> Result<bool> {
        let result = match &w.kind {
            Kind::Put(item) => self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .set_condition_expression(w.condition())
                .set_expression_attribute_names(w.names())
                .set_expression_attribute_values(w.values())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map(|out| spent("PutItem", out.consumed_capacity.as_slice()))
                .map_err(|e| match e {
                    SdkError::ServiceError(se)
                        if se.err().is_conditional_check_failed_exception() =>
                    {
                        None
                    }
                    e => Some(sdk("PutItem")(e)),
                }),
            Kind::Update(key) => self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(keyed(key)))
                .update_expression(w.update_expression())
                .set_condition_expression(w.condition())
                .set_expression_attribute_names(w.names())
                .set_expression_attribute_values(w.values())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map(|out| spent("UpdateItem", out.consumed_capacity.as_slice()))
                .map_err(|e| match e {
                    SdkError::ServiceError(se)
                        if se.err().is_conditional_check_failed_exception() =>
                    {
                        None
                    }
                    e => Some(sdk("UpdateItem")(e)),
                }),
            Kind::Delete(key) => self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(keyed(key)))
                .set_condition_expression(w.condition())
                .set_expression_attribute_names(w.names())
                .set_expression_attribute_values(w.values())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map(|out| spent("DeleteItem", out.consumed_capacity.as_slice()))
                .map_err(|e| match e {
                    SdkError::ServiceError(se)
                        if se.err().is_conditional_check_failed_exception() =>
                    {
                        None
                    }
                    e => Some(sdk("DeleteItem")(e)),
                }),
            Kind::Check(_) => {
                return Err(DomainError::internal(
                    "dynamodb: a condition check only exists inside a transaction",
                ));
            }
        };
        match result {
            Ok(()) => Ok(true),
            Err(None) => Ok(false),
            Err(Some(e)) => Err(e),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Reads

    /// A strongly consistent read of one item.
    pub(crate) async fn get(&self, key: &Key) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keyed(key)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(sdk("GetItem"))?;
        spent("GetItem", out.consumed_capacity.as_slice());
        Ok(out.item)
    }

    /// Strongly consistent reads of many items, 100 keys per request, by key.
    pub(crate) async fn get_many(&self, keys: &[Key]) -> Result<HashMap<Key, Item>> {
        let mut found = HashMap::new();
        let mut unique: Vec<&Key> = Vec::new();
        for k in keys {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        for chunk in unique.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|k| keyed(k)).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(build_err)?,
            );
            let mut rounds = 0;
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(sdk("BatchGetItem"))?;
                spent("BatchGetItem", out.consumed_capacity());
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let key = key_of(&item);
                    found.insert(key, item);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
                if pending.is_some() {
                    rounds += 1;
                    if rounds > MAX_TRANSIENT_ATTEMPTS {
                        return Err(DomainError::unavailable(
                            "dynamodb BatchGetItem: keys left unprocessed after retries",
                        ));
                    }
                    backoff(rounds).await;
                }
            }
        }
        Ok(found)
    }

    /// Every item of a query, page after page.
    pub(crate) async fn query(&self, q: Query<'_>) -> Result<Vec<Item>> {
        self.run_query(q, false).await.map(|(items, _)| items)
    }

    /// How many items a query matches, without reading them back.
    pub(crate) async fn count(&self, q: Query<'_>) -> Result<u32> {
        self.run_query(q, true).await.map(|(_, n)| n)
    }

    async fn run_query(&self, q: Query<'_>, count_only: bool) -> Result<(Vec<Item>, u32)> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        names.insert("#pk".to_string(), q.partition_attr.to_string());
        values.insert(":pk".to_string(), AttributeValue::S(q.partition));
        let mut key_condition = "#pk = :pk".to_string();
        if let Some((op, sort_attr, bound)) = q.sort {
            names.insert("#sk".into(), sort_attr.into());
            values.insert(":sk".into(), AttributeValue::S(bound.clone()));
            key_condition.push_str(&match op {
                SortOp::BeginsWith => " AND begins_with(#sk, :sk)".to_string(),
                SortOp::Lt => " AND #sk < :sk".to_string(),
                SortOp::Gt => " AND #sk > :sk".to_string(),
                SortOp::Ge => " AND #sk >= :sk".to_string(),
                SortOp::Between(upper) => {
                    values.insert(":sk2".into(), AttributeValue::S(upper));
                    " AND #sk BETWEEN :sk AND :sk2".to_string()
                }
            });
        }
        let filter = q.filter.map(|f| {
            names.extend(f.names.clone());
            values.extend(f.values.clone());
            f.conditions.join(" AND ")
        });
        let mut out = Vec::new();
        let mut counted: u32 = 0;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_select(count_only.then_some(Select::Count))
                .set_limit(
                    q.limit
                        .filter(|_| filter.is_none() && !count_only)
                        .and_then(|l| i32::try_from(l).ok()),
                )
                .set_index_name(q.index.map(str::to_string))
                .key_condition_expression(&key_condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(q.forward)
                .set_consistent_read(q.consistent.then_some(true))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(sdk("Query"))?;
            spent("Query", page.consumed_capacity.as_slice());
            counted += u32::try_from(page.count).unwrap_or(0);
            out.extend(page.items.unwrap_or_default());
            if q.limit.is_some_and(|l| out.len() >= l) {
                out.truncate(q.limit.unwrap_or(usize::MAX));
                break;
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok((out, counted))
    }
}

/// Logs the capacity units a call consumed, as DynamoDB reports them when asked
/// (`ReturnConsumedCapacity=TOTAL`, on every call of the store).
pub(crate) fn spent(op: &str, consumed: &[ConsumedCapacity]) {
    let units: f64 = consumed.iter().filter_map(|c| c.capacity_units()).sum();
    tracing::debug!(op, units, "dynamodb consumed capacity");
}

pub(crate) fn key_of(item: &Item) -> Key {
    let get = |k: &str| match item.get(k) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    };
    (get(keys::PK), get(keys::SK))
}

pub(crate) enum SortOp {
    BeginsWith,
    Lt,
    Gt,
    Ge,
    Between(String),
}

/// A filter applied after the key condition (it narrows what comes back, not what is read).
#[derive(Default)]
pub(crate) struct Filter {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    conditions: Vec<String>,
}

impl Filter {
    pub fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#f_{attr}");
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    pub fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":f{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    pub fn when(mut self, build: impl FnOnce(&mut Self) -> String) -> Self {
        let c = build(&mut self);
        self.conditions.push(format!("({c})"));
        self
    }
}

/// A query on the table or one of its indexes.
pub(crate) struct Query<'a> {
    index: Option<&'a str>,
    partition_attr: &'a str,
    partition: String,
    sort: Option<(SortOp, &'a str, String)>,
    filter: Option<Filter>,
    forward: bool,
    consistent: bool,
    limit: Option<usize>,
}

impl<'a> Query<'a> {
    /// A strongly consistent query of one partition of the table.
    pub fn table(partition: impl Into<String>) -> Self {
        Self {
            index: None,
            partition_attr: keys::PK,
            partition: partition.into(),
            sort: None,
            filter: None,
            forward: true,
            consistent: true,
            limit: None,
        }
    }

    /// A strongly consistent query of the waiting-list index.
    pub fn lsi1(partition: impl Into<String>) -> Self {
        Self {
            index: Some(keys::LSI1),
            ..Self::table(partition)
        }
    }

    /// An eventually consistent query of a global index.
    pub fn global(index: &'a str, partition_attr: &'a str, partition: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            partition_attr,
            partition: partition.into(),
            sort: None,
            filter: None,
            forward: true,
            consistent: false,
            limit: None,
        }
    }

    pub fn sort(mut self, op: SortOp, attr: &'a str, bound: impl Into<String>) -> Self {
        self.sort = Some((op, attr, bound.into()));
        self
    }

    pub fn filter(mut self, f: Filter) -> Self {
        self.filter = Some(f);
        self
    }

    pub fn backwards(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
}
