//! The statistics of a small history worked out by hand, on the embedded store, through the
//! use cases: two sessions of different capacities, on-time withdrawals replaced from the
//! waiting list, one late withdrawal, one no-show, one soft-deleted duplicate, and feedback.

use async_trait::async_trait;
use cassiopee_domain::error::Result;
use cassiopee_domain::ids::{OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::import::OfficerRow;
use cassiopee_domain::model::{
    Actor, Email, EnrolmentStatus, Modality, Money, Session, SessionStatus, Training, WaitlistMode,
};
use cassiopee_domain::notices::{NoticeKind, OutgoingEmail};
use cassiopee_domain::ports::{Clock, DomainEvent, EventPublisher, Mailer, StatisticsRow, Store};
use cassiopee_domain::rules::Schedule;
use cassiopee_domain::statistics::{Grouping, StatisticsQuery};
use cassiopee_domain::time::{DailyHours, Instant, parse_instant};
use cassiopee_domain::usecases::{self as uc, Deps, FeedbackInput};
use cassiopee_sqlite::SqliteStore;
use chrono::NaiveDate;
use std::sync::{Arc, Mutex};

struct TestClock(Mutex<Instant>);

impl Clock for TestClock {
    fn now(&self) -> Instant {
        *self.0.lock().expect("clock")
    }
}

struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _: &OutgoingEmail, _: Option<i64>) -> Result<Option<String>> {
        Ok(None)
    }
}

/// Promotes at once, as promote-waitlist does on a SeatReleased event.
struct InProcess(Arc<dyn Store>, Arc<TestClock>);

#[async_trait]
impl EventPublisher for InProcess {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
        for e in events {
            if let DomainEvent::SeatReleased { session_id } = e {
                self.0.promote(session_id, self.1.now()).await?;
            }
        }
        Ok(())
    }
}

fn at(s: &str) -> Instant {
    parse_instant(s).expect("instant")
}

struct Fixture {
    deps: Deps,
    clock: Arc<TestClock>,
    officers: Vec<OfficerId>,
}

impl Fixture {
    async fn new(officers: usize) -> Self {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().expect("store"));
        let clock = Arc::new(TestClock(Mutex::new(at("2027-01-15T10:00"))));
        let rows: Vec<OfficerRow> = (1..=officers)
            .map(|i| OfficerRow {
                last_name: format!("OFFICIER{i}"),
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
        let officers = rows
            .iter()
            .map(|r| OfficerId::derived(r.email.as_str()))
            .collect();
        let deps = Deps {
            store: store.clone(),
            mailer: Arc::new(NoMail),
            clock: clock.clone(),
            events: Arc::new(InProcess(store, clock.clone())),
            notify: Default::default(),
            retention_months: 12,
            answers: Default::default(),
        };
        Self {
            deps,
            clock,
            officers,
        }
    }

    fn set(&self, now: &str) {
        *self.clock.0.lock().expect("clock") = at(now);
    }

    fn o(&self, n: usize) -> &OfficerId {
        &self.officers[n - 1]
    }

    async fn training(&self, code: &str, theme: &str, session: i64, trainee: i64) -> Training {
        let t = Training {
            id: TrainingId::derived(code),
            code: code.into(),
            title: format!("Formation {code}"),
            theme: theme.into(),
            modality: Modality::InPerson,
            length_days: 1,
            provider: String::new(),
            session_cost: Money::from_cents(session),
            trainee_cost: Money::from_cents(trainee),
            min_group: 1,
            max_group: 20,
            archived: false,
        };
        self.deps.store.insert_training(&t).await.expect("training");
        t
    }

    /// A session on 15 March 2027, 09:00-17:00; enrolment closes on 1 March 18:00, free
    /// withdrawal until 8 March 23:59:59.
    async fn session(&self, reference: &str, training: &Training, capacity: u32) -> SessionId {
        let hours = DailyHours::parse("09:00-17:00").expect("hours");
        let day = NaiveDate::from_ymd_opt(2027, 3, 15).expect("date");
        let s = Schedule::new(
            day,
            day,
            hours,
            at("2027-03-01T18:00"),
            at("2027-03-08T23:59:59"),
        )
        .expect("schedule");
        let session = Session {
            id: SessionId::derived(reference),
            reference: reference.into(),
            training_id: training.id.clone(),
            first_day: day,
            last_day: day,
            hours,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            place: "Paris".into(),
            capacity,
            enrolment_closes_at: s.enrolment_closes_at,
            free_withdrawal_until: s.free_withdrawal_until,
            trainer: None,
            status: SessionStatus::Scheduled,
            waitlist: WaitlistMode::Direct,
            seats_taken: 0,
            waiting: 0,
            waiting_peak: 0,
            seats_marked: 0,
            schedule_version: 1,
        };
        self.deps
            .store
            .insert_session(&session, self.deps.now())
            .await
            .expect("session");
        session.id
    }

    async fn enrol(&self, s: &SessionId, n: usize) -> cassiopee_domain::ports::EnrolOutcome {
        let o = self.o(n);
        let record = self
            .deps
            .store
            .officer(o)
            .await
            .expect("read")
            .expect("officer");
        uc::enrol(&self.deps, s, &record, Actor::officer(o), None, None)
            .await
            .expect("enrol")
            .outcome
    }

    async fn withdraw(&self, s: &SessionId, n: usize) {
        let o = self.o(n);
        uc::withdraw(&self.deps, s, o, Actor::officer(o))
            .await
            .expect("withdraw");
    }

    async fn mark(&self, s: &SessionId, n: usize, status: EnrolmentStatus) {
        uc::mark_attendance(&self.deps, s, self.o(n), status, staff())
            .await
            .expect("attendance");
    }

    async fn status(&self, s: &SessionId, n: usize) -> EnrolmentStatus {
        self.deps
            .store
            .enrolment(s, self.o(n))
            .await
            .expect("read")
            .expect("enrolment")
            .status
    }

    async fn feedback(&self, s: &SessionId, n: usize, rating: u32, relevance: u32) -> Result<()> {
        let input = FeedbackInput {
            rating,
            relevance,
            comment: Some(format!("Avis de o{n}")),
        };
        uc::give_feedback(&self.deps, s, self.o(n), input)
            .await
            .map(|_| ())
    }
}

fn staff() -> Actor {
    Actor::staff(&StaffId::derived("staff@intradef.example"))
}

/// The history, step by step (see each session's comment in the test for its figures).
async fn history() -> (Fixture, SessionId, SessionId) {
    use EnrolmentStatus::*;
    let f = Fixture::new(8).await;
    // FIN-01: 1 000,00 € a session and 250,00 € a trainee; COM-01: 600,00 € and 100,33 €.
    let fin = f.training("FIN-01", "Finance", 100_000, 25_000).await;
    let com = f.training("COM-01", "Communication", 60_000, 10_033).await;
    let s1 = f.session("FIN-01-S1", &fin, 4).await;
    let s2 = f.session("COM-01-S1", &com, 2).await;
    // A copy of S1 entered twice by mistake, with someone enrolled in it.
    let dup = f.session("FIN-01-S1-DOUBLON", &fin, 10).await;

    f.set("2027-02-01T10:00");
    for n in 1..=4 {
        f.enrol(&s1, n).await;
    }
    f.enrol(&s1, 5).await; // waiting 1
    f.enrol(&s1, 6).await; // waiting 2: the peak
    f.enrol(&s2, 1).await;
    f.enrol(&s2, 2).await;
    f.enrol(&s2, 3).await; // waiting 1
    f.enrol(&s2, 8).await; // waiting 2: the peak
    f.enrol(&dup, 8).await;

    // On time (before 8 March): each seat goes to the next in line.
    f.set("2027-02-10T10:00");
    f.withdraw(&s1, 1).await;
    f.withdraw(&s1, 2).await;
    assert_eq!(
        (f.status(&s1, 5).await, f.status(&s1, 6).await),
        (Confirmed, Confirmed)
    );
    f.enrol(&s1, 7).await; // waiting 1 again, below the peak
    f.withdraw(&s2, 1).await;
    assert_eq!(f.status(&s2, 3).await, Confirmed);
    f.withdraw(&s2, 8).await; // leaves the waiting list: not "never served"

    // The duplicate cannot go while someone is enrolled; it can once they have withdrawn.
    let refused = uc::delete_session(&f.deps, &dup, staff())
        .await
        .expect_err("refused");
    assert_eq!(refused.code, "session-not-deletable");
    f.withdraw(&dup, 8).await;
    uc::delete_session(&f.deps, &dup, staff())
        .await
        .expect("deleted");
    assert!(f.deps.store.session(&dup).await.expect("read").is_none());

    // Late (after 8 March, after the close too): nobody is promoted, the seat stays empty.
    f.set("2027-03-10T10:00");
    f.withdraw(&s1, 3).await;
    assert_eq!(f.status(&s1, 7).await, Waitlisted);

    f.set("2027-03-15T12:00");
    f.mark(&s1, 4, Attended).await;
    f.mark(&s1, 5, Attended).await;
    f.mark(&s1, 6, Absent).await; // the no-show
    f.mark(&s2, 2, Attended).await;
    f.mark(&s2, 3, Attended).await;

    f.set("2027-03-16T10:00");
    f.feedback(&s1, 4, 4, 5).await.expect("o4");
    f.feedback(&s1, 5, 5, 3).await.expect("o5");
    f.feedback(&s2, 2, 3, 4).await.expect("o2");
    (f, s1, s2)
}

fn figures(r: &StatisticsRow) -> [u32; 14] {
    let f = &r.figures;
    [
        f.sessions,
        f.capacity,
        f.confirmed_at_start,
        f.attended,
        f.absent,
        f.excused,
        f.on_time_withdrawals,
        f.late_withdrawals,
        f.seats_lost_late,
        f.waiting_peak,
        f.waiting_never_served,
        f.trainees_billed,
        f.feedback_answers,
        f.rating_sum,
    ]
}

#[tokio::test]
async fn a_session_whose_attendance_is_not_marked_adds_nothing_to_the_cost_per_present() {
    let (f, _, _) = history().await;
    // A third session of FIN-01 on the same day, 3 seated, nobody marked yet.
    let fin = f
        .deps
        .store
        .training(&TrainingId::derived("FIN-01"))
        .await
        .expect("read")
        .expect("FIN-01");
    f.set("2027-02-01T10:00");
    let s3 = f.session("FIN-01-S2", &fin, 3).await;
    for n in [1, 2, 3] {
        f.enrol(&s3, n).await;
    }
    f.set("2027-03-20T10:00");
    let q = StatisticsQuery::new(None, None, Grouping::Training).expect("query");
    let snap = uc::statistics(&f.deps, &q).await.expect("statistics");
    let fin_row = snap
        .rows
        .iter()
        .find(|r| r.key == "FIN-01")
        .expect("FIN-01");

    // FIN-01 now costs 2 000,00 (S1) + 1 000,00 + 250,00 × 3 (S2) = 3 750,00 €, but only S1 is
    // marked: per present 2 000,00 / 2 = 1 000,00 €, as before S2 existed (dividing the whole
    // cost by the 2 present would say 1 875,00 €).
    assert_eq!(fin_row.figures.cost, Money::from_cents(375_000));
    assert_eq!(fin_row.figures.marked_cost, Money::from_cents(200_000));
    assert_eq!(fin_row.cost_per_present, Some(Money::from_cents(100_000)));
    // Attendance is over marked seats only: 2 of 3, unchanged.
    assert_eq!(fin_row.attendance_permille, Some(667));
}

#[tokio::test]
async fn statistics_of_the_hand_worked_history_are_exact() {
    let (f, _, _) = history().await;
    f.set("2027-03-20T10:00");
    let q = StatisticsQuery::new(None, None, Grouping::Session).expect("query");
    let snap = uc::statistics(&f.deps, &q).await.expect("statistics");
    let refs: Vec<&str> = snap.rows.iter().map(|r| r.key.as_str()).collect();
    // The deleted duplicate counts nowhere: no row, and not in the total.
    assert_eq!(refs, ["COM-01-S1", "FIN-01-S1"]);
    let (com, fin) = (&snap.rows[0], &snap.rows[1]);

    // FIN-01-S1, capacity 4. Seated at the start: o4, o5, o6 (o5 and o6 came from the waiting
    // list in place of o1 and o2) = 3; present o4, o5; absent o6. Withdrawals: o1, o2 on time,
    // o3 late; the late seat stayed empty: lost = min(1, 4 − 3) = 1. Waiting list: peak 2
    // (o5, o6), o7 still waiting at the start: never served 1. Billed 3 + 1 = 4; cost
    // 1 000,00 + 250,00 × 4 = 2 000,00 €, per present 2 000,00 / 2 = 1 000,00 €. Fill 3/4 =
    // 750 ‰, attendance 2/3 = 667 ‰. Feedback: o4 (4, 5), o5 (5, 3): rating 9/2 = 4,50,
    // relevance 8/2 = 4,00.
    assert_eq!(figures(fin), [1, 4, 3, 2, 1, 0, 2, 1, 1, 2, 1, 4, 2, 9]);
    assert_eq!(fin.figures.cost, Money::from_cents(200_000));
    assert_eq!(fin.cost_per_present, Some(Money::from_cents(100_000)));
    assert_eq!(
        (fin.fill_rate_permille, fin.attendance_permille),
        (Some(750), Some(667))
    );
    assert_eq!(
        (fin.rating_mean_hundredths, fin.relevance_mean_hundredths),
        (Some(450), Some(400))
    );

    // COM-01-S1, capacity 2. Seated: o2, o3 (o3 from the list in place of o1) = 2, both
    // present. One on-time withdrawal (o1); o8 left the list on their own. Peak 2 (o3, o8),
    // never served 0. Billed 2; cost 600,00 + 100,33 × 2 = 800,66 €, per present 800,66 / 2
    // = 400,33 €. Fill 2/2 = 1000 ‰, attendance 1000 ‰. Feedback: o2 (3, 4).
    assert_eq!(figures(com), [1, 2, 2, 2, 0, 0, 1, 0, 0, 2, 0, 2, 1, 3]);
    assert_eq!(com.figures.cost, Money::from_cents(80_066));
    assert_eq!(com.cost_per_present, Some(Money::from_cents(40_033)));
    assert_eq!(
        (com.fill_rate_permille, com.attendance_permille),
        (Some(1000), Some(1000))
    );
    assert_eq!(
        (com.rating_mean_hundredths, com.relevance_mean_hundredths),
        (Some(300), Some(400))
    );

    // Total. Fill weighted by capacity: (3 + 2) / (4 + 2) = 5/6 = 833 ‰ (the mean of the two
    // rates would be 875 ‰). Peak waiting list: the longer of the two peaks, max(2, 2) = 2. Attendance 4/5 = 800 ‰. Cost 2 000,00 + 800,66 = 2 800,66 €, per
    // present 2 800,66 / 4 = 700,165, rounded half up to 700,17 €. Rating (4 + 5 + 3)/3 =
    // 4,00; relevance (5 + 3 + 4)/3 = 4,00.
    let total = snap.total.as_ref().expect("total");
    assert_eq!(figures(total), [2, 6, 5, 4, 1, 0, 3, 1, 1, 2, 1, 6, 3, 12]);
    assert_eq!(total.figures.cost, Money::from_cents(280_066));
    assert_eq!(total.cost_per_present, Some(Money::from_cents(70_017)));
    assert_eq!(
        (total.fill_rate_permille, total.attendance_permille),
        (Some(833), Some(800))
    );
    assert_eq!(
        (
            total.rating_mean_hundredths,
            total.relevance_mean_hundredths
        ),
        (Some(400), Some(400))
    );
    assert_eq!(total.figures.relevance_sum, 12);
    // As staff read them.
    let d = &total.display;
    assert_eq!(
        [
            d.cost.as_str(),
            &d.cost_per_present,
            &d.fill_rate,
            &d.attendance,
            &d.rating_mean
        ],
        [
            "2\u{202f}800,66\u{a0}€",
            "700,17\u{a0}€",
            "83,3\u{202f}%",
            "80,0\u{202f}%",
            "4,00"
        ]
    );

    // The same sessions by theme, by month and by year.
    let deps = &f.deps;
    let by = |group| async move {
        let q = StatisticsQuery::new(None, None, group).expect("query");
        uc::statistics(deps, &q).await.expect("statistics").rows
    };
    let themes = by(Grouping::Theme).await;
    assert_eq!(
        themes
            .iter()
            .map(|r| (r.key.as_str(), r.figures.capacity))
            .collect::<Vec<_>>(),
        [("Communication", 2), ("Finance", 4)]
    );
    let months = by(Grouping::Month).await;
    assert_eq!(months.len(), 1);
    assert_eq!(
        (months[0].key.as_str(), months[0].label.as_str()),
        ("2027-03", "mars 2027")
    );
    assert_eq!(months[0].figures, total.figures);
    assert_eq!(by(Grouping::Year).await[0].figures, total.figures);
    let trainings = by(Grouping::Training).await;
    assert_eq!(trainings[1].key, "FIN-01");
    assert_eq!(trainings[1].figures, fin.figures);

    // A period that leaves the sessions out.
    let april = NaiveDate::from_ymd_opt(2027, 4, 1);
    let q = StatisticsQuery::new(april, None, Grouping::Session).expect("query");
    let later = uc::statistics(&f.deps, &q).await.expect("statistics");
    assert!(later.rows.is_empty());
    assert_eq!(later.total.expect("total").figures.sessions, 0);
}

#[tokio::test]
async fn feedback_is_given_once_by_those_present_and_asked_once_after_the_session() {
    let (f, s1, s2) = history().await;
    assert_eq!(
        f.feedback(&s1, 6, 3, 3).await.expect_err("refused").code,
        "feedback-not-attended",
        "o6 was absent"
    );
    assert_eq!(
        f.feedback(&s1, 4, 1, 1).await.expect_err("refused").code,
        "feedback-already-given"
    );
    for (rating, relevance) in [(0, 3), (6, 3), (3, 0), (3, 6)] {
        let e = f
            .feedback(&s2, 3, rating, relevance)
            .await
            .expect_err("refused");
        assert_eq!(e.code, "invalid-field", "{rating} {relevance}");
    }
    let long = FeedbackInput {
        rating: 4,
        relevance: 4,
        comment: Some("x".repeat(10_000)),
    };
    let e = uc::give_feedback(&f.deps, &s2, f.o(3), long)
        .await
        .expect_err("refused");
    assert_eq!(e.fields[0].field, "comment");
    assert!(e.detail.contains("2000"), "{}", e.detail);

    let report = uc::feedback_report(&f.deps, &s1).await.expect("report");
    assert_eq!((report.answers, report.attended), (2, 2));
    assert_eq!(report.rating_counts, [0, 0, 0, 1, 1]);
    assert_eq!(
        report.lines[0].feedback.comment.as_deref(),
        Some("Avis de o4")
    );

    // After the session, the job asks those present who have not answered: o3 only.
    f.set("2027-03-16T18:00");
    let (_, asked) = uc::compute_statistics(&f.deps).await.expect("job");
    assert_eq!(asked, 1);
    let (_, again) = uc::compute_statistics(&f.deps).await.expect("job");
    assert_eq!(again, 0, "asked once");
    let notices = f.deps.store.officer_notices(f.o(3)).await.expect("notices");
    assert_eq!(
        notices
            .iter()
            .filter(|n| n.kind == NoticeKind::FeedbackRequest.key())
            .count(),
        1
    );
}
