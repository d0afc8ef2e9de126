//! Seeded random interleavings of every operation that moves people, checking the invariants
//! after each step: the seat counter equals confirmed + held offers and never exceeds the
//! capacity, the waiting counter equals the waiting list's length, and positions are 1..n.

use super::*;
use cassiopee_domain::import::OfficerRow;
use cassiopee_domain::model::{Modality, Money};
use cassiopee_domain::time::{DailyHours, parse_instant};
use chrono::{Duration, NaiveDate};

/// xorshift64*: a tiny deterministic generator, so that a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn at(s: &str) -> Instant {
    parse_instant(s).expect("instant")
}

async fn setup(
    store: &SqliteStore,
    officers: usize,
    capacity: u32,
    mode: WaitlistMode,
) -> (SessionId, Vec<OfficerId>) {
    let rows: Vec<OfficerRow> = (0..officers)
        .map(|i| OfficerRow {
            last_name: format!("Officier{i}"),
            first_name: "Test".into(),
            grade: "Général de brigade".into(),
            branch: "Armée de Terre".into(),
            email: Email::parse(&format!("o{i}@intradef.example")).expect("email"),
            phone: None,
            accompaniment_start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            accompaniment_end: NaiveDate::from_ymd_opt(2027, 12, 31).expect("date"),
            duration_months: None,
            advisor: None,
        })
        .collect();
    store.import_officers(&rows).await.expect("officers");
    let training = Training {
        id: TrainingId::generate(),
        code: "T-01".into(),
        title: "Test".into(),
        theme: "Test".into(),
        modality: Modality::InPerson,
        length_days: 1,
        provider: String::new(),
        session_cost: Money::ZERO,
        trainee_cost: Money::ZERO,
        min_group: 1,
        max_group: 10,
        archived: false,
    };
    store.insert_training(&training).await.expect("training");
    let hours = DailyHours::parse("09:00-17:00").expect("hours");
    let first = NaiveDate::from_ymd_opt(2027, 6, 10).expect("date");
    let schedule = Schedule::new(
        first,
        first,
        hours,
        at("2027-06-01T18:00"),
        at("2027-06-05T18:00"),
    )
    .expect("schedule");
    let session = Session {
        id: SessionId::generate(),
        reference: "T-01-S1".into(),
        training_id: training.id.clone(),
        first_day: first,
        last_day: first,
        hours,
        starts_at: schedule.starts_at,
        ends_at: schedule.ends_at,
        place: "Paris".into(),
        capacity,
        enrolment_closes_at: schedule.enrolment_closes_at,
        free_withdrawal_until: schedule.free_withdrawal_until,
        trainer: None,
        status: SessionStatus::Scheduled,
        waitlist: mode,
        seats_taken: 0,
        waiting: 0,
        waiting_peak: 0,
        seats_marked: 0,
        schedule_version: 1,
    };
    store
        .insert_session(&session, at("2027-01-01T10:00"))
        .await
        .expect("session");
    let ids = store
        .officers()
        .await
        .expect("officers")
        .into_iter()
        .map(|o| o.id)
        .collect();
    (session.id, ids)
}

async fn check_invariants(store: &SqliteStore, id: &SessionId, context: &str) {
    let s = store.session(id).await.expect("read").expect("session");
    let roster = store.roster(id).await.expect("roster");
    let count =
        |st: EnrolmentStatus| roster.iter().filter(|l| l.enrolment.status == st).count() as u32;
    let confirmed = count(EnrolmentStatus::Confirmed);
    let offered = count(EnrolmentStatus::Offered);
    let waiting = count(EnrolmentStatus::Waitlisted);
    assert_eq!(
        s.seats_taken,
        confirmed + offered,
        "{context}: counter != confirmed + offers"
    );
    assert!(
        s.seats_taken <= s.capacity,
        "{context}: overbooked {} > {}",
        s.seats_taken,
        s.capacity
    );
    assert_eq!(s.waiting, waiting, "{context}: waiting counter");
    let positions: Vec<u32> = roster.iter().filter_map(|l| l.position).collect();
    assert_eq!(
        positions,
        (1..=waiting).collect::<Vec<_>>(),
        "{context}: positions"
    );
    for line in roster
        .iter()
        .filter(|l| l.enrolment.status == EnrolmentStatus::Waitlisted)
    {
        let p = store
            .waitlist_position(id, &line.officer.id)
            .await
            .expect("position");
        assert_eq!(p, line.position, "{context}: position lookup");
    }
    // With seats free and the session open, nobody should be left waiting once promoted.
    let ordered: Vec<i64> = roster
        .iter()
        .filter(|l| l.enrolment.status == EnrolmentStatus::Waitlisted)
        .map(|l| l.enrolment.rank)
        .collect();
    assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "{context}: order");
}

#[tokio::test]
async fn random_interleavings_keep_every_counter_true_on_both_waiting_list_modes() {
    let mut succeeded = [0u32; 8];
    for seed in 1..=60u64 {
        let store = SqliteStore::in_memory().expect("store");
        let mode = if seed % 2 == 0 {
            WaitlistMode::Direct
        } else {
            WaitlistMode::Offer { hours: 24 }
        };
        let capacity = 1 + (seed % 5) as u32;
        let (session, officers) = setup(&store, 12, capacity, mode).await;
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut now = at("2027-02-01T10:00");
        for step in 0..150 {
            now += Duration::minutes(rng.below(600) as i64);
            let op = rng.below(8);
            // Answers go mostly to officers who hold an offer, so that they do something.
            let offered: Vec<OfficerId> = store
                .roster(&session)
                .await
                .expect("roster")
                .into_iter()
                .filter(|l| l.enrolment.status == EnrolmentStatus::Offered)
                .map(|l| l.officer.id)
                .collect();
            let officer = match op {
                3 | 4 if !offered.is_empty() => &offered[rng.below(offered.len() as u64) as usize],
                _ => &officers[rng.below(officers.len() as u64) as usize],
            };
            let staff = Actor::system("test");
            let result = match op {
                0 | 1 => store
                    .enrol(&EnrolCommand {
                        session_id: session.clone(),
                        officer_id: officer.clone(),
                        actor: Actor::officer(officer),
                        now,
                        idempotency_key: None,
                        quota: None,
                        officer: None,
                    })
                    .await
                    .map(|_| ()),
                2 => store
                    .withdraw(&WithdrawCommand {
                        session_id: session.clone(),
                        officer_id: officer.clone(),
                        actor: Actor::officer(officer),
                        now,
                    })
                    .await
                    .map(|_| ()),
                3 => store
                    .answer_offer(&session, officer, true, &staff, now)
                    .await
                    .map(|_| ()),
                4 => store
                    .answer_offer(&session, officer, false, &staff, now)
                    .await
                    .map(|_| ()),
                5 => {
                    let patch = SessionPatch {
                        capacity: Some(rng.below(7) as u32),
                        ..Default::default()
                    };
                    store
                        .update_session(&session, &patch, &staff, now)
                        .await
                        .map(|_| ())
                }
                6 => store.expire_offers(now).await.map(|_| ()),
                _ => store.promote(&session, now).await.map(|_| ()),
            };
            if result.is_ok() {
                succeeded[op as usize] += 1;
            }
            if let Err(e) = &result {
                assert_ne!(
                    e.kind,
                    cassiopee_domain::ErrorKind::Internal,
                    "seed {seed} step {step}: {e}"
                );
            }
            check_invariants(
                &store,
                &session,
                &format!("seed {seed} step {step} op {op}"),
            )
            .await;
        }
    }
    // Every kind of operation really ran, or the invariants were checked on nothing.
    assert!(
        succeeded.iter().all(|&n| n > 20),
        "successes per operation: {succeeded:?}"
    );
}

#[tokio::test]
async fn the_database_refuses_an_overbooking_even_if_a_rule_were_skipped() {
    // Negative control for the invariant above: writing past the capacity directly must fail,
    // so the CHECK constraint is a real backstop and not a formality.
    let store = SqliteStore::in_memory().expect("store");
    let (session, _) = setup(&store, 1, 1, WaitlistMode::Direct).await;
    let conn = store.lock().expect("lock");
    let err = conn
        .execute(
            "UPDATE sessions SET seats_taken = capacity + 1 WHERE id = ?1",
            [session.as_str()],
        )
        .expect_err("overbooking must be refused");
    assert!(err.to_string().contains("CHECK"), "{err}");
}

#[tokio::test]
async fn migration_2_rebuilds_each_waiting_peak_from_the_history() {
    let store = SqliteStore::in_memory().expect("store");
    let (id, officers) = setup(&store, 6, 1, WaitlistMode::Direct).await;
    let now = at("2027-05-01T10:00");
    let cmd = |o: &OfficerId| EnrolCommand {
        session_id: id.clone(),
        officer_id: o.clone(),
        actor: Actor::officer(o),
        now,
        idempotency_key: None,
        quota: None,
        officer: None,
    };
    let leave = |o: &OfficerId| WithdrawCommand {
        session_id: id.clone(),
        officer_id: o.clone(),
        actor: Actor::officer(o),
        now,
    };
    // 1 seat: four wait (peak 4), two leave, one joins: 3 waiting.
    for o in &officers[..5] {
        store.enrol(&cmd(o)).await.expect("enrol");
    }
    store.withdraw(&leave(&officers[1])).await.expect("leave");
    store.withdraw(&leave(&officers[2])).await.expect("leave");
    store.enrol(&cmd(&officers[5])).await.expect("enrol");
    let peak = || async {
        store
            .session(&id)
            .await
            .expect("read")
            .expect("session")
            .waiting_peak
    };
    assert_eq!(peak().await, 4);

    // As a store of version 1 had it: no peak kept. The backfill finds it again.
    store
        .write(|c| {
            c.execute_batch(&format!(
                "UPDATE sessions SET waiting_peak = 0; {BACKFILL_WAITING_PEAK};"
            ))
            .map_err(db)
        })
        .expect("backfill");
    assert_eq!(peak().await, 4);
}

#[tokio::test]
async fn a_store_in_a_file_reads_its_own_writes_on_every_reader_and_readers_never_write() {
    let dir = std::env::temp_dir().join(format!("cassiopee-readers-{}", std::process::id()));
    let store = SqliteStore::open(&dir).expect("store");
    assert!(store.readers.len() >= 2, "{} readers", store.readers.len());
    let (session, officers) = setup(&store, 3, 1, WaitlistMode::Direct).await;
    for (i, officer) in officers.iter().enumerate() {
        let cmd = EnrolCommand {
            session_id: session.clone(),
            officer_id: officer.clone(),
            actor: Actor::officer(officer),
            now: at("2027-02-01T10:00"),
            idempotency_key: None,
            quota: None,
            officer: None,
        };
        store.enrol(&cmd).await.expect("enrol");
        // Every reader in turn sees the write just committed by the writer.
        for _ in 0..store.readers.len() {
            let s = store
                .session(&session)
                .await
                .expect("read")
                .expect("session");
            assert_eq!(
                (s.seats_taken, s.waiting),
                (1, i as u32),
                "after enrolment {i}"
            );
        }
    }
    // Two readers held at once: the next read takes a third, or waits for one.
    let (a, b) = (store.reader().expect("a"), store.reader().expect("b"));
    assert!(!std::ptr::eq(&*a, &*b), "two guards on one connection");
    drop((a, b));
    let reader = store.reader().expect("reader");
    let err = reader
        .execute("UPDATE sessions SET capacity = 9", [])
        .expect_err("a reader must not write");
    assert!(err.to_string().contains("readonly"), "{err}");
    drop(reader);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A write of the scratch table, answering the row it wrote.
type ScratchWrite = Box<dyn FnOnce(&Connection) -> Result<i64> + Send>;

/// A store in a fresh folder of its own, removed when the test ends.
struct TempStore {
    dir: std::path::PathBuf,
    store: std::sync::Arc<SqliteStore>,
}

impl TempStore {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cassiopee-{name}-{}-{}",
            std::process::id(),
            cassiopee_domain::ids::fresh()
        ));
        let store = std::sync::Arc::new(SqliteStore::open(&dir).expect("store"));
        store
            .write(|c| {
                c.execute_batch("CREATE TABLE scratch (n INTEGER PRIMARY KEY)")
                    .map_err(db)
            })
            .expect("scratch table");
        Self { dir, store }
    }

    /// Whether row `n` of the scratch table is committed, as a reader sees it.
    fn committed(&self, n: i64) -> bool {
        self.store
            .read(|c| {
                c.one("SELECT COUNT(*) FROM scratch WHERE n = ?1", [n], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(db)
            })
            .expect("read")
            == 1
    }

    /// Runs `writes` on threads of their own while the test holds the writer, so that they
    /// all queue for it; answers each one's result once it returned.
    fn queued_writes(&self, writes: Vec<ScratchWrite>) -> Vec<Result<i64>> {
        let held = self.store.writer.lock().expect("writer");
        let n = writes.len();
        let threads: Vec<_> = writes
            .into_iter()
            .map(|w| {
                let store = self.store.clone();
                std::thread::spawn(move || {
                    let written = store.write(w);
                    // Answered: what it wrote is committed, on every reader.
                    if let Ok(k) = &written {
                        let seen: i64 = store
                            .read(|c| {
                                c.one("SELECT COUNT(*) FROM scratch WHERE n = ?1", [*k], |r| {
                                    r.get(0)
                                })
                                .map_err(db)
                            })
                            .expect("read");
                        assert_eq!(seen, 1, "write {k} answered before its commit");
                    }
                    written
                })
            })
            .collect();
        while self.store.commits.waiting.load(Ordering::SeqCst) < n {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        drop(held);
        threads
            .into_iter()
            .map(|t| t.join().expect("writer thread"))
            .collect()
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn insert(n: i64) -> ScratchWrite {
    Box::new(move |c| {
        c.exec("INSERT INTO scratch (n) VALUES (?1)", [n])
            .map_err(db)?;
        Ok(n)
    })
}

#[test]
fn writes_queued_for_the_writer_share_one_commit_and_a_refused_one_leaves_nothing() {
    let t = TempStore::new("group-commit");
    let before = t.store.generation.load(Ordering::SeqCst);
    let refused: ScratchWrite = Box::new(|c| {
        c.exec("INSERT INTO scratch (n) VALUES (?1)", [3])
            .map_err(db)?;
        Err(DomainError::conflict("refused", "Refusé."))
    });
    let results = t.queued_writes(vec![insert(1), insert(2), refused, insert(4), insert(5)]);
    let codes: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().map_err(|e| e.code))
        .collect();
    assert_eq!(codes, [Ok(&1), Ok(&2), Err("refused"), Ok(&4), Ok(&5)]);
    assert_eq!(
        t.store.generation.load(Ordering::SeqCst) - before,
        1,
        "five writes queued together, one commit"
    );
    assert!([1, 2, 4, 5].iter().all(|n| t.committed(*n)));
    assert!(!t.committed(3), "the refused write is undone, alone");
    // The next write, alone, commits at once.
    t.store.write(|c| insert(6)(c)).expect("alone");
    assert!(t.committed(6));
    assert_eq!(t.store.generation.load(Ordering::SeqCst) - before, 2);
}

#[test]
fn a_batch_whose_transaction_is_lost_tells_every_write_in_it() {
    let t = TempStore::new("group-commit-lost");
    // A write that ends the transaction under the others' feet, as SQLite does on an I/O
    // error: whichever writes shared its batch are told they failed, and none of theirs stays.
    let breaks: ScratchWrite = Box::new(|c| {
        c.exec("INSERT INTO scratch (n) VALUES (?1)", [3])
            .map_err(db)?;
        c.execute_batch("ROLLBACK").map_err(db)?;
        Ok(3)
    });
    let results = t.queued_writes(vec![insert(1), insert(2), breaks, insert(4), insert(5)]);
    assert!(results[2].is_err(), "{:?}", results[2]);
    for (n, r) in [1, 2, 3, 4, 5].iter().zip(&results) {
        assert_eq!(r.is_ok(), t.committed(*n), "write {n}: {r:?}");
    }
    // The store goes on.
    t.store.write(|c| insert(6)(c)).expect("after");
    assert!(t.committed(6));
}

#[test]
fn the_log_is_folded_into_the_database_file_by_the_checkpointer_without_a_write_waiting() {
    let t = TempStore::new("checkpoint");
    for n in 1..=50 {
        t.store.write(|c| insert(n)(c)).expect("write");
    }
    // Far fewer pages than the writer's own threshold: only the checkpointer copies them. The
    // database file alone, without its log, soon holds every row (a few turns of it at most).
    let copy = t.dir.join("copy.sqlite3");
    let rows_in_file = || {
        std::fs::copy(t.dir.join("cassiopee.sqlite3"), &copy).expect("copy");
        let alone = Connection::open(&copy).expect("open the copy");
        alone
            .query_row("SELECT COUNT(*) FROM scratch", [], |r| r.get::<_, i64>(0))
            .unwrap_or(0)
    };
    let started = std::time::Instant::now();
    let mut rows = rows_in_file();
    while rows < 50 && started.elapsed() < CHECKPOINT_EVERY * 40 {
        std::thread::sleep(CHECKPOINT_EVERY);
        rows = rows_in_file();
    }
    assert_eq!(rows, 50);
}
