//! Records for the unit tests of the crate: one officer, one training, one session on given
//! Paris days and hours.

use crate::ids::{OfficerId, SessionId, StaffId, TrainingId};
use crate::model::{
    Email, Modality, Money, Officer, Session, SessionStatus, Staff, StaffRole, Training,
    WaitlistMode,
};
use crate::time::{DailyHours, paris, paris_end_of_day};
use chrono::{Duration, NaiveDate};

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn officer(grade: &str) -> Officer {
    Officer {
        id: OfficerId::generate(),
        last_name: "KERJEAN".into(),
        first_name: "Yann".into(),
        grade: grade.into(),
        branch: "Marine".into(),
        email: Email::parse("yann.kerjean@intradef.example").expect("email"),
        phone: None,
        accompaniment_start: day(2026, 1, 1),
        accompaniment_end: day(2027, 12, 31),
        advisor_id: None,
    }
}

pub fn staff() -> Staff {
    Staff {
        id: StaffId::generate(),
        last_name: "MOREAU".into(),
        first_name: "Claire".into(),
        function: "Cheffe de la cellule formation".into(),
        email: Email::parse("claire.moreau@intradef.example").expect("email"),
        role: StaffRole::Administrator,
    }
}

pub fn training(title: &str) -> Training {
    Training {
        id: TrainingId::generate(),
        code: "GOUV-01".into(),
        title: title.into(),
        theme: "Gouvernance".into(),
        modality: Modality::InPerson,
        length_days: 1,
        provider: "IHEDN".into(),
        session_cost: Money::from_cents(480_000),
        trainee_cost: Money::from_cents(50_000),
        min_group: 4,
        max_group: 12,
        archived: false,
    }
}

/// A session of `training` over `first..=last`, at `hours` Paris time, closing a week before.
pub fn session(training: &Training, first: NaiveDate, last: NaiveDate, hours: &str) -> Session {
    let hours = DailyHours::parse(hours).expect("hours");
    let starts_at = paris(first, hours.start).expect("start exists in Paris");
    let ends_at = paris(last, hours.end).expect("end exists in Paris");
    let cut_off = paris_end_of_day(first - Duration::days(7));
    Session {
        id: SessionId::generate(),
        reference: "GOUV-01-2026-A".into(),
        training_id: training.id.clone(),
        first_day: first,
        last_day: last,
        hours,
        starts_at,
        ends_at,
        place: "École militaire, Paris".into(),
        capacity: 12,
        enrolment_closes_at: cut_off,
        free_withdrawal_until: cut_off,
        trainer: Some("Mme Durand".into()),
        status: SessionStatus::Scheduled,
        waitlist: WaitlistMode::Direct,
        seats_taken: 0,
        waiting: 0,
        waiting_peak: 0,
        seats_marked: 0,
        schedule_version: 1,
    }
}
