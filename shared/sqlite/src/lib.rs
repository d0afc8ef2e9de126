//! The embedded store: SQLite in one file under the data folder.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock up
//! front: two enrolments for the last seat are serialised, and the second one sees the first.
//! The rules themselves come from `cassiopee_domain::rules`; this crate only reads the state,
//! asks the rules, and writes the result with the transition's notice in the same transaction.

mod rows;

use async_trait::async_trait;
use cassiopee_domain::audit::{AuditEntry, AuditSubject};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::import::ERASED_ROW;
use cassiopee_domain::import::{EnrolmentRow, OfficerRow, SessionRow, StaffRow, TrainingRow};
use cassiopee_domain::model::{
    Actor, Email, Enrolment, EnrolmentChange, EnrolmentStatus, Feedback, Officer, ProgrammeItem,
    Session, SessionStatus, Staff, Training, WaitlistMode,
};
use cassiopee_domain::notices::{self, Notice, NoticeKind, Transition, notice_for};
use cassiopee_domain::ports::{
    DeliveryStatus, EnrolCommand, EnrolOutcome, Enrolled, Erasure, NoticeRecord, Promoted,
    QueuedNotice, QuotaCharge, RosterLine, RowOutcome, SessionPatch, SessionQuery, SessionUpdated,
    StatisticsSnapshot, Store, TrainingDemand, WithdrawCommand, WithdrawOutcome, Withdrawal,
};
use cassiopee_domain::rules::{self, Schedule, WithdrawalTiming};
use cassiopee_domain::time::{Instant, paris_end_of_day, paris_start_of_day};
use rows::*;
use rusqlite::{Connection, OptionalExtension, Params, params};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

const SCHEMA: &str = include_str!("schema.sql");

/// One connection writes, in immediate transactions one at a time; reads go to a few more
/// connections on the same file (write-ahead logging lets them read while the writer writes,
/// each seeing the last committed state), so that requests on several threads do not queue
/// behind one another. A store in memory has no file to share: it reads on its writer.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Counts the transactions committed ([`Store::generation`]).
    generation: AtomicU64,
    commits: Commits,
    /// For a store in a file (a store in memory has no log).
    checkpointer: Option<Checkpointer>,
}

/// Folds the write-ahead log back into the database file every [`CHECKPOINT_EVERY`], on a
/// connection and a thread of its own, without blocking readers or the writer (a passive
/// checkpoint copies what no reader still needs; the writer starts the log over once all of it
/// was copied). Stops when the store is dropped.
struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl Checkpointer {
    fn start(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(1))
            .map_err(db)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let step = std::time::Duration::from_millis(25);
                let mut waited = std::time::Duration::ZERO;
                while !stopped.load(Ordering::Acquire) {
                    std::thread::sleep(step);
                    waited += step;
                    if waited < CHECKPOINT_EVERY {
                        continue;
                    }
                    waited = std::time::Duration::ZERO;
                    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                    });
                    match done {
                        Ok((log, copied)) => tracing::trace!(log, copied, "checkpoint"),
                        Err(e) => tracing::debug!(error = %e, "checkpoint skipped"),
                    }
                }
            })
            .map_err(|e| DomainError::internal(format!("cannot start the checkpointer: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Writes joined in one commit at most: a bound on how long the first waits for it.
const MAX_BATCH: u32 = 32;

/// The group commit's book-keeping: the batch open on the writer (numbered from 1), how many
/// writes it holds, which batches are finished and which of them failed, and how many writers
/// wait for the writer's lock. The batch fields change only under the writer's lock.
#[derive(Default)]
struct Commits {
    waiting: AtomicUsize,
    open: AtomicU64,
    joined: std::sync::atomic::AtomicU32,
    finished: Mutex<Finished>,
    done: std::sync::Condvar,
}

#[derive(Default)]
struct Finished {
    last: u64,
    /// The last failed batches, with why (failures are rare: a few are kept).
    failed: std::collections::VecDeque<(u64, String)>,
}

impl Commits {
    fn begin(&self) {
        self.open.fetch_add(1, Ordering::SeqCst);
        self.joined.store(0, Ordering::SeqCst);
    }

    /// The open batch's number, counting the write that asks in it.
    fn open(&self) -> u64 {
        self.open.load(Ordering::SeqCst)
    }

    /// Counts one more write in the open batch; answers how many it holds.
    fn joined(&self) -> u32 {
        self.joined.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn finish(&self, batch: u64, error: Option<String>) {
        let mut f = self
            .finished
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.last = f.last.max(batch);
        if let Some(e) = error {
            f.failed.push_back((batch, e));
            if f.failed.len() > 16 {
                f.failed.pop_front();
            }
        }
        drop(f);
        self.done.notify_all();
    }

    /// Waits until `batch` is committed; its error if it failed.
    fn wait(&self, batch: u64) -> Result<()> {
        let bound = std::time::Duration::from_secs(60);
        let f = self.finished.lock().map_err(|_| poisoned())?;
        let (f, timeout) = self
            .done
            .wait_timeout_while(f, bound, |f| f.last < batch)
            .map_err(|_| poisoned())?;
        if timeout.timed_out() {
            return Err(DomainError::internal(
                "sqlite: a write's commit did not come",
            ));
        }
        match f.failed.iter().find(|(b, _)| *b == batch) {
            Some((_, e)) => Err(DomainError::internal(e.clone())),
            None => Ok(()),
        }
    }
}

fn db(e: rusqlite::Error) -> DomainError {
    DomainError::internal(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Opens (or creates) the store in `dir/cassiopee.sqlite3`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            DomainError::internal(format!("cannot create data folder {}: {e}", dir.display()))
        })?;
        let path = dir.join("cassiopee.sqlite3");
        let mut store = Self::init(Connection::open(&path).map_err(db)?)?;
        store.checkpointer = Some(Checkpointer::start(&path)?);
        let count = reader_count();
        for _ in 0..count {
            let reader = Connection::open(&path).map_err(db)?;
            reader
                .busy_timeout(std::time::Duration::from_secs(10))
                .map_err(db)?;
            // A reader never writes: a mistake would fail rather than bypass the writer's lock.
            reader.pragma_update(None, "query_only", "ON").map_err(db)?;
            tune(&reader)?;
            store.readers.push(Mutex::new(reader));
        }
        Ok(store)
    }

    /// A private store in memory, for tests.
    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(db)?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        // Deleted content is overwritten, so that an erasure leaves nothing in free pages.
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(db)?;
        // A batch of writes keeps the pages it changed in the writer's cache until its commit
        // (64 MiB at most; 2 MiB by default, past which SQLite spills them to the log early).
        conn.pragma_update(None, "cache_size", -65536).map_err(db)?;
        // The log is folded back into the database by a thread of its own (`Checkpointer`),
        // not by the commit that fills it, which held the writer meanwhile; the writer does it
        // only past 20,000 pages (80 MiB), should that thread fall behind.
        conn.pragma_update(None, "wal_autocheckpoint", 20_000)
            .map_err(db)?;
        tune(&conn)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        migrate(&conn)?;
        Ok(Self {
            writer: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            commits: Commits::default(),
            checkpointer: None,
        })
    }

    /// The writer, with no transaction open: a batch left open for writers that were waiting
    /// is committed first (a read on the writer sees only what is committed).
    fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        let conn = self.writer.lock().map_err(|_| poisoned())?;
        if !conn.is_autocommit() {
            self.commit_batch(&conn)?;
        }
        Ok(conn)
    }

    /// A reader that is free, or else the next one in turn (waiting for it).
    fn reader(&self) -> Result<MutexGuard<'_, Connection>> {
        if self.readers.is_empty() {
            return self.lock();
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            match self.readers[(start + i) % n].try_lock() {
                Ok(guard) => return Ok(guard),
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Poisoned(_)) => return Err(poisoned()),
            }
        }
        self.readers[start % n].lock().map_err(|_| poisoned())
    }

    /// Runs `f` as one transaction: all of its writes or none, committed before this returns
    /// `Ok`, and refused (nothing written) when it returns `Err`.
    ///
    /// Writes that arrive while another runs share its commit (a group commit): each runs in a
    /// savepoint of one immediate transaction, which the last of them commits, when no other
    /// writer is waiting or [`MAX_BATCH`] have run; each waits for that commit before it
    /// answers. One commit for several writes: the pages they share (an index's last leaf, a
    /// session's row, the log's header) are written to the log once, with one lock and one
    /// checksum pass, instead of once per write.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let _timer = StoreTimer::start();
        self.commits.waiting.fetch_add(1, Ordering::SeqCst);
        let locked = self.writer.lock();
        self.commits.waiting.fetch_sub(1, Ordering::SeqCst);
        let conn = locked.map_err(|_| poisoned())?;
        if conn.is_autocommit() {
            conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
            self.commits.begin();
        }
        let batch = self.commits.open();
        let out = match conn.execute_batch("SAVEPOINT write") {
            Ok(()) => f(&conn),
            Err(e) => Err(db(e)),
        };
        let ended = if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (an I/O error, a full disk): the
            // batch's other writes are lost with it, and are told so.
            Some("sqlite: the transaction was rolled back".to_string())
        } else {
            let close = if out.is_ok() {
                "RELEASE write"
            } else {
                "ROLLBACK TO write; RELEASE write"
            };
            match conn.execute_batch(close) {
                Ok(()) => None,
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Some(db(e).to_string())
                }
            }
        };
        if let Some(why) = ended {
            self.commits.finish(batch, Some(why.clone()));
            return out.and(Err(DomainError::internal(why)));
        }
        let more =
            self.commits.waiting.load(Ordering::SeqCst) > 0 && self.commits.joined() < MAX_BATCH;
        if more {
            drop(conn);
            // A refused write has nothing in the batch; a done one answers once committed.
            let out = out?;
            self.commits.wait(batch)?;
            return Ok(out);
        }
        let committed = self.commit_batch(&conn);
        drop(conn);
        committed?;
        out
    }

    /// Runs `f` as a transaction of its own, outside any batch: for a write that changes the
    /// transaction's settings (the erasure defers its foreign keys to the commit, which would
    /// defer every other write's of the batch and fail them all with it).
    fn write_alone<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let _timer = StoreTimer::start();
        let conn = self.lock()?;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let out = f(&conn);
        if out.is_err() {
            if !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK").map_err(db)?;
            }
            return out;
        }
        if let Err(e) = conn.execute_batch("COMMIT") {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(db(e));
        }
        self.generation.fetch_add(1, Ordering::Release);
        out
    }

    /// Commits the open batch and tells its writers how it went.
    fn commit_batch(&self, conn: &Connection) -> Result<()> {
        let batch = self.commits.open();
        let result = conn.execute_batch("COMMIT");
        if result.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        if result.is_ok() {
            self.generation.fetch_add(1, Ordering::Release);
        }
        let error = result.map_err(db).err();
        self.commits
            .finish(batch, error.as_ref().map(|e| e.to_string()));
        error.map_or(Ok(()), Err)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let _timer = StoreTimer::start();
        let conn = self.reader()?;
        f(&conn)
    }
}

thread_local! {
    static TIME_IN_STORE: std::cell::Cell<std::time::Duration> =
        const { std::cell::Cell::new(std::time::Duration::ZERO) };
}

/// The CPU time the calling thread has spent in this store's database work so far (running
/// statements, converting rows; not the time it waited for the writer or a commit), summed
/// over every store. Benchmarks take the difference around a request to tell its handler's
/// own CPU from its store's.
pub fn time_in_store() -> std::time::Duration {
    TIME_IN_STORE.with(std::cell::Cell::get)
}

/// Adds the thread's CPU time until it is dropped to [`time_in_store`] (nothing if the
/// thread's clock cannot be read).
struct StoreTimer(Option<cpu_time::ThreadTime>);

impl StoreTimer {
    fn start() -> Self {
        Self(cpu_time::ThreadTime::try_now().ok())
    }
}

impl Drop for StoreTimer {
    fn drop(&mut self) {
        if let Some(spent) = self.0.as_ref().and_then(|t| t.try_elapsed().ok()) {
            TIME_IN_STORE.with(|t| t.set(t.get() + spent));
        }
    }
}

/// The queued notices a query of `id, officer_id, session_id, payload, version, attempts`
/// answers.
fn queued_notices(c: &Connection, sql: &str, p: impl Params) -> Result<Vec<QueuedNotice>> {
    type Queued = (i64, String, String, String, u32, u32);
    let rows: Vec<Queued> = all(c, sql, p, |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    rows.into_iter()
        .map(|(id, officer, session, payload, version, attempts)| {
            let kind: NoticeKind = serde_json::from_str(&payload).map_err(DomainError::internal)?;
            Ok(QueuedNotice {
                id,
                notice: Notice {
                    officer_id: OfficerId::from_stored(officer),
                    session_id: SessionId::from_stored(session),
                    kind,
                    version,
                },
                attempts,
            })
        })
        .collect()
}

/// Keeps every statement the store runs prepared (there are about a hundred), and the
/// journals of the group commit's savepoints in memory: on a file, each write that joins a
/// batch wrote the pages it changed to a temporary file too (an `open` and some 40 `pwrite`s).
fn tune(conn: &Connection) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(256);
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(db)?;
    Ok(())
}

/// How many connections read beside the writer: `CASSIOPEE_SQLITE_READERS` (0 to read on the
/// writer), else one per core, between 2 and 8.
fn reader_count() -> usize {
    std::env::var("CASSIOPEE_SQLITE_READERS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map(|n| n.min(64))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)))
}

fn poisoned() -> DomainError {
    DomainError::internal("store lock poisoned")
}

/// Schema changes after the first version, applied once each, in order (`PRAGMA user_version`
/// counts those applied).
const MIGRATIONS: &[&str] = &[
    // 1: records edited in the app are no longer overwritten by a spreadsheet import.
    "ALTER TABLE sessions ADD COLUMN edited_in_app INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE trainings ADD COLUMN edited_in_app INTEGER NOT NULL DEFAULT 0;",
    // 2: statistics. The waiting list's peak, raised with the waiting counter (backfilled by
    // replaying each session's history in order); soft-deleted sessions; one feedback answer
    // per officer and session.
    "ALTER TABLE sessions ADD COLUMN waiting_peak INTEGER NOT NULL DEFAULT 0;
     UPDATE sessions SET waiting_peak = 0;
     ALTER TABLE sessions ADD COLUMN deleted_at INTEGER;
     CREATE TABLE feedback (
         session_id  TEXT NOT NULL REFERENCES sessions(id),
         officer_id  TEXT NOT NULL REFERENCES officers(id),
         rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
         relevance   INTEGER NOT NULL CHECK (relevance BETWEEN 1 AND 5),
         comment     TEXT,
         at          INTEGER NOT NULL,
         PRIMARY KEY (session_id, officer_id)
     );",
    // 3: per-caller quotas of changes, one row per (subject, fixed window).
    "CREATE TABLE quotas (
         subject       TEXT NOT NULL,
         window_start  INTEGER NOT NULL,
         window_end    INTEGER NOT NULL,
         uses          INTEGER NOT NULL,
         PRIMARY KEY (subject, window_start)
     );",
    // 4: the notification ledger (the provider's message id, its last delivery report kept
    // monotone by rank, when the officer read it), the personal calendar tokens (their SHA-256
    // only) and the claims of one-time actions.
    "ALTER TABLE outbox ADD COLUMN message_id TEXT;
     ALTER TABLE outbox ADD COLUMN delivery TEXT;
     ALTER TABLE outbox ADD COLUMN delivery_rank INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE outbox ADD COLUMN delivery_at INTEGER;
     ALTER TABLE outbox ADD COLUMN read_at INTEGER;
     CREATE INDEX outbox_by_session ON outbox(session_id);
     CREATE TABLE calendar_tokens (
         officer_id  TEXT PRIMARY KEY REFERENCES officers(id),
         token_hash  TEXT NOT NULL UNIQUE,
         created_at  INTEGER NOT NULL
     );
     CREATE TABLE claims (
         key         TEXT PRIMARY KEY,
         claimed_at  INTEGER NOT NULL
     );",
    // 5: the audit log (changes other than enrolments', whose history is `enrolment_changes`)
    // and erasures: the former id of each erased officer, and the pseudonymous row their kept
    // enrolments point to (`erased_at` set, read by nothing but the statistics).
    "ALTER TABLE officers ADD COLUMN erased_at INTEGER;
     CREATE TABLE erasures (
         officer_id  TEXT PRIMARY KEY,
         erased_at   INTEGER NOT NULL
     );
     CREATE TABLE audit (
         id           INTEGER PRIMARY KEY AUTOINCREMENT,
         at           INTEGER NOT NULL,
         actor        TEXT NOT NULL,
         origin       TEXT NOT NULL,
         action       TEXT NOT NULL,
         session_id   TEXT,
         officer_id   TEXT,
         training_id  TEXT,
         before       TEXT,
         after        TEXT,
         reason       TEXT
     );
     CREATE INDEX audit_by_session ON audit(session_id);
     CREATE INDEX audit_by_officer ON audit(officer_id);
     CREATE INDEX audit_by_training ON audit(training_id);
     CREATE INDEX changes_by_actor ON enrolment_changes(actor);",
    // 6: quota uses by id, so that a use sent twice counts once (the counters of migration 3
    // last ten minutes: they are dropped, not carried over).
    "DROP TABLE quotas;
     CREATE TABLE quota_uses (
         subject       TEXT NOT NULL,
         window_start  INTEGER NOT NULL,
         window_end    INTEGER NOT NULL,
         use_id        TEXT NOT NULL,
         PRIMARY KEY (subject, window_start, use_id)
     );",
    // 7: a sender's turn on a queued notice (`claim_notice`).
    "ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;",
];

/// Rebuilds each session's `waiting_peak` from its enrolments' history, replayed in order:
/// +1 for each change into the waiting list, −1 for each change out of it. Migration 2 runs it.
const BACKFILL_WAITING_PEAK: &str = "UPDATE sessions SET waiting_peak = MAX(waiting, COALESCE((
    SELECT MAX(level) FROM (
        SELECT SUM(CASE
            WHEN c.to_status = 'waitlisted' AND c.from_status IS NOT 'waitlisted' THEN 1
            WHEN c.from_status = 'waitlisted' AND c.to_status != 'waitlisted' THEN -1
            ELSE 0 END) OVER (ORDER BY c.id) AS level
        FROM enrolment_changes c JOIN enrolments e ON e.id = c.enrolment_id
        WHERE e.session_id = sessions.id)), 0))";

fn migrate(conn: &Connection) -> Result<()> {
    let applied: usize = conn
        .one("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(db)?
        .try_into()
        .unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let backfill = if i + 1 == 2 {
            format!("{BACKFILL_WAITING_PEAK};")
        } else {
            String::new()
        };
        conn.execute_batch(&format!(
            "BEGIN; {sql} {backfill} PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))
        .map_err(db)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the operations, all inside a transaction.

fn load_session(c: &Connection, id: &SessionId) -> Result<Session> {
    c.one(
        &format!("SELECT {SESSION_SELECT} FROM sessions WHERE id = ?1 AND deleted_at IS NULL"),
        [id.as_str()],
        session_row,
    )
    .optional()
    .map_err(db)?
    .ok_or_else(DomainError::session_not_found)
}

fn load_enrolment(c: &Connection, s: &SessionId, o: &OfficerId) -> Result<Option<Enrolment>> {
    c.one(
        &format!(
            "SELECT {ENROLMENT_COLS} FROM enrolments WHERE session_id = ?1 AND officer_id = ?2"
        ),
        [s.as_str(), o.as_str()],
        enrolment_row,
    )
    .optional()
    .map_err(db)
}

fn position_of(c: &Connection, e: &Enrolment) -> Result<u32> {
    let ahead: u32 = c
        .one(
            "SELECT COUNT(*) FROM enrolments WHERE session_id = ?1 AND status = 'waitlisted' \
             AND (rank < ?2 OR (rank = ?2 AND id < ?3))",
            params![e.session_id.as_str(), e.rank, e.id.as_str()],
            |r| r.get(0),
        )
        .map_err(db)?;
    Ok(ahead + 1)
}

fn save_counters(c: &Connection, s: &Session, last_rank: Option<i64>) -> Result<()> {
    c.exec(
        "UPDATE sessions SET seats_taken = ?2, waiting = ?3, waiting_peak = MAX(waiting_peak, ?3), \
         last_rank = MAX(last_rank, ?4) WHERE id = ?1",
        params![
            s.id.as_str(),
            s.seats_taken,
            s.waiting,
            last_rank.unwrap_or(i64::MIN)
        ],
    )
    .map_err(db)?;
    Ok(())
}

fn last_rank(c: &Connection, s: &SessionId) -> Result<i64> {
    c.one(
        "SELECT last_rank FROM sessions WHERE id = ?1",
        [s.as_str()],
        |r| r.get(0),
    )
    .map_err(db)
}

/// Writes an enrolment's new state, its history line and the notice it deserves.
fn record(
    c: &Connection,
    e: &mut Enrolment,
    from: Option<EnrolmentStatus>,
    actor: &Actor,
    now: Instant,
    reason: Option<&str>,
    notify: Option<u32>,
) -> Result<()> {
    e.updated_at = now;
    e.updated_by = actor.id.clone();
    e.origin = actor.origin;
    let changes: u32 = c
        .one(
            "INSERT INTO enrolments (id, session_id, officer_id, status, late, rank, joined_at, \
             confirmed_at, offer_expires_at, updated_at, updated_by, origin, changes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1) \
             ON CONFLICT (session_id, officer_id) DO UPDATE SET status = excluded.status, \
             late = excluded.late, rank = excluded.rank, joined_at = excluded.joined_at, \
             confirmed_at = excluded.confirmed_at, offer_expires_at = excluded.offer_expires_at, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by, \
             origin = excluded.origin, changes = enrolments.changes + 1 \
             RETURNING changes",
            params![
                e.id.as_str(),
                e.session_id.as_str(),
                e.officer_id.as_str(),
                e.status.as_str(),
                e.late,
                e.rank,
                micros(e.joined_at),
                e.confirmed_at.map(micros),
                e.offer_expires_at.map(micros),
                micros(now),
                actor.id,
                actor.origin.as_str(),
            ],
            |r| r.get(0),
        )
        .map_err(db)?;
    c.exec(
        "INSERT INTO enrolment_changes (enrolment_id, at, from_status, to_status, actor, origin, reason) \
         SELECT id, ?3, ?4, ?5, ?6, ?7, ?8 FROM enrolments WHERE session_id = ?1 AND officer_id = ?2",
        params![
            e.session_id.as_str(),
            e.officer_id.as_str(),
            micros(now),
            from.map(EnrolmentStatus::as_str),
            e.status.as_str(),
            actor.id,
            actor.origin.as_str(),
            reason,
        ],
    )
    .map_err(db)?;
    if actor.origin != cassiopee_domain::model::Origin::Import {
        let t = Transition {
            session_id: e.session_id.clone(),
            officer_id: e.officer_id.clone(),
            from,
            to: e.status,
            late: e.late,
            position: notify,
            offer_expires_at: e.offer_expires_at,
            by_staff: actor.origin == cassiopee_domain::model::Origin::Staff,
        };
        if let Some(kind) = notice_for(&t) {
            let notice = Notice {
                officer_id: e.officer_id.clone(),
                session_id: e.session_id.clone(),
                kind,
                version: changes,
            };
            queue(c, &notice, now)?;
        }
    }
    Ok(())
}

/// Marks a session or training as edited in the app: a later spreadsheet import keeps it.
fn mark_edited(c: &Connection, table: &str, id: &str) -> Result<()> {
    c.exec(
        &format!("UPDATE {table} SET edited_in_app = 1 WHERE id = ?1"),
        [id],
    )
    .map_err(db)?;
    Ok(())
}

fn edited_in_app(c: &Connection, table: &str, id: &str) -> Result<bool> {
    c.one(
        &format!("SELECT edited_in_app FROM {table} WHERE id = ?1"),
        [id],
        |r| r.get(0),
    )
    .map_err(db)
}

const KEPT_FROM_APP: &str =
    "Modifié dans Cassiopée depuis le dernier import : la version de l'application est conservée.";

const NOTICE_COLS: &str = "id, officer_id, session_id, kind_key, queued_at, sent_at, status, \
    attempts, last_error, message_id, delivery, delivery_at, read_at";

fn notice_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<NoticeRecord> {
    Ok(NoticeRecord {
        id: r.get(0)?,
        officer_id: OfficerId::from_stored(r.get(1)?),
        session_id: SessionId::from_stored(r.get(2)?),
        kind: r.get(3)?,
        queued_at: instant(r.get(4)?),
        sent_at: r.get::<_, Option<i64>>(5)?.map(instant),
        status: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        message_id: r.get(9)?,
        delivery: r
            .get::<_, Option<String>>(10)?
            .as_deref()
            .and_then(DeliveryStatus::parse),
        delivery_at: r.get::<_, Option<i64>>(11)?.map(instant),
        read_at: r.get::<_, Option<i64>>(12)?.map(instant),
    })
}

/// The officers who registered interest in a training, in the order they did.
fn interested(c: &Connection, training: &TrainingId) -> Result<Vec<OfficerId>> {
    let mut stmt = c
        .prepare("SELECT officer_id FROM interests WHERE training_id = ?1 ORDER BY at, officer_id")
        .map_err(db)?;
    let ids = stmt
        .query_map([training.as_str()], |r| r.get::<_, String>(0))
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    Ok(ids.into_iter().map(OfficerId::from_stored).collect())
}

/// Counts one use of a quota in the current transaction, unless `limit` are counted in its
/// window (answers false, counting nothing); the same use id counts once. Forgets the
/// subject's windows past their end.
fn take_quota(c: &Connection, q: &QuotaCharge) -> Result<bool> {
    if q.limit == 0 {
        return Ok(false);
    }
    let start = micros(q.window_start);
    let end = micros(q.window_start + chrono::Duration::seconds(q.window_seconds));
    c.exec(
        "DELETE FROM quota_uses WHERE subject = ?1 AND window_end <= ?2",
        params![q.subject, start],
    )
    .map_err(db)?;
    let (uses, mine): (i64, i64) = c
        .one(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE use_id = ?3) FROM quota_uses \
             WHERE subject = ?1 AND window_start = ?2",
            params![q.subject, start, q.use_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db)?;
    if mine > 0 {
        return Ok(true);
    }
    if uses >= i64::from(q.limit) {
        return Ok(false);
    }
    c.exec(
        "INSERT INTO quota_uses (subject, window_start, window_end, use_id) \
         VALUES (?1, ?2, ?3, ?4)",
        params![q.subject, start, end, q.use_id],
    )
    .map_err(db)?;
    Ok(true)
}

/// Queues a notice unless the same one is already queued; answers the new one's id.
fn queue(c: &Connection, n: &Notice, now: Instant) -> Result<Option<i64>> {
    let payload = serde_json::to_string(&n.kind).map_err(DomainError::internal)?;
    c.one(
        "INSERT INTO outbox (officer_id, session_id, kind_key, payload, version, queued_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id",
        params![
            n.officer_id.as_str(),
            n.session_id.as_str(),
            n.kind.key(),
            payload,
            n.version,
            micros(now)
        ],
        |r| r.get(0),
    )
    .optional()
    .map_err(db)
}

fn active_officers(c: &Connection, s: &SessionId) -> Result<Vec<OfficerId>> {
    let mut stmt = c
        .prepare("SELECT officer_id FROM enrolments WHERE session_id = ?1 AND status IN ('confirmed','offered','waitlisted')")
        .map_err(db)?;
    let ids = stmt
        .query_map([s.as_str()], |r| r.get::<_, String>(0))
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    Ok(ids.into_iter().map(OfficerId::from_stored).collect())
}

fn first_waiting(c: &Connection, s: &SessionId) -> Result<Option<Enrolment>> {
    c.one(
        &format!(
            "SELECT {ENROLMENT_COLS} FROM enrolments WHERE session_id = ?1 AND status = 'waitlisted' \
             ORDER BY rank, id LIMIT 1"
        ),
        [s.as_str()],
        enrolment_row,
    )
    .optional()
    .map_err(db)
}

/// Gives free seats to the next in line while the rules allow it, `most` of them at the most.
fn promote_in(c: &Connection, id: &SessionId, now: Instant, most: usize) -> Result<Vec<Promoted>> {
    let mut session = load_session(c, id)?;
    let actor = Actor::system("promote-waitlist");
    let mut promoted = Vec::new();
    while session.seats_taken < session.capacity && session.waiting > 0 && promoted.len() < most {
        let Some(promotion) = rules::promotion_for(&session, now) else {
            break;
        };
        let Some(mut next) = first_waiting(c, id)? else {
            break;
        };
        let from = next.status;
        promotion.apply(&mut next, now);
        session.seats_taken += 1;
        session.waiting -= 1;
        save_counters(c, &session, None)?;
        record(c, &mut next, Some(from), &actor, now, None, None)?;
        promoted.push(Promoted::of(&next));
    }
    Ok(promoted)
}

fn count_status(c: &Connection, s: &SessionId, status: &str) -> Result<u32> {
    c.one(
        "SELECT COUNT(*) FROM enrolments WHERE session_id = ?1 AND status = ?2",
        [s.as_str(), status],
        |r| r.get(0),
    )
    .map_err(db)
}

fn not_enrolled() -> DomainError {
    DomainError::not_found(
        "enrolment-not-found",
        "Vous n'êtes pas inscrit(e) à cette session.",
    )
}

const SESSION_DELETED: &str =
    "Cette session a été supprimée dans Cassiopée : la ligne n'est pas importée.";

fn is_deleted(c: &Connection, reference: &str) -> Result<bool> {
    c.one(
        "SELECT COUNT(*) FROM sessions WHERE reference = ?1 AND deleted_at IS NOT NULL",
        [reference],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(db)
}

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

#[async_trait]
impl Store for SqliteStore {
    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::Acquire))
    }

    async fn staff_by_email(&self, email: &Email) -> Result<Option<Staff>> {
        self.read(|c| {
            c.one(
                &format!("SELECT {STAFF_COLS} FROM staff WHERE email = ?1"),
                [email.as_str()],
                staff_row,
            )
            .optional()
            .map_err(db)
        })
    }

    async fn staff_by_id(&self, id: &StaffId) -> Result<Option<Staff>> {
        self.read(|c| {
            c.one(
                &format!("SELECT {STAFF_COLS} FROM staff WHERE id = ?1"),
                [id.as_str()],
                staff_row,
            )
            .optional()
            .map_err(db)
        })
    }

    async fn staff_list(&self) -> Result<Vec<Staff>> {
        self.read(|c| {
            all(
                c,
                &format!("SELECT {STAFF_COLS} FROM staff ORDER BY last_name, first_name"),
                [],
                staff_row,
            )
        })
    }

    async fn officer(&self, id: &OfficerId) -> Result<Option<Officer>> {
        self.read(|c| {
            c.one(
                &format!("SELECT {OFFICER_COLS} FROM officers WHERE id = ?1 AND erased_at IS NULL"),
                [id.as_str()],
                officer_row,
            )
            .optional()
            .map_err(db)
        })
    }

    async fn officer_by_email(&self, email: &Email) -> Result<Option<Officer>> {
        self.read(|c| {
            c.one(
                &format!(
                    "SELECT {OFFICER_COLS} FROM officers WHERE email = ?1 AND erased_at IS NULL"
                ),
                [email.as_str()],
                officer_row,
            )
            .optional()
            .map_err(db)
        })
    }

    async fn officers(&self) -> Result<Vec<Officer>> {
        self.read(|c| {
            all(
                c,
                &format!(
                    "SELECT {OFFICER_COLS} FROM officers WHERE erased_at IS NULL \
                     ORDER BY acc_end, last_name"
                ),
                [],
                officer_row,
            )
        })
    }

    async fn is_empty(&self) -> Result<bool> {
        self.read(|c| {
            let n: i64 = c
                .one(
                    "SELECT (SELECT COUNT(*) FROM staff) + (SELECT COUNT(*) FROM officers) \
                     + (SELECT COUNT(*) FROM sessions)",
                    [],
                    |r| r.get(0),
                )
                .map_err(db)?;
            Ok(n == 0)
        })
    }

    async fn training(&self, id: &TrainingId) -> Result<Option<Training>> {
        self.read(|c| {
            c.one(
                &format!("SELECT {TRAINING_COLS} FROM trainings WHERE id = ?1"),
                [id.as_str()],
                training_row,
            )
            .optional()
            .map_err(db)
        })
    }

    async fn trainings(&self, include_archived: bool) -> Result<Vec<TrainingDemand>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {TRAINING_COLS}, (SELECT COUNT(*) FROM interests i WHERE i.training_id = trainings.id) \
                 FROM trainings WHERE archived = 0 OR ?1 ORDER BY code"
            );
            all(c, &sql, [include_archived], |r| {
                Ok(TrainingDemand { training: training_row(r)?, interested: r.get(12)? })
            })
        })
    }

    async fn insert_training(&self, t: &Training) -> Result<()> {
        self.write(|c| {
            let r = c.exec(
                "INSERT INTO trainings (id, code, title, theme, modality, length_days, provider, session_cost, \
                 trainee_cost, min_group, max_group, archived) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                training_params(t),
            );
            match r {
                Ok(_) => mark_edited(c, "trainings", t.id.as_str()),
                Err(e) if unique_violation(&e) => Err(DomainError::conflict(
                    "training-code-taken",
                    format!("Le code de formation {} est déjà utilisé.", t.code),
                )),
                Err(e) => Err(db(e)),
            }
        })
    }

    async fn update_training(&self, t: &Training) -> Result<()> {
        self.write(|c| {
            let r = c.exec(
                "UPDATE trainings SET code=?2, title=?3, theme=?4, modality=?5, length_days=?6, provider=?7, \
                 session_cost=?8, trainee_cost=?9, min_group=?10, max_group=?11, archived=?12 WHERE id=?1",
                training_params(t),
            );
            match r {
                Ok(0) => Err(DomainError::training_not_found()),
                Ok(_) => mark_edited(c, "trainings", t.id.as_str()),
                Err(e) if unique_violation(&e) => Err(DomainError::conflict(
                    "training-code-taken",
                    format!("Le code de formation {} est déjà utilisé.", t.code),
                )),
                Err(e) => Err(db(e)),
            }
        })
    }

    async fn session(&self, id: &SessionId) -> Result<Option<Session>> {
        self.read(|c| match load_session(c, id) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.code == "session-not-found" => Ok(None),
            Err(e) => Err(e),
        })
    }

    async fn sessions(&self, q: &SessionQuery) -> Result<Vec<Session>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {SESSION_SELECT_S} FROM sessions s JOIN trainings t ON t.id = s.training_id \
                 WHERE (?1 IS NULL OR s.starts_at >= ?1) AND (?2 IS NULL OR s.starts_at < ?2) \
                 AND (?3 IS NULL OR lower(t.theme) = lower(?3)) AND (?4 IS NULL OR t.modality = ?4) \
                 AND (?5 IS NULL OR s.training_id = ?5) AND (?6 = 0 OR s.seats_taken < s.capacity) \
                 AND (?7 = 1 OR s.status != 'cancelled') AND s.deleted_at IS NULL \
                 ORDER BY s.starts_at, s.reference"
            );
            all(
                c,
                &sql,
                params![
                    q.from.map(micros),
                    q.to.map(micros),
                    q.theme,
                    q.modality.map(|m| m.as_str()),
                    q.training_id.as_ref().map(|t| t.as_str().to_string()),
                    q.available_only,
                    q.include_cancelled,
                ],
                session_row,
            )
        })
    }

    async fn insert_session(&self, s: &Session, now: Instant) -> Result<()> {
        self.write(|c| {
            match insert_session_row(c, s) {
                Ok(()) => mark_edited(c, "sessions", s.id.as_str())?,
                Err(e) if unique_violation(&e) => {
                    return Err(DomainError::conflict(
                        "session-reference-taken",
                        format!("La référence de session {} est déjà utilisée.", s.reference),
                    ));
                }
                Err(e) => return Err(db(e)),
            }
            for officer in interested(c, &s.training_id)? {
                let n = Notice {
                    officer_id: officer,
                    session_id: s.id.clone(),
                    kind: NoticeKind::SessionOpened,
                    version: 1,
                };
                queue(c, &n, now)?;
            }
            Ok(())
        })
    }

    async fn update_session(
        &self,
        id: &SessionId,
        patch: &SessionPatch,
        _actor: &Actor,
        now: Instant,
    ) -> Result<SessionUpdated> {
        self.write(|c| {
            let mut s = load_session(c, id)?;
            if s.status != SessionStatus::Scheduled {
                return Err(DomainError::conflict(
                    "session-not-editable",
                    "Une session annulée ou terminée ne peut plus être modifiée.",
                ));
            }
            let before = s.clone();
            if let Some(mode) = patch.waitlist {
                if !mode.is_on() && s.waiting > 0 {
                    return Err(DomainError::conflict(
                        "waitlist-not-empty",
                        format!("Impossible de désactiver la liste d'attente : {} officier(s) y figurent.", s.waiting),
                    ));
                }
                s.waitlist = mode;
            }
            if let Some(capacity) = patch.capacity {
                let confirmed = count_status(c, id, "confirmed")?;
                let offered = count_status(c, id, "offered")?;
                rules::check_capacity(capacity, s.waitlist, confirmed, offered)?;
                s.capacity = capacity;
            } else if s.capacity == 0 && !s.waitlist.is_on() {
                rules::check_capacity(0, s.waitlist, 0, 0)?;
            }
            if let Some(sched) = &patch.schedule {
                s.first_day = sched.first_day;
                s.last_day = sched.last_day;
                s.hours = sched.hours;
                s.starts_at = sched.starts_at;
                s.ends_at = sched.ends_at;
                s.enrolment_closes_at = sched.enrolment_closes_at;
                s.free_withdrawal_until = sched.free_withdrawal_until;
            }
            if let Some(place) = &patch.place {
                s.place = place.clone();
            }
            if let Some(trainer) = &patch.trainer {
                s.trainer = trainer.clone();
            }
            let changes = notices::session_changes(&before, &s);
            let materially_changed = !changes.is_empty();
            if s.starts_at != before.starts_at || s.ends_at != before.ends_at {
                if now >= before.starts_at {
                    return Err(DomainError::conflict(
                        "session-started",
                        "Cette session a déjà commencé : ses dates ne peuvent plus être modifiées.",
                    ));
                }
                if s.starts_at <= now {
                    return Err(DomainError::field(
                        "first_day",
                        "Une session ne peut être déplacée dans le passé.",
                    ));
                }
            }
            if materially_changed {
                s.schedule_version += 1;
            }
            update_session_row(c, &s).map_err(db)?;
            mark_edited(c, "sessions", id.as_str())?;
            if materially_changed {
                for officer in active_officers(c, id)? {
                    let n = Notice {
                        officer_id: officer,
                        session_id: id.clone(),
                        kind: NoticeKind::SessionChanged { changes: changes.clone() },
                        version: s.schedule_version,
                    };
                    queue(c, &n, now)?;
                }
            }
            Ok(SessionUpdated { capacity_raised: s.capacity > before.capacity, materially_changed, session: s })
        })
    }

    async fn cancel_session(
        &self,
        id: &SessionId,
        _actor: &Actor,
        now: Instant,
    ) -> Result<Session> {
        self.write(|c| {
            let mut s = load_session(c, id)?;
            match s.status {
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
            if now >= s.starts_at {
                return Err(DomainError::conflict(
                    "session-started",
                    "Cette session a déjà commencé : elle ne peut plus être annulée.",
                ));
            }
            s.status = SessionStatus::Cancelled;
            c.exec(
                "UPDATE sessions SET status = 'cancelled' WHERE id = ?1",
                [id.as_str()],
            )
            .map_err(db)?;
            for officer in active_officers(c, id)? {
                let n = Notice {
                    officer_id: officer,
                    session_id: id.clone(),
                    kind: NoticeKind::SessionCancelled,
                    version: 1,
                };
                queue(c, &n, now)?;
            }
            Ok(s)
        })
    }

    async fn delete_session(&self, id: &SessionId, _actor: &Actor, now: Instant) -> Result<()> {
        self.write(|c| {
            load_session(c, id)?;
            let live: u32 = c
                .one(
                    "SELECT COUNT(*) FROM enrolments WHERE session_id = ?1 AND status IN \
                     ('confirmed', 'offered', 'waitlisted', 'attended', 'absent', 'excused')",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if live > 0 {
                return Err(DomainError::session_not_deletable(live));
            }
            c.exec(
                "UPDATE sessions SET deleted_at = ?2 WHERE id = ?1",
                params![id.as_str(), micros(now)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn enrolment(&self, s: &SessionId, o: &OfficerId) -> Result<Option<Enrolment>> {
        self.read(|c| load_enrolment(c, s, o))
    }

    async fn waitlist_position(&self, s: &SessionId, o: &OfficerId) -> Result<Option<u32>> {
        self.read(|c| match load_enrolment(c, s, o)? {
            Some(e) if e.status == EnrolmentStatus::Waitlisted => Ok(Some(position_of(c, &e)?)),
            _ => Ok(None),
        })
    }

    async fn officer_enrolments(&self, o: &OfficerId) -> Result<Vec<Enrolment>> {
        self.read(|c| {
            all(c, &format!("SELECT {ENROLMENT_COLS} FROM enrolments WHERE officer_id = ?1 ORDER BY joined_at"), [o.as_str()], enrolment_row)
        })
    }

    async fn seated_sessions(&self, o: &OfficerId) -> Result<Vec<Session>> {
        self.read(|c| {
            all(
                c,
                &format!(
                    "SELECT {SESSION_SELECT_S} FROM enrolments e \
                     JOIN sessions s ON s.id = e.session_id \
                     WHERE e.officer_id = ?1 AND e.status IN ('confirmed', 'offered') \
                     AND s.deleted_at IS NULL"
                ),
                [o.as_str()],
                session_row,
            )
        })
    }

    async fn enrolment_change_count(&self, id: &EnrolmentId) -> Result<usize> {
        self.read(|c| {
            c.one(
                "SELECT COUNT(*) FROM enrolment_changes WHERE enrolment_id = ?1",
                [id.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map_err(db)
            .map(|n| usize::try_from(n).unwrap_or(0))
        })
    }

    async fn roster(&self, s: &SessionId) -> Result<Vec<RosterLine>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {ENROLMENT_COLS_E}, {OFFICER_COLS_O} FROM enrolments e JOIN officers o ON o.id = e.officer_id \
                 WHERE e.session_id = ?1 ORDER BY CASE e.status WHEN 'confirmed' THEN 0 WHEN 'attended' THEN 0 \
                 WHEN 'absent' THEN 0 WHEN 'excused' THEN 0 WHEN 'offered' THEN 1 WHEN 'waitlisted' THEN 2 ELSE 3 END, \
                 CASE WHEN e.status = 'waitlisted' THEN e.rank ELSE 0 END, o.last_name, o.first_name, e.id"
            );
            let mut lines = all(c, &sql, [s.as_str()], |r| {
                Ok(RosterLine { enrolment: enrolment_row(r)?, officer: officer_row_at(r, ENROLMENT_COL_COUNT)?, position: None })
            })?;
            let mut position = 0;
            for line in &mut lines {
                if line.enrolment.status == EnrolmentStatus::Waitlisted {
                    position += 1;
                    line.position = Some(position);
                }
            }
            Ok(lines)
        })
    }

    async fn enrolment_history(&self, id: &EnrolmentId) -> Result<Vec<EnrolmentChange>> {
        self.read(|c| {
            all(
                c,
                "SELECT at, from_status, to_status, actor, origin, reason FROM enrolment_changes WHERE enrolment_id = ?1 ORDER BY id",
                [id.as_str()],
                change_row,
            )
        })
    }

    async fn enrol(&self, cmd: &EnrolCommand) -> Result<Enrolled> {
        let scope = format!("enrol:{}", cmd.officer_id);
        self.write(|c| {
            if let Some(key) = &cmd.idempotency_key {
                let stored: Option<(String, String)> = c
                    .one(
                        "SELECT session_id, response FROM idempotency WHERE scope = ?1 AND key = ?2",
                        [scope.as_str(), key.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(db)?;
                if let Some((session, response)) = stored {
                    if session != cmd.session_id.as_str() {
                        return Err(DomainError::invalid(
                            "idempotency-key-reused",
                            "Cette clé d'idempotence a déjà servi pour une autre session.",
                        ));
                    }
                    let outcome = serde_json::from_str(&response).map_err(DomainError::internal)?;
                    return Ok(Enrolled { outcome, replayed: true });
                }
            }
            if let Some(q) = &cmd.quota
                && !take_quota(c, q)?
            {
                return Err(q.refusal(cmd.now));
            }
            let mut session = load_session(c, &cmd.session_id)?;
            let by_staff = cmd.actor.origin == cassiopee_domain::model::Origin::Staff;
            rules::check_enrolment_window(&session, cmd.now, by_staff)?;
            let existing = load_enrolment(c, &cmd.session_id, &cmd.officer_id)?;
            if let Some(e) = &existing {
                if e.status.is_active() {
                    return Err(DomainError::conflict(
                        "already-enrolled",
                        if by_staff {
                            format!(
                                "Cet officier figure déjà sur cette session (statut : {}).",
                                e.status.label_fr()
                            )
                        } else {
                            format!(
                                "Vous figurez déjà sur cette session (statut : {}).",
                                e.status.label_fr()
                            )
                        },
                    ));
                }
                if !e.status.can_become(EnrolmentStatus::Confirmed) {
                    return Err(DomainError::conflict(
                        "enrolment-final",
                        format!("Votre inscription à cette session est close (statut : {}).", e.status.label_fr()),
                    ));
                }
            }
            // An officer erased meanwhile (where DynamoDB checks the officer's item).
            c.one(
                "SELECT 1 FROM officers WHERE id = ?1 AND erased_at IS NULL",
                [cmd.officer_id.as_str()],
                |_| Ok(()),
            )
            .optional()
            .map_err(db)?
            .ok_or_else(DomainError::officer_not_found)?;
            let seat_free = session.seats_taken < session.capacity && session.waiting == 0;
            let can_wait = session.waitlist.is_on() && cmd.now <= session.enrolment_closes_at;
            let status = if seat_free {
                EnrolmentStatus::Confirmed
            } else if can_wait {
                EnrolmentStatus::Waitlisted
            } else if session.waitlist.is_on() {
                return Err(DomainError::conflict(
                    "session-full",
                    "Cette session est complète et ses inscriptions sont closes : la liste d'attente n'est plus ouverte.",
                ));
            } else {
                return Err(DomainError::conflict("session-full", "Cette session est complète."));
            };
            let rank = rules::next_rank(cmd.now, last_rank(c, &session.id)?);
            let from = existing.as_ref().map(|e| e.status);
            let mut e = existing.unwrap_or_else(|| Enrolment {
                id: EnrolmentId::generate(),
                session_id: cmd.session_id.clone(),
                officer_id: cmd.officer_id.clone(),
                status,
                late: false,
                joined_at: cmd.now,
                confirmed_at: None,
                offer_expires_at: None,
                updated_at: cmd.now,
                updated_by: cmd.actor.id.clone(),
                origin: cmd.actor.origin,
                rank,
            });
            e.status = status;
            e.late = false;
            e.rank = rank;
            e.joined_at = cmd.now;
            e.offer_expires_at = None;
            let outcome = if status == EnrolmentStatus::Confirmed {
                session.seats_taken += 1;
                e.confirmed_at = Some(cmd.now);
                save_counters(c, &session, Some(rank))?;
                record(c, &mut e, from, &cmd.actor, cmd.now, None, None)?;
                EnrolOutcome::Confirmed
            } else {
                session.waiting += 1;
                e.confirmed_at = None;
                save_counters(c, &session, Some(rank))?;
                // Ranks only grow, so the newcomer is last: its position is the list's length.
                let position = session.waiting;
                record(c, &mut e, from, &cmd.actor, cmd.now, None, Some(position))?;
                EnrolOutcome::Waitlisted { position }
            };
            if let Some(key) = &cmd.idempotency_key {
                let response = serde_json::to_string(&outcome).map_err(DomainError::internal)?;
                c.exec(
                    "INSERT INTO idempotency (scope, key, session_id, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![scope, key, cmd.session_id.as_str(), response, micros(cmd.now)],
                )
                .map_err(db)?;
            }
            Ok(Enrolled { outcome, replayed: false })
        })
    }

    async fn withdraw(&self, cmd: &WithdrawCommand) -> Result<Withdrawal> {
        self.write(|c| {
            let mut session = load_session(c, &cmd.session_id)?;
            let mut e = load_enrolment(c, &cmd.session_id, &cmd.officer_id)?
                .filter(|e| e.status.is_active())
                .ok_or_else(not_enrolled)?;
            let from = e.status;
            let outcome = match from {
                EnrolmentStatus::Confirmed => {
                    let timing = rules::check_withdrawal(&session, cmd.now)?;
                    e.status = EnrolmentStatus::Withdrawn;
                    e.late = timing == WithdrawalTiming::Late;
                    session.seats_taken -= 1;
                    WithdrawOutcome::Withdrawn { late: e.late }
                }
                EnrolmentStatus::Offered => {
                    e.status = EnrolmentStatus::Declined;
                    e.offer_expires_at = None;
                    session.seats_taken -= 1;
                    WithdrawOutcome::DeclinedOffer
                }
                _ => {
                    e.status = EnrolmentStatus::Declined;
                    session.waiting -= 1;
                    WithdrawOutcome::LeftWaitlist
                }
            };
            save_counters(c, &session, None)?;
            record(c, &mut e, Some(from), &cmd.actor, cmd.now, None, None)?;
            // The seat freed goes to the head of the list in the same transaction.
            let promoted = match outcome {
                WithdrawOutcome::LeftWaitlist => Vec::new(),
                _ => promote_in(c, &cmd.session_id, cmd.now, 1)?,
            };
            Ok(Withdrawal { outcome, promoted })
        })
    }

    async fn answer_offer(
        &self,
        s: &SessionId,
        o: &OfficerId,
        accept: bool,
        actor: &Actor,
        now: Instant,
    ) -> Result<EnrolmentStatus> {
        self.write(|c| {
            let mut session = load_session(c, s)?;
            let mut e = load_enrolment(c, s, o)?
                .filter(|e| e.status == EnrolmentStatus::Offered)
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
            if accept {
                rules::check_enrolment_window(&session, now, true)?;
                e.status = EnrolmentStatus::Confirmed;
                e.confirmed_at = Some(now);
            } else {
                e.status = EnrolmentStatus::Declined;
                session.seats_taken -= 1;
                save_counters(c, &session, None)?;
            }
            e.offer_expires_at = None;
            record(
                c,
                &mut e,
                Some(EnrolmentStatus::Offered),
                actor,
                now,
                None,
                None,
            )?;
            Ok(e.status)
        })
    }

    async fn promote(&self, s: &SessionId, now: Instant) -> Result<Vec<Promoted>> {
        self.write(|c| promote_in(c, s, now, usize::MAX))
    }

    async fn expire_offers(&self, now: Instant) -> Result<Vec<SessionId>> {
        self.write(|c| {
            let expired = all(
                c,
                &format!("SELECT {ENROLMENT_COLS} FROM enrolments WHERE status = 'offered' AND offer_expires_at <= ?1"),
                [micros(now)],
                enrolment_row,
            )?;
            let actor = Actor::system("offer-expiry");
            for mut e in expired {
                let mut session = load_session(c, &e.session_id)?;
                session.seats_taken -= 1;
                save_counters(c, &session, None)?;
                e.status = EnrolmentStatus::OfferExpired;
                record(c, &mut e, Some(EnrolmentStatus::Offered), &actor, now, None, None)?;
            }
            let mut stmt = c
                .prepare(
                    "SELECT id FROM sessions WHERE status = 'scheduled' AND seats_taken < capacity AND waiting > 0 \
                     AND closes_at >= ?1 AND starts_at > ?1 ORDER BY starts_at",
                )
                .map_err(db)?;
            let ids = stmt
                .query_map([micros(now)], |r| r.get::<_, String>(0))
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(ids.into_iter().map(SessionId::from_stored).collect())
        })
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
        self.write(|c| {
            load_session(c, s)?;
            let mut e = load_enrolment(c, s, o)?
                .filter(|e| e.status == EnrolmentStatus::Waitlisted)
                .ok_or_else(|| DomainError::not_found("not-waitlisted", "Cet officier n'est pas sur la liste d'attente."))?;
            let others = |c: &Connection| -> Result<Vec<i64>> {
                all(c, "SELECT rank FROM enrolments WHERE session_id = ?1 AND status = 'waitlisted' AND id != ?2 ORDER BY rank, id",
                    [s.as_str(), e.id.as_str()], |r| r.get(0))
            };
            let mut ranks = others(c)?;
            let target = position as usize;
            let rank = match rules::rank_for_position(&ranks, target) {
                Some(r) => r,
                None => {
                    // Neighbours are adjacent: space the whole list out, keeping its order.
                    let ids: Vec<String> = all(c, "SELECT id FROM enrolments WHERE session_id = ?1 AND status = 'waitlisted' AND id != ?2 ORDER BY rank, id",
                        [s.as_str(), e.id.as_str()], |r| r.get(0))?;
                    for (i, id) in ids.iter().enumerate() {
                        let rank = (i as i64 + 1) * 1_000_000;
                        c.exec("UPDATE enrolments SET rank = ?2 WHERE id = ?1", params![id, rank])
                            .map_err(db)?;
                    }
                    ranks = others(c)?;
                    rules::rank_for_position(&ranks, target).ok_or_else(|| DomainError::internal("waiting list renumbering failed"))?
                }
            };
            e.rank = rank;
            // The entry lands at the asked position, or last when that is beyond the list.
            let position = (target.max(1)).min(ranks.len() + 1) as u32;
            record(c, &mut e, Some(EnrolmentStatus::Waitlisted), actor, now, Some(reason), Some(position))?;
            c.exec(
                "UPDATE sessions SET last_rank = MAX(last_rank, ?2) WHERE id = ?1",
                params![s.as_str(), rank],
            )
            .map_err(db)?;
            position_of(c, &e)
        })
    }

    async fn mark_attendance(
        &self,
        s: &SessionId,
        o: &OfficerId,
        status: EnrolmentStatus,
        actor: &Actor,
        now: Instant,
    ) -> Result<()> {
        self.write(|c| {
            let mut session = load_session(c, s)?;
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
            let mut e = load_enrolment(c, s, o)?.ok_or_else(DomainError::enrolment_not_found)?;
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
                session.seats_taken -= 1;
                save_counters(c, &session, None)?;
            }
            e.status = status;
            record(c, &mut e, Some(from), actor, now, None, None)?;
            Ok(())
        })
    }

    async fn programme(&self, o: &OfficerId) -> Result<Vec<ProgrammeItem>> {
        self.read(|c| {
            all(c, "SELECT officer_id, training_id, kind, planned_by, planned_at FROM programme WHERE officer_id = ?1 ORDER BY planned_at",
                [o.as_str()], programme_row)
        })
    }

    async fn plan_training(&self, item: &ProgrammeItem) -> Result<()> {
        self.write(|c| {
            c.exec(
                "INSERT INTO programme (officer_id, training_id, kind, planned_by, planned_at) VALUES (?1,?2,?3,?4,?5) \
                 ON CONFLICT (officer_id, training_id) DO UPDATE SET kind = excluded.kind",
                params![item.officer_id.as_str(), item.training_id.as_str(), item.kind.as_str(), item.planned_by, micros(item.planned_at)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn unplan_training(&self, o: &OfficerId, t: &TrainingId) -> Result<bool> {
        self.write(|c| {
            let n = c
                .exec(
                    "DELETE FROM programme WHERE officer_id = ?1 AND training_id = ?2",
                    [o.as_str(), t.as_str()],
                )
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    async fn register_interest(&self, o: &OfficerId, t: &TrainingId, now: Instant) -> Result<bool> {
        self.write(|c| {
            let n = c
                .exec(
                    "INSERT INTO interests (officer_id, training_id, at) VALUES (?1,?2,?3) \
                     ON CONFLICT DO NOTHING",
                    params![o.as_str(), t.as_str(), micros(now)],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    async fn take_quota(
        &self,
        subject: &str,
        use_id: &str,
        window_start: Instant,
        window_seconds: i64,
        limit: u32,
    ) -> Result<bool> {
        let charge = QuotaCharge::new(subject, use_id, window_start, window_seconds, limit);
        self.write(|c| take_quota(c, &charge))
    }

    async fn release_quota(
        &self,
        subject: &str,
        use_id: &str,
        window_start: Instant,
    ) -> Result<()> {
        self.write(|c| {
            c.exec(
                "DELETE FROM quota_uses WHERE subject = ?1 AND window_start = ?2 AND use_id = ?3",
                params![subject, micros(window_start), use_id],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn interested_officers(&self, t: &TrainingId) -> Result<Vec<OfficerId>> {
        self.read(|c| interested(c, t))
    }

    async fn queue_notices(&self, notices: &[Notice], now: Instant) -> Result<u32> {
        self.write(|c| {
            let mut new = 0;
            for n in notices {
                if queue(c, n, now)?.is_some() {
                    new += 1;
                }
            }
            Ok(new)
        })
    }

    async fn pending_notices(&self, limit: u32) -> Result<Vec<QueuedNotice>> {
        self.read(|c| {
            queued_notices(
                c,
                "SELECT id, officer_id, session_id, payload, version, attempts FROM outbox \
                 WHERE status IN ('pending', 'failed') AND attempts < 5 ORDER BY id LIMIT ?1",
                params![limit],
            )
        })
    }

    async fn claim_notices(
        &self,
        limit: u32,
        until: Instant,
        now: Instant,
    ) -> Result<Vec<QueuedNotice>> {
        // One transaction takes them all: senders at once queue behind one another here
        // instead of each trying every notice in turn.
        self.write(|c| {
            let taken = queued_notices(
                c,
                "SELECT id, officer_id, session_id, payload, version, attempts FROM outbox \
                 WHERE status IN ('pending', 'failed') AND attempts < 5 \
                 AND (claimed_until IS NULL OR claimed_until <= ?2) ORDER BY id LIMIT ?1",
                params![limit, micros(now)],
            )?;
            for q in &taken {
                c.exec(
                    "UPDATE outbox SET claimed_until = ?2 WHERE id = ?1",
                    params![q.id, micros(until)],
                )
                .map_err(db)?;
            }
            Ok(taken)
        })
    }

    async fn mark_notice_sent(
        &self,
        id: i64,
        message_id: Option<&str>,
        now: Instant,
    ) -> Result<()> {
        self.write(|c| {
            c.exec(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1, \
                 message_id = ?3 WHERE id = ?1",
                params![id, micros(now), message_id],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn claim_notice(&self, id: i64, until: Instant, now: Instant) -> Result<bool> {
        self.write(|c| {
            let changed = c
                .exec(
                    "UPDATE outbox SET claimed_until = ?2 WHERE id = ?1 \
                     AND status IN ('pending', 'failed') AND attempts < 5 \
                     AND (claimed_until IS NULL OR claimed_until <= ?3)",
                    params![id, micros(until), micros(now)],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
    }

    async fn mark_notice_dropped(&self, id: i64, reason: &str, _now: Instant) -> Result<()> {
        self.write(|c| {
            c.exec(
                "UPDATE outbox SET status = 'dropped', last_error = ?2 WHERE id = ?1 \
                 AND status IN ('pending', 'failed')",
                params![id, reason],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn mark_notice_failed(&self, id: i64, error: &str, now: Instant) -> Result<()> {
        self.write(|c| {
            let attempts: Option<u32> = c
                .one("SELECT attempts FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db)?;
            let Some(attempts) = attempts else {
                return Ok(());
            };
            let retry_at = now + cassiopee_domain::notices::retry_delay(attempts + 1);
            c.exec(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2, \
                 claimed_until = ?3 WHERE id = ?1",
                params![id, error, micros(retry_at)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn officer_notices(&self, o: &OfficerId) -> Result<Vec<NoticeRecord>> {
        self.read(|c| {
            all(
                c,
                &format!("SELECT {NOTICE_COLS} FROM outbox WHERE officer_id = ?1 ORDER BY id DESC"),
                [o.as_str()],
                notice_record,
            )
        })
    }

    async fn session_notices(&self, s: &SessionId) -> Result<Vec<NoticeRecord>> {
        self.read(|c| {
            all(
                c,
                &format!("SELECT {NOTICE_COLS} FROM outbox WHERE session_id = ?1 ORDER BY id DESC"),
                [s.as_str()],
                notice_record,
            )
        })
    }

    async fn undelivered_between(&self, from: Instant, to: Instant) -> Result<Vec<NoticeRecord>> {
        self.read(|c| {
            all(
                c,
                &format!(
                    "SELECT {NOTICE_COLS} FROM outbox WHERE delivery IN ('bounced', 'complained') \
                     AND delivery_at >= ?1 AND delivery_at < ?2 ORDER BY delivery_at, id"
                ),
                params![micros(from), micros(to)],
                notice_record,
            )
        })
    }

    async fn record_delivery(&self, id: i64, status: DeliveryStatus, at: Instant) -> Result<bool> {
        self.write(|c| {
            let n = c
                .exec(
                    "UPDATE outbox SET delivery = ?2, delivery_rank = ?3, delivery_at = ?4 \
                     WHERE id = ?1 AND delivery_rank < ?3",
                    params![id, status.as_str(), status.rank(), micros(at)],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    async fn mark_notices_read(
        &self,
        o: &OfficerId,
        ids: Option<&[i64]>,
        now: Instant,
    ) -> Result<u32> {
        self.write(|c| {
            let n = match ids {
                None => c
                    .exec(
                        "UPDATE outbox SET read_at = ?2 WHERE officer_id = ?1 AND read_at IS NULL",
                        params![o.as_str(), micros(now)],
                    )
                    .map_err(db)?,
                Some(ids) => {
                    let mut n = 0;
                    for id in ids {
                        n += c
                            .exec(
                                "UPDATE outbox SET read_at = ?3 WHERE id = ?1 AND officer_id = ?2 \
                                 AND read_at IS NULL",
                                params![id, o.as_str(), micros(now)],
                            )
                            .map_err(db)?;
                    }
                    n
                }
            };
            Ok(n as u32)
        })
    }

    async fn set_calendar_token(&self, o: &OfficerId, hash: &str, now: Instant) -> Result<()> {
        self.write(|c| {
            c.exec(
                "INSERT INTO calendar_tokens (officer_id, token_hash, created_at) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (officer_id) \
                 DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
                params![o.as_str(), hash, micros(now)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn revoke_calendar_token(&self, o: &OfficerId) -> Result<bool> {
        self.write(|c| {
            let n = c
                .exec(
                    "DELETE FROM calendar_tokens WHERE officer_id = ?1",
                    [o.as_str()],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    async fn calendar_token_created(&self, o: &OfficerId) -> Result<Option<Instant>> {
        self.read(|c| {
            c.one(
                "SELECT created_at FROM calendar_tokens WHERE officer_id = ?1",
                [o.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(db)
            .map(|t| t.map(instant))
        })
    }

    async fn officer_by_calendar_token(&self, hash: &str) -> Result<Option<Officer>> {
        let id: Option<String> = self.read(|c| {
            c.one(
                "SELECT officer_id FROM calendar_tokens WHERE token_hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)
        })?;
        match id {
            Some(id) => self.officer(&OfficerId::from_stored(id)).await,
            None => Ok(None),
        }
    }

    async fn claim_once(&self, key: &str, now: Instant) -> Result<bool> {
        self.write(|c| {
            let n = c
                .exec(
                    "INSERT INTO claims (key, claimed_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![key, micros(now)],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    async fn record_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        self.write(|c| {
            for e in entries {
            c.exec(
                "INSERT INTO audit (at, actor, origin, action, session_id, officer_id, training_id, before, after, reason) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                params![
                    micros(e.at),
                    e.actor,
                    e.origin.as_str(),
                    e.action,
                    e.session_id.as_ref().map(|i| i.as_str()),
                    e.officer_id.as_ref().map(|i| i.as_str()),
                    e.training_id.as_ref().map(|i| i.as_str()),
                    e.before.as_ref().map(|v| v.to_string()),
                    e.after.as_ref().map(|v| v.to_string()),
                    e.reason,
                ],
            )
            .map_err(db)?;
            }
            Ok(())
        })
    }

    async fn audit(&self, subject: &AuditSubject) -> Result<Vec<AuditEntry>> {
        let (filter, changes, id) = match subject {
            AuditSubject::Session(id) => {
                ("session_id = ?1", Some("e.session_id = ?1"), id.as_str())
            }
            AuditSubject::Officer(id) => {
                ("officer_id = ?1", Some("e.officer_id = ?1"), id.as_str())
            }
            AuditSubject::Training(id) => {
                ("training_id = ?1 AND session_id IS NULL", None, id.as_str())
            }
        };
        self.read(|c| {
            let mut out = all(
                c,
                &format!("SELECT {AUDIT_COLS} FROM audit WHERE {filter} ORDER BY at, id"),
                [id],
                audit_row,
            )?;
            if let Some(changes) = changes {
                let sql = format!(
                    "SELECT c.at, c.from_status, c.to_status, c.actor, c.origin, c.reason, e.session_id, e.officer_id \
                     FROM enrolment_changes c JOIN enrolments e ON e.id = c.enrolment_id WHERE {changes} ORDER BY c.at, c.id"
                );
                out.extend(all(c, &sql, [id], |r| {
                    let change = change_row(r)?;
                    let session = SessionId::from_stored(r.get(6)?);
                    let officer = OfficerId::from_stored(r.get(7)?);
                    Ok(AuditEntry::of_enrolment_change(&session, &officer, &change))
                })?);
            }
            cassiopee_domain::audit::sort_lines(&mut out);
            Ok(out)
        })
    }

    async fn officer_interests(&self, o: &OfficerId) -> Result<Vec<TrainingId>> {
        self.read(|c| {
            all(
                c,
                "SELECT training_id FROM interests WHERE officer_id = ?1 ORDER BY at, training_id",
                [o.as_str()],
                |r| Ok(TrainingId::from_stored(r.get(0)?)),
            )
        })
    }

    async fn erase_officer(&self, o: &OfficerId, now: Instant) -> Result<Option<Erasure>> {
        let erasure = self.erase(o, now)?;
        // The write-ahead log still holds the pages as they were: fold it into the database
        // (whose deleted content `secure_delete` zeroes) and empty it.
        let writer = self.lock()?;
        writer
            .one("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(db)?;
        drop(writer);
        Ok(erasure)
    }

    async fn is_erased(&self, o: &OfficerId) -> Result<bool> {
        self.read(|c| {
            c.one(
                "SELECT 1 FROM erasures WHERE officer_id = ?1",
                [o.as_str()],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(db)
        })
    }

    async fn confirmed_between(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<(Session, Enrolment)>> {
        self.read(|c| {
            let sql = format!(
                "SELECT {SESSION_SELECT_S}, {ENROLMENT_COLS_E} FROM sessions s JOIN enrolments e ON e.session_id = s.id \
                 WHERE s.status = 'scheduled' AND s.starts_at >= ?1 AND s.starts_at < ?2 AND e.status = 'confirmed' \
                 ORDER BY s.starts_at, e.id"
            );
            all(c, &sql, [micros(from), micros(to)], |r| Ok((session_row(r)?, enrolment_row_at(r, SESSION_COL_COUNT)?)))
        })
    }

    async fn import_staff(&self, rows: &[StaffRow]) -> Result<Vec<RowOutcome>> {
        self.write(|c| rows.iter().map(|r| import_staff_row(c, r)).collect())
    }

    async fn import_officers(&self, rows: &[OfficerRow]) -> Result<Vec<RowOutcome>> {
        self.write(|c| {
            let staff = all(c, &format!("SELECT {STAFF_COLS} FROM staff"), [], staff_row)?;
            rows.iter()
                .map(|r| import_officer_row(c, r, &staff))
                .collect()
        })
    }

    async fn import_trainings(&self, rows: &[TrainingRow]) -> Result<Vec<RowOutcome>> {
        self.write(|c| rows.iter().map(|r| import_training_row(c, r)).collect())
    }

    async fn import_sessions(&self, rows: &[SessionRow], now: Instant) -> Result<Vec<RowOutcome>> {
        self.write(|c| rows.iter().map(|r| import_session_row(c, r, now)).collect())
    }

    async fn import_enrolments(
        &self,
        rows: &[EnrolmentRow],
        actor: &Actor,
        now: Instant,
    ) -> Result<Vec<RowOutcome>> {
        self.write(|c| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| import_enrolment_row(c, r, i, actor, now))
                .collect()
        })
    }

    async fn save_feedback(&self, f: &Feedback) -> Result<()> {
        self.write(|c| {
            let status = load_enrolment(c, &f.session_id, &f.officer_id)?.map(|e| e.status);
            if status != Some(EnrolmentStatus::Attended) {
                return Err(DomainError::feedback_not_attended());
            }
            let inserted = c
                .exec(
                    &format!(
                        "INSERT INTO feedback ({FEEDBACK_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT DO NOTHING"
                    ),
                    params![
                        f.session_id.as_str(),
                        f.officer_id.as_str(),
                        f.rating,
                        f.relevance,
                        f.comment,
                        micros(f.at)
                    ],
                )
                .map_err(db)?;
            if inserted == 0 {
                return Err(DomainError::feedback_already_given());
            }
            Ok(())
        })
    }

    async fn session_feedback(&self, s: &SessionId) -> Result<Vec<Feedback>> {
        self.read(|c| {
            all(
                c,
                &format!(
                    "SELECT {FEEDBACK_COLS} FROM feedback WHERE session_id = ?1 ORDER BY officer_id"
                ),
                [s.as_str()],
                feedback_row,
            )
        })
    }

    async fn all_feedback(&self) -> Result<Vec<Feedback>> {
        self.read(|c| {
            all(
                c,
                &format!("SELECT {FEEDBACK_COLS} FROM feedback ORDER BY session_id, officer_id"),
                [],
                feedback_row,
            )
        })
    }

    async fn all_sessions_with_enrolments(&self) -> Result<Vec<(Session, Vec<Enrolment>)>> {
        self.read(|c| {
            let sessions = all(
                c,
                &format!(
                    "SELECT {SESSION_SELECT} FROM sessions WHERE deleted_at IS NULL ORDER BY starts_at"
                ),
                [],
                session_row,
            )?;
            let enrolments = all(
                c,
                &format!(
                    "SELECT {ENROLMENT_COLS} FROM enrolments WHERE session_id IN \
                     (SELECT id FROM sessions WHERE deleted_at IS NULL)"
                ),
                [],
                enrolment_row,
            )?;
            let mut by_session: std::collections::HashMap<SessionId, Vec<Enrolment>> =
                Default::default();
            for e in enrolments {
                by_session.entry(e.session_id.clone()).or_default().push(e);
            }
            Ok(sessions
                .into_iter()
                .map(|s| {
                    let es = by_session.remove(&s.id).unwrap_or_default();
                    (s, es)
                })
                .collect())
        })
    }

    async fn save_statistics(&self, snapshot: &StatisticsSnapshot) -> Result<()> {
        let json = serde_json::to_string(snapshot).map_err(DomainError::internal)?;
        self.write(|c| {
            c.exec(
                "INSERT INTO statistics (id, snapshot) VALUES (1, ?1) \
                 ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot",
                [json],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    async fn statistics(&self) -> Result<Option<StatisticsSnapshot>> {
        self.read(|c| {
            let raw: Option<String> = c
                .one("SELECT snapshot FROM statistics WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db)?;
            raw.map(|r| serde_json::from_str(&r).map_err(DomainError::internal))
                .transpose()
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Imports, one row at a time inside the import's transaction.

fn import_staff_row(c: &Connection, r: &StaffRow) -> Result<RowOutcome> {
    if email_taken(c, "officers", &r.email)? {
        return Ok(RowOutcome::Rejected(format!(
            "{} est déjà l'adresse d'un officier accompagné.",
            r.email
        )));
    }
    let existing = c
        .one(
            &format!("SELECT {STAFF_COLS} FROM staff WHERE email = ?1"),
            [r.email.as_str()],
            staff_row,
        )
        .optional()
        .map_err(db)?;
    let new = Staff {
        id: existing
            .as_ref()
            .map(|s| s.id.clone())
            .unwrap_or_else(|| StaffId::derived(r.email.as_str())),
        last_name: r.last_name.clone(),
        first_name: r.first_name.clone(),
        function: r.function.clone(),
        email: r.email.clone(),
        role: r.role,
    };
    match existing {
        Some(s) if s == new => Ok(RowOutcome::Unchanged),
        Some(_) => {
            c.exec(
                "UPDATE staff SET last_name=?2, first_name=?3, function=?4, role=?5 WHERE id=?1",
                params![
                    new.id.as_str(),
                    new.last_name,
                    new.first_name,
                    new.function,
                    new.role.as_str()
                ],
            )
            .map_err(db)?;
            Ok(RowOutcome::Updated)
        }
        None => {
            c.exec(
                "INSERT INTO staff (id, email, last_name, first_name, function, role) VALUES (?1,?2,?3,?4,?5,?6)",
                params![new.id.as_str(), new.email.as_str(), new.last_name, new.first_name, new.function, new.role.as_str()],
            )
            .map_err(db)?;
            Ok(RowOutcome::Created)
        }
    }
}

fn email_taken(c: &Connection, table: &str, email: &Email) -> Result<bool> {
    c.one(
        &format!("SELECT COUNT(*) FROM {table} WHERE email = ?1"),
        [email.as_str()],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(db)
}

/// Finds the staff member written `C. Morvan` (initial and last name) or `Claire Morvan`.
fn resolve_advisor<'a>(written: &str, staff: &'a [Staff]) -> Option<&'a Staff> {
    let norm = |s: &str| s.trim().to_lowercase();
    let written = written.trim();
    let (first, last) = written.split_once(' ')?;
    let first = norm(first.trim_end_matches('.'));
    let last = norm(last);
    let mut matches = staff.iter().filter(|s| {
        norm(&s.last_name) == last
            && (norm(&s.first_name) == first
                || (first.chars().count() == 1 && norm(&s.first_name).starts_with(&first)))
    });
    let found = matches.next()?;
    matches.next().is_none().then_some(found)
}

fn import_officer_row(c: &Connection, r: &OfficerRow, staff: &[Staff]) -> Result<RowOutcome> {
    let erased: Option<i64> = c
        .one(
            "SELECT erased_at FROM erasures WHERE officer_id = ?1",
            [OfficerId::derived(r.email.as_str()).as_str()],
            |x| x.get(0),
        )
        .optional()
        .map_err(db)?;
    if erased.is_some() {
        return Ok(RowOutcome::Rejected(ERASED_ROW.to_string()));
    }
    let advisor_id = match r.advisor.as_deref() {
        None => None,
        Some(written) => match resolve_advisor(written, staff) {
            Some(s) => Some(s.id.clone()),
            None => {
                return Ok(RowOutcome::Rejected(format!(
                    "Conseiller MiRVOG « {} » introuvable parmi le personnel : importez d'abord le personnel.",
                    written.chars().take(40).collect::<String>()
                )));
            }
        },
    };
    if email_taken(c, "staff", &r.email)? {
        return Ok(RowOutcome::Rejected(format!(
            "{} est déjà l'adresse d'un membre du personnel de la MiRVOG.",
            r.email
        )));
    }
    let existing = c
        .one(
            &format!("SELECT {OFFICER_COLS} FROM officers WHERE email = ?1"),
            [r.email.as_str()],
            officer_row,
        )
        .optional()
        .map_err(db)?;
    let new = Officer {
        id: existing
            .as_ref()
            .map(|o| o.id.clone())
            .unwrap_or_else(|| OfficerId::derived(r.email.as_str())),
        last_name: r.last_name.clone(),
        first_name: r.first_name.clone(),
        grade: r.grade.clone(),
        branch: r.branch.clone(),
        email: r.email.clone(),
        phone: r.phone.clone(),
        accompaniment_start: r.accompaniment_start,
        accompaniment_end: r.accompaniment_end,
        advisor_id,
    };
    let outcome = match &existing {
        Some(o) if *o == new => return Ok(RowOutcome::Unchanged),
        Some(_) => RowOutcome::Updated,
        None => RowOutcome::Created,
    };
    c.exec(
        "INSERT INTO officers (id, email, last_name, first_name, grade, branch, phone, acc_start, acc_end, advisor_id) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT (id) DO UPDATE SET last_name=excluded.last_name, \
         first_name=excluded.first_name, grade=excluded.grade, branch=excluded.branch, phone=excluded.phone, \
         acc_start=excluded.acc_start, acc_end=excluded.acc_end, advisor_id=excluded.advisor_id",
        params![
            new.id.as_str(), new.email.as_str(), new.last_name, new.first_name, new.grade, new.branch, new.phone,
            new.accompaniment_start.to_string(), new.accompaniment_end.to_string(), new.advisor_id.as_ref().map(|a| a.as_str().to_string()),
        ],
    )
    .map_err(db)?;
    Ok(outcome)
}

fn import_training_row(c: &Connection, r: &TrainingRow) -> Result<RowOutcome> {
    let existing = c
        .one(
            &format!("SELECT {TRAINING_COLS} FROM trainings WHERE code = ?1"),
            [r.code.as_str()],
            training_row,
        )
        .optional()
        .map_err(db)?;
    let new = Training {
        id: existing
            .as_ref()
            .map(|t| t.id.clone())
            .unwrap_or_else(|| TrainingId::derived(&r.code)),
        code: r.code.clone(),
        title: r.title.clone(),
        theme: r.theme.clone(),
        modality: r.modality,
        length_days: r.length_days,
        provider: r.provider.clone(),
        session_cost: r.session_cost,
        trainee_cost: r.trainee_cost,
        min_group: r.min_group,
        max_group: r.max_group,
        archived: existing.as_ref().is_some_and(|t| t.archived),
    };
    match &existing {
        Some(t) if *t == new => Ok(RowOutcome::Unchanged),
        Some(t) if edited_in_app(c, "trainings", t.id.as_str())? => {
            Ok(RowOutcome::Kept(KEPT_FROM_APP.into()))
        }
        Some(_) => {
            c.exec(
                "UPDATE trainings SET code=?2, title=?3, theme=?4, modality=?5, length_days=?6, provider=?7, \
                 session_cost=?8, trainee_cost=?9, min_group=?10, max_group=?11, archived=?12 WHERE id=?1",
                training_params(&new),
            )
            .map_err(db)?;
            Ok(RowOutcome::Updated)
        }
        None => {
            c.exec(
                "INSERT INTO trainings (id, code, title, theme, modality, length_days, provider, session_cost, \
                 trainee_cost, min_group, max_group, archived) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                training_params(&new),
            )
            .map_err(db)?;
            Ok(RowOutcome::Created)
        }
    }
}

fn import_session_row(c: &Connection, r: &SessionRow, now: Instant) -> Result<RowOutcome> {
    let training: Option<String> = c
        .one(
            "SELECT id FROM trainings WHERE code = ?1",
            [r.training_code.as_str()],
            |x| x.get(0),
        )
        .optional()
        .map_err(db)?;
    let Some(training_id) = training else {
        return Ok(RowOutcome::Rejected(format!(
            "Formation « {} » inconnue : importez d'abord le catalogue.",
            r.training_code
        )));
    };
    let schedule = match Schedule::new(
        r.first_day,
        r.last_day,
        r.hours,
        paris_end_of_day(r.enrolment_close_day),
        paris_end_of_day(r.free_withdrawal_day),
    ) {
        Ok(s) => s,
        Err(e) => return Ok(RowOutcome::Rejected(e.detail)),
    };
    if is_deleted(c, &r.reference)? {
        return Ok(RowOutcome::Rejected(SESSION_DELETED.into()));
    }
    let existing = c
        .one(
            &format!("SELECT {SESSION_SELECT} FROM sessions WHERE reference = ?1"),
            [r.reference.as_str()],
            session_row,
        )
        .optional()
        .map_err(db)?;
    let status = if schedule.ends_at < now {
        SessionStatus::Completed
    } else {
        SessionStatus::Scheduled
    };
    let mut new = match &existing {
        Some(s) => s.clone(),
        None => Session {
            id: SessionId::derived(&r.reference),
            reference: r.reference.clone(),
            training_id: TrainingId::from_stored(training_id.clone()),
            first_day: r.first_day,
            last_day: r.last_day,
            hours: r.hours,
            starts_at: schedule.starts_at,
            ends_at: schedule.ends_at,
            place: r.place.clone(),
            capacity: r.capacity,
            enrolment_closes_at: schedule.enrolment_closes_at,
            free_withdrawal_until: schedule.free_withdrawal_until,
            trainer: r.trainer.clone(),
            status,
            waitlist: WaitlistMode::Direct,
            seats_taken: 0,
            waiting: 0,
            waiting_peak: 0,
            seats_marked: 0,
            schedule_version: 1,
        },
    };
    new.training_id = TrainingId::from_stored(training_id);
    new.first_day = r.first_day;
    new.last_day = r.last_day;
    new.hours = r.hours;
    new.starts_at = schedule.starts_at;
    new.ends_at = schedule.ends_at;
    new.place = r.place.clone();
    new.capacity = r.capacity;
    new.enrolment_closes_at = schedule.enrolment_closes_at;
    new.free_withdrawal_until = schedule.free_withdrawal_until;
    new.trainer = r.trainer.clone();
    let Some(old) = existing else {
        if let Err(e) = rules::check_capacity(new.capacity, new.waitlist, 0, 0) {
            return Ok(RowOutcome::Rejected(e.detail));
        }
        insert_session_row(c, &new).map_err(db)?;
        return Ok(RowOutcome::Created);
    };
    if old == new {
        return Ok(RowOutcome::Unchanged);
    }
    if edited_in_app(c, "sessions", old.id.as_str())? {
        return Ok(RowOutcome::Kept(KEPT_FROM_APP.into()));
    }
    if old.status == SessionStatus::Cancelled {
        return Ok(RowOutcome::Rejected(
            "Cette session a été annulée : elle ne peut plus être modifiée par import.".into(),
        ));
    }
    let confirmed = count_status(c, &old.id, "confirmed")?;
    let offered = count_status(c, &old.id, "offered")?;
    if let Err(e) = rules::check_capacity(new.capacity, new.waitlist, confirmed, offered) {
        return Ok(RowOutcome::Rejected(e.detail));
    }
    if new.starts_at != old.starts_at || new.ends_at != old.ends_at || new.place != old.place {
        new.schedule_version += 1;
    }
    update_session_row(c, &new).map_err(db)?;
    Ok(RowOutcome::Updated)
}

fn import_enrolment_row(
    c: &Connection,
    r: &EnrolmentRow,
    index: usize,
    actor: &Actor,
    now: Instant,
) -> Result<RowOutcome> {
    let officer: Option<String> = c
        .one(
            "SELECT id FROM officers WHERE email = ?1",
            [r.email.as_str()],
            |x| x.get(0),
        )
        .optional()
        .map_err(db)?;
    let Some(officer_id) = officer.map(OfficerId::from_stored) else {
        let erased = c
            .one(
                "SELECT 1 FROM erasures WHERE officer_id = ?1",
                [OfficerId::derived(r.email.as_str()).as_str()],
                |_| Ok(()),
            )
            .optional()
            .map_err(db)?;
        return Ok(RowOutcome::Rejected(match erased {
            Some(()) => ERASED_ROW.to_string(),
            None => format!(
                "Officier {} inconnu : importez d'abord les officiers.",
                r.email
            ),
        }));
    };
    if is_deleted(c, &r.session_reference)? {
        return Ok(RowOutcome::Rejected(SESSION_DELETED.into()));
    }
    let session_id: Option<String> = c
        .one(
            "SELECT id FROM sessions WHERE reference = ?1",
            [r.session_reference.as_str()],
            |x| x.get(0),
        )
        .optional()
        .map_err(db)?;
    let Some(session_id) = session_id.map(SessionId::from_stored) else {
        return Ok(RowOutcome::Rejected(format!(
            "Session {} inconnue : importez d'abord les sessions.",
            r.session_reference
        )));
    };
    let mut session = load_session(c, &session_id)?;
    let attendance = matches!(
        r.status,
        EnrolmentStatus::Attended | EnrolmentStatus::Absent | EnrolmentStatus::Excused
    );
    if attendance && session.starts_at > now {
        return Ok(RowOutcome::Rejected(format!(
            "Présence « {} » pour une session qui n'a pas encore eu lieu.",
            r.status.label_fr()
        )));
    }
    let existing = load_enrolment(c, &session_id, &officer_id)?;
    if let Some(e) = &existing
        && e.status == r.status
        && e.late == r.late
    {
        return Ok(RowOutcome::Unchanged);
    }
    // The spreadsheet is an older picture than what officers and staff did in the app since:
    // an enrolment last changed there is kept, and the row is reported.
    if let Some(e) = &existing
        && e.origin != cassiopee_domain::model::Origin::Import
    {
        return Ok(RowOutcome::Kept(format!(
            "Inscription modifiée dans Cassiopée depuis le dernier import (statut actuel : {}) : \
             la version de l'application est conservée.",
            e.status.label_fr()
        )));
    }
    let from = existing.as_ref().map(|e| e.status);
    if from.is_some_and(EnrolmentStatus::holds_seat) {
        session.seats_taken -= 1;
    }
    if from == Some(EnrolmentStatus::Waitlisted) {
        session.waiting -= 1;
    }
    if r.status.holds_seat() {
        if session.seats_taken >= session.capacity {
            return Ok(RowOutcome::Rejected(format!(
                "Session {} complète ({} places) : cette inscription dépasserait la capacité.",
                r.session_reference, session.capacity
            )));
        }
        session.seats_taken += 1;
    }
    if r.status == EnrolmentStatus::Waitlisted {
        session.waiting += 1;
    }
    // The spreadsheet gives a day, not a time: the day orders the waiting list, and the row's
    // place in the file breaks ties between people who joined on the same day.
    let joined_at = paris_start_of_day(r.enrolled_on);
    let rank = joined_at.timestamp_micros() + index as i64;
    let mut e = existing.unwrap_or_else(|| Enrolment {
        id: EnrolmentId::derived(&format!("{}/{}", r.session_reference, r.email)),
        session_id: session_id.clone(),
        officer_id: officer_id.clone(),
        status: r.status,
        late: r.late,
        joined_at,
        confirmed_at: None,
        offer_expires_at: None,
        updated_at: now,
        updated_by: actor.id.clone(),
        origin: actor.origin,
        rank,
    });
    e.status = r.status;
    e.late = r.late;
    e.joined_at = joined_at;
    e.rank = rank;
    e.offer_expires_at = None;
    e.confirmed_at = match r.status {
        EnrolmentStatus::Waitlisted => None,
        _ => Some(joined_at),
    };
    save_counters(c, &session, Some(rank))?;
    record(c, &mut e, from, actor, now, None, None)?;
    Ok(if from.is_some() {
        RowOutcome::Updated
    } else {
        RowOutcome::Created
    })
}

#[cfg(test)]
mod tests;

impl SqliteStore {
    fn erase(&self, o: &OfficerId, now: Instant) -> Result<Option<Erasure>> {
        self.write_alone(|c| {
            let done: Option<i64> = c
                .one(
                    "SELECT erased_at FROM erasures WHERE officer_id = ?1",
                    [o.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if done.is_some() {
                return Ok(None);
            }
            let known: Option<String> = c
                .one(
                    "SELECT id FROM officers WHERE id = ?1 AND erased_at IS NULL",
                    [o.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            if known.is_none() {
                return Err(DomainError::officer_not_found());
            }
            // The pseudonym's row is `Officer::erased`, flagged (`erased_at` = 0, no time): the
            // kept enrolments' foreign key needs a row, and rosters show it as DynamoDB does.
            let pseudonym = OfficerId::untimed();
            let stand_in = Officer::erased(pseudonym.clone());
            c.exec(
                "INSERT INTO officers (id, email, last_name, first_name, grade, branch, phone, acc_start, acc_end, advisor_id, erased_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, NULL, 0)",
                params![
                    stand_in.id.as_str(),
                    stand_in.email.as_str(),
                    stand_in.last_name,
                    stand_in.first_name,
                    stand_in.grade,
                    stand_in.branch,
                    stand_in.accompaniment_start.to_string(),
                    stand_in.accompaniment_end.to_string(),
                ],
            )
            .map_err(db)?;
            let (old, new) = (o.as_str(), pseudonym.as_str());
            // An imported enrolment's id is derived from the address too: each kept one gets a
            // new id, its history with it (the foreign key is checked at commit).
            c.execute_batch("PRAGMA defer_foreign_keys = ON").map_err(db)?;
            let ids = all(c, "SELECT id FROM enrolments WHERE officer_id = ?1", [old], |r| {
                r.get::<_, String>(0)
            })?;
            for id in ids {
                let fresh = EnrolmentId::untimed();
                for sql in [
                    "UPDATE enrolment_changes SET enrolment_id = ?2 WHERE enrolment_id = ?1",
                    "UPDATE enrolments SET id = ?2 WHERE id = ?1",
                ] {
                    c.exec(sql, [id.as_str(), fresh.as_str()]).map_err(db)?;
                }
            }
            let run = |sql: &str| c.exec(sql, [old, new]).map_err(db);
            let enrolments_kept = run(
                "UPDATE enrolments SET officer_id = ?2, \
                 updated_by = CASE WHEN updated_by = ?1 THEN ?2 ELSE updated_by END WHERE officer_id = ?1",
            )?;
            run("UPDATE enrolment_changes SET actor = ?2 WHERE actor = ?1")?;
            let feedback_kept =
                run("UPDATE feedback SET officer_id = ?2, comment = NULL WHERE officer_id = ?1")?;
            run("UPDATE audit SET officer_id = ?2 WHERE officer_id = ?1")?;
            run("UPDATE audit SET actor = ?2 WHERE actor = ?1")?;
            let gone = |sql: &str| c.exec(sql, [old]).map_err(db);
            let notices_deleted = gone("DELETE FROM outbox WHERE officer_id = ?1")?;
            gone("DELETE FROM programme WHERE officer_id = ?1")?;
            gone("DELETE FROM interests WHERE officer_id = ?1")?;
            gone("DELETE FROM calendar_tokens WHERE officer_id = ?1")?;
            gone("DELETE FROM idempotency WHERE scope = 'enrol:' || ?1")?;
            gone("DELETE FROM quota_uses WHERE subject = 'changes:' || ?1")?;
            gone("DELETE FROM officers WHERE id = ?1")?;
            // No time: it would tie the tombstone to the pseudonym's audit line.
            c.exec(
                "INSERT INTO erasures (officer_id, erased_at) VALUES (?1, 0)",
                params![old],
            )
            .map_err(db)?;
            let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            Ok(Some(Erasure {
                erased_at: now,
                pseudonym,
                enrolments_kept: count(enrolments_kept),
                feedback_kept: count(feedback_kept),
                notices_deleted: count(notices_deleted),
            }))
        })
    }
}
