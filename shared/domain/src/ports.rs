//! Ports: what the use cases need from the outside world. Each adapter (the embedded SQLite
//! store, the outbox mailer, the settable clock, and later DynamoDB, SES and EventBridge)
//! implements one of these traits.
//!
//! The storage port is shaped by operations, not by rows: `enrol`, `withdraw`, `promote` each
//! apply atomically with every invariant checked inside the same transaction (a SQLite
//! transaction here, a conditional `TransactWriteItems` on DynamoDB). A read followed by a
//! separate write would let two officers take the last seat.

use crate::audit::{AuditEntry, AuditSubject};
use crate::error::{DomainError, Result};
use crate::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use crate::import::{EnrolmentRow, OfficerRow, SessionRow, StaffRow, TrainingRow};
use crate::model::{
    Actor, Email, Enrolment, EnrolmentChange, EnrolmentStatus, Feedback, Modality, Officer,
    ProgrammeItem, Session, Staff, Training, WaitlistMode,
};
use crate::notices::{Notice, OutgoingEmail};
use crate::time::Instant;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The time every use case and job sees.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// Sends one email. Called after the state change it announces has committed.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `email`; `notice` is the outbox id it delivers, which the provider carries back in
    /// its delivery reports (an SES email tag). Answers the provider's message id, if it gives
    /// one.
    async fn send(&self, email: &OutgoingEmail, notice: Option<i64>) -> Result<Option<String>>;
}

/// Domain events, published after commit; they drive promote-waitlist and the delivery of the
/// notices a change queued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    SeatReleased {
        session_id: SessionId,
    },
    CapacityRaised {
        session_id: SessionId,
    },
    SessionChanged {
        session_id: SessionId,
    },
    SessionCancelled {
        session_id: SessionId,
    },
    EnrolmentChanged {
        session_id: SessionId,
        officer_id: OfficerId,
        status: EnrolmentStatus,
    },
    /// A change queued notices in the outbox: their sender (send-reminders on AWS, the local
    /// bus's sender thread in one process) delivers them once the request has answered, so
    /// that no request renders or sends an email itself.
    NoticesQueued,
}

impl DomainEvent {
    /// The EventBridge `detail-type` of the event.
    pub fn detail_type(&self) -> &'static str {
        match self {
            DomainEvent::SeatReleased { .. } => "SeatReleased",
            DomainEvent::CapacityRaised { .. } => "CapacityRaised",
            DomainEvent::SessionChanged { .. } => "SessionChanged",
            DomainEvent::SessionCancelled { .. } => "SessionCancelled",
            DomainEvent::EnrolmentChanged { .. } => "EnrolmentChanged",
            DomainEvent::NoticesQueued => "NoticesQueued",
        }
    }
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()>;

    /// Waits until what this publisher's targets run in the background for the events
    /// published so far is done: the local bus's sender thread. Nothing to wait for where the
    /// targets are other functions (EventBridge).
    async fn settle(&self) {}
}

/// Filters of the session list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionQuery {
    /// Sessions starting at or after this instant.
    pub from: Option<Instant>,
    /// Sessions starting before this instant.
    pub to: Option<Instant>,
    pub theme: Option<String>,
    pub modality: Option<Modality>,
    pub training_id: Option<TrainingId>,
    /// Only sessions with a seat left.
    pub available_only: bool,
    /// Include cancelled sessions (staff views).
    pub include_cancelled: bool,
}

/// A training with the demand registered for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrainingDemand {
    #[serde(flatten)]
    pub training: Training,
    pub interested: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolCommand {
    pub session_id: SessionId,
    pub officer_id: OfficerId,
    pub actor: Actor,
    pub now: Instant,
    /// A retry with the same key returns the first answer and changes nothing.
    pub idempotency_key: Option<String>,
    /// The officer's quota of changes, counted in the enrolment's own transaction: refused
    /// (`too-many-changes`) before anything else is checked once full, given back with the
    /// rest of the transaction when the enrolment is refused, never counted by a replay.
    pub quota: Option<QuotaCharge>,
    /// The officer's record as the caller read it (an officer's own request knows its caller;
    /// a staff enrolment reads the officer it names). A store that keeps a copy of it on the
    /// enrolment (DynamoDB, so that a roster is one Query) writes it there without reading;
    /// without it, or when it names another officer, the enrolment has no copy and the roster
    /// reads the officer. The embedded store ignores it.
    pub officer: Option<Officer>,
}

/// One use of a quota, to count in the transaction of the change it pays for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaCharge {
    pub subject: String,
    /// Counted once however often the same transaction is tried again.
    pub use_id: String,
    pub window_start: Instant,
    pub window_seconds: i64,
    pub limit: u32,
}

impl QuotaCharge {
    pub fn new(
        subject: &str,
        use_id: &str,
        window_start: Instant,
        window_seconds: i64,
        limit: u32,
    ) -> Self {
        Self {
            subject: subject.to_string(),
            use_id: use_id.to_string(),
            window_start,
            window_seconds,
            limit,
        }
    }

    /// The refusal once `limit` uses are counted in the window, with the seconds until it ends.
    pub fn refusal(&self, now: Instant) -> DomainError {
        let end = self.window_start.timestamp() + self.window_seconds;
        let retry_after = (end - now.timestamp()).clamp(1, self.window_seconds.max(1));
        DomainError::too_many_changes(
            self.limit,
            self.window_seconds / 60,
            u32::try_from(retry_after).unwrap_or(1),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EnrolOutcome {
    Confirmed,
    Waitlisted { position: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    pub outcome: EnrolOutcome,
    /// True when this answer is the stored answer to an earlier request with the same key.
    pub replayed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawCommand {
    pub session_id: SessionId,
    pub officer_id: OfficerId,
    pub actor: Actor,
    pub now: Instant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WithdrawOutcome {
    /// Gave up a confirmed seat (or a held offer).
    Withdrawn { late: bool },
    /// Left the waiting list.
    LeftWaitlist,
    /// Gave up a seat that was offered and not yet accepted.
    DeclinedOffer,
}

/// What a withdrawal did: the outcome for the officer who withdrew, and who got the seat it
/// freed in the same transaction (see [`Store::withdraw`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    pub outcome: WithdrawOutcome,
    pub promoted: Vec<Promoted>,
}

/// What a store did when promoting from the waiting list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Promoted {
    pub officer_id: OfficerId,
    pub status: EnrolmentStatus,
    #[serde(with = "crate::time::paris_serde::option")]
    pub offer_expires_at: Option<Instant>,
}

impl Promoted {
    /// What a promoted enrolment became.
    pub fn of(e: &crate::model::Enrolment) -> Self {
        Self {
            officer_id: e.officer_id.clone(),
            status: e.status,
            offer_expires_at: e.offer_expires_at,
        }
    }
}

/// A change to a session's planning. `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionPatch {
    pub schedule: Option<crate::rules::Schedule>,
    pub capacity: Option<u32>,
    pub place: Option<String>,
    pub trainer: Option<Option<String>>,
    pub waitlist: Option<WaitlistMode>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUpdated {
    pub session: Session,
    pub capacity_raised: bool,
    /// Something the people enrolled read changed (see `notices::session_changes`): dates,
    /// hours, place, trainer or the free-withdrawal cut-off.
    pub materially_changed: bool,
}

/// One line of a session's roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RosterLine {
    #[serde(flatten)]
    pub enrolment: Enrolment,
    pub officer: Officer,
    /// Position on the waiting list, for those waiting.
    pub position: Option<u32>,
}

/// Counts of an import, per outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    /// Rows that differ from a record changed in the app since: the app's version is kept.
    pub kept: u32,
}

/// Whether a row written by an import created, changed or left a record as it was; or why the
/// store refused it (a rule that only the stored state can check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    Created,
    Updated,
    Unchanged,
    /// The record was changed in the app since it was imported; the row is not applied.
    Kept(String),
    Rejected(String),
}

/// A notice waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedNotice {
    pub id: i64,
    pub notice: Notice,
    pub attempts: u32,
}

/// What the mail provider reported about a sent email. Reports arrive late, twice or out of
/// order; a report replaces the stored one only when its [`rank`](Self::rank) is higher, so that
/// a late "delivered" never hides a bounce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    /// Delivered, then reported as unwanted by the recipient.
    Complained,
    /// Refused by the recipient's server (any bounce type: SES reports a transient bounce only
    /// once it has stopped retrying).
    Bounced,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Complained => "complained",
            DeliveryStatus::Bounced => "bounced",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "delivered" => Some(DeliveryStatus::Delivered),
            "complained" => Some(DeliveryStatus::Complained),
            "bounced" => Some(DeliveryStatus::Bounced),
            _ => None,
        }
    }

    /// The order in which reports may override one another.
    pub fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Delivered => 1,
            DeliveryStatus::Complained => 2,
            DeliveryStatus::Bounced => 3,
        }
    }
}

/// A notice as shown to staff or to the officer: the outbox line and its delivery ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticeRecord {
    pub id: i64,
    pub officer_id: OfficerId,
    pub session_id: SessionId,
    pub kind: String,
    #[serde(with = "crate::time::paris_serde")]
    pub queued_at: Instant,
    #[serde(with = "crate::time::paris_serde::option")]
    pub sent_at: Option<Instant>,
    /// `pending`, `sent` or `failed`: what the outbox did.
    pub status: String,
    pub attempts: u32,
    /// Why the last attempt failed, as the mail adapter said it.
    pub last_error: Option<String>,
    /// The provider's id of the sent message.
    pub message_id: Option<String>,
    /// What the provider reported after sending, and when.
    pub delivery: Option<DeliveryStatus>,
    #[serde(with = "crate::time::paris_serde::option")]
    pub delivery_at: Option<Instant>,
    /// When the officer read it in the application.
    #[serde(with = "crate::time::paris_serde::option")]
    pub read_at: Option<Instant>,
}

/// The figures of one session, or summed over a group of sessions. Counts are exact integers
/// and money is cents; the rates are derived from these sums (see [`StatisticsRow`]), never
/// averaged over sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Figures {
    pub sessions: u32,
    pub capacity: u32,
    /// Seats held when the session started (see `statistics::figures_of`).
    pub confirmed_at_start: u32,
    pub attended: u32,
    /// No-shows: seated at the start, marked absent.
    pub absent: u32,
    pub excused: u32,
    pub on_time_withdrawals: u32,
    pub late_withdrawals: u32,
    /// Seats freed by a late withdrawal and still empty at the start.
    pub seats_lost_late: u32,
    /// Per session, the longest its waiting list has been; for a group, the longest of those.
    pub waiting_peak: u32,
    /// Officers still on the waiting list when the session started.
    pub waiting_never_served: u32,
    /// Seats the provider bills: seated at the start, plus the seats lost to late withdrawals.
    pub trainees_billed: u32,
    /// Session cost plus cost per trainee × trainees billed.
    pub cost: crate::model::Money,
    /// The cost of the sessions whose attendance is fully marked (nobody seated is left
    /// unmarked), and the officers present at them: what the cost per present participant
    /// divides, so that a session not marked yet adds neither cost nor presence to it.
    #[serde(default)]
    pub marked_cost: crate::model::Money,
    #[serde(default)]
    pub marked_attended: u32,
    pub feedback_answers: u32,
    pub rating_sum: u32,
    pub relevance_sum: u32,
}

/// One line of the statistics: a session, training, theme, month or year, or the total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsRow {
    /// `session`, `training`, `theme`, `month`, `year`, or `total`.
    pub scope: String,
    pub key: String,
    pub label: String,
    pub figures: Figures,
    /// Σ confirmed at start / Σ capacity, in per-mille (a rate weighted by capacity, not a
    /// mean of the sessions' rates), or None without capacity.
    pub fill_rate_permille: Option<u32>,
    /// Present / (present + absent + excused), in per-mille.
    pub attendance_permille: Option<u32>,
    /// Cost / present, rounded half up to the cent; None when nobody was present.
    pub cost_per_present: Option<crate::model::Money>,
    /// Mean rating out of 5, in hundredths (`433` is 4.33), rounded half up.
    pub rating_mean_hundredths: Option<u32>,
    /// Mean relevance to the officers' projects out of 5, in hundredths.
    pub relevance_mean_hundredths: Option<u32>,
    /// The same figures as staff read them, for display only.
    #[serde(default)]
    pub display: RowDisplay,
}

/// A row's money, rates and means written the French way: `2 000,00 €`, `75,0 %`, `4,50`;
/// empty where the figure has no value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RowDisplay {
    pub cost: String,
    pub cost_per_present: String,
    pub fill_rate: String,
    pub attendance: String,
    pub rating_mean: String,
    pub relevance_mean: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatisticsSnapshot {
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub computed_at: Instant,
    /// The grouping of `rows` (`session`, `training`, …).
    #[serde(default)]
    pub group: String,
    /// The Paris days the sessions started within, both included, when a period was asked.
    #[serde(default)]
    pub from: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub to: Option<chrono::NaiveDate>,
    pub rows: Vec<StatisticsRow>,
    /// Every session of the period together.
    #[serde(default)]
    pub total: Option<StatisticsRow>,
}

/// Storage. Every write is atomic; see the module documentation.
/// What an erasure did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Erasure {
    #[serde(with = "crate::time::paris_serde")]
    pub erased_at: Instant,
    /// The id the kept records now carry.
    pub pseudonym: OfficerId,
    /// Enrolments kept under the pseudonym, for the statistics.
    pub enrolments_kept: u32,
    /// Feedback answers kept (scores only).
    pub feedback_kept: u32,
    /// Notices deleted from the ledger.
    pub notices_deleted: u32,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// A number that changes whenever the stored data change, for a store that sees every
    /// write (one process on its own file); `None` where others write too (DynamoDB). Lets
    /// [`crate::cache::AnswerCache`] keep answers while they hold.
    fn generation(&self) -> Option<u64> {
        None
    }

    // People.
    async fn staff_by_email(&self, email: &Email) -> Result<Option<Staff>>;
    async fn staff_by_id(&self, id: &StaffId) -> Result<Option<Staff>>;
    async fn staff_list(&self) -> Result<Vec<Staff>>;
    async fn officer(&self, id: &OfficerId) -> Result<Option<Officer>>;
    async fn officer_by_email(&self, email: &Email) -> Result<Option<Officer>>;
    async fn officers(&self) -> Result<Vec<Officer>>;
    async fn is_empty(&self) -> Result<bool>;

    // Catalogue.
    async fn training(&self, id: &TrainingId) -> Result<Option<Training>>;
    async fn trainings(&self, include_archived: bool) -> Result<Vec<TrainingDemand>>;
    /// Refuses a code already in use (`training-code-taken`).
    async fn insert_training(&self, training: &Training) -> Result<()>;
    async fn update_training(&self, training: &Training) -> Result<()>;

    // Sessions.
    async fn session(&self, id: &SessionId) -> Result<Option<Session>>;
    async fn sessions(&self, query: &SessionQuery) -> Result<Vec<Session>>;
    /// Refuses a reference already in use (`session-reference-taken`). Queues a
    /// `SessionOpened` notice for officers who registered interest in the training.
    async fn insert_session(&self, session: &Session, now: Instant) -> Result<()>;
    /// Applies a patch with the capacity rule checked against the current counts. A material
    /// change (a non-empty `notices::session_changes`) bumps the schedule version and queues a
    /// `SessionChanged` notice carrying those changes for those enrolled or waiting.
    async fn update_session(
        &self,
        id: &SessionId,
        patch: &SessionPatch,
        actor: &Actor,
        now: Instant,
    ) -> Result<SessionUpdated>;
    /// Cancels the session and queues one notice for everyone enrolled, offered or waiting.
    async fn cancel_session(&self, id: &SessionId, actor: &Actor, now: Instant) -> Result<Session>;
    /// Soft-deletes a session planned by mistake or imported twice: refused while anyone holds
    /// or waits for a seat, or has attendance marked (`session-not-deletable`). A deleted
    /// session is gone from every read (`session` answers None) and counts nowhere; its
    /// reference stays taken, and an import naming it is rejected.
    async fn delete_session(&self, id: &SessionId, actor: &Actor, now: Instant) -> Result<()>;

    // Enrolments.
    async fn enrolment(
        &self,
        session: &SessionId,
        officer: &OfficerId,
    ) -> Result<Option<Enrolment>>;
    /// Position (1-based) of a waiting officer.
    async fn waitlist_position(
        &self,
        session: &SessionId,
        officer: &OfficerId,
    ) -> Result<Option<u32>>;
    async fn officer_enrolments(&self, officer: &OfficerId) -> Result<Vec<Enrolment>>;
    /// The sessions in which the officer holds a seat ([`EnrolmentStatus::holds_seat`]), in no
    /// particular order. By default their enrolments, then each session; a store may join them.
    async fn seated_sessions(&self, officer: &OfficerId) -> Result<Vec<Session>> {
        let mut out = Vec::new();
        for e in self.officer_enrolments(officer).await? {
            if e.status.holds_seat()
                && let Some(s) = self.session(&e.session_id).await?
            {
                out.push(s);
            }
        }
        Ok(out)
    }
    /// Everyone with an enrolment in the session: confirmed first, then the waiting list in
    /// order, then the rest.
    async fn roster(&self, session: &SessionId) -> Result<Vec<RosterLine>>;
    async fn enrolment_history(&self, id: &EnrolmentId) -> Result<Vec<EnrolmentChange>>;
    /// How many changes [`Store::enrolment_history`] holds, without reading them if the store
    /// can count.
    async fn enrolment_change_count(&self, id: &EnrolmentId) -> Result<usize> {
        Ok(self.enrolment_history(id).await?.len())
    }
    /// Confirms when a seat is free and nobody waits; otherwise waitlists at the end when the
    /// list is on and the session is still open; otherwise refuses (`session-full`).
    async fn enrol(&self, cmd: &EnrolCommand) -> Result<Enrolled>;
    /// Gives up a seat, an offer or a place on the waiting list. A seat freed goes, in the same
    /// transaction, to the head of the waiting list when the session's mode and dates allow
    /// it, as [`Store::promote`] would give it (confirmed, or offered until a deadline); at
    /// most that one seat: other free seats are left to `promote`.
    async fn withdraw(&self, cmd: &WithdrawCommand) -> Result<Withdrawal>;
    /// Accepts or declines a held offer.
    async fn answer_offer(
        &self,
        session: &SessionId,
        officer: &OfficerId,
        accept: bool,
        actor: &Actor,
        now: Instant,
    ) -> Result<EnrolmentStatus>;
    /// Gives free seats to the next in line, in order, as the session's mode says. Idempotent:
    /// with no free seat or nobody waiting it does nothing.
    async fn promote(&self, session: &SessionId, now: Instant) -> Result<Vec<Promoted>>;
    /// Expires the offers whose time is up. Answers every open session that has a free seat
    /// and people waiting, so that the caller can promote (this also catches up on a
    /// promotion whose event was lost).
    async fn expire_offers(&self, now: Instant) -> Result<Vec<SessionId>>;
    /// Moves a waiting officer to `position` (1-based), with a recorded reason.
    async fn move_in_waitlist(
        &self,
        session: &SessionId,
        officer: &OfficerId,
        position: u32,
        reason: &str,
        actor: &Actor,
        now: Instant,
    ) -> Result<u32>;
    /// Marks attendance (attended, absent, excused) once the session has started.
    async fn mark_attendance(
        &self,
        session: &SessionId,
        officer: &OfficerId,
        status: EnrolmentStatus,
        actor: &Actor,
        now: Instant,
    ) -> Result<()>;

    // Programme and interest.
    async fn programme(&self, officer: &OfficerId) -> Result<Vec<ProgrammeItem>>;
    async fn plan_training(&self, item: &ProgrammeItem) -> Result<()>;
    async fn unplan_training(&self, officer: &OfficerId, training: &TrainingId) -> Result<bool>;
    /// Answers false when the interest was already registered.
    async fn register_interest(
        &self,
        officer: &OfficerId,
        training: &TrainingId,
        now: Instant,
    ) -> Result<bool>;

    /// The officers who registered interest in a training, in the order they did.
    async fn interested_officers(&self, training: &TrainingId) -> Result<Vec<OfficerId>>;

    // Quotas.
    /// Counts the use `use_id` of `subject`'s quota in the fixed window that starts at
    /// `window_start` and lasts `window_seconds`; answers false, counting nothing, once `limit`
    /// uses are counted in it. The same `use_id` counts once however often it is sent (a retry
    /// after a lost answer), and answers true again. Windows past their end are forgotten.
    async fn take_quota(
        &self,
        subject: &str,
        use_id: &str,
        window_start: Instant,
        window_seconds: i64,
        limit: u32,
    ) -> Result<bool>;

    /// Gives back the use `use_id` counted by [`Store::take_quota`] in that window, if it was:
    /// a change that was refused costs nothing.
    async fn release_quota(&self, subject: &str, use_id: &str, window_start: Instant)
    -> Result<()>;

    // Notifications (the outbox).
    /// Queues notices; one already queued with the same (officer, session, kind, version) is
    /// skipped. Answers how many were new.
    async fn queue_notices(&self, notices: &[Notice], now: Instant) -> Result<u32>;
    async fn pending_notices(&self, limit: u32) -> Result<Vec<QueuedNotice>>;
    /// Takes the turn to send notice `id` until `until`, so that two senders at once (two
    /// requests, or a request and the sweep) do not both send it: answers false, changing
    /// nothing, when the notice is no longer queued (sent, dropped, given up) or another
    /// sender's turn has not run out at `now`. A sender that dies leaves its turn to run out,
    /// and the notice is sent by a later sweep; a failed send gives the turn back.
    async fn claim_notice(&self, id: i64, until: Instant, now: Instant) -> Result<bool>;
    /// Takes the turn on up to `limit` queued notices no other sender holds, oldest first
    /// ([`Store::claim_notice`] on each of [`Store::pending_notices`] by default; a store may
    /// take them all at once). Answers those taken.
    async fn claim_notices(
        &self,
        limit: u32,
        until: Instant,
        now: Instant,
    ) -> Result<Vec<QueuedNotice>> {
        let mut taken = Vec::new();
        for queued in self.pending_notices(limit).await? {
            if self.claim_notice(queued.id, until, now).await? {
                taken.push(queued);
            }
        }
        Ok(taken)
    }
    /// Marks a notice sent, with the provider's message id when it gave one.
    async fn mark_notice_sent(&self, id: i64, message_id: Option<&str>, now: Instant)
    -> Result<()>;
    /// Counts a failed attempt and holds the notice for [`crate::notices::retry_delay`] from
    /// `now` before a sender may take it again; the fifth failure gives it up.
    async fn mark_notice_failed(&self, id: i64, error: &str, now: Instant) -> Result<()>;
    /// Takes a notice out of the queue unsent (status `dropped`), with why: what it told no
    /// longer holds when its turn came (a reminder for a seat given up since, say).
    async fn mark_notice_dropped(&self, id: i64, reason: &str, now: Instant) -> Result<()>;
    /// An officer's notices, newest first.
    async fn officer_notices(&self, officer: &OfficerId) -> Result<Vec<NoticeRecord>>;
    /// The notices about one session, newest first.
    async fn session_notices(&self, session: &SessionId) -> Result<Vec<NoticeRecord>>;
    /// Records a delivery report. Idempotent and monotone: answers false (and changes
    /// nothing) for an unknown notice, a repeated report, or one of lower or equal rank than
    /// the stored one.
    async fn record_delivery(&self, id: i64, status: DeliveryStatus, at: Instant) -> Result<bool>;
    /// The notices reported bounced or complained of in `[from, to)`, by report time (for
    /// the staff's daily digest).
    async fn undelivered_between(&self, from: Instant, to: Instant) -> Result<Vec<NoticeRecord>>;
    /// Marks the officer's notices read: those of `ids` (the others' ids are ignored), or all of
    /// them for `None`. A notice read already keeps its first reading time. Answers how many
    /// became read.
    async fn mark_notices_read(
        &self,
        officer: &OfficerId,
        ids: Option<&[i64]>,
        now: Instant,
    ) -> Result<u32>;

    // The personal calendar feed: only the SHA-256 of the secret token is stored.
    /// Creates or replaces the officer's token; the previous one stops working at once.
    async fn set_calendar_token(&self, officer: &OfficerId, hash: &str, now: Instant)
    -> Result<()>;
    /// Answers false when the officer had no token.
    async fn revoke_calendar_token(&self, officer: &OfficerId) -> Result<bool>;
    /// When the officer's current token was created, if there is one.
    async fn calendar_token_created(&self, officer: &OfficerId) -> Result<Option<Instant>>;
    async fn officer_by_calendar_token(&self, hash: &str) -> Result<Option<Officer>>;

    /// Claims `key` once and for all: true for the first caller, false for every later one,
    /// whatever the concurrency (a conditional insert). One-time links and daily digests use it.
    async fn claim_once(&self, key: &str, now: Instant) -> Result<bool>;
    /// Confirmed enrolments of scheduled sessions starting in `[from, to)`.
    async fn confirmed_between(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<(Session, Enrolment)>>;

    // The audit log (see `crate::audit`).
    /// Appends lines, once the change they record has committed.
    async fn record_audit(&self, entries: &[AuditEntry]) -> Result<()>;
    /// One view of the log, oldest first: the lines recorded for the subject, and for a session
    /// or an officer the enrolment changes too.
    async fn audit(&self, subject: &AuditSubject) -> Result<Vec<AuditEntry>>;

    // Personal data (GDPR).
    /// The trainings an officer said they are interested in.
    async fn officer_interests(&self, officer: &OfficerId) -> Result<Vec<TrainingId>>;
    /// Erases an officer's personal data. Their enrolments, their history and their feedback
    /// scores stay for the statistics, under a new random id that nothing links to the old one
    /// (the old id is derived from the address; the new ones, the officer's and each
    /// enrolment's, carry no time); the officer record, programme, interests, notices,
    /// calendar token and feedback comments go. The old id is kept as a tombstone, without a
    /// time, so that a spreadsheet listing the officer again is refused rather than bringing
    /// them back. Rosters show the kept enrolments with [`Officer::erased`].
    /// Seats still held must have been given up first (see `usecases::erase_officer`). On
    /// DynamoDB the work spans several writes: a failure midway leaves the tombstone holding
    /// the new id, and erasing again completes it. Answers `None` when already erased.
    async fn erase_officer(&self, officer: &OfficerId, now: Instant) -> Result<Option<Erasure>>;
    /// Whether an officer (by their former id) was erased.
    async fn is_erased(&self, officer: &OfficerId) -> Result<bool>;

    // Imports: each row is applied whole or not at all, and an outcome is answered per row. The
    // embedded store writes a whole file in one transaction; DynamoDB commits rows in windows
    // (a transaction holds at most 100 items), so a failure midway leaves the earlier windows
    // applied. Either way a second run of the same file changes nothing: rows already applied
    // come back `Unchanged`, so re-running an interrupted import completes it.
    async fn import_staff(&self, rows: &[StaffRow]) -> Result<Vec<RowOutcome>>;
    async fn import_officers(&self, rows: &[OfficerRow]) -> Result<Vec<RowOutcome>>;
    async fn import_trainings(&self, rows: &[TrainingRow]) -> Result<Vec<RowOutcome>>;
    async fn import_sessions(&self, rows: &[SessionRow], now: Instant) -> Result<Vec<RowOutcome>>;
    async fn import_enrolments(
        &self,
        rows: &[EnrolmentRow],
        actor: &Actor,
        now: Instant,
    ) -> Result<Vec<RowOutcome>>;

    // Feedback.
    /// Stores an answer, once: refused when the officer was not marked present
    /// (`feedback-not-attended`) or already answered (`feedback-already-given`).
    async fn save_feedback(&self, feedback: &Feedback) -> Result<()>;
    /// The answers about one session, by officer id.
    async fn session_feedback(&self, session: &SessionId) -> Result<Vec<Feedback>>;
    /// Every answer (for the statistics).
    async fn all_feedback(&self) -> Result<Vec<Feedback>>;

    // Statistics.
    /// Every live (not deleted) session with its enrolments.
    async fn all_sessions_with_enrolments(&self) -> Result<Vec<(Session, Vec<Enrolment>)>>;
    async fn save_statistics(&self, snapshot: &StatisticsSnapshot) -> Result<()>;
    async fn statistics(&self) -> Result<Option<StatisticsSnapshot>>;
}
