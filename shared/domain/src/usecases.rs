//! The use cases. Each one reads as its steps: check, apply through the store (atomically),
//! publish the events, deliver the notices queued by the change. Handlers call these and
//! nothing else.

use crate::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::error::{DomainError, Result};
use crate::ids::{OfficerId, SessionId, StaffId, TrainingId};
use crate::import::{self, FileError, ImportKind, RejectedRow};
use crate::model::{
    Actor, Enrolment, EnrolmentStatus, Feedback, Modality, Officer, ProgrammeItem, ProgrammeKind,
    Session, SessionStatus, Staff, Training, WaitlistMode,
};
use crate::notices::{self, DeliveryFacts, Notice, NoticeKind, NotifySettings, Overlap};
use crate::ports::{
    Clock, DomainEvent, EnrolCommand, Enrolled, EventPublisher, ImportCounts, Mailer, Promoted,
    QueuedNotice, QuotaCharge, RosterLine, RowOutcome, SessionPatch, SessionQuery,
    StatisticsSnapshot, Store, TrainingDemand, WithdrawCommand, WithdrawOutcome,
};
use crate::rules::{self, Schedule};
use crate::statistics::{self, StatisticsQuery};
use crate::time::{Instant, paris};
use chrono::{Duration, NaiveDate, NaiveTime};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Everything a use case needs, built once at cold start.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub events: Arc<dyn EventPublisher>,
    /// What the emails need besides the records: the app's address, the link secret, the
    /// organiser of the calendar invitations.
    pub notify: NotifySettings,
    /// Months after the end of an accompaniment before the officer's data are purged.
    pub retention_months: u32,
    /// Answers kept while they hold (the officers' listing, on the embedded store).
    pub answers: Arc<crate::cache::AnswerCache>,
}

impl Deps {
    pub fn now(&self) -> Instant {
        self.clock.now()
    }
}

/// The caller, as identified from the request's claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Officer(Officer),
    Staff(Staff),
}

// ---------------------------------------------------------------------------------------------
// Reading sessions

/// A session as listed: its training's essentials, seats and waiting list.
#[derive(Clone, Debug, Serialize)]
pub struct SessionSummary {
    #[serde(flatten)]
    pub session: Session,
    pub daily_hours: String,
    pub training: TrainingBrief,
    pub seats_left: u32,
    pub seats_filled: u32,
    /// Σ seats filled / capacity, in per-mille (`None` at capacity 0).
    pub fill_permille: Option<u32>,
    pub waiting_list_length: u32,
    pub waiting_list_open: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainingBrief {
    pub id: TrainingId,
    pub code: String,
    pub title: String,
    pub theme: String,
    pub modality: Modality,
}

impl From<&Training> for TrainingBrief {
    fn from(t: &Training) -> Self {
        Self {
            id: t.id.clone(),
            code: t.code.clone(),
            title: t.title.clone(),
            theme: t.theme.clone(),
            modality: t.modality,
        }
    }
}

/// The caller's own standing in a session.
#[derive(Clone, Debug, Serialize)]
pub struct MyStanding {
    pub status: EnrolmentStatus,
    pub late: bool,
    pub position: Option<u32>,
    #[serde(with = "crate::time::paris_serde::option")]
    pub offer_expires_at: Option<Instant>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub summary: SessionSummary,
    pub me: Option<MyStanding>,
}

async fn trainings_by_id(deps: &Deps) -> Result<HashMap<TrainingId, Training>> {
    Ok(deps
        .store
        .trainings(true)
        .await?
        .into_iter()
        .map(|t| (t.training.id.clone(), t.training))
        .collect())
}

fn summarise(session: Session, training: &Training, now: Instant) -> SessionSummary {
    // Open to newcomers: the session is still scheduled and its enrolment window not over.
    let open = session.status == SessionStatus::Scheduled
        && now <= session.enrolment_closes_at
        && now < session.starts_at;
    SessionSummary {
        daily_hours: session.hours.render(),
        training: training.into(),
        seats_left: session.seats_left(),
        seats_filled: session.seats_filled(),
        fill_permille: statistics::permille(session.seats_filled(), session.capacity),
        waiting_list_length: session.waiting,
        waiting_list_open: open && session.waitlist.is_on(),
        session,
    }
}

/// Upcoming sessions for officers (from now on unless `from` says otherwise), or every session
/// for staff.
pub async fn list_sessions(deps: &Deps, mut query: SessionQuery) -> Result<Vec<SessionSummary>> {
    if query.from.is_none() && !query.include_cancelled {
        query.from = Some(deps.now());
    }
    let trainings = trainings_by_id(deps).await?;
    let sessions = deps.store.sessions(&query).await?;
    Ok(sessions
        .into_iter()
        .filter_map(|s| {
            let t = trainings.get(&s.training_id)?;
            Some(summarise(s, t, deps.now()))
        })
        .collect())
}

/// Until when a listing read at `now` stays the same, the store unchanged: the first instant
/// where a listed session's enrolment closes (`enrolment_closes_at` is the last instant still
/// open), where it starts (no longer open) or just after (it leaves the list of upcoming
/// sessions), and at most an hour.
pub fn listing_holds_until(sessions: &[SessionSummary], now: Instant) -> Instant {
    let tick = chrono::Duration::microseconds(1);
    sessions
        .iter()
        .flat_map(|s| {
            let s = &s.session;
            [
                s.enrolment_closes_at + tick,
                s.starts_at,
                s.starts_at + tick,
            ]
        })
        .filter(|at| *at > now)
        .fold(now + chrono::Duration::hours(1), Instant::min)
}

async fn load_session(deps: &Deps, id: &SessionId) -> Result<(Session, Training)> {
    let session = deps
        .store
        .session(id)
        .await?
        .ok_or_else(DomainError::session_not_found)?;
    let training = deps
        .store
        .training(&session.training_id)
        .await?
        .ok_or_else(DomainError::training_not_found)?;
    Ok((session, training))
}

pub async fn session_detail(
    deps: &Deps,
    id: &SessionId,
    officer: Option<&OfficerId>,
) -> Result<SessionDetail> {
    let (session, training) = load_session(deps, id).await?;
    let me = match officer {
        Some(o) => standing(deps, id, o).await?,
        None => None,
    };
    Ok(SessionDetail {
        summary: summarise(session, &training, deps.now()),
        me,
    })
}

async fn standing(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
) -> Result<Option<MyStanding>> {
    let Some(e) = deps.store.enrolment(session, officer).await? else {
        return Ok(None);
    };
    let position = if e.status == EnrolmentStatus::Waitlisted {
        deps.store.waitlist_position(session, officer).await?
    } else {
        None
    };
    Ok(Some(MyStanding {
        status: e.status,
        late: e.late,
        position,
        offer_expires_at: e
            .offer_expires_at
            .filter(|_| e.status == EnrolmentStatus::Offered),
    }))
}

// ---------------------------------------------------------------------------------------------
// Enrolling, withdrawing, answering offers

/// Enrols an officer. `quota`, for an officer's own request ([`change_charge`]), is counted in
/// the enrolment's transaction. The notice the enrolment queued is sent once the request has
/// answered, by the sender that [`DomainEvent::NoticesQueued`] wakes. `officer_record` is the
/// record the caller already holds (the authenticated officer, or the one a staff member
/// names): the store may copy it onto the enrolment without reading it again.
pub async fn enrol(
    deps: &Deps,
    session: &SessionId,
    officer_record: &Officer,
    actor: Actor,
    idempotency_key: Option<String>,
    quota: Option<QuotaCharge>,
) -> Result<Enrolled> {
    let officer = &officer_record.id;
    let cmd = EnrolCommand {
        session_id: session.clone(),
        officer_id: officer.clone(),
        actor,
        now: deps.now(),
        idempotency_key,
        quota,
        officer: Some(officer_record.clone()),
    };
    let enrolled = deps.store.enrol(&cmd).await?;
    if !enrolled.replayed {
        let status = match enrolled.outcome {
            crate::ports::EnrolOutcome::Confirmed => EnrolmentStatus::Confirmed,
            crate::ports::EnrolOutcome::Waitlisted { .. } => EnrolmentStatus::Waitlisted,
        };
        publish(
            deps,
            vec![
                DomainEvent::EnrolmentChanged {
                    session_id: session.clone(),
                    officer_id: officer.clone(),
                    status,
                },
                DomainEvent::NoticesQueued,
            ],
        )
        .await;
    }
    Ok(enrolled)
}

pub async fn withdraw(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
    actor: Actor,
) -> Result<WithdrawOutcome> {
    let cmd = WithdrawCommand {
        session_id: session.clone(),
        officer_id: officer.clone(),
        actor,
        now: deps.now(),
    };
    // A freed seat that the session's mode gives at once went to the head of the waiting list
    // in the same transaction; the SeatReleased event still follows, so that promote-waitlist
    // catches up on what that promotion did not do (it finds nothing left otherwise).
    let by_staff = cmd.actor.origin == crate::model::Origin::Staff;
    let withdrawal = deps.store.withdraw(&cmd).await.map_err(|mut e| {
        // The stores speak to the officer; a member of staff asked about someone else.
        if by_staff && e.code == "enrolment-not-found" {
            e.detail = "Cet officier n'est pas inscrit à cette session.".into();
        }
        e
    })?;
    if !withdrawal.promoted.is_empty() {
        tracing::info!(
            promoted = withdrawal.promoted.len(),
            "the freed seat went to the waiting list"
        );
    }
    let outcome = withdrawal.outcome;
    let mut events = vec![DomainEvent::EnrolmentChanged {
        session_id: session.clone(),
        officer_id: officer.clone(),
        status: match outcome {
            WithdrawOutcome::Withdrawn { .. } => EnrolmentStatus::Withdrawn,
            WithdrawOutcome::LeftWaitlist | WithdrawOutcome::DeclinedOffer => {
                EnrolmentStatus::Declined
            }
        },
    }];
    if matches!(
        outcome,
        WithdrawOutcome::Withdrawn { .. } | WithdrawOutcome::DeclinedOffer
    ) {
        events.push(DomainEvent::SeatReleased {
            session_id: session.clone(),
        });
    }
    events.push(DomainEvent::NoticesQueued);
    publish(deps, events).await;
    Ok(outcome)
}

pub async fn answer_offer(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
    accept: bool,
    actor: Actor,
) -> Result<EnrolmentStatus> {
    let status = deps
        .store
        .answer_offer(session, officer, accept, &actor, deps.now())
        .await?;
    let mut events = vec![DomainEvent::EnrolmentChanged {
        session_id: session.clone(),
        officer_id: officer.clone(),
        status,
    }];
    if !accept {
        events.push(DomainEvent::SeatReleased {
            session_id: session.clone(),
        });
    }
    events.push(DomainEvent::NoticesQueued);
    publish(deps, events).await;
    Ok(status)
}

// ---------------------------------------------------------------------------------------------
// Quotas

/// How many changes an officer may make to their enrolments and requests in
/// [`CHANGE_WINDOW_MINUTES`]: far more than a person needs, few enough to stop a script.
pub const CHANGE_LIMIT: u32 = 10;
pub const CHANGE_WINDOW_MINUTES: i64 = 10;

/// One change counted against an officer's quota, to give back if the change is refused.
#[derive(Clone, Debug)]
pub struct CountedChange {
    subject: String,
    use_id: String,
    window_start: Instant,
}

/// Gives back a counted change that was refused: only changes made count.
pub async fn uncount_change(deps: &Deps, counted: &CountedChange) {
    if let Err(e) = deps
        .store
        .release_quota(&counted.subject, &counted.use_id, counted.window_start)
        .await
    {
        tracing::warn!(error = %e, "could not give back a quota use");
    }
}

/// One change by the officer, to count against [`CHANGE_LIMIT`] in the current fixed window of
/// [`CHANGE_WINDOW_MINUTES`]: by [`count_change`] before the change, or by the change's own
/// transaction (an enrolment).
pub fn change_charge(deps: &Deps, officer: &OfficerId) -> QuotaCharge {
    let now = deps.now();
    let window = CHANGE_WINDOW_MINUTES * 60;
    let start_secs = now.timestamp().div_euclid(window) * window;
    QuotaCharge {
        subject: format!("changes:{officer}"),
        use_id: crate::ids::fresh(),
        window_start: chrono::DateTime::from_timestamp(start_secs, 0).unwrap_or(now),
        window_seconds: window,
        limit: CHANGE_LIMIT,
    }
}

/// Counts one change by the officer, or refuses it (`too-many-changes`, with the seconds until
/// the window ends) once [`CHANGE_LIMIT`] are counted in the current fixed window. The count
/// is kept by the store, so that every function instance sees the same one.
pub async fn count_change(deps: &Deps, officer: &OfficerId) -> Result<CountedChange> {
    let charge = change_charge(deps, officer);
    if deps
        .store
        .take_quota(
            &charge.subject,
            &charge.use_id,
            charge.window_start,
            charge.window_seconds,
            charge.limit,
        )
        .await?
    {
        return Ok(CountedChange {
            subject: charge.subject,
            use_id: charge.use_id,
            window_start: charge.window_start,
        });
    }
    Err(charge.refusal(deps.now()))
}

// ---------------------------------------------------------------------------------------------
// Jobs: promotion, offer expiry, reminders, statistics

/// promote-waitlist's entry point for one event. Events that free no seat are ignored, and a
/// repeated event finds nothing left to do.
pub async fn on_event(deps: &Deps, event: &DomainEvent) -> Result<Vec<Promoted>> {
    let promoted = promote_on(deps, event).await?;
    if !promoted.is_empty() {
        drain_outbox(deps, JOB_BUDGET).await;
    }
    Ok(promoted)
}

/// The promotions an event calls for (seats freed or added), without sending their notices:
/// what the local bus does at once, leaving the notices to its sender.
pub async fn promote_on(deps: &Deps, event: &DomainEvent) -> Result<Vec<Promoted>> {
    match event {
        DomainEvent::SeatReleased { session_id } | DomainEvent::CapacityRaised { session_id } => {
            deps.store.promote(session_id, deps.now()).await
        }
        _ => Ok(Vec::new()),
    }
}

/// The periodic sweep: expire offers whose time is up and pass their seats on, then send what
/// the outbox still holds (what requests left behind, and retries of failed sends).
pub async fn sweep_offers(deps: &Deps) -> Result<u32> {
    let now = deps.now();
    let sessions = deps.store.expire_offers(now).await?;
    let mut passed_on = 0;
    for s in &sessions {
        passed_on += deps.store.promote(s, now).await?.len() as u32;
    }
    drain_outbox(deps, JOB_BUDGET).await;
    Ok(passed_on)
}

/// When the J-`days` reminder of a session is due: 09:00 Paris wall-clock time, `days`
/// calendar days before the first day (not the start minus n × 24 hours).
pub fn reminder_due(session: &Session, days: i64) -> Option<Instant> {
    let day = session.first_day.checked_sub_signed(Duration::days(days))?;
    let nine = NaiveTime::from_hms_opt(9, 0, 0)?;
    paris(day, nine).ok()
}

/// send-reminders: queues the reminders that are due, each exactly once per schedule version.
/// An officer confirmed after a reminder's time gets no late copy of it, and a J-7 reminder
/// that was missed is not sent once J-1 is due. Then drains the outbox.
pub async fn send_reminders(deps: &Deps) -> Result<u32> {
    let queued = queue_reminders(deps).await?;
    drain_outbox(deps, JOB_BUDGET).await;
    Ok(queued)
}

/// The reminders that are due, queued once each (see [`send_reminders`]), not yet sent.
pub async fn queue_reminders(deps: &Deps) -> Result<u32> {
    let now = deps.now();
    let candidates = deps
        .store
        .confirmed_between(now, now + Duration::days(8))
        .await?;
    let mut notices = Vec::new();
    for (session, enrolment) in candidates {
        let j7 = reminder_due(&session, 7);
        let j1 = reminder_due(&session, 1);
        let confirmed_at = enrolment.confirmed_at.unwrap_or(enrolment.joined_at);
        let due = |at: Option<Instant>| at.is_some_and(|t| t <= now && confirmed_at <= t);
        let kind = if due(j1) {
            Some(NoticeKind::ReminderJ1)
        } else if due(j7) && j1.is_none_or(|t| now < t) {
            Some(NoticeKind::ReminderJ7)
        } else {
            None
        };
        if let Some(kind) = kind {
            notices.push(Notice {
                officer_id: enrolment.officer_id.clone(),
                session_id: session.id.clone(),
                kind,
                version: session.schedule_version,
            });
        }
    }
    deps.store.queue_notices(&notices, now).await
}

/// Sessions whose officers are still asked for their opinion this many days after the end:
/// older ones (such as the history imported on a first start) are not.
pub const FEEDBACK_WINDOW_DAYS: i64 = 30;

/// The longest feedback comment accepted, in characters.
pub const MAX_FEEDBACK_COMMENT: usize = 2000;

async fn statistics_inputs(
    deps: &Deps,
) -> Result<(
    Vec<(Session, Vec<Enrolment>)>,
    HashMap<TrainingId, Training>,
    Vec<Feedback>,
)> {
    Ok((
        deps.store.all_sessions_with_enrolments().await?,
        trainings_by_id(deps).await?,
        deps.store.all_feedback().await?,
    ))
}

/// The statistics staff read, computed now from the live records (see `statistics`).
pub async fn statistics(deps: &Deps, query: &StatisticsQuery) -> Result<StatisticsSnapshot> {
    let (sessions, trainings, feedback) = statistics_inputs(deps).await?;
    Ok(statistics::compute(
        deps.now(),
        &sessions,
        &trainings,
        &feedback,
        query,
    ))
}

/// compute-statistics: stores the all-time figures per training, and asks the officers who
/// attended a session that ended in the last [`FEEDBACK_WINDOW_DAYS`] days for their opinion
/// (each officer once per session: the outbox's uniqueness). Answers the snapshot and how
/// many requests were queued.
pub async fn compute_statistics(deps: &Deps) -> Result<(StatisticsSnapshot, u32)> {
    let now = deps.now();
    let (sessions, trainings, feedback) = statistics_inputs(deps).await?;
    let snapshot = statistics::compute(
        now,
        &sessions,
        &trainings,
        &feedback,
        &StatisticsQuery::all_time(),
    );
    deps.store.save_statistics(&snapshot).await?;

    let answered: std::collections::HashSet<(&SessionId, &OfficerId)> = feedback
        .iter()
        .map(|f| (&f.session_id, &f.officer_id))
        .collect();
    let window_start = now - Duration::days(FEEDBACK_WINDOW_DAYS);
    let mut requests = Vec::new();
    for (session, enrolments) in &sessions {
        if session.status == SessionStatus::Cancelled
            || session.ends_at > now
            || session.ends_at < window_start
        {
            continue;
        }
        for e in enrolments {
            if e.status == EnrolmentStatus::Attended
                && !answered.contains(&(&session.id, &e.officer_id))
            {
                requests.push(Notice {
                    officer_id: e.officer_id.clone(),
                    session_id: session.id.clone(),
                    kind: NoticeKind::FeedbackRequest,
                    version: 1,
                });
            }
        }
    }
    let queued = deps.store.queue_notices(&requests, now).await?;
    drain_outbox(deps, JOB_BUDGET).await;
    Ok((snapshot, queued))
}

/// An officer's answer as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackInput {
    pub rating: u32,
    pub relevance: u32,
    pub comment: Option<String>,
}

fn check_score(field: &str, value: u32, what: &str) -> Result<u8> {
    match u8::try_from(value) {
        Ok(v @ 1..=5) => Ok(v),
        _ => Err(DomainError::field(
            field,
            format!("{what} va de 1 à 5 (reçu : {value})."),
        )),
    }
}

/// Trims a comment; refuses one over [`MAX_FEEDBACK_COMMENT`] characters or holding control
/// characters other than line breaks and tabs. An empty comment is no comment.
fn check_comment(raw: Option<&str>) -> Result<Option<String>> {
    let Some(c) = raw.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let length = c.chars().count();
    if length > MAX_FEEDBACK_COMMENT {
        return Err(DomainError::field(
            "comment",
            format!(
                "Le commentaire est limité à {MAX_FEEDBACK_COMMENT} caractères ({length} reçus)."
            ),
        ));
    }
    if c.chars()
        .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::field(
            "comment",
            "Le commentaire contient des caractères de contrôle non admis.",
        ));
    }
    Ok(Some(c.to_string()))
}

/// An officer who attended a session gives their opinion, once.
pub async fn give_feedback(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
    input: FeedbackInput,
) -> Result<Feedback> {
    let feedback = Feedback {
        session_id: session.clone(),
        officer_id: officer.clone(),
        rating: check_score("rating", input.rating, "La note")?,
        relevance: check_score("relevance", input.relevance, "L'intérêt pour votre projet")?,
        comment: check_comment(input.comment.as_deref())?,
        at: deps.now(),
    };
    deps.store
        .session(session)
        .await?
        .ok_or_else(DomainError::session_not_found)?;
    deps.store.save_feedback(&feedback).await?;
    // The scores only: a comment is free text, shown to staff with the answers.
    let line = AuditEntry::new(
        AuditAction::FeedbackGiven,
        &Actor::officer(officer),
        feedback.at,
    )
    .officer(officer)
    .session(session)
    .created(&serde_json::json!({
        "rating": feedback.rating,
        "relevance": feedback.relevance,
    }));
    record(deps, vec![line]).await;
    Ok(feedback)
}

/// One answer as staff read it.
#[derive(Clone, Debug, Serialize)]
pub struct FeedbackLine {
    #[serde(flatten)]
    pub feedback: Feedback,
    pub officer_name: String,
}

/// What staff read about a session's feedback: aggregates, then every answer with comments.
#[derive(Clone, Debug, Serialize)]
pub struct FeedbackReport {
    pub session: SessionSummary,
    pub answers: u32,
    /// Officers marked present, who may answer.
    pub attended: u32,
    pub rating_mean_hundredths: Option<u32>,
    pub relevance_mean_hundredths: Option<u32>,
    /// How many answers gave 1, 2, 3, 4 and 5.
    pub rating_counts: [u32; 5],
    pub relevance_counts: [u32; 5],
    pub lines: Vec<FeedbackLine>,
}

pub async fn feedback_report(deps: &Deps, id: &SessionId) -> Result<FeedbackReport> {
    let (session, training) = load_session(deps, id).await?;
    let roster = deps.store.roster(id).await?;
    let names: HashMap<&OfficerId, String> = roster
        .iter()
        .map(|l| {
            (
                &l.officer.id,
                format!("{} {}", l.officer.first_name, l.officer.last_name),
            )
        })
        .collect();
    let answers = deps.store.session_feedback(id).await?;
    let refs: Vec<&Feedback> = answers.iter().collect();
    let figures = statistics::figures_of(&session, Some(&training), &[], &refs);
    let totals = statistics::row("session", String::new(), String::new(), figures);
    let mut rating_counts = [0; 5];
    let mut relevance_counts = [0; 5];
    for a in &answers {
        rating_counts[usize::from(a.rating.clamp(1, 5) - 1)] += 1;
        relevance_counts[usize::from(a.relevance.clamp(1, 5) - 1)] += 1;
    }
    let attended = roster
        .iter()
        .filter(|l| l.enrolment.status == EnrolmentStatus::Attended)
        .count() as u32;
    let lines = answers
        .into_iter()
        .map(|f| FeedbackLine {
            officer_name: names.get(&f.officer_id).cloned().unwrap_or_default(),
            feedback: f,
        })
        .collect::<Vec<_>>();
    Ok(FeedbackReport {
        session: summarise(session, &training, deps.now()),
        answers: lines.len() as u32,
        attended,
        rating_mean_hundredths: totals.rating_mean_hundredths,
        relevance_mean_hundredths: totals.relevance_mean_hundredths,
        rating_counts,
        relevance_counts,
        lines,
    })
}

// ---------------------------------------------------------------------------------------------
// Officer read side

#[derive(Clone, Debug, Serialize)]
pub struct MyEnrolment {
    #[serde(flatten)]
    pub enrolment: Enrolment,
    pub position: Option<u32>,
    pub session: SessionSummary,
    /// For a session attended: `given` once the officer answered, `requested` after the
    /// session has ended (the app asks, as the email does).
    pub feedback: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Upcoming,
    Past,
    All,
}

pub async fn my_enrolments(
    deps: &Deps,
    officer: &OfficerId,
    when: When,
) -> Result<Vec<MyEnrolment>> {
    let now = deps.now();
    let trainings = trainings_by_id(deps).await?;
    let mut out = Vec::new();
    for e in deps.store.officer_enrolments(officer).await? {
        let Some(session) = deps.store.session(&e.session_id).await? else {
            continue;
        };
        // "Upcoming" is what the officer still takes part in; everything else (attended,
        // absent, withdrawn, declined, a cancelled session) is history.
        let upcoming = e.status.is_active()
            && session.ends_at > now
            && session.status != SessionStatus::Cancelled;
        let keep = match when {
            When::Upcoming => upcoming,
            When::Past => !upcoming,
            When::All => true,
        };
        let Some(training) = trainings.get(&session.training_id) else {
            continue;
        };
        if keep {
            let position = if e.status == EnrolmentStatus::Waitlisted {
                deps.store.waitlist_position(&e.session_id, officer).await?
            } else {
                None
            };
            let feedback = if e.status == EnrolmentStatus::Attended {
                let given = deps
                    .store
                    .session_feedback(&e.session_id)
                    .await?
                    .iter()
                    .any(|f| f.officer_id == *officer);
                match (given, session.ends_at <= now) {
                    (true, _) => Some("given"),
                    (false, true) => Some("requested"),
                    (false, false) => None,
                }
            } else {
                None
            };
            out.push(MyEnrolment {
                enrolment: e,
                position,
                session: summarise(session, training, deps.now()),
                feedback,
            });
        }
    }
    out.sort_by_key(|m| m.session.session.starts_at);
    if when == When::Past {
        out.reverse();
    }
    Ok(out)
}

/// An officer's calendar feed (`GET /me/calendar.ics`): one event per seat confirmed,
/// attended or given up, with the UIDs and sequences of the invitations emailed to them.
pub async fn calendar_feed(deps: &Deps, officer: &OfficerId) -> Result<String> {
    let me = deps
        .store
        .officer(officer)
        .await?
        .ok_or_else(DomainError::officer_not_found)?;
    let trainings = trainings_by_id(deps).await?;
    let mut entries = Vec::new();
    for e in deps.store.officer_enrolments(officer).await? {
        let Some(session) = deps.store.session(&e.session_id).await? else {
            continue;
        };
        let Some(training) = trainings.get(&session.training_id) else {
            continue;
        };
        let history = deps.store.enrolment_history(&e.id).await?.len();
        if let Some(entry) = crate::calendar::FeedEntry::of(&session, training, &e, history) {
            entries.push(entry);
        }
    }
    entries.sort_by_key(|e| e.session.starts_at);
    Ok(crate::calendar::feed(
        &me,
        &entries,
        &deps.notify.organizer,
        deps.now(),
    ))
}

/// One planned training and how far the officer got with it.
#[derive(Clone, Debug, Serialize)]
pub struct ProgrammeProgress {
    pub training: TrainingBrief,
    pub kind: ProgrammeKind,
    /// `done` (attended a session), `enrolled` (confirmed in an upcoming one), `waiting`,
    /// or `todo`.
    pub progress: &'static str,
    pub session_id: Option<SessionId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Programme {
    pub items: Vec<ProgrammeProgress>,
    pub planned: u32,
    pub done: u32,
    pub required_left: u32,
}

/// An officer's programme, with progress derived from attendance and current enrolments.
pub async fn programme(deps: &Deps, officer: &OfficerId) -> Result<Programme> {
    let trainings = trainings_by_id(deps).await?;
    let mut mine = Vec::new();
    for e in deps.store.officer_enrolments(officer).await? {
        if let Some(s) = deps.store.session(&e.session_id).await? {
            mine.push((e, s));
        }
    }
    let items = deps.store.programme(officer).await?;
    Ok(programme_of(items, &mine, &trainings, deps.now()))
}

/// Progress of each planned training, from the officer's enrolments and their sessions.
fn programme_of(
    planned: Vec<ProgrammeItem>,
    mine: &[(Enrolment, Session)],
    trainings: &HashMap<TrainingId, Training>,
    now: Instant,
) -> Programme {
    let mut items = Vec::new();
    for item in planned {
        let Some(training) = trainings.get(&item.training_id) else {
            continue;
        };
        let find = |pred: &dyn Fn(&Enrolment, &Session) -> bool| {
            mine.iter()
                .filter(|(_, s)| s.training_id == item.training_id)
                .find(|(e, s)| pred(e, s))
                .map(|(_, s)| s.id.clone())
        };
        let (progress, session_id) =
            if let Some(s) = find(&|e, _| e.status == EnrolmentStatus::Attended) {
                ("done", Some(s))
            } else if let Some(s) = find(&|e, s| {
                e.status == EnrolmentStatus::Confirmed
                    && s.ends_at > now
                    && s.status == SessionStatus::Scheduled
            }) {
                ("enrolled", Some(s))
            } else if let Some(s) = find(&|e, s| {
                matches!(
                    e.status,
                    EnrolmentStatus::Waitlisted | EnrolmentStatus::Offered
                ) && s.starts_at > now
            }) {
                ("waiting", Some(s))
            } else {
                ("todo", None)
            };
        items.push(ProgrammeProgress {
            training: training.into(),
            kind: item.kind,
            progress,
            session_id,
        });
    }
    let done = items.iter().filter(|i| i.progress == "done").count() as u32;
    let required_left = items
        .iter()
        .filter(|i| i.kind == ProgrammeKind::Required && i.progress != "done")
        .count() as u32;
    Programme {
        planned: items.len() as u32,
        done,
        required_left,
        items,
    }
}

/// How far one officer is with their programme, for staff.
#[derive(Clone, Debug, Serialize)]
pub struct ProgrammeFollowUp {
    pub officer: Officer,
    pub planned: u32,
    pub done: u32,
    pub required_left: u32,
    /// Planned trainings that should be done by today, pro rata of the accompaniment elapsed
    /// (rounded up); all of them once it has ended.
    pub expected_done: u32,
    /// Fewer done than expected.
    pub behind: bool,
    /// Time spent in the sessions attended (any training, planned or not), in minutes.
    pub minutes_attended: u32,
    pub sessions_attended: u32,
    /// Themes of the sessions attended, in alphabetical order.
    pub themes_covered: Vec<String>,
}

/// Minutes of a session: its daily hours on each of its days.
fn session_minutes(s: &Session) -> u32 {
    let days = (s.last_day - s.first_day).num_days() + 1;
    let daily = (s.hours.end - s.hours.start).num_minutes();
    u32::try_from((days * daily).max(0)).unwrap_or(u32::MAX)
}

/// Planned trainings expected to be done by `today`: pro rata of the accompaniment elapsed.
pub fn expected_done(planned: u32, start: NaiveDate, end: NaiveDate, today: NaiveDate) -> u32 {
    if today >= end {
        return planned;
    }
    if today <= start {
        return 0;
    }
    let total = (end - start).num_days().max(1) as u64;
    let elapsed = (today - start).num_days().max(0) as u64;
    (u64::from(planned) * elapsed).div_ceil(total) as u32
}

/// Every officer's programme follow-up, sorted by the end of their accompaniment (soonest
/// first); only those behind when `behind_only`.
pub async fn programme_follow_up(deps: &Deps, behind_only: bool) -> Result<Vec<ProgrammeFollowUp>> {
    let now = deps.now();
    let today = crate::time::in_paris(now).date_naive();
    let trainings = trainings_by_id(deps).await?;
    let sessions: HashMap<SessionId, Session> = deps
        .store
        .sessions(&SessionQuery {
            include_cancelled: true,
            ..SessionQuery::default()
        })
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    let mut out = Vec::new();
    for officer in deps.store.officers().await? {
        let mine: Vec<(Enrolment, Session)> = deps
            .store
            .officer_enrolments(&officer.id)
            .await?
            .into_iter()
            .filter_map(|e| Some((e.clone(), sessions.get(&e.session_id)?.clone())))
            .collect();
        let items = deps.store.programme(&officer.id).await?;
        let p = programme_of(items, &mine, &trainings, now);
        let attended: Vec<&Session> = mine
            .iter()
            .filter(|(e, _)| e.status == EnrolmentStatus::Attended)
            .map(|(_, s)| s)
            .collect();
        let mut themes: Vec<String> = attended
            .iter()
            .filter_map(|s| trainings.get(&s.training_id).map(|t| t.theme.clone()))
            .collect();
        themes.sort();
        themes.dedup();
        let expected = expected_done(
            p.planned,
            officer.accompaniment_start,
            officer.accompaniment_end,
            today,
        );
        let behind = p.done < expected;
        if behind_only && !behind {
            continue;
        }
        out.push(ProgrammeFollowUp {
            planned: p.planned,
            done: p.done,
            required_left: p.required_left,
            expected_done: expected,
            behind,
            minutes_attended: attended.iter().map(|s| session_minutes(s)).sum(),
            sessions_attended: attended.len() as u32,
            themes_covered: themes,
            officer,
        });
    }
    out.sort_by(|a, b| {
        (
            a.officer.accompaniment_end,
            &a.officer.last_name,
            &a.officer.id,
        )
            .cmp(&(
                b.officer.accompaniment_end,
                &b.officer.last_name,
                &b.officer.id,
            ))
    });
    Ok(out)
}

/// One enrolment as staff list and export them.
#[derive(Clone, Debug, Serialize)]
pub struct EnrolmentLine {
    #[serde(flatten)]
    pub enrolment: Enrolment,
    pub session_reference: String,
    #[serde(with = "crate::time::paris_serde")]
    pub session_starts_at: Instant,
    pub training_code: String,
    pub training_title: String,
    pub officer: Officer,
}

/// Every enrolment of the live sessions that start on a Paris day within `from..=to`, by
/// session start, then officer name.
pub async fn enrolment_lines(
    deps: &Deps,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<EnrolmentLine>> {
    let trainings = trainings_by_id(deps).await?;
    let officers: HashMap<OfficerId, Officer> = deps
        .store
        .officers()
        .await?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();
    let mut out = Vec::new();
    for (session, enrolments) in deps.store.all_sessions_with_enrolments().await? {
        if from.is_some_and(|f| session.first_day < f) || to.is_some_and(|t| session.first_day > t)
        {
            continue;
        }
        let (code, title) = trainings
            .get(&session.training_id)
            .map(|t| (t.code.clone(), t.title.clone()))
            .unwrap_or_default();
        for e in enrolments {
            let Some(officer) = officers.get(&e.officer_id) else {
                continue;
            };
            out.push(EnrolmentLine {
                enrolment: e,
                session_reference: session.reference.clone(),
                session_starts_at: session.starts_at,
                training_code: code.clone(),
                training_title: title.clone(),
                officer: officer.clone(),
            });
        }
    }
    out.sort_by(|a, b| {
        (
            a.session_starts_at,
            &a.session_reference,
            &a.officer.last_name,
            &a.officer.id,
        )
            .cmp(&(
                b.session_starts_at,
                &b.session_reference,
                &b.officer.last_name,
                &b.officer.id,
            ))
    });
    Ok(out)
}

pub async fn register_interest(
    deps: &Deps,
    officer: &OfficerId,
    training: &TrainingId,
) -> Result<bool> {
    let t = deps
        .store
        .training(training)
        .await?
        .ok_or_else(DomainError::training_not_found)?;
    if t.archived {
        return Err(DomainError::conflict(
            "training-archived",
            "Cette formation n'est plus proposée.",
        ));
    }
    let new = deps
        .store
        .register_interest(officer, training, deps.now())
        .await?;
    if new {
        let line = AuditEntry::new(
            AuditAction::InterestRegistered,
            &Actor::officer(officer),
            deps.now(),
        )
        .officer(officer)
        .training(training);
        record(deps, vec![line]).await;
    }
    Ok(new)
}

// ---------------------------------------------------------------------------------------------
// Staff: catalogue and planning

/// A training as staff enter it: the same fields as a row of `catalogue.csv`.
pub type TrainingInput = crate::import::TrainingRow;

pub(crate) fn check_text(field: &str, value: &str, max: usize, required: bool) -> Result<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(DomainError::field(field, "Ce champ est obligatoire."));
    }
    if v.chars().count() > max {
        return Err(DomainError::field(
            field,
            format!("{max} caractères au maximum."),
        ));
    }
    if v.chars().any(import::is_forbidden) {
        return Err(DomainError::field(
            field,
            "Les retours à la ligne et caractères de contrôle ne sont pas admis.",
        ));
    }
    Ok(v.to_string())
}

/// Checks a training as staff typed it; the import checks its rows the same way.
fn validate_training(input: TrainingInput, id: TrainingId, archived: bool) -> Result<Training> {
    let code = check_text("code", &input.code, 30, true)?.to_uppercase();
    if input.length_days == 0 || input.length_days > 365 {
        return Err(DomainError::field(
            "length_days",
            "La durée doit être comprise entre 1 et 365 jours.",
        ));
    }
    if input.max_group == 0 || input.max_group > rules::MAX_CAPACITY {
        return Err(DomainError::field(
            "max_group",
            "L'effectif maximum doit être compris entre 1 et 1000.",
        ));
    }
    if input.min_group > input.max_group {
        return Err(DomainError::field(
            "min_group",
            "L'effectif minimum ne peut dépasser l'effectif maximum.",
        ));
    }
    Ok(Training {
        id,
        code,
        title: check_text("title", &input.title, 300, true)?,
        theme: check_text("theme", &input.theme, 100, true)?,
        modality: input.modality,
        length_days: input.length_days,
        provider: check_text("provider", &input.provider, 300, false)?,
        session_cost: input.session_cost,
        trainee_cost: input.trainee_cost,
        min_group: input.min_group,
        max_group: input.max_group,
        archived,
    })
}

pub async fn create_training(deps: &Deps, input: TrainingInput, actor: Actor) -> Result<Training> {
    let training = validate_training(input, TrainingId::generate(), false)?;
    deps.store.insert_training(&training).await?;
    let line = AuditEntry::new(AuditAction::TrainingCreated, &actor, deps.now())
        .training(&training.id)
        .created(&training);
    record(deps, vec![line]).await;
    Ok(training)
}

pub async fn trainings(deps: &Deps, include_archived: bool) -> Result<Vec<TrainingDemand>> {
    deps.store.trainings(include_archived).await
}

pub async fn update_training(
    deps: &Deps,
    id: &TrainingId,
    input: TrainingInput,
    actor: Actor,
) -> Result<Training> {
    let current = deps
        .store
        .training(id)
        .await?
        .ok_or_else(DomainError::training_not_found)?;
    let training = validate_training(input, id.clone(), current.archived)?;
    deps.store.update_training(&training).await?;
    if training != current {
        let line = AuditEntry::new(AuditAction::TrainingUpdated, &actor, deps.now())
            .training(id)
            .changed(&current, &training);
        record(deps, vec![line]).await;
    }
    Ok(training)
}

pub async fn archive_training(deps: &Deps, id: &TrainingId, actor: Actor) -> Result<Training> {
    let mut t = deps
        .store
        .training(id)
        .await?
        .ok_or_else(DomainError::training_not_found)?;
    let was_archived = t.archived;
    t.archived = true;
    deps.store.update_training(&t).await?;
    if !was_archived {
        let line = AuditEntry::new(AuditAction::TrainingArchived, &actor, deps.now())
            .training(id)
            .fields(
                serde_json::json!({ "archived": false }),
                serde_json::json!({ "archived": true }),
            );
        record(deps, vec![line]).await;
    }
    Ok(t)
}

/// A session as staff plan it.
#[derive(Clone, Debug)]
pub struct SessionInput {
    pub training_id: TrainingId,
    pub reference: Option<String>,
    pub schedule: Schedule,
    pub place: String,
    pub capacity: u32,
    pub trainer: Option<String>,
    pub waitlist: WaitlistMode,
}

fn check_waitlist(mode: WaitlistMode) -> Result<()> {
    if let WaitlistMode::Offer { hours } = mode
        && (hours == 0 || hours > 24 * 30)
    {
        return Err(DomainError::field(
            "offer_hours",
            "Le délai de réponse doit être compris entre 1 heure et 30 jours.",
        ));
    }
    Ok(())
}

pub async fn create_session(
    deps: &Deps,
    input: SessionInput,
    actor: Actor,
) -> Result<SessionSummary> {
    let training = deps
        .store
        .training(&input.training_id)
        .await?
        .ok_or_else(|| DomainError::field("training_id", "Formation inconnue."))?;
    if training.archived {
        return Err(DomainError::conflict(
            "training-archived",
            "Cette formation est archivée : réactivez-la avant de planifier une session.",
        ));
    }
    rules::check_capacity(input.capacity, input.waitlist, 0, 0)?;
    check_waitlist(input.waitlist)?;
    let now = deps.now();
    if input.schedule.starts_at <= now {
        return Err(DomainError::field(
            "first_day",
            "Une nouvelle session doit commencer dans le futur.",
        ));
    }
    let id = SessionId::generate();
    let reference = match input.reference {
        Some(r) => check_text("reference", &r, 40, true)?.to_uppercase(),
        None => format!("{}-{}", training.code, &id.as_str()[16..]),
    };
    let trainer = match input.trainer {
        Some(t) => Some(check_text("trainer", &t, 200, false)?).filter(|t| !t.is_empty()),
        None => None,
    };
    let s = input.schedule;
    let session = Session {
        id,
        reference,
        training_id: training.id.clone(),
        first_day: s.first_day,
        last_day: s.last_day,
        hours: s.hours,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        place: check_text("place", &input.place, 300, true)?,
        capacity: input.capacity,
        enrolment_closes_at: s.enrolment_closes_at,
        free_withdrawal_until: s.free_withdrawal_until,
        trainer,
        status: SessionStatus::Scheduled,
        waitlist: input.waitlist,
        seats_taken: 0,
        waiting: 0,
        waiting_peak: 0,
        seats_marked: 0,
        schedule_version: 1,
    };
    deps.store.insert_session(&session, now).await?;
    let line = AuditEntry::new(AuditAction::SessionCreated, &actor, now)
        .session(&session.id)
        .training(&training.id)
        .created(&planning(&session));
    record(deps, vec![line]).await;
    publish(deps, vec![DomainEvent::NoticesQueued]).await;
    Ok(summarise(session, &training, deps.now()))
}

/// An officer confirmed in a moved session and in another one at an overlapping time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Clash {
    pub officer_id: OfficerId,
    pub officer_name: String,
    /// The other session the officer holds a seat in.
    pub other_session_id: SessionId,
    pub other_reference: String,
    pub other_title: String,
    #[serde(with = "crate::time::paris_serde")]
    pub other_starts_at: Instant,
}

/// What staff read after changing a session: the session as it now is, and the officers
/// whose seat in it now clashes with another of their sessions (they are told in the change
/// notice; staff decide what to do).
#[derive(Clone, Debug, Serialize)]
pub struct SessionUpdate {
    #[serde(flatten)]
    pub summary: SessionSummary,
    pub clashes: Vec<Clash>,
}

/// The sessions of `officer`, other than `session`, in which they hold a seat at a time that
/// overlaps it (cancelled and deleted sessions excluded).
pub async fn clashing_sessions(
    deps: &Deps,
    officer: &OfficerId,
    session: &Session,
) -> Result<Vec<Session>> {
    let mut out: Vec<Session> = deps
        .store
        .seated_sessions(officer)
        .await?
        .into_iter()
        .filter(|other| {
            other.id != session.id
                && other.status == SessionStatus::Scheduled
                && notices::sessions_overlap(other, session)
        })
        .collect();
    out.sort_by_key(|s| s.starts_at);
    Ok(out)
}

/// Every clash of the officers seated in `session` (see [`Clash`]).
pub async fn session_clashes(deps: &Deps, session: &Session) -> Result<Vec<Clash>> {
    let titles = trainings_by_id(deps).await?;
    let mut out = Vec::new();
    for line in deps.store.roster(&session.id).await? {
        if !line.enrolment.status.holds_seat() {
            continue;
        }
        for other in clashing_sessions(deps, &line.officer.id, session).await? {
            out.push(Clash {
                officer_id: line.officer.id.clone(),
                officer_name: format!(
                    "{} {} {}",
                    line.officer.grade,
                    line.officer.first_name,
                    notices::display_name(&line.officer.last_name)
                ),
                other_session_id: other.id.clone(),
                other_reference: other.reference.clone(),
                other_title: titles
                    .get(&other.training_id)
                    .map(|t| t.title.clone())
                    .unwrap_or_default(),
                other_starts_at: other.starts_at,
            });
        }
    }
    Ok(out)
}

pub async fn update_session(
    deps: &Deps,
    id: &SessionId,
    mut patch: SessionPatch,
    actor: Actor,
) -> Result<SessionUpdate> {
    if let Some(place) = &patch.place {
        patch.place = Some(check_text("place", place, 300, true)?);
    }
    if let Some(Some(trainer)) = &patch.trainer {
        patch.trainer =
            Some(Some(check_text("trainer", trainer, 200, false)?).filter(|t| !t.is_empty()));
    }
    if let Some(mode) = patch.waitlist {
        check_waitlist(mode)?;
    }
    let before = deps
        .store
        .session(id)
        .await?
        .ok_or_else(DomainError::session_not_found)?;
    let updated = deps
        .store
        .update_session(id, &patch, &actor, deps.now())
        .await?;
    let mut events = Vec::new();
    if updated.capacity_raised {
        events.push(DomainEvent::CapacityRaised {
            session_id: id.clone(),
        });
    }
    if updated.materially_changed {
        events.push(DomainEvent::SessionChanged {
            session_id: id.clone(),
        });
    }
    events.push(DomainEvent::NoticesQueued);
    publish(deps, events).await;
    let (session, training) = load_session(deps, id).await?;
    let (old, new) = (planning(&before), planning(&session));
    if old != new {
        let line = AuditEntry::new(AuditAction::SessionUpdated, &actor, deps.now())
            .session(id)
            .training(&session.training_id)
            .changed(&old, &new);
        record(deps, vec![line]).await;
    }
    let clashes = if updated.materially_changed {
        session_clashes(deps, &session).await?
    } else {
        Vec::new()
    };
    Ok(SessionUpdate {
        summary: summarise(session, &training, deps.now()),
        clashes,
    })
}

pub async fn cancel_session(deps: &Deps, id: &SessionId, actor: Actor) -> Result<SessionSummary> {
    let before = deps.store.session(id).await?.map(|s| s.status);
    let session = deps.store.cancel_session(id, &actor, deps.now()).await?;
    if before != Some(session.status) {
        let line = AuditEntry::new(AuditAction::SessionCancelled, &actor, deps.now())
            .session(id)
            .training(&session.training_id)
            .fields(
                serde_json::json!({ "status": before }),
                serde_json::json!({ "status": session.status }),
            );
        record(deps, vec![line]).await;
    }
    publish(
        deps,
        vec![
            DomainEvent::SessionCancelled {
                session_id: id.clone(),
            },
            DomainEvent::NoticesQueued,
        ],
    )
    .await;
    let training = deps
        .store
        .training(&session.training_id)
        .await?
        .ok_or_else(DomainError::training_not_found)?;
    Ok(summarise(session, &training, deps.now()))
}

/// Soft-deletes a session planned by mistake or imported twice (see `Store::delete_session`).
pub async fn delete_session(deps: &Deps, id: &SessionId, actor: Actor) -> Result<()> {
    let before = deps.store.session(id).await?;
    deps.store.delete_session(id, &actor, deps.now()).await?;
    if let Some(before) = before {
        let line = AuditEntry::new(AuditAction::SessionDeleted, &actor, deps.now())
            .session(id)
            .training(&before.training_id)
            .fields(
                serde_json::json!({ "deleted": false }),
                serde_json::json!({ "deleted": true }),
            );
        record(deps, vec![line]).await;
    }
    Ok(())
}

/// What staff plan of a session, as the audit log compares it: its counters move with every
/// enrolment and are the enrolments' history, not the session's.
fn planning(session: &Session) -> serde_json::Value {
    let mut v = serde_json::to_value(session).unwrap_or(serde_json::Value::Null);
    if let Some(fields) = v.as_object_mut() {
        for counter in ["seats_taken", "waiting", "waiting_peak", "seats_marked"] {
            fields.remove(counter);
        }
    }
    v
}

pub async fn roster(deps: &Deps, id: &SessionId) -> Result<(SessionSummary, Vec<RosterLine>)> {
    let (session, training) = load_session(deps, id).await?;
    let lines = deps.store.roster(id).await?;
    Ok((summarise(session, &training, deps.now()), lines))
}

pub async fn move_in_waitlist(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
    position: u32,
    reason: &str,
    actor: Actor,
) -> Result<u32> {
    let reason = check_text("reason", reason, 500, true)?;
    if position == 0 {
        return Err(DomainError::field("position", "La position commence à 1."));
    }
    let before = deps.store.waitlist_position(session, officer).await?;
    // A move to where the officer already stands changes nothing: nothing is written, so no
    // history line, no audit line and no "Nouveau rang" email telling them of a change that
    // did not happen.
    if before == Some(position) {
        return Ok(position);
    }
    let position = deps
        .store
        .move_in_waitlist(session, officer, position, &reason, &actor, deps.now())
        .await?;
    if before != Some(position) {
        let line = AuditEntry::new(AuditAction::WaitlistMoved, &actor, deps.now())
            .session(session)
            .officer(officer)
            .reason(Some(&reason))
            .fields(
                serde_json::json!({ "position": before }),
                serde_json::json!({ "position": position }),
            );
        record(deps, vec![line]).await;
    }
    publish(deps, vec![DomainEvent::NoticesQueued]).await;
    Ok(position)
}

pub async fn mark_attendance(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
    status: EnrolmentStatus,
    actor: Actor,
) -> Result<()> {
    if !matches!(
        status,
        EnrolmentStatus::Attended | EnrolmentStatus::Absent | EnrolmentStatus::Excused
    ) {
        return Err(DomainError::field(
            "status",
            "Statut de présence attendu : attended, absent ou excused.",
        ));
    }
    deps.store
        .mark_attendance(session, officer, status, &actor, deps.now())
        .await
}

pub async fn plan_training(
    deps: &Deps,
    officer: &OfficerId,
    training: &TrainingId,
    kind: ProgrammeKind,
    by: &StaffId,
) -> Result<ProgrammeItem> {
    deps.store
        .officer(officer)
        .await?
        .ok_or_else(DomainError::officer_not_found)?;
    deps.store
        .training(training)
        .await?
        .ok_or_else(DomainError::training_not_found)?;
    let item = ProgrammeItem {
        officer_id: officer.clone(),
        training_id: training.clone(),
        kind,
        planned_by: by.to_string(),
        planned_at: deps.now(),
    };
    let before = planned_kind(deps, officer, training).await?;
    deps.store.plan_training(&item).await?;
    if before != Some(kind) {
        let line = AuditEntry::new(AuditAction::TrainingPlanned, &Actor::staff(by), deps.now())
            .officer(officer)
            .training(training)
            .fields(
                serde_json::json!({ "kind": before }),
                serde_json::json!({ "kind": kind }),
            );
        record(deps, vec![line]).await;
    }
    Ok(item)
}

/// How a training is on an officer's programme, if it is (what an audit line had before).
async fn planned_kind(
    deps: &Deps,
    officer: &OfficerId,
    training: &TrainingId,
) -> Result<Option<ProgrammeKind>> {
    Ok(deps
        .store
        .programme(officer)
        .await?
        .into_iter()
        .find(|p| &p.training_id == training)
        .map(|p| p.kind))
}

/// Takes a training off an officer's programme; answers false when it was not on it.
pub async fn unplan_training(
    deps: &Deps,
    officer: &OfficerId,
    training: &TrainingId,
    by: &StaffId,
) -> Result<bool> {
    let before = planned_kind(deps, officer, training).await?;
    let removed = deps.store.unplan_training(officer, training).await?;
    if removed {
        let line = AuditEntry::new(
            AuditAction::TrainingUnplanned,
            &Actor::staff(by),
            deps.now(),
        )
        .officer(officer)
        .training(training)
        .fields(
            serde_json::json!({ "kind": before }),
            serde_json::json!({ "kind": null }),
        );
        record(deps, vec![line]).await;
    }
    Ok(removed)
}

// ---------------------------------------------------------------------------------------------
// Imports

#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub kind: String,
    #[serde(flatten)]
    pub counts: ImportCounts,
    pub rejected: u32,
    pub rejected_rows: Vec<RejectedRow>,
    /// Rows not applied because the app holds a newer version, with the reason.
    pub kept_rows: Vec<RejectedRow>,
}

fn tally(
    kind: ImportKind,
    lines: Vec<usize>,
    outcomes: Vec<RowOutcome>,
    mut rejected: Vec<RejectedRow>,
) -> ImportReport {
    let mut counts = ImportCounts::default();
    let mut kept = Vec::new();
    for (line, outcome) in lines.into_iter().zip(outcomes) {
        match outcome {
            RowOutcome::Created => counts.created += 1,
            RowOutcome::Updated => counts.updated += 1,
            RowOutcome::Unchanged => counts.unchanged += 1,
            RowOutcome::Kept(reason) => {
                counts.kept += 1;
                kept.push(RejectedRow { line, reason });
            }
            RowOutcome::Rejected(reason) => rejected.push(RejectedRow { line, reason }),
        }
    }
    rejected.sort_by_key(|r| r.line);
    ImportReport {
        kind: kind.as_str().to_string(),
        counts,
        rejected: rejected.len() as u32,
        rejected_rows: rejected,
        kept_rows: kept,
    }
}

impl From<FileError> for DomainError {
    fn from(e: FileError) -> Self {
        DomainError::invalid("invalid-import-file", e.to_string())
    }
}

/// Imports one spreadsheet. Rows that parse are written in one transaction; a bad row is
/// reported with its line and never stops the good ones; importing the same file again
/// changes nothing.
pub async fn import(
    deps: &Deps,
    kind: ImportKind,
    bytes: &[u8],
    actor: Actor,
) -> Result<ImportReport> {
    // Each created or updated record gets an audit line naming the import; enrolments have
    // theirs in their history.
    let mut lines_of_audit = Vec::new();
    macro_rules! run {
        ($parse:path, $subject:expr, $apply:expr) => {{
            let parsed = $parse(bytes)?;
            let (lines, rows): (Vec<usize>, Vec<_>) = parsed.rows.into_iter().unzip();
            let subjects: Vec<Option<AuditEntry>> = rows.iter().map($subject).collect();
            let outcomes = $apply(rows).await?;
            for (line, outcome) in subjects.into_iter().zip(&outcomes) {
                let what = match outcome {
                    RowOutcome::Created => "created",
                    RowOutcome::Updated => "updated",
                    _ => continue,
                };
                if let Some(line) = line {
                    lines_of_audit
                        .push(line.created(&serde_json::json!({ "import": what })));
                }
            }
            tally(kind, lines, outcomes, parsed.rejected)
        }};
    }
    let now = deps.now();
    let store = &deps.store;
    let imported = |action: AuditAction| {
        AuditEntry::new(action, &actor, now).reason(Some("Import de tableur"))
    };
    let report = match kind {
        ImportKind::Staff => run!(import::parse_staff, |_| None, |rows: Vec<_>| async move {
            store.import_staff(&rows).await
        }),
        ImportKind::Officers => run!(
            import::parse_officers,
            |r: &import::OfficerRow| Some(
                imported(AuditAction::OfficerImported)
                    .officer(&OfficerId::derived(r.email.as_str()))
            ),
            |rows: Vec<_>| async move { store.import_officers(&rows).await }
        ),
        ImportKind::Trainings => run!(
            import::parse_trainings,
            |r: &import::TrainingRow| Some(
                imported(AuditAction::TrainingImported).training(&TrainingId::derived(&r.code))
            ),
            |rows: Vec<_>| async move { store.import_trainings(&rows).await }
        ),
        ImportKind::Sessions => run!(
            import::parse_sessions,
            |r: &import::SessionRow| Some(
                imported(AuditAction::SessionImported).session(&SessionId::derived(&r.reference))
            ),
            |rows: Vec<_>| async move { store.import_sessions(&rows, now).await }
        ),
        ImportKind::Enrolments => {
            let actor = actor.clone();
            run!(
                import::parse_enrolments,
                |_| None,
                |rows: Vec<_>| async move { store.import_enrolments(&rows, &actor, now).await }
            )
        }
    };
    record(deps, lines_of_audit).await;
    Ok(report)
}

/// Appends audit lines for changes that have committed. A failure is logged (ids and the
/// action only) rather than answered: the change itself is done and must not be retried.
pub(crate) async fn record(deps: &Deps, lines: Vec<AuditEntry>) {
    if lines.is_empty() {
        return;
    }
    if let Err(e) = deps.store.record_audit(&lines).await {
        tracing::error!(
            action = %lines[0].action,
            lines = lines.len(),
            error = %e,
            "audit lines not recorded"
        );
    }
}

/// One view of the audit log; the subject must exist.
pub async fn audit_log(deps: &Deps, subject: &AuditSubject) -> Result<Vec<AuditEntry>> {
    match subject {
        AuditSubject::Session(id) => {
            deps.store
                .session(id)
                .await?
                .ok_or_else(DomainError::session_not_found)?;
        }
        AuditSubject::Officer(id) => {
            // An erased officer's records are read by the pseudonym the erasure answered.
            if deps.store.officer(id).await?.is_none() {
                let lines = deps.store.audit(subject).await?;
                if lines.is_empty() {
                    return Err(DomainError::officer_not_found());
                }
                return Ok(lines);
            }
        }
        AuditSubject::Training(id) => {
            deps.store
                .training(id)
                .await?
                .ok_or_else(DomainError::training_not_found)?;
        }
    }
    deps.store.audit(subject).await
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// What a drain may spend (the job functions have 60 s; a sender woken by
/// [`DomainEvent::NoticesQueued`] runs as send-reminders).
pub const JOB_BUDGET: std::time::Duration = std::time::Duration::from_secs(40);
const JOB_BATCH: u32 = 200;

/// Sends what the outbox holds, batch after batch, until it is empty, only failures are left,
/// or `budget` is spent: what the scheduled jobs and the senders of queued notices do. A
/// failed send stays queued for a later drain. Answers how many were sent.
pub async fn drain_outbox(deps: &Deps, budget: std::time::Duration) -> u32 {
    let batch = JOB_BATCH;
    let started = std::time::Instant::now();
    let mut tried = std::collections::HashSet::new();
    let mut sent = 0;
    loop {
        let now = deps.now();
        let until = now + chrono::Duration::seconds(SENDER_TURN_SECONDS);
        let taken = match deps.store.claim_notices(batch, until, now).await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "could not read the outbox");
                return sent;
            }
        };
        // A notice whose send failed gives its turn back; taken again in the same run, it
        // is left alone and goes with a later sweep, once this turn runs out.
        let full = taken.len() as u32 >= batch;
        let fresh: Vec<_> = taken.into_iter().filter(|q| tried.insert(q.id)).collect();
        if fresh.is_empty() {
            return sent;
        }
        for queued in fresh {
            if started.elapsed() >= budget {
                // Those taken and not tried wait for their turn to run out: the next sweep.
                return sent;
            }
            if deliver_queued(deps, &queued).await {
                sent += 1;
            }
        }
        if !full {
            return sent;
        }
    }
}

/// How long a sender holds its turn on a notice: far longer than one send takes, short enough
/// that a notice whose sender died goes with the sweep a few minutes later.
const SENDER_TURN_SECONDS: i64 = 300;

/// Sends one queued notice, whose turn this sender holds, and records the outcome; answers
/// whether it went.
async fn deliver_queued(deps: &Deps, queued: &QueuedNotice) -> bool {
    match deliver_one(deps, queued.id, &queued.notice).await {
        Ok(Delivery::Dropped(reason)) => {
            tracing::info!(
                notice = queued.id,
                kind = queued.notice.kind.key(),
                reason,
                "notice dropped"
            );
            if let Err(e) = deps
                .store
                .mark_notice_dropped(queued.id, reason, deps.now())
                .await
            {
                tracing::error!(notice = queued.id, error = %e, "could not drop a notice");
            }
            false
        }
        Ok(Delivery::Sent(message_id)) => {
            if let Err(e) = deps
                .store
                .mark_notice_sent(queued.id, message_id.as_deref(), deps.now())
                .await
            {
                tracing::error!(notice = queued.id, error = %e, "could not mark a notice sent");
            }
            true
        }
        Err(e) => {
            // A provider's refusal may quote the recipient: neither the logs nor the ledger
            // keep the address.
            let reason = notices::redact_addresses(&e.to_string());
            tracing::warn!(
                notice = queued.id,
                kind = queued.notice.kind.key(),
                error = %reason,
                "notice not delivered; will retry"
            );
            let _ = deps
                .store
                .mark_notice_failed(queued.id, &reason, deps.now())
                .await;
            false
        }
    }
}

/// Why a notice no longer holds when its turn to be sent comes, if it does not: a reminder
/// for a seat given up or a session cancelled or moved since, an invitation to an officer
/// who has enrolled since, the end of a waiting list for someone no longer on it.
fn no_longer_holds(
    notice: &Notice,
    session: &Session,
    facts: &DeliveryFacts,
) -> Option<&'static str> {
    let status = facts.status;
    match notice.kind {
        NoticeKind::ReminderJ7 | NoticeKind::ReminderJ1 => {
            if session.status != SessionStatus::Scheduled {
                Some("session annulée depuis")
            } else if status != Some(EnrolmentStatus::Confirmed) {
                Some("inscription abandonnée depuis")
            } else if session.schedule_version != notice.version {
                Some("session déplacée depuis : le rappel suit les nouvelles dates")
            } else {
                None
            }
        }
        NoticeKind::Invitation if status.is_some_and(EnrolmentStatus::is_active) => {
            Some("officier inscrit depuis")
        }
        NoticeKind::WaitlistClosed if status != Some(EnrolmentStatus::Waitlisted) => {
            Some("plus sur la liste d'attente")
        }
        // Sent after the answer, a notice may find its session cancelled since.
        NoticeKind::SessionOpened | NoticeKind::Invitation
            if session.status != SessionStatus::Scheduled =>
        {
            Some("session annulée depuis")
        }
        _ => None,
    }
}

/// What became of one notice's turn.
enum Delivery {
    Sent(Option<String>),
    Dropped(&'static str),
}

async fn deliver_one(deps: &Deps, id: i64, notice: &Notice) -> Result<Delivery> {
    let Some(officer) = deps.store.officer(&notice.officer_id).await? else {
        // Erased since it was queued (a session begun keeps their seat under a pseudonym).
        return Ok(Delivery::Dropped("officier inconnu ou données effacées"));
    };
    let (session, training) = match load_session(deps, &notice.session_id).await {
        Ok(found) => found,
        // Deleted since it was queued (planned by mistake): nothing left to tell.
        Err(e) if e.code == "session-not-found" => {
            return Ok(Delivery::Dropped("session supprimée depuis"));
        }
        Err(e) => return Err(e),
    };
    let facts = delivery_facts(deps, notice, &session).await?;
    if let Some(reason) = no_longer_holds(notice, &session, &facts) {
        return Ok(Delivery::Dropped(reason));
    }
    let ctx = deps.notify.context(deps.now());
    let email = notices::render(&notice.kind, &officer, &session, &training, &facts, &ctx)?;
    Ok(Delivery::Sent(deps.mailer.send(&email, Some(id)).await?))
}

/// What an email depends on at the time it is sent: the officer's standing in the session, the
/// calendar sequence of their event, and, for a session moved, the other sessions they are
/// confirmed in that the new dates overlap.
async fn delivery_facts(deps: &Deps, notice: &Notice, session: &Session) -> Result<DeliveryFacts> {
    let enrolment = deps
        .store
        .enrolment(&session.id, &notice.officer_id)
        .await?;
    // A notice of the enrolment's own change carries the change count it tells: its invitation
    // keeps the sequence of that change however late it is sent, so that a withdrawal sent
    // together with the enrolment it follows still ranks above it in the officer's calendar.
    let history_len = match &enrolment {
        _ if notice.kind.tells_an_enrolment_change() => notice.version as usize,
        Some(e) => deps.store.enrolment_change_count(&e.id).await?,
        None => 0,
    };
    let mut overlaps = Vec::new();
    if matches!(
        notice.kind,
        NoticeKind::SessionChanged { .. }
            | NoticeKind::EnrolmentConfirmed { .. }
            | NoticeKind::Promoted
    ) {
        for other in clashing_sessions(deps, &notice.officer_id, session).await? {
            if let Some(training) = deps.store.training(&other.training_id).await? {
                overlaps.push(Overlap::of(&other, &training));
            }
        }
    }
    Ok(DeliveryFacts {
        status: enrolment.map(|e| e.status),
        sequence: crate::calendar::sequence(session, history_len),
        overlaps,
    })
}

/// Publishes events after commit. A failure is logged, not returned: the change stands, and
/// the periodic sweep catches up on any promotion the event would have triggered.
pub(crate) async fn publish(deps: &Deps, events: Vec<DomainEvent>) {
    if events.is_empty() {
        return;
    }
    if let Err(e) = deps.events.publish(&events).await {
        tracing::error!(error = %e, "could not publish domain events");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_fall_at_nine_in_paris_across_the_clock_changes() {
        use crate::fixtures::{day, session, training};
        let t = training("Lire un bilan");
        // (first day, J-7 in UTC, J-1 in UTC): 09:00 Paris is 08:00Z in winter, 07:00Z in
        // summer, and each J-1 below falls on the very day the clocks change.
        let cases = [
            (
                day(2026, 3, 30),
                "2026-03-23T08:00:00Z",
                "2026-03-29T07:00:00Z",
            ),
            (
                day(2026, 10, 26),
                "2026-10-19T07:00:00Z",
                "2026-10-25T08:00:00Z",
            ),
            (
                day(2027, 3, 29),
                "2027-03-22T08:00:00Z",
                "2027-03-28T07:00:00Z",
            ),
            (
                day(2027, 11, 1),
                "2027-10-25T07:00:00Z",
                "2027-10-31T08:00:00Z",
            ),
            // A week that straddles the change: J-7 before it, J-1 after it.
            (
                day(2026, 4, 2),
                "2026-03-26T08:00:00Z",
                "2026-04-01T07:00:00Z",
            ),
            (
                day(2026, 10, 29),
                "2026-10-22T07:00:00Z",
                "2026-10-28T08:00:00Z",
            ),
        ];
        let utc =
            |t: Option<Instant>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        for (first, j7, j1) in cases {
            let s = session(&t, first, first, "09:00-17:00");
            assert_eq!(
                utc(reminder_due(&s, 7)).as_deref(),
                Some(j7),
                "J-7 of {first}"
            );
            assert_eq!(
                utc(reminder_due(&s, 1)).as_deref(),
                Some(j1),
                "J-1 of {first}"
            );
        }
    }

    #[test]
    fn trainings_are_expected_done_pro_rata_of_the_accompaniment_rounded_up() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        let (start, end) = (d(2026, 1, 1), d(2027, 1, 1));
        assert_eq!(expected_done(4, start, end, d(2025, 6, 1)), 0);
        assert_eq!(expected_done(4, start, end, start), 0);
        assert_eq!(expected_done(4, start, end, d(2026, 1, 2)), 1);
        assert_eq!(expected_done(4, start, end, d(2026, 7, 2)), 2);
        assert_eq!(expected_done(4, start, end, end), 4);
        assert_eq!(expected_done(0, start, end, d(2026, 7, 2)), 0);
    }
}
