//! What the contract cases share: the two stores, scenario builders and the invariants.

#![allow(dead_code)]

pub mod moto;
pub mod proxy;

use aws_sdk_dynamodb::Client;
use cassiopee_domain::ids::{OfficerId, SessionId, TrainingId};
use cassiopee_domain::import::OfficerRow;
use cassiopee_domain::model::{
    Email, EnrolmentStatus, Modality, Money, Session, SessionStatus, Training, WaitlistMode,
};
use cassiopee_domain::ports::{RosterLine, Store};
use cassiopee_domain::rules::Schedule;
use cassiopee_domain::time::{DailyHours, Instant, parse_instant};
use cassiopee_dynamodb::DynamoStore;
use cassiopee_sqlite::SqliteStore;
use chrono::NaiveDate;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Dynamo,
}

/// One store under test, and for DynamoDB the raw client, its table and its wiretap.
#[derive(Clone)]
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub kind: Kind,
    pub dynamo: Option<Dynamo>,
}

#[derive(Clone)]
pub struct Dynamo {
    pub client: Client,
    pub table: String,
    pub tap: Arc<moto::Wiretap>,
}

impl Dynamo {
    /// Another store on the same table, as another Lambda instance would hold.
    pub fn another_store(&self) -> DynamoStore {
        DynamoStore::new(self.client.clone(), self.table.clone())
    }
}

pub fn sqlite() -> Backend {
    Backend {
        store: Arc::new(SqliteStore::in_memory().expect("sqlite store")),
        kind: Kind::Sqlite,
        dynamo: None,
    }
}

/// A DynamoDB store on a table of its own, or `None` when the emulator is unavailable.
pub async fn dynamo() -> Option<Backend> {
    let endpoint = moto::endpoint()?;
    let tap = Arc::new(moto::Wiretap::default());
    let client = moto::client(&endpoint, tap.clone());
    let table = format!("cassiopee-test-{}", ulid::Ulid::generate());
    cassiopee_dynamodb::create_table(&client, &table)
        .await
        .expect("create table");
    Some(Backend {
        store: Arc::new(DynamoStore::new(client.clone(), table.clone())),
        kind: Kind::Dynamo,
        dynamo: Some(Dynamo { client, table, tap }),
    })
}

pub fn at(s: &str) -> Instant {
    parse_instant(s).expect("instant")
}

/// xorshift64*: a tiny deterministic generator, so that a failing seed can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn officer_rows(prefix: &str, n: usize) -> Vec<OfficerRow> {
    (0..n)
        .map(|i| OfficerRow {
            last_name: format!("{prefix}{i:03}"),
            first_name: "Test".into(),
            grade: "Général de brigade".into(),
            branch: "Armée de Terre".into(),
            email: Email::parse(&format!("{prefix}{i}@intradef.example")).expect("email"),
            phone: None,
            accompaniment_start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            accompaniment_end: NaiveDate::from_ymd_opt(2027, 12, 31).expect("date"),
            duration_months: None,
            advisor: None,
        })
        .collect()
}

/// Officers, in the order of their rows (ids are derived from the e-mails, so they are the
/// same on both stores).
pub async fn add_officers(store: &dyn Store, prefix: &str, n: usize) -> Vec<OfficerId> {
    let rows = officer_rows(prefix, n);
    store.import_officers(&rows).await.expect("officers");
    rows.iter()
        .map(|r| OfficerId::derived(r.email.as_str()))
        .collect()
}

pub fn training(code: &str) -> Training {
    Training {
        id: TrainingId::derived(code),
        code: code.into(),
        title: format!("Formation {code}"),
        theme: "Finance".into(),
        modality: Modality::InPerson,
        length_days: 1,
        provider: String::new(),
        session_cost: Money::ZERO,
        trainee_cost: Money::ZERO,
        min_group: 1,
        max_group: 10,
        archived: false,
    }
}

/// A session on 2027-06-10 09:00-17:00 (Paris), enrolment closing 2027-06-01 18:00 and free
/// withdrawal until 2027-06-05 18:00, with a derived id.
pub fn session(
    reference: &str,
    training: &TrainingId,
    capacity: u32,
    mode: WaitlistMode,
) -> Session {
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
    Session {
        id: SessionId::derived(reference),
        reference: reference.into(),
        training_id: training.clone(),
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
    }
}

/// Officers, one training and one session, as the embedded store's interleaving tests set up.
pub async fn setup(
    store: &dyn Store,
    officers: usize,
    capacity: u32,
    mode: WaitlistMode,
) -> (SessionId, Vec<OfficerId>) {
    let ids = add_officers(store, "o", officers).await;
    let t = training("T-01");
    store.insert_training(&t).await.expect("training");
    let s = session("T-01-S1", &t.id, capacity, mode);
    store
        .insert_session(&s, at("2027-01-01T10:00"))
        .await
        .expect("session");
    (s.id, ids)
}

/// The seat counter equals confirmed + held offers and never exceeds the capacity, the
/// waiting counter equals the waiting list's length, positions are 1..n in rank order, and
/// each waiting officer's own position agrees with the roster.
///
/// Answers what it read, for the caller to look further.
pub async fn check_invariants(
    store: &dyn Store,
    id: &SessionId,
    context: &str,
) -> (Session, Vec<RosterLine>) {
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
    // Each waiting officer's own look-up, for every one on short lists and for a dozen spread
    // over long ones (a look-up is a query, and the emulator answers them slowly).
    let waiting_lines: Vec<_> = roster
        .iter()
        .filter(|l| l.enrolment.status == EnrolmentStatus::Waitlisted)
        .collect();
    let stride = waiting_lines.len().div_ceil(12).max(1);
    let sampled = waiting_lines
        .iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0 || *i + 1 == waiting_lines.len())
        .map(|(_, l)| *l);
    for line in sampled {
        let p = store
            .waitlist_position(id, &line.officer.id)
            .await
            .expect("position");
        assert_eq!(p, line.position, "{context}: position lookup");
    }
    let ordered: Vec<i64> = roster
        .iter()
        .filter(|l| l.enrolment.status == EnrolmentStatus::Waitlisted)
        .map(|l| l.enrolment.rank)
        .collect();
    assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "{context}: order");
    (s, roster)
}
