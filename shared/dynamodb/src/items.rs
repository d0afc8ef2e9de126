//! Items and the domain types they hold. Instants are `N` microseconds since the Unix epoch
//! (UTC), calendar days ISO `S`, money `N` cents, as in the embedded store. A stored value that
//! no longer parses becomes an internal error, never a panic.

use crate::keys::{self, Key};
use aws_sdk_dynamodb::types::AttributeValue;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::model::{
    Email, Enrolment, EnrolmentChange, EnrolmentStatus, Feedback, Modality, Money, Officer, Origin,
    ProgrammeItem, ProgrammeKind, Session, SessionStatus, Staff, StaffRole, Training, WaitlistMode,
};
use cassiopee_domain::time::{DailyHours, Instant};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn micros(t: Instant) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn instant(us: i64) -> Instant {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Starts an item with its primary key.
pub(crate) fn keyed(key: &Key) -> Item {
    let mut item = Item::new();
    item.insert(keys::PK.into(), s(key.0.clone()));
    item.insert(keys::SK.into(), s(key.1.clone()));
    item
}

/// Typed access to one item's attributes.
pub(crate) struct Reader<'a>(pub &'a Item);

impl Reader<'_> {
    pub(crate) fn bad(&self, name: &str) -> DomainError {
        let pk = match self.0.get(keys::PK) {
            Some(AttributeValue::S(pk)) => pk.as_str(),
            _ => "?",
        };
        DomainError::internal(format!(
            "dynamodb: stored item {pk} has a missing or malformed `{name}`"
        ))
    }

    pub(crate) fn opt_s(&self, name: &str) -> Result<Option<String>> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.bad(name)),
        }
    }

    pub(crate) fn s(&self, name: &str) -> Result<String> {
        self.opt_s(name)?.ok_or_else(|| self.bad(name))
    }

    pub(crate) fn opt_i64(&self, name: &str) -> Result<Option<i64>> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => v.parse().map(Some).map_err(|_| self.bad(name)),
            Some(_) => Err(self.bad(name)),
        }
    }

    pub(crate) fn i64(&self, name: &str) -> Result<i64> {
        self.opt_i64(name)?.ok_or_else(|| self.bad(name))
    }

    pub(crate) fn u32(&self, name: &str) -> Result<u32> {
        u32::try_from(self.i64(name)?).map_err(|_| self.bad(name))
    }

    /// A counter that older items may lack.
    pub(crate) fn u32_or_zero(&self, name: &str) -> Result<u32> {
        match self.opt_i64(name)? {
            None => Ok(0),
            Some(v) => u32::try_from(v).map_err(|_| self.bad(name)),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool> {
        match self.0.get(name) {
            Some(AttributeValue::Bool(b)) => Ok(*b),
            _ => Err(self.bad(name)),
        }
    }

    fn date(&self, name: &str) -> Result<NaiveDate> {
        self.s(name)?.parse().map_err(|_| self.bad(name))
    }

    pub(crate) fn instant(&self, name: &str) -> Result<Instant> {
        Ok(instant(self.i64(name)?))
    }

    fn opt_instant(&self, name: &str) -> Result<Option<Instant>> {
        Ok(self.opt_i64(name)?.map(instant))
    }

    fn status(&self, name: &str) -> Result<EnrolmentStatus> {
        EnrolmentStatus::parse(&self.s(name)?).ok_or_else(|| self.bad(name))
    }

    fn origin(&self, name: &str) -> Result<Origin> {
        Origin::parse(&self.s(name)?).ok_or_else(|| self.bad(name))
    }
}

fn put_opt(item: &mut Item, name: &str, v: Option<AttributeValue>) {
    if let Some(v) = v {
        item.insert(name.into(), v);
    }
}

// ---------------------------------------------------------------------------------------------
// People

pub(crate) fn staff_item(st: &Staff) -> Item {
    let mut item = keyed(&keys::staff(&st.id));
    item.insert(keys::GSI1PK.into(), s(keys::STAFF_KIND));
    item.insert(keys::GSI1SK.into(), s(st.id.as_str()));
    item.insert(keys::GSI2PK.into(), s(keys::email(&st.email)));
    item.insert(keys::GSI2SK.into(), s(keys::STAFF_KIND));
    item.insert("id".into(), s(st.id.as_str()));
    item.insert("email".into(), s(st.email.as_str()));
    item.insert("last_name".into(), s(&st.last_name));
    item.insert("first_name".into(), s(&st.first_name));
    item.insert("function".into(), s(&st.function));
    item.insert("role".into(), s(st.role.as_str()));
    item
}

pub(crate) fn staff_from(item: &Item) -> Result<Staff> {
    let r = Reader(item);
    Ok(Staff {
        id: StaffId::from_stored(r.s("id")?),
        email: Email::from_stored(r.s("email")?),
        last_name: r.s("last_name")?,
        first_name: r.s("first_name")?,
        function: r.s("function")?,
        role: StaffRole::parse(&r.s("role")?).ok_or_else(|| r.bad("role"))?,
    })
}

pub(crate) fn officer_item(o: &Officer) -> Item {
    let mut item = keyed(&keys::officer(&o.id));
    item.insert(keys::GSI1PK.into(), s(keys::OFFICER_KIND));
    item.insert(keys::GSI1SK.into(), s(o.id.as_str()));
    item.insert(keys::GSI2PK.into(), s(keys::email(&o.email)));
    item.insert(keys::GSI2SK.into(), s(keys::OFFICER_KIND));
    item.extend(officer_fields(o));
    item
}

/// The attributes of an officer's record, as its own item and the copies on its enrolments
/// hold them.
fn officer_fields(o: &Officer) -> Item {
    let mut item = Item::new();
    item.insert("id".into(), s(o.id.as_str()));
    item.insert("email".into(), s(o.email.as_str()));
    item.insert("last_name".into(), s(&o.last_name));
    item.insert("first_name".into(), s(&o.first_name));
    item.insert("grade".into(), s(&o.grade));
    item.insert("branch".into(), s(&o.branch));
    put_opt(&mut item, "phone", o.phone.as_deref().map(s));
    item.insert("acc_start".into(), s(o.accompaniment_start.to_string()));
    item.insert("acc_end".into(), s(o.accompaniment_end.to_string()));
    put_opt(
        &mut item,
        "advisor_id",
        o.advisor_id.as_ref().map(|a| s(a.as_str())),
    );
    item
}

/// The attribute of an enrolment item that holds a copy of its officer's record (a map of
/// the officer item's attributes), so that a roster reads the names with the enrolments.
pub(crate) const OFFICER_COPY: &str = "officer";

/// The copy of an officer's record that an enrolment item carries.
pub(crate) fn officer_copy(o: &Officer) -> AttributeValue {
    AttributeValue::M(officer_fields(o))
}

/// The copy of its officer's record that an enrolment item carries; None on an item written
/// before enrolments carried one.
pub(crate) fn officer_copy_from(item: &Item) -> Result<Option<Officer>> {
    match item.get(OFFICER_COPY) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::M(copy)) => officer_from(copy)
            .map(Some)
            .map_err(|_| Reader(item).bad(OFFICER_COPY)),
        Some(_) => Err(Reader(item).bad(OFFICER_COPY)),
    }
}

pub(crate) fn officer_from(item: &Item) -> Result<Officer> {
    let r = Reader(item);
    Ok(Officer {
        id: OfficerId::from_stored(r.s("id")?),
        email: Email::from_stored(r.s("email")?),
        last_name: r.s("last_name")?,
        first_name: r.s("first_name")?,
        grade: r.s("grade")?,
        branch: r.s("branch")?,
        phone: r.opt_s("phone")?,
        accompaniment_start: r.date("acc_start")?,
        accompaniment_end: r.date("acc_end")?,
        advisor_id: r.opt_s("advisor_id")?.map(StaffId::from_stored),
    })
}

pub(crate) fn programme_from(item: &Item) -> Result<ProgrammeItem> {
    let r = Reader(item);
    Ok(ProgrammeItem {
        officer_id: OfficerId::from_stored(r.s("officer_id")?),
        training_id: TrainingId::from_stored(r.s("training_id")?),
        kind: ProgrammeKind::parse(&r.s("kind")?).ok_or_else(|| r.bad("kind"))?,
        planned_by: r.s("planned_by")?,
        planned_at: r.instant("planned_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Catalogue

/// The attributes of a training that its owner edits (everything but the demand counter).
pub(crate) fn training_fields(t: &Training) -> Vec<(&'static str, AttributeValue)> {
    vec![
        (keys::GSI1PK, s(keys::TRAINING_KIND)),
        (keys::GSI1SK, s(&t.code)),
        ("id", s(t.id.as_str())),
        ("code", s(&t.code)),
        ("title", s(&t.title)),
        ("theme", s(&t.theme)),
        ("modality", s(t.modality.as_str())),
        ("length_days", n(t.length_days)),
        ("provider", s(&t.provider)),
        ("session_cost", n(t.session_cost.cents())),
        ("trainee_cost", n(t.trainee_cost.cents())),
        ("min_group", n(t.min_group)),
        ("max_group", n(t.max_group)),
        ("archived", AttributeValue::Bool(t.archived)),
    ]
}

/// A new training item. `edited_in_app` marks one created or edited in the app, which a later
/// spreadsheet import keeps as it is.
pub(crate) fn training_item(t: &Training, edited_in_app: bool) -> Item {
    let mut item = keyed(&keys::training(&t.id));
    for (k, v) in training_fields(t) {
        item.insert(k.into(), v);
    }
    item.insert("interested".into(), n(0));
    item.insert(EDITED.into(), AttributeValue::Bool(edited_in_app));
    item
}

/// The attribute (epoch microseconds) of a soft-deleted session.
pub(crate) const DELETED: &str = "deleted_at";

/// The attribute that marks a session or training created or edited in the app.
pub(crate) const EDITED: &str = "edited_in_app";

pub(crate) fn edited_in_app(item: &Item) -> bool {
    matches!(item.get(EDITED), Some(AttributeValue::Bool(true)))
}

pub(crate) fn training_from(item: &Item) -> Result<Training> {
    let r = Reader(item);
    Ok(Training {
        id: TrainingId::from_stored(r.s("id")?),
        code: r.s("code")?,
        title: r.s("title")?,
        theme: r.s("theme")?,
        modality: Modality::parse(&r.s("modality")?).ok_or_else(|| r.bad("modality"))?,
        length_days: r.u32("length_days")?,
        provider: r.s("provider")?,
        session_cost: Money::from_cents(r.i64("session_cost")?),
        trainee_cost: Money::from_cents(r.i64("trainee_cost")?),
        min_group: r.u32("min_group")?,
        max_group: r.u32("max_group")?,
        archived: r.bool("archived")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// What a session item holds besides the domain's `Session`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionMeta {
    /// Bumped by every write to the session or to one of its enrolments: a read-then-write
    /// operation conditions on it, so that nothing it read has changed when it commits.
    pub rev: i64,
    /// The largest waiting-list rank handed out (see `rules::next_rank`).
    pub last_rank: i64,
    /// Created or edited in the app: a later spreadsheet import keeps it as it is.
    pub edited_in_app: bool,
    /// `waiting_peak` as stored; None on items written before the peak was kept.
    pub stored_peak: Option<u32>,
    /// Soft-deleted: gone from every read, kept for its reference.
    pub deleted: bool,
}

fn mode_parts(mode: WaitlistMode) -> (&'static str, u32) {
    match mode {
        WaitlistMode::Off => ("off", 0),
        WaitlistMode::Direct => ("direct", 0),
        WaitlistMode::Offer { hours } => ("offer", hours),
    }
}

pub(crate) const WAITLIST_OFF: &str = "off";

/// The planning attributes of a session: what an edit or an import rewrites. The counters are
/// left alone: only the operations that move people change them.
pub(crate) fn session_planning(se: &Session) -> Vec<(&'static str, AttributeValue)> {
    let (mode, hours) = mode_parts(se.waitlist);
    let mut fields = vec![
        (
            keys::GSI1SK,
            s(keys::session_order(micros(se.starts_at), &se.reference)),
        ),
        ("reference", s(&se.reference)),
        ("training_id", s(se.training_id.as_str())),
        ("first_day", s(se.first_day.to_string())),
        ("last_day", s(se.last_day.to_string())),
        ("hours", s(se.hours.render())),
        ("starts_at", n(micros(se.starts_at))),
        ("ends_at", n(micros(se.ends_at))),
        ("place", s(&se.place)),
        ("capacity", n(se.capacity)),
        ("closes_at", n(micros(se.enrolment_closes_at))),
        ("free_until", n(micros(se.free_withdrawal_until))),
        ("status", s(se.status.as_str())),
        ("waitlist_mode", s(mode)),
        ("offer_hours", n(hours)),
        ("schedule_version", n(se.schedule_version)),
    ];
    if let Some(trainer) = &se.trainer {
        fields.push(("trainer", s(trainer)));
    }
    fields
}

pub(crate) fn session_item(se: &Session, meta: SessionMeta) -> Item {
    let mut item = keyed(&keys::session(&se.id));
    item.insert(keys::GSI1PK.into(), s(keys::SESSION_KIND));
    item.insert("id".into(), s(se.id.as_str()));
    for (k, v) in session_planning(se) {
        item.insert(k.into(), v);
    }
    item.insert("seats_taken".into(), n(se.seats_taken));
    item.insert("waiting".into(), n(se.waiting));
    item.insert("waiting_peak".into(), n(se.waiting_peak.max(se.waiting)));
    item.insert("seats_marked".into(), n(se.seats_marked));
    item.insert("last_rank".into(), n(meta.last_rank));
    item.insert("rev".into(), n(meta.rev));
    item.insert(EDITED.into(), AttributeValue::Bool(meta.edited_in_app));
    item
}

pub(crate) fn session_from(item: &Item) -> Result<(Session, SessionMeta)> {
    let r = Reader(item);
    let mode = r.s("waitlist_mode")?;
    let hours = r.u32("offer_hours")?;
    let waitlist = match mode.as_str() {
        "off" => WaitlistMode::Off,
        "direct" => WaitlistMode::Direct,
        "offer" => WaitlistMode::Offer { hours },
        _ => return Err(r.bad("waitlist_mode")),
    };
    let waiting = r.u32("waiting")?;
    let stored_peak = match r.opt_i64("waiting_peak")? {
        None => None,
        Some(v) => Some(u32::try_from(v).map_err(|_| r.bad("waiting_peak"))?),
    };
    let session = Session {
        id: SessionId::from_stored(r.s("id")?),
        reference: r.s("reference")?,
        training_id: TrainingId::from_stored(r.s("training_id")?),
        first_day: r.date("first_day")?,
        last_day: r.date("last_day")?,
        hours: DailyHours::parse(&r.s("hours")?).map_err(|_| r.bad("hours"))?,
        starts_at: r.instant("starts_at")?,
        ends_at: r.instant("ends_at")?,
        place: r.s("place")?,
        capacity: r.u32("capacity")?,
        enrolment_closes_at: r.instant("closes_at")?,
        free_withdrawal_until: r.instant("free_until")?,
        trainer: r.opt_s("trainer")?,
        status: SessionStatus::parse(&r.s("status")?).ok_or_else(|| r.bad("status"))?,
        waitlist,
        seats_taken: r.u32("seats_taken")?,
        waiting,
        waiting_peak: stored_peak.unwrap_or(0).max(waiting),
        seats_marked: r.u32_or_zero("seats_marked")?,
        schedule_version: r.u32("schedule_version")?,
    };
    let meta = SessionMeta {
        rev: r.opt_i64("rev")?.unwrap_or(0),
        last_rank: r.opt_i64("last_rank")?.unwrap_or(0),
        edited_in_app: edited_in_app(item),
        stored_peak,
        deleted: item.contains_key(DELETED),
    };
    Ok((session, meta))
}

// ---------------------------------------------------------------------------------------------
// Enrolments

/// Attendance has been marked: the seat was taken at the start and is counted apart.
pub(crate) fn is_marked(status: EnrolmentStatus) -> bool {
    matches!(
        status,
        EnrolmentStatus::Attended | EnrolmentStatus::Absent | EnrolmentStatus::Excused
    )
}

/// The attributes of an enrolment item that its status may leave out: a write of the item
/// over an existing one removes those the new state has not.
pub(crate) const ENROLMENT_OPTIONAL: [&str; 5] = [
    keys::LSI1SK,
    keys::GSI3PK,
    keys::GSI3SK,
    "confirmed_at",
    "offer_expires_at",
];

/// The whole enrolment item, with the index attributes its status calls for: `lsi1sk` while
/// waiting, the offers queue while an offer is held; and the copy of `officer`'s record when
/// it is given and is the enrolment's officer.
pub(crate) fn enrolment_item(e: &Enrolment, changes: u32, officer: Option<&Officer>) -> Item {
    let mut item = keyed(&keys::enrolment(&e.session_id, &e.officer_id));
    item.insert(
        keys::GSI2PK.into(),
        s(keys::officer_partition(&e.officer_id)),
    );
    item.insert(
        keys::GSI2SK.into(),
        s(keys::officer_enrolment_order(
            micros(e.joined_at),
            &e.session_id,
        )),
    );
    if e.status == EnrolmentStatus::Waitlisted {
        item.insert(keys::LSI1SK.into(), s(keys::waiting_order(e.rank, &e.id)));
    }
    if e.status == EnrolmentStatus::Offered {
        let expires = e.offer_expires_at.map(micros).unwrap_or(i64::MAX);
        item.insert(keys::GSI3PK.into(), s(keys::OFFERS_QUEUE));
        item.insert(
            keys::GSI3SK.into(),
            s(keys::offer_order(expires, &e.session_id, &e.officer_id)),
        );
    }
    item.insert("id".into(), s(e.id.as_str()));
    item.insert("session_id".into(), s(e.session_id.as_str()));
    item.insert("officer_id".into(), s(e.officer_id.as_str()));
    item.insert("status".into(), s(e.status.as_str()));
    item.insert("late".into(), AttributeValue::Bool(e.late));
    item.insert("rank".into(), n(e.rank));
    item.insert("joined_at".into(), n(micros(e.joined_at)));
    put_opt(
        &mut item,
        "confirmed_at",
        e.confirmed_at.map(|t| n(micros(t))),
    );
    put_opt(
        &mut item,
        "offer_expires_at",
        e.offer_expires_at.map(|t| n(micros(t))),
    );
    item.insert("updated_at".into(), n(micros(e.updated_at)));
    item.insert("updated_by".into(), s(&e.updated_by));
    item.insert("origin".into(), s(e.origin.as_str()));
    item.insert("changes".into(), n(changes));
    if let Some(o) = officer.filter(|o| o.id == e.officer_id) {
        item.insert(OFFICER_COPY.into(), officer_copy(o));
    }
    item
}

/// An enrolment and its change counter (the sequence of its history and of its notices).
pub(crate) fn enrolment_from(item: &Item) -> Result<(Enrolment, u32)> {
    let r = Reader(item);
    let e = Enrolment {
        id: EnrolmentId::from_stored(r.s("id")?),
        session_id: SessionId::from_stored(r.s("session_id")?),
        officer_id: OfficerId::from_stored(r.s("officer_id")?),
        status: r.status("status")?,
        late: r.bool("late")?,
        rank: r.i64("rank")?,
        joined_at: r.instant("joined_at")?,
        confirmed_at: r.opt_instant("confirmed_at")?,
        offer_expires_at: r.opt_instant("offer_expires_at")?,
        updated_at: r.instant("updated_at")?,
        updated_by: r.s("updated_by")?,
        origin: r.origin("origin")?,
    };
    Ok((e, r.u32("changes")?))
}

/// A line of `e`'s history; it also shows in the session's and the officer's audit views.
pub(crate) fn change_item(e: &Enrolment, sequence: u32, change: &EnrolmentChange) -> Item {
    let mut item = keyed(&keys::change(&e.id, sequence));
    let tie = format!("{}#{sequence:010}", e.id);
    let order = keys::audit_order(micros(change.at), &tie);
    item.insert(keys::GSI1PK.into(), s(keys::session_audit(&e.session_id)));
    item.insert(keys::GSI1SK.into(), s(order.clone()));
    item.insert(
        keys::GSI2PK.into(),
        s(keys::officer_partition(&e.officer_id)),
    );
    item.insert(
        keys::GSI2SK.into(),
        s(format!("{}{order}", keys::AUDIT_PREFIX)),
    );
    item.insert("session_id".into(), s(e.session_id.as_str()));
    item.insert("officer_id".into(), s(e.officer_id.as_str()));
    item.insert("at".into(), n(micros(change.at)));
    put_opt(&mut item, "from", change.from.map(|f| s(f.as_str())));
    item.insert("to".into(), s(change.to.as_str()));
    item.insert("actor".into(), s(&change.actor));
    item.insert("origin".into(), s(change.origin.as_str()));
    put_opt(&mut item, "reason", change.reason.as_deref().map(s));
    item
}

pub(crate) fn change_from(item: &Item) -> Result<EnrolmentChange> {
    let r = Reader(item);
    Ok(EnrolmentChange {
        at: r.instant("at")?,
        from: match r.opt_s("from")? {
            Some(f) => Some(EnrolmentStatus::parse(&f).ok_or_else(|| r.bad("from"))?),
            None => None,
        },
        to: r.status("to")?,
        actor: r.s("actor")?,
        origin: r.origin("origin")?,
        reason: r.opt_s("reason")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Feedback

pub(crate) fn feedback_item(f: &Feedback) -> Item {
    let mut item = keyed(&keys::feedback(&f.session_id, &f.officer_id));
    item.insert(keys::GSI1PK.into(), s(keys::FEEDBACK_KIND));
    item.insert(
        keys::GSI1SK.into(),
        s(format!("{}#{}", f.session_id, f.officer_id)),
    );
    item.insert("session_id".into(), s(f.session_id.as_str()));
    item.insert("officer_id".into(), s(f.officer_id.as_str()));
    item.insert("rating".into(), n(f.rating));
    item.insert("relevance".into(), n(f.relevance));
    put_opt(&mut item, "comment", f.comment.as_deref().map(s));
    item.insert("at".into(), n(micros(f.at)));
    item
}

pub(crate) fn feedback_from(item: &Item) -> Result<Feedback> {
    let r = Reader(item);
    let score = |name: &str| u8::try_from(r.i64(name)?).map_err(|_| r.bad(name));
    Ok(Feedback {
        session_id: SessionId::from_stored(r.s("session_id")?),
        officer_id: OfficerId::from_stored(r.s("officer_id")?),
        rating: score("rating")?,
        relevance: score("relevance")?,
        comment: r.opt_s("comment")?,
        at: r.instant("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(id: &OfficerId) -> Officer {
        Officer {
            id: id.clone(),
            email: Email::from_stored("a.martin@intradef.example".to_string()),
            last_name: "Martin".into(),
            first_name: "Anne".into(),
            grade: "Colonel".into(),
            branch: "Marine nationale".into(),
            phone: Some("0600000000".into()),
            accompaniment_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            accompaniment_end: NaiveDate::from_ymd_opt(2027, 12, 31).unwrap_or_default(),
            advisor_id: Some(StaffId::derived("advisor@intradef.example")),
        }
    }

    fn enrolment(status: EnrolmentStatus) -> Enrolment {
        let now = instant(1_800_000_000_000_000);
        Enrolment {
            id: EnrolmentId::derived("e"),
            session_id: SessionId::derived("S"),
            officer_id: OfficerId::derived("a.martin@intradef.example"),
            status,
            late: false,
            rank: 1,
            joined_at: now,
            confirmed_at: Some(now),
            offer_expires_at: Some(now),
            updated_at: now,
            updated_by: "x".into(),
            origin: Origin::Officer,
        }
    }

    #[test]
    fn the_copy_of_an_officer_reads_back_and_only_on_their_own_enrolment() {
        let e = enrolment(EnrolmentStatus::Confirmed);
        let mine = officer(&e.officer_id);
        let item = enrolment_item(&e, 1, Some(&mine));
        assert_eq!(officer_copy_from(&item).ok(), Some(Some(mine)));
        let other = officer(&OfficerId::derived("other@intradef.example"));
        let item = enrolment_item(&e, 1, Some(&other));
        assert_eq!(
            officer_copy_from(&item).ok(),
            Some(None),
            "not their enrolment"
        );
        let mut item = enrolment_item(&e, 1, None);
        assert_eq!(officer_copy_from(&item).ok(), Some(None));
        item.insert(OFFICER_COPY.into(), s("Martin"));
        assert!(officer_copy_from(&item).is_err(), "malformed: an error");
        item.insert(OFFICER_COPY.into(), AttributeValue::M(Item::new()));
        assert!(officer_copy_from(&item).is_err(), "empty: an error");
    }

    /// An update that writes an item over another removes what the new one lacks: every
    /// attribute that some status leaves out must be listed.
    #[test]
    fn every_attribute_an_enrolment_item_may_lack_is_listed_as_optional() {
        let e = enrolment(EnrolmentStatus::Confirmed);
        let o = officer(&e.officer_id);
        let always: Vec<String> = {
            let mut bare = enrolment(EnrolmentStatus::Withdrawn);
            bare.confirmed_at = None;
            bare.offer_expires_at = None;
            enrolment_item(&bare, 1, None).into_keys().collect()
        };
        for status in [EnrolmentStatus::Waitlisted, EnrolmentStatus::Offered] {
            for name in enrolment_item(&enrolment(status), 1, Some(&o)).into_keys() {
                assert!(
                    always.contains(&name)
                        || name == OFFICER_COPY
                        || ENROLMENT_OPTIONAL.contains(&name.as_str()),
                    "{name} is optional but not listed"
                );
            }
        }
    }
}
