//! Faults between the SDK and the emulator. A loopback proxy (`support/proxy.rs`) answers
//! chosen requests with DynamoDB's transient errors (transaction conflicts, throttling), or
//! lets the emulator apply them and loses the answer; each case checks that the store retries
//! within its bounds and applies every change exactly once.
//!
//! The store under test reaches the proxy with the SDK's standard retries, three attempts as
//! `aws_config` gives the functions, the waits between them shortened for speed. Another store,
//! straight on the emulator, arranges the table and reads it back.
//!
//! moto ignores `ClientRequestToken` (see TOOLCHAIN.md): a request the SDK repeats after a
//! lost answer is run again as a new request, and only the store's own conditions (the
//! idempotency item, the enrolment's absence, the session's `rev`) stop it. DynamoDB itself
//! would answer a repeated token with the first success; these cases test the harder path.
//!
//! Run: `cargo test -p cassiopee-dynamodb --test faults` (starts moto itself with
//! `CASSIOPEE_MOTO_PYTHON` or `.venv`, or uses `CASSIOPEE_MOTO_ENDPOINT`).

mod support;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use cassiopee_domain::ErrorKind;
use cassiopee_domain::error::DomainError;
use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::model::{Actor, EnrolmentStatus, WaitlistMode};
use cassiopee_domain::notices::NoticeKind;
use cassiopee_domain::ports::{
    EnrolCommand, EnrolOutcome, Enrolled, SessionPatch, Store, WithdrawCommand, WithdrawOutcome,
};
use cassiopee_domain::time::Instant;
use cassiopee_dynamodb::DynamoStore;
use std::sync::Arc;
use std::time::Duration;
use support::proxy::{Arrival, Fault, Proxy};
use support::{at, check_invariants, moto, setup};

const TRANSACT: &str = "TransactWriteItems";
const QUERY: &str = "Query";

/// Attempts the store makes at one transaction that DynamoDB keeps cancelling or throttling:
/// the first, then `MAX_TRANSIENT_ATTEMPTS` (8) retries (`src/tx.rs`).
const STORE_ATTEMPTS: usize = 9;
/// Attempts the SDK makes at a request that fails in a way it retries (throttling, a lost
/// answer), in the standard mode `aws_config` gives the functions.
const SDK_ATTEMPTS: usize = 3;

const CONFIRMED_NOTICE: NoticeKind = NoticeKind::EnrolmentConfirmed { by_staff: false };

/// When officers enrol.
fn now() -> Instant {
    at("2027-02-01T10:00")
}

/// When they withdraw and others are promoted: a day later, so that the outbox lists each
/// officer's notices in the order of their changes.
fn later() -> Instant {
    at("2027-02-02T10:00")
}

/// The proxy in front of the emulator, a table of its own with officers and one session, and
/// a store on each side.
struct Rig {
    proxy: Proxy,
    /// The store under test: its requests go through the proxy.
    store: DynamoStore,
    /// A store on the same table, straight to the emulator: to arrange and to look.
    direct: DynamoStore,
    session: SessionId,
    officers: Vec<OfficerId>,
}

/// `None` when the emulator is unavailable (the case is then skipped, as `support` says).
async fn rig(officers: usize, capacity: u32, mode: WaitlistMode) -> Option<Rig> {
    let endpoint = moto::endpoint()?;
    let direct_client = moto::client(&endpoint, Arc::default());
    let table = format!("cassiopee-faults-{}", ulid::Ulid::generate());
    cassiopee_dynamodb::create_table(&direct_client, &table)
        .await
        .expect("create table");
    let direct = DynamoStore::new(direct_client, table.clone());
    let (session, officers) = setup(&direct, officers, capacity, mode).await;
    let proxy = Proxy::start(&endpoint).await;
    let store = DynamoStore::new(client_through(proxy.endpoint()), table);
    Some(Rig {
        proxy,
        store,
        direct,
        session,
        officers,
    })
}

/// A client as the functions build theirs (standard retries, three attempts), except that the
/// SDK's waits start at 10 ms instead of 1 s, and that its retry quota is its own: the SDK's
/// token bucket is otherwise shared by every client of the process, whatever its test.
fn client_through(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-3"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "cassiopee-faults",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(SDK_ATTEMPTS as u32)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .retry_partition(RetryPartition::new(format!(
            "cassiopee-faults-{}",
            ulid::Ulid::generate()
        )))
        .build();
    Client::from_conf(config)
}

impl Rig {
    fn enrol_cmd(&self, officer: usize, key: Option<&str>) -> EnrolCommand {
        let officer = &self.officers[officer];
        EnrolCommand {
            session_id: self.session.clone(),
            officer_id: officer.clone(),
            actor: Actor::officer(officer),
            now: now(),
            idempotency_key: key.map(str::to_string),
            quota: None,
            officer: None,
        }
    }

    fn withdraw_cmd(&self, officer: usize) -> WithdrawCommand {
        let officer = &self.officers[officer];
        WithdrawCommand {
            session_id: self.session.clone(),
            officer_id: officer.clone(),
            actor: Actor::officer(officer),
            now: later(),
        }
    }

    /// Enrols officers straight on the emulator, in order.
    async fn arrange_enrolments(&self, officers: &[usize]) -> Vec<EnrolOutcome> {
        let mut outcomes = Vec::new();
        for officer in officers {
            let answer = self.direct.enrol(&self.enrol_cmd(*officer, None)).await;
            outcomes.push(answer.expect("arranged enrolment").outcome);
        }
        outcomes
    }

    async fn seats_taken(&self) -> u32 {
        let session = self.direct.session(&self.session).await.expect("read");
        session.expect("session").seats_taken
    }

    async fn status(&self, officer: usize) -> Option<EnrolmentStatus> {
        let e = self
            .direct
            .enrolment(&self.session, &self.officers[officer]);
        e.await.expect("read").map(|e| e.status)
    }

    /// The lines of the officer's enrolment history (none without an enrolment).
    async fn history(&self, officer: usize) -> usize {
        let e = self
            .direct
            .enrolment(&self.session, &self.officers[officer]);
        match e.await.expect("read") {
            Some(e) => self
                .direct
                .enrolment_history(&e.id)
                .await
                .expect("history")
                .len(),
            None => 0,
        }
    }

    /// The notices queued in the outbox for the officer, oldest first.
    async fn notices(&self, officer: usize) -> Vec<NoticeKind> {
        let pending = self.direct.pending_notices(10_000).await.expect("pending");
        pending
            .into_iter()
            .filter(|q| q.notice.officer_id == self.officers[officer])
            .map(|q| q.notice.kind)
            .collect()
    }

    /// Officer `officer`, second in the list, was promoted (confirmed) once, told once, and
    /// the next is first in line; the session's counters are `seats` (taken, waiting).
    async fn assert_promoted_once(&self, officer: usize, seats: (u32, u32)) {
        let (session, _) = check_invariants(&self.direct, &self.session, "promoted").await;
        assert_eq!((session.seats_taken, session.waiting), seats);
        assert_eq!(self.status(officer).await, Some(EnrolmentStatus::Confirmed));
        assert_eq!(
            self.direct
                .waitlist_position(&self.session, &self.officers[officer + 1])
                .await
                .expect("position"),
            Some(1)
        );
        assert_eq!(
            self.notices(officer).await,
            vec![NoticeKind::Waitlisted { position: 1 }, NoticeKind::Promoted]
        );
    }

    /// The officer is confirmed once: one roster line, one history line, one notice; and the
    /// session holds `seats` seats, its counters true.
    async fn assert_confirmed_once(&self, officer: usize, seats: u32) {
        let (session, roster) = check_invariants(&self.direct, &self.session, "faults").await;
        assert_eq!(session.seats_taken, seats, "seat counter");
        let lines: Vec<_> = roster
            .iter()
            .filter(|l| l.officer.id == self.officers[officer])
            .collect();
        assert_eq!(lines.len(), 1, "roster lines of the officer");
        assert_eq!(lines[0].enrolment.status, EnrolmentStatus::Confirmed);
        assert_eq!(self.history(officer).await, 1, "history lines");
        assert_eq!(self.notices(officer).await, vec![CONFIRMED_NOTICE]);
    }

    /// Nobody is enrolled and nothing is queued.
    async fn assert_untouched(&self) {
        let (session, roster) = check_invariants(&self.direct, &self.session, "faults").await;
        assert_eq!(session.seats_taken, 0, "seat counter");
        assert!(roster.is_empty(), "roster: {roster:?}");
        let pending = self.direct.pending_notices(10_000).await.expect("pending");
        assert!(pending.is_empty(), "outbox: {pending:?}");
    }
}

/// How the store answers once it gives up on a transient fault: unavailable (HTTP 503 with
/// `Retry-After`), whose detail asks to try again in a few seconds, and whose cause, for the
/// logs, names what DynamoDB said.
fn assert_gave_up(err: &DomainError, said: &str) {
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert!(err.detail.contains("réessayez"), "{err:?}");
    assert_eq!(err.retry_after, Some(2));
    let cause = err.cause.as_deref().unwrap_or_default();
    assert!(cause.contains(said), "cause {cause:?} should name {said}");
}

/// The store waited between its attempts: from the first to the last, at least 50 ms.
///
/// `backoff` draws each wait uniformly in `0..=cap` (full jitter), the caps doubling from
/// 10 ms to 640 ms, so no single wait has a floor and the waits' growth cannot be asserted
/// without a test that sometimes fails. The sum can be: for eight waits to add up to less
/// than 50 ms, the five with the longest caps (80 to 640 ms) would have to, a chance of
/// 50⁵ / (5! × 80 × 160 × 320 × 640 × 640), below 2 in a million.
fn assert_waited(arrivals: &[Arrival]) {
    let first = arrivals.first().expect("a first attempt").at;
    let last = arrivals.last().expect("a last attempt").at;
    let waited = last - first;
    assert!(
        waited >= Duration::from_millis(50),
        "{} attempts within {waited:?}",
        arrivals.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_on_an_enrolment_are_retried_and_it_is_confirmed_once() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.proxy.next(TRANSACT, 3, Fault::Conflict);

    let answer = r.store.enrol(&r.enrol_cmd(0, None)).await.expect("enrol");

    assert_eq!(
        answer,
        Enrolled {
            outcome: EnrolOutcome::Confirmed,
            replayed: false
        }
    );
    assert_eq!(
        r.proxy.count(TRANSACT),
        4,
        "three conflicts, then the commit"
    );
    assert_eq!(r.proxy.faulted(TRANSACT, Fault::Conflict), 3);
    r.assert_confirmed_once(0, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_enrolments_are_retried_by_the_sdk_then_by_the_store_until_they_pass() {
    let Some(r) = rig(2, 5, WaitlistMode::Direct).await else {
        return;
    };
    // Four refusals: the SDK's three attempts, then the store's first retry, whose first SDK
    // attempt is refused too and whose second passes.
    for (officer, fault) in [(0, Fault::Throttling), (1, Fault::ThroughputExceeded)] {
        let before = r.proxy.count(TRANSACT);
        r.proxy.next(TRANSACT, 4, fault);

        let answer = r.store.enrol(&r.enrol_cmd(officer, None)).await;

        assert_eq!(answer.expect("enrol").outcome, EnrolOutcome::Confirmed);
        assert_eq!(
            r.proxy.count(TRANSACT) - before,
            5,
            "{fault:?} ×4, then the commit"
        );
        assert_eq!(r.proxy.faulted(TRANSACT, fault), 4);
        r.assert_confirmed_once(officer, officer as u32 + 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_always_in_conflict_gives_up_after_nine_spaced_attempts_storing_nothing() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.proxy.always(TRANSACT, Fault::Conflict);
    let cmd = r.enrol_cmd(0, Some("k-always-in-conflict"));

    let err = r.store.enrol(&cmd).await.expect_err("the store gives up");

    assert_gave_up(&err, "TransactionConflict");
    // The SDK does not retry a cancelled transaction: every attempt is the store's.
    assert_eq!(r.proxy.count(TRANSACT), STORE_ATTEMPTS);
    assert_waited(&r.proxy.arrivals(TRANSACT));
    r.assert_untouched().await;

    // Not even the answer was stored: once the conflicts stop, the same key enrols afresh.
    r.proxy.heal();
    let answer = r.store.enrol(&cmd).await.expect("enrol");
    assert!(!answer.replayed);
    r.assert_confirmed_once(0, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_always_throttled_is_given_up_after_three_sdk_attempts_for_each_of_nine() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.proxy.always(TRANSACT, Fault::Throttling);

    let err = r
        .store
        .enrol(&r.enrol_cmd(0, None))
        .await
        .expect_err("gives up");

    assert_gave_up(&err, "ThrottlingException");
    assert_eq!(r.proxy.count(TRANSACT), STORE_ATTEMPTS * SDK_ATTEMPTS);
    assert_waited(&r.proxy.arrivals(TRANSACT));
    r.assert_untouched().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_whose_answer_is_lost_is_retried_by_the_sdk_and_applied_once() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.proxy.next(TRANSACT, 1, Fault::LostResponse);

    let answer = r.store.enrol(&r.enrol_cmd(0, Some("k-lost"))).await;

    // The SDK's retry finds the stored answer (the idempotency item's absence condition
    // fails) and the store replays it.
    assert_eq!(
        answer.expect("enrol"),
        Enrolled {
            outcome: EnrolOutcome::Confirmed,
            replayed: true
        }
    );
    assert_eq!(
        r.proxy.count(TRANSACT),
        2,
        "the lost one, then the SDK's retry"
    );
    r.assert_confirmed_once(0, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_sdk_gives_up_on_lost_answers_the_caller_repeats_its_key_and_gets_the_same() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.proxy
        .next(TRANSACT, SDK_ATTEMPTS as u32, Fault::LostResponse);
    let cmd = r.enrol_cmd(0, Some("k-lost-thrice"));

    let err = r.store.enrol(&cmd).await.expect_err("the SDK gives up");

    // No answer came back at all: the SDK reports a dispatch failure, not an error answer.
    assert_gave_up(&err, "dispatch failure");
    assert_eq!(r.proxy.count(TRANSACT), SDK_ATTEMPTS);
    assert_eq!(r.seats_taken().await, 1, "the first attempt committed");

    let again = r.store.enrol(&cmd).await.expect("the caller's retry");

    assert_eq!(
        again,
        Enrolled {
            outcome: EnrolOutcome::Confirmed,
            replayed: true
        }
    );
    assert_eq!(r.proxy.count(TRANSACT), SDK_ATTEMPTS + 1);
    r.assert_confirmed_once(0, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_a_lost_answer_retried_is_refused_by_the_enrolment_not_applied_twice() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.proxy.next(TRANSACT, 1, Fault::LostResponse);

    let err = r
        .store
        .enrol(&r.enrol_cmd(0, None))
        .await
        .expect_err("refused");

    // The SDK's retry is a second enrolment of the same officer: the enrolment's absence
    // condition refuses it, and the caller is told the officer is already enrolled.
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::Conflict, "already-enrolled")
    );
    assert_eq!(r.proxy.count(TRANSACT), 2);
    r.assert_confirmed_once(0, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_whose_answer_is_lost_is_applied_once_with_its_promotion() {
    let Some(r) = rig(3, 1, WaitlistMode::Direct).await else {
        return;
    };
    r.arrange_enrolments(&[0, 1, 2]).await;
    r.proxy.next(TRANSACT, 1, Fault::LostResponse);

    let err = r
        .store
        .withdraw(&r.withdraw_cmd(0))
        .await
        .expect_err("refused");

    // The SDK's retry is cancelled (the session's `rev` moved on); read again, the enrolment
    // is no longer active, so the caller hears that there is nothing to withdraw from.
    assert_eq!(
        (err.kind, err.code),
        (ErrorKind::NotFound, "enrolment-not-found")
    );
    assert_eq!(r.proxy.count(TRANSACT), 2);
    // The seat went to the next in line with the withdrawal, once.
    r.assert_promoted_once(1, (1, 1)).await;
    assert_eq!(r.history(1).await, 2);
    assert_eq!(r.status(0).await, Some(EnrolmentStatus::Withdrawn));
    assert_eq!(r.history(0).await, 2);
    assert_eq!(
        r.notices(0).await,
        vec![
            CONFIRMED_NOTICE,
            NoticeKind::Withdrawn {
                late: false,
                by_staff: false
            }
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_that_promotes_meeting_conflicts_withdraws_and_promotes_once() {
    let Some(r) = rig(3, 1, WaitlistMode::Direct).await else {
        return;
    };
    r.arrange_enrolments(&[0, 1, 2]).await;
    r.proxy.next(TRANSACT, 2, Fault::Conflict);

    let withdrawal = r
        .store
        .withdraw(&r.withdraw_cmd(0))
        .await
        .expect("withdraw");

    assert_eq!(
        withdrawal.outcome,
        WithdrawOutcome::Withdrawn { late: false }
    );
    let promoted = &withdrawal.promoted;
    assert_eq!(promoted.len(), 1, "{promoted:?}");
    assert_eq!(promoted[0].officer_id, r.officers[1]);
    assert_eq!(promoted[0].status, EnrolmentStatus::Confirmed);
    assert_eq!(r.proxy.count(TRANSACT), 3, "two conflicts, then the commit");
    r.assert_promoted_once(1, (1, 1)).await;
    // The promotion the SeatReleased event then runs finds nothing left to do.
    assert!(
        r.store
            .promote(&r.session, later())
            .await
            .expect("promote")
            .is_empty()
    );
}

/// Frees a seat without promoting anyone: one more seat, as staff raising the capacity do
/// (the promotion is then promote-waitlist's, on the CapacityRaised event).
async fn raise_capacity(r: &Rig, capacity: u32) {
    let patch = SessionPatch {
        capacity: Some(capacity),
        ..SessionPatch::default()
    };
    let staff = Actor::system("test");
    let updated = r.direct.update_session(&r.session, &patch, &staff, later());
    assert!(updated.await.expect("raise").capacity_raised);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_meeting_conflicts_promotes_the_next_in_line_once() {
    let Some(r) = rig(3, 1, WaitlistMode::Direct).await else {
        return;
    };
    r.arrange_enrolments(&[0, 1, 2]).await;
    raise_capacity(&r, 2).await;
    r.proxy.next(TRANSACT, 2, Fault::Conflict);

    let promoted = r.store.promote(&r.session, later()).await.expect("promote");

    assert_eq!(promoted.len(), 1, "{promoted:?}");
    assert_eq!(promoted[0].officer_id, r.officers[1]);
    assert_eq!(promoted[0].status, EnrolmentStatus::Confirmed);
    assert_eq!(r.proxy.count(TRANSACT), 3, "two conflicts, then the commit");
    r.assert_promoted_once(1, (2, 1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_whose_answer_is_lost_promotes_once_and_then_reports_nobody() {
    let Some(r) = rig(3, 1, WaitlistMode::Direct).await else {
        return;
    };
    r.arrange_enrolments(&[0, 1, 2]).await;
    raise_capacity(&r, 2).await;
    r.proxy.next(TRANSACT, 1, Fault::LostResponse);

    let promoted = r.store.promote(&r.session, later()).await.expect("promote");

    // The SDK's retry is cancelled; read again, the session has no free seat, so the answer
    // lists nobody. That answer only feeds a count in the logs: the promoted officer is told
    // through the outbox, once.
    assert!(promoted.is_empty(), "{promoted:?}");
    assert_eq!(r.proxy.count(TRANSACT), 2);
    r.assert_promoted_once(1, (2, 1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_reads_are_retried_by_the_sdk_alone_and_given_up_after_its_three_attempts() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    r.arrange_enrolments(&[0]).await;
    // A withdrawal reads with one Query.
    r.proxy.always(QUERY, Fault::Throttling);

    let err = r
        .store
        .withdraw(&r.withdraw_cmd(0))
        .await
        .expect_err("gives up");

    assert_gave_up(&err, "ThrottlingException");
    assert_eq!(
        r.proxy.count(QUERY),
        SDK_ATTEMPTS,
        "the store does not retry reads"
    );
    assert_eq!(r.proxy.count(TRANSACT), 0);
    assert_eq!(r.status(0).await, Some(EnrolmentStatus::Confirmed));

    r.proxy.heal();
    r.proxy.next(QUERY, 2, Fault::Throttling);
    let withdrawal = r
        .store
        .withdraw(&r.withdraw_cmd(0))
        .await
        .expect("withdraw");

    assert_eq!(
        withdrawal.outcome,
        WithdrawOutcome::Withdrawn { late: false }
    );
    assert_eq!(r.proxy.faulted(QUERY, Fault::Throttling), SDK_ATTEMPTS + 2);
    assert_eq!(r.seats_taken().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_use_whose_answer_is_lost_is_counted_once() {
    let Some(r) = rig(1, 5, WaitlistMode::Direct).await else {
        return;
    };
    let window = at("2027-02-01T10:00");
    r.proxy.next("UpdateItem", 1, Fault::LostResponse);

    // The SDK sends the same update again: the use's id is already in the window's set.
    let taken = r
        .store
        .take_quota("changes:o", "use-1", window, 600, 2)
        .await
        .expect("the SDK's retry succeeds");

    assert!(taken);
    assert_eq!(r.proxy.count("UpdateItem"), 2, "sent twice");
    let second = r.store.take_quota("changes:o", "use-2", window, 600, 2);
    assert!(second.await.expect("quota"), "one use left, not none");
    let third = r.store.take_quota("changes:o", "use-3", window, 600, 2);
    assert!(!third.await.expect("quota"), "the limit holds");
}
