//! The benchmark's data: a deterministic, MiRVOG-shaped history of 100,000 enrolments, written
//! through the store's import operations (as the spreadsheets would be) and its feedback port.
//!
//! 2,000 officers, 40 trainings over 8 themes, 5,000 past sessions of 20 seats from 2020 on,
//! 20 enrolments each: 62 % present, 8 % absent, 5 % excused, 12 % withdrawn on time, 5 %
//! withdrawn late, 8 % still waiting; one answer for every sixth officer present.

use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::import::{EnrolmentRow, OfficerRow, SessionRow, TrainingRow};
use cassiopee_domain::model::{Email, EnrolmentStatus, Feedback, Modality, Money};
use cassiopee_domain::ports::Store;
use cassiopee_domain::time::{DailyHours, Instant, parse_instant};
use chrono::{Duration, NaiveDate};

pub const OFFICERS: usize = 2_000;
pub const TRAININGS: usize = 40;
pub const SESSIONS: usize = 5_000;
pub const PER_SESSION: usize = 20;
const THEMES: [&str; 8] = [
    "Finance",
    "Communication",
    "Droit",
    "Management",
    "Numérique",
    "Réseau",
    "Entrepreneuriat",
    "Santé",
];

/// When the history is read: after every session.
pub fn now() -> Instant {
    parse_instant("2027-01-01T10:00").expect("instant")
}

fn email(i: usize) -> Email {
    Email::parse(&format!("officier{i}@intradef.example")).expect("email")
}

/// What the generator wrote.
pub struct Generated {
    pub enrolments: usize,
    pub answers: usize,
}

/// The status of the `k`-th enrolment of session `s`: a fixed pattern over 100 slots.
fn status(s: usize, k: usize) -> (EnrolmentStatus, bool) {
    match (s * 7 + k * 13) % 100 {
        0..62 => (EnrolmentStatus::Attended, false),
        62..70 => (EnrolmentStatus::Absent, false),
        70..75 => (EnrolmentStatus::Excused, false),
        75..87 => (EnrolmentStatus::Withdrawn, false),
        87..92 => (EnrolmentStatus::Withdrawn, true),
        _ => (EnrolmentStatus::Waitlisted, false),
    }
}

pub async fn generate(store: &dyn Store) -> Generated {
    let officers: Vec<OfficerRow> = (0..OFFICERS)
        .map(|i| OfficerRow {
            last_name: format!("OFFICIER{i:04}"),
            first_name: "Test".into(),
            grade: "Général de brigade".into(),
            branch: "Armée de Terre".into(),
            email: email(i),
            phone: None,
            accompaniment_start: NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
            accompaniment_end: NaiveDate::from_ymd_opt(2027, 12, 31).expect("date"),
            duration_months: None,
            advisor: None,
        })
        .collect();
    store.import_officers(&officers).await.expect("officers");
    let trainings: Vec<TrainingRow> = (0..TRAININGS)
        .map(|t| TrainingRow {
            code: format!("T{t:02}"),
            title: format!("Formation {t}"),
            theme: THEMES[t % THEMES.len()].into(),
            modality: Modality::InPerson,
            length_days: 1,
            provider: "Prestataire".into(),
            session_cost: Money::from_cents(150_000 + 1_000 * t as i64),
            trainee_cost: Money::from_cents(12_550),
            min_group: 4,
            max_group: 20,
        })
        .collect();
    store.import_trainings(&trainings).await.expect("trainings");
    let first = NaiveDate::from_ymd_opt(2020, 1, 6).expect("date");
    let sessions: Vec<SessionRow> = (0..SESSIONS)
        .map(|s| {
            // About three sessions a working day, from January 2020 to late 2026.
            let day = first + Duration::days((s / 3 * 7 / 5) as i64);
            SessionRow {
                reference: format!("T{:02}-S{s:05}", s % TRAININGS),
                training_code: format!("T{:02}", s % TRAININGS),
                first_day: day,
                last_day: day,
                hours: DailyHours::parse("09:00-17:00").expect("hours"),
                place: "Paris".into(),
                capacity: PER_SESSION as u32,
                enrolment_close_day: day - Duration::days(10),
                free_withdrawal_day: day - Duration::days(5),
                trainer: None,
            }
        })
        .collect();
    store
        .import_sessions(&sessions, now())
        .await
        .expect("sessions");
    let mut enrolments = Vec::with_capacity(SESSIONS * PER_SESSION);
    let mut answers = Vec::new();
    for (s, row) in sessions.iter().enumerate() {
        for k in 0..PER_SESSION {
            let officer = (s * 37 + k * 101) % OFFICERS;
            let (status, late) = status(s, k);
            enrolments.push(EnrolmentRow {
                email: email(officer),
                session_reference: row.reference.clone(),
                status,
                late,
                enrolled_on: row.first_day - Duration::days(20 + k as i64),
            });
            if status == EnrolmentStatus::Attended && (s + k) % 6 == 0 {
                answers.push(Feedback {
                    session_id: SessionId::derived(&row.reference),
                    officer_id: OfficerId::derived(email(officer).as_str()),
                    rating: (1 + (s + k) % 5) as u8,
                    relevance: (1 + (s * 3 + k) % 5) as u8,
                    comment: None,
                    at: now(),
                });
            }
        }
    }
    let actor = cassiopee_domain::model::Actor::import("benchmark");
    let outcomes = store
        .import_enrolments(&enrolments, &actor, now())
        .await
        .expect("enrolments");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, cassiopee_domain::ports::RowOutcome::Created)),
        "every generated enrolment is created"
    );
    for a in &answers {
        store.save_feedback(a).await.expect("feedback");
    }
    Generated {
        enrolments: enrolments.len(),
        answers: answers.len(),
    }
}
