//! The audit log: who changed what, when, and from what to what.
//!
//! Two sources make one log. An enrolment's changes are its history, written in the same
//! transaction as the change itself (see `Store::enrol` and the others); everything else staff
//! and officers change — trainings, sessions, programmes, interests, feedback, erasures — is an
//! [`AuditEntry`] that the use case appends once the change has committed. `Store::audit` reads
//! both, oldest first, for one session, one officer or one training.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ids::{OfficerId, SessionId, TrainingId};
use crate::model::{Actor, EnrolmentChange, Origin};
use crate::time::Instant;

/// What an audit line is about: the three views staff read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditSubject {
    /// The session's own changes and every enrolment change in it.
    Session(SessionId),
    /// Everything about one officer: enrolment changes, programme, interests, feedback.
    Officer(OfficerId),
    /// The training's own changes and the programmes and interests naming it (its sessions
    /// have their own view).
    Training(TrainingId),
}

/// The kinds of change recorded outside enrolment histories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    TrainingCreated,
    TrainingUpdated,
    TrainingArchived,
    SessionCreated,
    SessionUpdated,
    SessionCancelled,
    SessionDeleted,
    TrainingPlanned,
    TrainingUnplanned,
    InterestRegistered,
    WaitlistMoved,
    FeedbackGiven,
    DataExported,
    OfficerErased,
    OfficerImported,
    TrainingImported,
    SessionImported,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::TrainingCreated => "training.created",
            AuditAction::TrainingUpdated => "training.updated",
            AuditAction::TrainingArchived => "training.archived",
            AuditAction::SessionCreated => "session.created",
            AuditAction::SessionUpdated => "session.updated",
            AuditAction::SessionCancelled => "session.cancelled",
            AuditAction::SessionDeleted => "session.deleted",
            AuditAction::TrainingPlanned => "programme.planned",
            AuditAction::TrainingUnplanned => "programme.unplanned",
            AuditAction::InterestRegistered => "interest.registered",
            AuditAction::WaitlistMoved => "waitlist.moved",
            AuditAction::FeedbackGiven => "feedback.given",
            AuditAction::DataExported => "officer.exported",
            AuditAction::OfficerErased => "officer.erased",
            AuditAction::OfficerImported => "officer.imported",
            AuditAction::TrainingImported => "training.imported",
            AuditAction::SessionImported => "session.imported",
        }
    }
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    #[serde(with = "crate::time::paris_serde")]
    pub at: Instant,
    /// The caller's subject (officer or staff id, or a job's name).
    pub actor: String,
    pub origin: Origin,
    /// `session.updated`, `enrolment.confirmed`…
    pub action: String,
    pub session_id: Option<SessionId>,
    pub officer_id: Option<OfficerId>,
    pub training_id: Option<TrainingId>,
    /// The fields that changed, as they were (absent for a creation).
    pub before: Option<Value>,
    /// The same fields, as they became (absent for a deletion).
    pub after: Option<Value>,
    pub reason: Option<String>,
}

impl AuditEntry {
    pub fn new(action: AuditAction, actor: &Actor, at: Instant) -> Self {
        Self {
            at,
            actor: actor.id.clone(),
            origin: actor.origin,
            action: action.as_str().to_string(),
            session_id: None,
            officer_id: None,
            training_id: None,
            before: None,
            after: None,
            reason: None,
        }
    }

    pub fn session(mut self, id: &SessionId) -> Self {
        self.session_id = Some(id.clone());
        self
    }

    pub fn officer(mut self, id: &OfficerId) -> Self {
        self.officer_id = Some(id.clone());
        self
    }

    pub fn training(mut self, id: &TrainingId) -> Self {
        self.training_id = Some(id.clone());
        self
    }

    pub fn reason(mut self, reason: Option<&str>) -> Self {
        self.reason = reason.map(str::to_string);
        self
    }

    /// Records the whole record as it was created.
    pub fn created(mut self, after: &impl Serialize) -> Self {
        self.after = serde_json::to_value(after).ok();
        self
    }

    /// Records the fields that differ between two states of a record, and only those.
    pub fn changed(mut self, before: &impl Serialize, after: &impl Serialize) -> Self {
        let (b, a) = diff(
            serde_json::to_value(before).unwrap_or(Value::Null),
            serde_json::to_value(after).unwrap_or(Value::Null),
        );
        self.before = Some(b);
        self.after = Some(a);
        self
    }

    /// Records the fields given, as they were and as they became.
    pub fn fields(mut self, before: Value, after: Value) -> Self {
        self.before = Some(before);
        self.after = Some(after);
        self
    }

    /// A line of an enrolment's history, as the audit log shows it.
    pub fn of_enrolment_change(
        session: &SessionId,
        officer: &OfficerId,
        change: &EnrolmentChange,
    ) -> Self {
        Self {
            at: change.at,
            actor: change.actor.clone(),
            origin: change.origin,
            action: format!("enrolment.{}", change.to.as_str()),
            session_id: Some(session.clone()),
            officer_id: Some(officer.clone()),
            training_id: None,
            before: change
                .from
                .map(|f| serde_json::json!({ "status": f.as_str() })),
            after: Some(serde_json::json!({ "status": change.to.as_str() })),
            reason: change.reason.clone(),
        }
    }

    /// Whether the entry belongs to a view: the stores' query, in one place for the tests.
    pub fn concerns(&self, subject: &AuditSubject) -> bool {
        match subject {
            AuditSubject::Session(id) => self.session_id.as_ref() == Some(id),
            AuditSubject::Officer(id) => self.officer_id.as_ref() == Some(id),
            AuditSubject::Training(id) => {
                self.session_id.is_none() && self.training_id.as_ref() == Some(id)
            }
        }
    }
}

/// Puts a view in its order: by time; at the same instant the enrolment changes first (a
/// cancellation's or an erasure's line follows what it did), then by officer and action, so
/// that both stores answer the same order.
pub fn sort_lines(lines: &mut [AuditEntry]) {
    lines.sort_by(|a, b| {
        let key = |l: &AuditEntry| (l.at, !l.action.starts_with("enrolment."));
        key(a)
            .cmp(&key(b))
            .then_with(|| a.officer_id.cmp(&b.officer_id))
            .then_with(|| a.action.cmp(&b.action))
    });
}

/// The top-level fields of two JSON objects that differ, each side with only those fields.
/// Anything but two objects is kept whole on both sides.
pub fn diff(before: Value, after: Value) -> (Value, Value) {
    match (before, after) {
        (Value::Object(b), Value::Object(mut a)) => {
            let mut old = Map::new();
            let mut new = Map::new();
            for (key, value) in b {
                match a.remove(&key) {
                    Some(v) if v == value => {}
                    Some(v) => {
                        old.insert(key.clone(), value);
                        new.insert(key, v);
                    }
                    None => {
                        old.insert(key, value);
                    }
                }
            }
            for (key, v) in a {
                new.insert(key, v);
            }
            (Value::Object(old), Value::Object(new))
        }
        (b, a) => (b, a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_keeps_only_the_fields_that_differ() {
        let (b, a) = diff(
            json!({"place": "Paris", "capacity": 12, "trainer": null}),
            json!({"place": "Lyon", "capacity": 12, "trainer": "M. Durand"}),
        );
        assert_eq!(b, json!({"place": "Paris", "trainer": null}));
        assert_eq!(a, json!({"place": "Lyon", "trainer": "M. Durand"}));
    }

    #[test]
    fn fields_that_appear_or_vanish_are_kept_on_their_side() {
        let (b, a) = diff(json!({"x": 1}), json!({"y": 2}));
        assert_eq!(b, json!({"x": 1}));
        assert_eq!(a, json!({"y": 2}));
        let (b, a) = diff(json!(1), json!(2));
        assert_eq!((b, a), (json!(1), json!(2)));
    }
}
