//! Column lists and row mappers. A stored value that no longer parses (a corrupted file, a
//! downgrade) becomes an error, never a panic.

use cassiopee_domain::audit::AuditEntry;
use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::model::{
    Email, Enrolment, EnrolmentChange, EnrolmentStatus, Feedback, Modality, Money, Officer, Origin,
    ProgrammeItem, ProgrammeKind, Session, SessionStatus, Staff, StaffRole, Training, WaitlistMode,
};
use cassiopee_domain::time::{DailyHours, Instant};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, Params, Row, ToSql};

use crate::db;
use cassiopee_domain::error::Result;

pub fn micros(t: Instant) -> i64 {
    t.timestamp_micros()
}

pub fn instant(us: i64) -> Instant {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn bad(col: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, format!("bad stored {what}").into())
}

fn date(r: &Row<'_>, i: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = r.get(i)?;
    s.parse().map_err(|_| bad(i, "date"))
}

/// A statement run through the connection's cache of prepared statements, so that the SQL is
/// parsed and planned once per connection rather than on every call.
pub trait Cached {
    fn exec<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn one<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn one<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

pub fn all<T, P: Params>(
    c: &Connection,
    sql: &str,
    params: P,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(db)?;
    let rows = stmt.query_map(params, f).map_err(db)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
}

pub const STAFF_COLS: &str = "id, email, last_name, first_name, function, role";

pub fn staff_row(r: &Row<'_>) -> rusqlite::Result<Staff> {
    Ok(Staff {
        id: StaffId::from_stored(r.get(0)?),
        email: Email::from_stored(r.get(1)?),
        last_name: r.get(2)?,
        first_name: r.get(3)?,
        function: r.get(4)?,
        role: StaffRole::parse(&r.get::<_, String>(5)?).ok_or_else(|| bad(5, "role"))?,
    })
}

pub const OFFICER_COLS: &str =
    "id, email, last_name, first_name, grade, branch, phone, acc_start, acc_end, advisor_id";
pub const OFFICER_COLS_O: &str = "o.id, o.email, o.last_name, o.first_name, o.grade, o.branch, \
    o.phone, o.acc_start, o.acc_end, o.advisor_id";

pub fn officer_row(r: &Row<'_>) -> rusqlite::Result<Officer> {
    officer_row_at(r, 0)
}

pub fn officer_row_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Officer> {
    Ok(Officer {
        id: OfficerId::from_stored(r.get(o)?),
        email: Email::from_stored(r.get(o + 1)?),
        last_name: r.get(o + 2)?,
        first_name: r.get(o + 3)?,
        grade: r.get(o + 4)?,
        branch: r.get(o + 5)?,
        phone: r.get(o + 6)?,
        accompaniment_start: date(r, o + 7)?,
        accompaniment_end: date(r, o + 8)?,
        advisor_id: r.get::<_, Option<String>>(o + 9)?.map(StaffId::from_stored),
    })
}

pub const TRAINING_COLS: &str = "id, code, title, theme, modality, length_days, provider, \
    session_cost, trainee_cost, min_group, max_group, archived";

pub fn training_row(r: &Row<'_>) -> rusqlite::Result<Training> {
    Ok(Training {
        id: TrainingId::from_stored(r.get(0)?),
        code: r.get(1)?,
        title: r.get(2)?,
        theme: r.get(3)?,
        modality: Modality::parse(&r.get::<_, String>(4)?).ok_or_else(|| bad(4, "modality"))?,
        length_days: r.get(5)?,
        provider: r.get(6)?,
        session_cost: Money::from_cents(r.get(7)?),
        trainee_cost: Money::from_cents(r.get(8)?),
        min_group: r.get(9)?,
        max_group: r.get(10)?,
        archived: r.get(11)?,
    })
}

pub fn training_params(t: &Training) -> impl Params + '_ {
    (
        t.id.as_str(),
        t.code.as_str(),
        t.title.as_str(),
        t.theme.as_str(),
        t.modality.as_str(),
        t.length_days,
        t.provider.as_str(),
        t.session_cost.cents(),
        t.trainee_cost.cents(),
        t.min_group,
        t.max_group,
        t.archived,
    )
}

pub const SESSION_COLS: &str = "id, reference, training_id, first_day, last_day, hours, \
    starts_at, ends_at, place, capacity, closes_at, free_until, trainer, status, waitlist_mode, \
    offer_hours, seats_taken, waiting, schedule_version";
/// What `session_row` reads: the stored columns, then the seats whose attendance is marked
/// (computed, never stored).
pub const SESSION_SELECT: &str = "id, reference, training_id, first_day, last_day, hours, \
    starts_at, ends_at, place, capacity, closes_at, free_until, trainer, status, waitlist_mode, \
    offer_hours, seats_taken, waiting, schedule_version, waiting_peak, (SELECT COUNT(*) FROM \
    enrolments m WHERE m.session_id = sessions.id AND m.status IN ('attended', 'absent', 'excused'))";
pub const SESSION_SELECT_S: &str = "s.id, s.reference, s.training_id, s.first_day, s.last_day, \
    s.hours, s.starts_at, s.ends_at, s.place, s.capacity, s.closes_at, s.free_until, s.trainer, \
    s.status, s.waitlist_mode, s.offer_hours, s.seats_taken, s.waiting, s.schedule_version, \
    s.waiting_peak, (SELECT COUNT(*) FROM enrolments m WHERE m.session_id = s.id \
    AND m.status IN ('attended', 'absent', 'excused'))";
pub const SESSION_COL_COUNT: usize = 21;

fn waitlist_mode(mode: &str, hours: u32) -> Option<WaitlistMode> {
    match mode {
        "off" => Some(WaitlistMode::Off),
        "direct" => Some(WaitlistMode::Direct),
        "offer" => Some(WaitlistMode::Offer { hours }),
        _ => None,
    }
}

fn mode_parts(mode: WaitlistMode) -> (&'static str, u32) {
    match mode {
        WaitlistMode::Off => ("off", 0),
        WaitlistMode::Direct => ("direct", 0),
        WaitlistMode::Offer { hours } => ("offer", hours),
    }
}

pub fn session_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId::from_stored(r.get(0)?),
        reference: r.get(1)?,
        training_id: TrainingId::from_stored(r.get(2)?),
        first_day: date(r, 3)?,
        last_day: date(r, 4)?,
        hours: DailyHours::parse(&r.get::<_, String>(5)?).map_err(|_| bad(5, "hours"))?,
        starts_at: instant(r.get(6)?),
        ends_at: instant(r.get(7)?),
        place: r.get(8)?,
        capacity: r.get(9)?,
        enrolment_closes_at: instant(r.get(10)?),
        free_withdrawal_until: instant(r.get(11)?),
        trainer: r.get(12)?,
        status: SessionStatus::parse(&r.get::<_, String>(13)?).ok_or_else(|| bad(13, "status"))?,
        waitlist: waitlist_mode(&r.get::<_, String>(14)?, r.get(15)?)
            .ok_or_else(|| bad(14, "waiting-list mode"))?,
        seats_taken: r.get(16)?,
        waiting: r.get(17)?,
        schedule_version: r.get(18)?,
        waiting_peak: r.get(19)?,
        seats_marked: r.get(20)?,
    })
}

fn session_values(s: &Session) -> Vec<Box<dyn ToSql + '_>> {
    let (mode, hours) = mode_parts(s.waitlist);
    vec![
        Box::new(s.id.as_str()),
        Box::new(s.reference.as_str()),
        Box::new(s.training_id.as_str()),
        Box::new(s.first_day.to_string()),
        Box::new(s.last_day.to_string()),
        Box::new(s.hours.render()),
        Box::new(micros(s.starts_at)),
        Box::new(micros(s.ends_at)),
        Box::new(s.place.as_str()),
        Box::new(s.capacity),
        Box::new(micros(s.enrolment_closes_at)),
        Box::new(micros(s.free_withdrawal_until)),
        Box::new(s.trainer.as_deref()),
        Box::new(s.status.as_str()),
        Box::new(mode),
        Box::new(hours),
        Box::new(s.seats_taken),
        Box::new(s.waiting),
        Box::new(s.schedule_version),
    ]
}

pub fn insert_session_row(c: &Connection, s: &Session) -> rusqlite::Result<()> {
    let values = session_values(s);
    c.exec(
        &format!(
            "INSERT INTO sessions ({SESSION_COLS}) VALUES \
             (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
        ),
        rusqlite::params_from_iter(values.iter().map(|b| b.as_ref())),
    )?;
    Ok(())
}

/// Writes the planning fields of a session. The counters are left alone: only the operations
/// that move people change them.
pub fn update_session_row(c: &Connection, s: &Session) -> rusqlite::Result<()> {
    let values = session_values(s);
    c.exec(
        "UPDATE sessions SET reference=?2, training_id=?3, first_day=?4, last_day=?5, hours=?6, \
         starts_at=?7, ends_at=?8, place=?9, capacity=?10, closes_at=?11, free_until=?12, \
         trainer=?13, status=?14, waitlist_mode=?15, offer_hours=?16, schedule_version=?19 \
         WHERE id=?1",
        rusqlite::params_from_iter(values.iter().map(|b| b.as_ref())),
    )?;
    Ok(())
}

pub const ENROLMENT_COLS: &str = "id, session_id, officer_id, status, late, rank, joined_at, \
    confirmed_at, offer_expires_at, updated_at, updated_by, origin";
pub const ENROLMENT_COLS_E: &str = "e.id, e.session_id, e.officer_id, e.status, e.late, e.rank, \
    e.joined_at, e.confirmed_at, e.offer_expires_at, e.updated_at, e.updated_by, e.origin";
pub const ENROLMENT_COL_COUNT: usize = 12;

pub fn enrolment_row(r: &Row<'_>) -> rusqlite::Result<Enrolment> {
    enrolment_row_at(r, 0)
}

pub fn enrolment_row_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Enrolment> {
    Ok(Enrolment {
        id: EnrolmentId::from_stored(r.get(o)?),
        session_id: SessionId::from_stored(r.get(o + 1)?),
        officer_id: OfficerId::from_stored(r.get(o + 2)?),
        status: EnrolmentStatus::parse(&r.get::<_, String>(o + 3)?)
            .ok_or_else(|| bad(o + 3, "status"))?,
        late: r.get(o + 4)?,
        rank: r.get(o + 5)?,
        joined_at: instant(r.get(o + 6)?),
        confirmed_at: r.get::<_, Option<i64>>(o + 7)?.map(instant),
        offer_expires_at: r.get::<_, Option<i64>>(o + 8)?.map(instant),
        updated_at: instant(r.get(o + 9)?),
        updated_by: r.get(o + 10)?,
        origin: Origin::parse(&r.get::<_, String>(o + 11)?).ok_or_else(|| bad(o + 11, "origin"))?,
    })
}

pub fn change_row(r: &Row<'_>) -> rusqlite::Result<EnrolmentChange> {
    Ok(EnrolmentChange {
        at: instant(r.get(0)?),
        from: match r.get::<_, Option<String>>(1)? {
            Some(s) => Some(EnrolmentStatus::parse(&s).ok_or_else(|| bad(1, "status"))?),
            None => None,
        },
        to: EnrolmentStatus::parse(&r.get::<_, String>(2)?).ok_or_else(|| bad(2, "status"))?,
        actor: r.get(3)?,
        origin: Origin::parse(&r.get::<_, String>(4)?).ok_or_else(|| bad(4, "origin"))?,
        reason: r.get(5)?,
    })
}

pub const FEEDBACK_COLS: &str = "session_id, officer_id, rating, relevance, comment, at";

pub fn feedback_row(r: &Row<'_>) -> rusqlite::Result<Feedback> {
    Ok(Feedback {
        session_id: SessionId::from_stored(r.get(0)?),
        officer_id: OfficerId::from_stored(r.get(1)?),
        rating: r.get(2)?,
        relevance: r.get(3)?,
        comment: r.get(4)?,
        at: instant(r.get(5)?),
    })
}

pub fn programme_row(r: &Row<'_>) -> rusqlite::Result<ProgrammeItem> {
    Ok(ProgrammeItem {
        officer_id: OfficerId::from_stored(r.get(0)?),
        training_id: TrainingId::from_stored(r.get(1)?),
        kind: ProgrammeKind::parse(&r.get::<_, String>(2)?).ok_or_else(|| bad(2, "kind"))?,
        planned_by: r.get(3)?,
        planned_at: instant(r.get(4)?),
    })
}

pub const AUDIT_COLS: &str =
    "at, actor, origin, action, session_id, officer_id, training_id, before, after, reason";

pub fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let json = |i: usize| -> rusqlite::Result<Option<serde_json::Value>> {
        match r.get::<_, Option<String>>(i)? {
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|_| bad(i, "json")),
            None => Ok(None),
        }
    };
    Ok(AuditEntry {
        at: instant(r.get(0)?),
        actor: r.get(1)?,
        origin: Origin::parse(&r.get::<_, String>(2)?).ok_or_else(|| bad(2, "origin"))?,
        action: r.get(3)?,
        session_id: r.get::<_, Option<String>>(4)?.map(SessionId::from_stored),
        officer_id: r.get::<_, Option<String>>(5)?.map(OfficerId::from_stored),
        training_id: r.get::<_, Option<String>>(6)?.map(TrainingId::from_stored),
        before: json(7)?,
        after: json(8)?,
        reason: r.get(9)?,
    })
}
