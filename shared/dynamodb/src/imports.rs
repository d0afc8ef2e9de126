//! Imports of the MiRVOG spreadsheets, row by row as the embedded store does, with the same
//! outcomes and the same French reasons for a refusal.
//!
//! A transaction holds at most 100 items, so an import commits in windows: the rows of a
//! window are read together (strongly consistent batch reads), decided one after the other
//! against the state as each earlier row left it, and written in one transaction conditioned
//! on what was read. When a condition fails (someone wrote in between), the window is read and
//! decided again. Each window is atomic, the import as a whole is not: an import stopped by an
//! error leaves its earlier windows written, and running it again finishes it (rows already
//! written come out `Unchanged`).
//!
//! Staff and officers are only ever created by imports, with ids derived from their e-mail, so
//! an import finds them with a consistent read of the derived key rather than through the
//! e-mail index, which is only eventually consistent. Imports write no notices.

use crate::items::{self, SessionMeta, is_marked};
use crate::keys::{self, Key};
use crate::sessions::set_planning;
use crate::tx::{
    Commit, MAX_OPTIMISTIC_ATTEMPTS, MAX_TX_ITEMS, Query, Role, SortOp, Write, backoff, key_of,
};
use crate::{DynamoStore, Outbox, Prior, contention, record, save_counters};

const SESSION_DELETED: &str =
    "Cette session a été supprimée dans Cassiopée : la ligne n'est pas importée.";
use aws_sdk_dynamodb::types::AttributeValue;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::import::{EnrolmentRow, OfficerRow, SessionRow, StaffRow, TrainingRow};
use cassiopee_domain::model::{
    Actor, Email, Enrolment, EnrolmentStatus, Officer, Origin, Session, SessionStatus, Staff,
    Training, WaitlistMode,
};
use cassiopee_domain::ports::RowOutcome;
use cassiopee_domain::rules::{self, Schedule};
use cassiopee_domain::time::{Instant, paris_end_of_day, paris_start_of_day};
use std::collections::{HashMap, HashSet};

/// Rows read together; what they write may fill a transaction before the window ends.
const WINDOW: usize = 48;

const KEPT_FROM_APP: &str =
    "Modifié dans Cassiopée depuis le dernier import : la version de l'application est conservée.";

/// The writes and outcomes of one window, as far as they fit in one transaction.
#[derive(Default)]
struct Plan {
    writes: Vec<Write>,
    targets: HashSet<Key>,
    outcomes: Vec<RowOutcome>,
    /// Officers whose record the window rewrites: once it commits, the copies of their record
    /// on their enrolments are rewritten too.
    recopy: Vec<Officer>,
}

impl Plan {
    /// Whether writes on `targets`, plus `reserved` items added at the end, still fit. One
    /// transaction cannot write an item twice.
    fn fits(&self, targets: &[Key], reserved: usize) -> bool {
        self.writes.len() + targets.len() + reserved <= MAX_TX_ITEMS
            && targets.iter().all(|t| !self.targets.contains(t))
    }

    fn push(&mut self, w: Write) {
        self.targets.insert(w.target());
        self.writes.push(w);
    }
}

/// Finds the staff member written `C. Morvan` (initial and last name) or `Claire Morvan`.
fn resolve_advisor<'a>(written: &str, staff: &'a [Staff]) -> Option<&'a Staff> {
    let norm = |s: &str| s.trim().to_lowercase();
    let written = written.trim();
    let (first, last) = written.split_once(' ')?;
    let first = norm(first.trim_end_matches('.'));
    let last = norm(last);
    let mut matches = staff.iter().filter(|s| {
        norm(&s.last_name) == last
            && (norm(&s.first_name) == first
                || (first.chars().count() == 1 && norm(&s.first_name).starts_with(&first)))
    });
    let found = matches.next()?;
    matches.next().is_none().then_some(found)
}

impl DynamoStore {
    /// Rewrites the copy of `o`'s record on each of their enrolments (found through `gsi2`)
    /// once their own item has changed, one UpdateItem each; those without a copy (written
    /// before enrolments carried one) get it. Not atomic with the officer's write: an import
    /// stopped in between leaves old copies, which the same import run again does not mend
    /// (its rows are then unchanged). Each update requires the item to be this officer's still:
    /// an erasure that moved it meanwhile has given the moved item the erased stand-in.
    pub(crate) async fn recopy_officer(&self, o: &Officer) -> Result<()> {
        let enrolments = self
            .query(
                Query::global(keys::GSI2, keys::GSI2PK, keys::officer_partition(&o.id)).sort(
                    SortOp::BeginsWith,
                    keys::GSI2SK,
                    keys::ENROLMENT_PREFIX,
                ),
            )
            .await?;
        for item in &enrolments {
            if items::officer_copy_from(item)?.as_ref() == Some(o) {
                continue;
            }
            let update = Write::update(Role::Enrolment, key_of(item))
                .set(items::OFFICER_COPY, items::officer_copy(o))
                .when_present()
                .when_eq("officer_id", AttributeValue::S(o.id.as_str().into()));
            // A failed condition: the enrolment is gone (moved by an erasure), nothing to do.
            self.write_one(update).await?;
        }
        Ok(())
    }

    /// Commits a window's plan. Answers false when its conditions failed and the window must
    /// be decided again; counts the attempts.
    async fn commit_window(
        &self,
        plan: Plan,
        outcomes: &mut Vec<RowOutcome>,
        attempt: &mut u32,
        op: &str,
    ) -> Result<bool> {
        let decided = plan.outcomes;
        match self.commit(plan.writes, None).await? {
            Commit::Done => {
                outcomes.extend(decided);
                *attempt = 0;
                Ok(true)
            }
            Commit::Failed(failures) => {
                *attempt += 1;
                if *attempt >= MAX_OPTIMISTIC_ATTEMPTS {
                    let roles: Vec<_> = failures.iter().map(|f| f.role).collect();
                    return Err(DomainError::internal(format!(
                        "{} (last failed conditions: {roles:?})",
                        contention(op).cause.unwrap_or_default()
                    )));
                }
                backoff(*attempt).await;
                Ok(false)
            }
        }
    }

    pub(crate) async fn import_staff_impl(&self, rows: &[StaffRow]) -> Result<Vec<RowOutcome>> {
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut attempt = 0;
        while outcomes.len() < rows.len() {
            let window = &rows[outcomes.len()..(outcomes.len() + WINDOW).min(rows.len())];
            let wanted: Vec<Key> = window
                .iter()
                .map(|r| keys::staff(&StaffId::derived(r.email.as_str())))
                .collect();
            let mut known = HashMap::new();
            for (key, item) in self.get_many(&wanted).await? {
                known.insert(key, items::staff_from(&item)?);
            }
            // An address is one person's: staff and officers never share one.
            let officers: Vec<Key> = window
                .iter()
                .map(|r| keys::officer(&OfficerId::derived(r.email.as_str())))
                .collect();
            let taken = self.get_many(&officers).await?;
            let mut plan = Plan::default();
            for ((r, key), officer) in window.iter().zip(wanted).zip(officers) {
                if taken.contains_key(&officer) {
                    plan.outcomes.push(RowOutcome::Rejected(format!(
                        "{} est déjà l'adresse d'un officier accompagné.",
                        r.email
                    )));
                    continue;
                }
                let existing: Option<Staff> = known.get(&key).cloned();
                let new = Staff {
                    id: existing
                        .as_ref()
                        .map(|s| s.id.clone())
                        .unwrap_or_else(|| StaffId::derived(r.email.as_str())),
                    last_name: r.last_name.clone(),
                    first_name: r.first_name.clone(),
                    function: r.function.clone(),
                    email: r.email.clone(),
                    role: r.role,
                };
                let outcome = match &existing {
                    Some(s) if *s == new => RowOutcome::Unchanged,
                    Some(_) => RowOutcome::Updated,
                    None => RowOutcome::Created,
                };
                if outcome != RowOutcome::Unchanged {
                    if !plan.fits(&[key.clone(), officer.clone()], 0) {
                        break;
                    }
                    let w = Write::put(Role::Staff, items::staff_item(&new));
                    plan.push(if existing.is_some() {
                        w.when_present()
                    } else {
                        w.when_absent()
                    });
                    plan.push(Write::check(Role::Officer, officer).when_absent());
                    known.insert(key, new);
                }
                plan.outcomes.push(outcome);
            }
            self.commit_window(plan, &mut outcomes, &mut attempt, "import_staff")
                .await?;
        }
        Ok(outcomes)
    }

    pub(crate) async fn import_officers_impl(
        &self,
        rows: &[OfficerRow],
    ) -> Result<Vec<RowOutcome>> {
        use cassiopee_domain::ports::Store;
        let staff = self.staff_list().await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut attempt = 0;
        while outcomes.len() < rows.len() {
            let window = &rows[outcomes.len()..(outcomes.len() + WINDOW).min(rows.len())];
            let wanted: Vec<Key> = window
                .iter()
                .map(|r| keys::officer(&OfficerId::derived(r.email.as_str())))
                .collect();
            let mut known = HashMap::new();
            for (key, item) in self.get_many(&wanted).await? {
                known.insert(key, items::officer_from(&item)?);
            }
            let staff_keys: Vec<Key> = window
                .iter()
                .map(|r| keys::staff(&StaffId::derived(r.email.as_str())))
                .collect();
            let taken = self.get_many(&staff_keys).await?;
            let erasure_keys: Vec<Key> = window
                .iter()
                .map(|r| keys::erasure(&OfficerId::derived(r.email.as_str())))
                .collect();
            let erased = self.get_many(&erasure_keys).await?;
            let mut plan = Plan::default();
            for (((r, key), staff_key), erasure_key) in
                window.iter().zip(wanted).zip(staff_keys).zip(erasure_keys)
            {
                if erased.contains_key(&erasure_key) {
                    let refused = cassiopee_domain::import::ERASED_ROW.to_string();
                    plan.outcomes.push(RowOutcome::Rejected(refused));
                    continue;
                }
                let advisor_id = match r.advisor.as_deref() {
                    None => None,
                    Some(written) => match resolve_advisor(written, &staff) {
                        Some(s) => Some(s.id.clone()),
                        None => {
                            plan.outcomes.push(RowOutcome::Rejected(format!(
                                "Conseiller MiRVOG « {} » introuvable parmi le personnel : importez d'abord le personnel.",
                                written.chars().take(40).collect::<String>()
                            )));
                            continue;
                        }
                    },
                };
                if taken.contains_key(&staff_key) {
                    plan.outcomes.push(RowOutcome::Rejected(format!(
                        "{} est déjà l'adresse d'un membre du personnel de la MiRVOG.",
                        r.email
                    )));
                    continue;
                }
                let existing: Option<Officer> = known.get(&key).cloned();
                let new = Officer {
                    id: existing
                        .as_ref()
                        .map(|o| o.id.clone())
                        .unwrap_or_else(|| OfficerId::derived(r.email.as_str())),
                    last_name: r.last_name.clone(),
                    first_name: r.first_name.clone(),
                    grade: r.grade.clone(),
                    branch: r.branch.clone(),
                    email: r.email.clone(),
                    phone: r.phone.clone(),
                    accompaniment_start: r.accompaniment_start,
                    accompaniment_end: r.accompaniment_end,
                    advisor_id,
                };
                let outcome = match &existing {
                    Some(o) if *o == new => RowOutcome::Unchanged,
                    Some(_) => RowOutcome::Updated,
                    None => RowOutcome::Created,
                };
                if outcome != RowOutcome::Unchanged {
                    if !plan.fits(&[key.clone(), staff_key.clone()], 0) {
                        break;
                    }
                    let w = Write::put(Role::Officer, items::officer_item(&new));
                    plan.push(if existing.is_some() {
                        w.when_present()
                    } else {
                        w.when_absent()
                    });
                    plan.push(Write::check(Role::Staff, staff_key).when_absent());
                    if existing.is_some() {
                        plan.recopy.push(new.clone());
                    }
                    known.insert(key, new);
                }
                plan.outcomes.push(outcome);
            }
            let recopy = std::mem::take(&mut plan.recopy);
            if self
                .commit_window(plan, &mut outcomes, &mut attempt, "import_officers")
                .await?
            {
                for officer in &recopy {
                    self.recopy_officer(officer).await?;
                }
            }
        }
        Ok(outcomes)
    }

    /// The trainings with these codes, through their code guards.
    /// The trainings with these codes, and whether each was edited in the app.
    async fn trainings_by_code(&self, codes: &[&str]) -> Result<HashMap<String, (Training, bool)>> {
        let guards: Vec<Key> = codes.iter().map(|c| keys::training_code(c)).collect();
        let mut ids = Vec::new();
        for item in self.get_many(&guards).await?.values() {
            ids.push(keys::training(&TrainingId::from_stored(
                items::Reader(item).s("training_id")?,
            )));
        }
        let mut out = HashMap::new();
        for item in self.get_many(&ids).await?.values() {
            let t = items::training_from(item)?;
            out.insert(t.code.clone(), (t, items::edited_in_app(item)));
        }
        Ok(out)
    }

    /// The sessions with these references, through their reference guards.
    async fn sessions_by_reference(
        &self,
        references: &[&str],
    ) -> Result<HashMap<String, (Session, SessionMeta)>> {
        let guards: Vec<Key> = references
            .iter()
            .map(|r| keys::session_reference(r))
            .collect();
        let mut ids = Vec::new();
        for item in self.get_many(&guards).await?.values() {
            ids.push(keys::session(&SessionId::from_stored(
                items::Reader(item).s("session_id")?,
            )));
        }
        let mut out = HashMap::new();
        for item in self.get_many(&ids).await?.values() {
            let (s, meta) = items::session_from(item)?;
            out.insert(s.reference.clone(), (s, meta));
        }
        Ok(out)
    }

    pub(crate) async fn import_trainings_impl(
        &self,
        rows: &[TrainingRow],
    ) -> Result<Vec<RowOutcome>> {
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut attempt = 0;
        while outcomes.len() < rows.len() {
            let window = &rows[outcomes.len()..(outcomes.len() + WINDOW).min(rows.len())];
            let codes: Vec<&str> = window.iter().map(|r| r.code.as_str()).collect();
            let mut known = self.trainings_by_code(&codes).await?;
            let mut plan = Plan::default();
            for r in window {
                let (existing, edited) = match known.get(&r.code).cloned() {
                    Some((t, edited)) => (Some(t), edited),
                    None => (None, false),
                };
                let new = Training {
                    id: existing
                        .as_ref()
                        .map(|t| t.id.clone())
                        .unwrap_or_else(|| TrainingId::derived(&r.code)),
                    code: r.code.clone(),
                    title: r.title.clone(),
                    theme: r.theme.clone(),
                    modality: r.modality,
                    length_days: r.length_days,
                    provider: r.provider.clone(),
                    session_cost: r.session_cost,
                    trainee_cost: r.trainee_cost,
                    min_group: r.min_group,
                    max_group: r.max_group,
                    archived: existing.as_ref().is_some_and(|t| t.archived),
                };
                let outcome = match &existing {
                    Some(t) if *t == new => RowOutcome::Unchanged,
                    Some(_) if edited => RowOutcome::Kept(KEPT_FROM_APP.into()),
                    Some(_) => RowOutcome::Updated,
                    None => RowOutcome::Created,
                };
                match outcome {
                    RowOutcome::Updated => {
                        let key = keys::training(&new.id);
                        if !plan.fits(std::slice::from_ref(&key), 0) {
                            break;
                        }
                        // Not edited in the app since it was read.
                        let mut w = Write::update(Role::Training, key)
                            .when_present()
                            .when_eq("code", items::s(&new.code))
                            .when(|w| {
                                let name = w.name(items::EDITED);
                                format!(
                                    "attribute_not_exists({name}) OR {name} = {}",
                                    w.value(AttributeValue::Bool(false))
                                )
                            });
                        for (k, v) in items::training_fields(&new) {
                            w = w.set(k, v);
                        }
                        plan.push(w);
                    }
                    RowOutcome::Created => {
                        let targets = [keys::training(&new.id), keys::training_code(&new.code)];
                        if !plan.fits(&targets, 0) {
                            break;
                        }
                        let mut guard = items::keyed(&targets[1]);
                        guard.insert("training_id".into(), items::s(new.id.as_str()));
                        plan.push(
                            Write::put(Role::Training, items::training_item(&new, false))
                                .when_absent(),
                        );
                        plan.push(Write::put(Role::Guard, guard).when_absent());
                    }
                    _ => {}
                }
                if matches!(outcome, RowOutcome::Created | RowOutcome::Updated) {
                    known.insert(r.code.clone(), (new, edited));
                }
                plan.outcomes.push(outcome);
            }
            self.commit_window(plan, &mut outcomes, &mut attempt, "import_trainings")
                .await?;
        }
        Ok(outcomes)
    }

    pub(crate) async fn import_sessions_impl(
        &self,
        rows: &[SessionRow],
        now: Instant,
    ) -> Result<Vec<RowOutcome>> {
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut attempt = 0;
        while outcomes.len() < rows.len() {
            let window = &rows[outcomes.len()..(outcomes.len() + WINDOW).min(rows.len())];
            let codes: Vec<&str> = window.iter().map(|r| r.training_code.as_str()).collect();
            let trainings = self.trainings_by_code(&codes).await?;
            let references: Vec<&str> = window.iter().map(|r| r.reference.as_str()).collect();
            let mut known = self.sessions_by_reference(&references).await?;
            let mut plan = Plan::default();
            for r in window {
                let Some((training, _)) = trainings.get(&r.training_code) else {
                    plan.outcomes.push(RowOutcome::Rejected(format!(
                        "Formation « {} » inconnue : importez d'abord le catalogue.",
                        r.training_code
                    )));
                    continue;
                };
                let schedule = match Schedule::new(
                    r.first_day,
                    r.last_day,
                    r.hours,
                    paris_end_of_day(r.enrolment_close_day),
                    paris_end_of_day(r.free_withdrawal_day),
                ) {
                    Ok(s) => s,
                    Err(e) => {
                        plan.outcomes.push(RowOutcome::Rejected(e.detail));
                        continue;
                    }
                };
                let existing = known.get(&r.reference).cloned();
                let status = if schedule.ends_at < now {
                    SessionStatus::Completed
                } else {
                    SessionStatus::Scheduled
                };
                let mut new = match &existing {
                    Some((s, _)) => s.clone(),
                    None => Session {
                        id: SessionId::derived(&r.reference),
                        reference: r.reference.clone(),
                        training_id: training.id.clone(),
                        first_day: r.first_day,
                        last_day: r.last_day,
                        hours: r.hours,
                        starts_at: schedule.starts_at,
                        ends_at: schedule.ends_at,
                        place: r.place.clone(),
                        capacity: r.capacity,
                        enrolment_closes_at: schedule.enrolment_closes_at,
                        free_withdrawal_until: schedule.free_withdrawal_until,
                        trainer: r.trainer.clone(),
                        status,
                        waitlist: WaitlistMode::Direct,
                        seats_taken: 0,
                        waiting: 0,
                        waiting_peak: 0,
                        seats_marked: 0,
                        schedule_version: 1,
                    },
                };
                new.training_id = training.id.clone();
                new.first_day = r.first_day;
                new.last_day = r.last_day;
                new.hours = r.hours;
                new.starts_at = schedule.starts_at;
                new.ends_at = schedule.ends_at;
                new.place = r.place.clone();
                new.capacity = r.capacity;
                new.enrolment_closes_at = schedule.enrolment_closes_at;
                new.free_withdrawal_until = schedule.free_withdrawal_until;
                new.trainer = r.trainer.clone();
                let Some((old, meta)) = existing else {
                    if let Err(e) = rules::check_capacity(new.capacity, new.waitlist, 0, 0) {
                        plan.outcomes.push(RowOutcome::Rejected(e.detail));
                        continue;
                    }
                    let targets = [
                        keys::session(&new.id),
                        keys::session_reference(&new.reference),
                    ];
                    if !plan.fits(&targets, 0) {
                        break;
                    }
                    let meta = SessionMeta {
                        rev: 0,
                        last_rank: 0,
                        edited_in_app: false,
                        ..SessionMeta::default()
                    };
                    let mut guard = items::keyed(&targets[1]);
                    guard.insert("session_id".into(), items::s(new.id.as_str()));
                    plan.push(
                        Write::put(Role::Session, items::session_item(&new, meta)).when_absent(),
                    );
                    plan.push(Write::put(Role::Guard, guard).when_absent());
                    known.insert(r.reference.clone(), (new, meta));
                    plan.outcomes.push(RowOutcome::Created);
                    continue;
                };
                if meta.deleted {
                    plan.outcomes
                        .push(RowOutcome::Rejected(SESSION_DELETED.into()));
                    continue;
                }
                if old == new {
                    plan.outcomes.push(RowOutcome::Unchanged);
                    continue;
                }
                if meta.edited_in_app {
                    plan.outcomes.push(RowOutcome::Kept(KEPT_FROM_APP.into()));
                    continue;
                }
                if old.status == SessionStatus::Cancelled {
                    plan.outcomes.push(RowOutcome::Rejected(
                        "Cette session a été annulée : elle ne peut plus être modifiée par import."
                            .into(),
                    ));
                    continue;
                }
                let key = keys::session(&old.id);
                if !plan.fits(std::slice::from_ref(&key), 0) {
                    break;
                }
                let enrolments = self.enrolments_of(&old.id).await?;
                let count = |st: EnrolmentStatus| {
                    enrolments.iter().filter(|(e, _)| e.status == st).count() as u32
                };
                if let Err(e) = rules::check_capacity(
                    new.capacity,
                    new.waitlist,
                    count(EnrolmentStatus::Confirmed),
                    count(EnrolmentStatus::Offered),
                ) {
                    plan.outcomes.push(RowOutcome::Rejected(e.detail));
                    continue;
                }
                if new.starts_at != old.starts_at
                    || new.ends_at != old.ends_at
                    || new.place != old.place
                {
                    new.schedule_version += 1;
                }
                plan.push(
                    set_planning(Write::update(Role::Session, key), &new)
                        .add("rev", items::n(1))
                        .when_eq("rev", items::n(meta.rev)),
                );
                known.insert(
                    r.reference.clone(),
                    (
                        new,
                        SessionMeta {
                            rev: meta.rev + 1,
                            ..meta
                        },
                    ),
                );
                plan.outcomes.push(RowOutcome::Updated);
            }
            self.commit_window(plan, &mut outcomes, &mut attempt, "import_sessions")
                .await?;
        }
        Ok(outcomes)
    }

    pub(crate) async fn import_enrolments_impl(
        &self,
        rows: &[EnrolmentRow],
        actor: &Actor,
        now: Instant,
    ) -> Result<Vec<RowOutcome>> {
        // Who and which session a row names does not change during an import: look each up once.
        // The officer's record is copied onto the enrolments the rows write.
        let mut officers: HashMap<Email, Officer> = HashMap::new();
        let mut session_ids: HashMap<String, SessionId> = HashMap::new();
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut attempt = 0;
        while outcomes.len() < rows.len() {
            let start = outcomes.len();
            let window = &rows[start..(start + WINDOW).min(rows.len())];

            let missing: Vec<Key> = window
                .iter()
                .filter(|r| !officers.contains_key(&r.email))
                .map(|r| keys::officer(&OfficerId::derived(r.email.as_str())))
                .collect();
            for item in self.get_many(&missing).await?.values() {
                let o = items::officer_from(item)?;
                officers.insert(o.email.clone(), o);
            }
            // Those still unknown may have been erased: the row says so.
            let unknown: Vec<Key> = window
                .iter()
                .filter(|r| !officers.contains_key(&r.email))
                .map(|r| keys::erasure(&OfficerId::derived(r.email.as_str())))
                .collect();
            let erased = self.get_many(&unknown).await?;
            let missing: Vec<Key> = window
                .iter()
                .filter(|r| !session_ids.contains_key(&r.session_reference))
                .map(|r| keys::session_reference(&r.session_reference))
                .collect();
            for (key, item) in self.get_many(&missing).await? {
                let id = SessionId::from_stored(items::Reader(&item).s("session_id")?);
                if let Some(reference) = key.0.strip_prefix("REF#") {
                    session_ids.insert(reference.to_string(), id);
                }
            }

            let session_keys: Vec<Key> = window
                .iter()
                .filter_map(|r| session_ids.get(&r.session_reference))
                .map(keys::session)
                .collect();
            let mut read: HashMap<SessionId, (Session, SessionMeta)> = HashMap::new();
            let mut deleted = Vec::new();
            for item in self.get_many(&session_keys).await?.values() {
                let (s, meta) = items::session_from(item)?;
                if meta.deleted {
                    deleted.push(s.reference);
                    continue;
                }
                read.insert(s.id.clone(), (s, meta));
            }
            let enrolment_keys: Vec<Key> = window
                .iter()
                .filter_map(|r| {
                    Some(keys::enrolment(
                        session_ids.get(&r.session_reference)?,
                        &officers.get(&r.email)?.id,
                    ))
                })
                .collect();
            let mut enrolments: HashMap<Key, (Enrolment, u32)> = HashMap::new();
            for (key, item) in self.get_many(&enrolment_keys).await? {
                enrolments.insert(key, items::enrolment_from(&item)?);
            }

            // Sessions as the rows decided so far leave them, with the largest rank given.
            let mut working: HashMap<SessionId, (Session, i64)> = HashMap::new();
            let mut plan = Plan::default();
            let mut outbox = Outbox::new(now);
            for (offset, r) in window.iter().enumerate() {
                let index = start + offset;
                let Some(officer) = officers.get(&r.email).cloned() else {
                    let tomb = keys::erasure(&OfficerId::derived(r.email.as_str()));
                    plan.outcomes
                        .push(RowOutcome::Rejected(if erased.contains_key(&tomb) {
                            cassiopee_domain::import::ERASED_ROW.to_string()
                        } else {
                            format!(
                                "Officier {} inconnu : importez d'abord les officiers.",
                                r.email
                            )
                        }));
                    continue;
                };
                let officer_id = officer.id.clone();
                let Some((read_session, read_meta)) = session_ids
                    .get(&r.session_reference)
                    .and_then(|id| read.get(id))
                    .cloned()
                else {
                    if deleted.contains(&r.session_reference) {
                        plan.outcomes
                            .push(RowOutcome::Rejected(SESSION_DELETED.into()));
                        continue;
                    }
                    plan.outcomes.push(RowOutcome::Rejected(format!(
                        "Session {} inconnue : importez d'abord les sessions.",
                        r.session_reference
                    )));
                    continue;
                };
                let session_id = read_session.id.clone();
                let (mut session, mut last_rank) = working
                    .get(&session_id)
                    .cloned()
                    .unwrap_or((read_session, read_meta.last_rank));
                let attendance = is_marked(r.status);
                if attendance && session.starts_at > now {
                    plan.outcomes.push(RowOutcome::Rejected(format!(
                        "Présence « {} » pour une session qui n'a pas encore eu lieu.",
                        r.status.label_fr()
                    )));
                    continue;
                }
                let key = keys::enrolment(&session_id, &officer_id);
                let existing = enrolments.get(&key).cloned();
                if let Some((e, _)) = &existing
                    && e.status == r.status
                    && e.late == r.late
                {
                    plan.outcomes.push(RowOutcome::Unchanged);
                    continue;
                }
                // The spreadsheet is an older picture than what officers and staff did in the
                // app since: an enrolment last changed there is kept, and the row is reported.
                if let Some((e, _)) = &existing
                    && e.origin != Origin::Import
                {
                    plan.outcomes.push(RowOutcome::Kept(format!(
                        "Inscription modifiée dans Cassiopée depuis le dernier import (statut actuel : {}) : \
                         la version de l'application est conservée.",
                        e.status.label_fr()
                    )));
                    continue;
                }
                let from = existing.as_ref().map(|(e, _)| e.status);
                if from.is_some_and(EnrolmentStatus::holds_seat) {
                    session.seats_taken = session.seats_taken.saturating_sub(1);
                }
                if from == Some(EnrolmentStatus::Waitlisted) {
                    session.waiting = session.waiting.saturating_sub(1);
                }
                if r.status.holds_seat() {
                    if session.seats_taken >= session.capacity {
                        plan.outcomes.push(RowOutcome::Rejected(format!(
                            "Session {} complète ({} places) : cette inscription dépasserait la capacité.",
                            r.session_reference, session.capacity
                        )));
                        continue;
                    }
                    session.seats_taken += 1;
                }
                if r.status == EnrolmentStatus::Waitlisted {
                    session.waiting += 1;
                    session.waiting_peak = session.waiting_peak.max(session.waiting);
                }
                match (from.is_some_and(is_marked), attendance) {
                    (false, true) => session.seats_marked += 1,
                    (true, false) => session.seats_marked = session.seats_marked.saturating_sub(1),
                    _ => {}
                }
                // The spreadsheet gives a day, not a time: the day orders the waiting list, and
                // the row's place in the file breaks ties between people who joined that day.
                let joined_at = paris_start_of_day(r.enrolled_on);
                let rank = joined_at.timestamp_micros() + index as i64;
                let (mut e, prior) = match &existing {
                    Some((e, changes)) => (e.clone(), Prior::Seen { changes: *changes }),
                    None => (
                        Enrolment {
                            id: EnrolmentId::derived(&format!(
                                "{}/{}",
                                r.session_reference, r.email
                            )),
                            session_id: session_id.clone(),
                            officer_id: officer_id.clone(),
                            status: r.status,
                            late: r.late,
                            joined_at,
                            confirmed_at: None,
                            offer_expires_at: None,
                            updated_at: now,
                            updated_by: actor.id.clone(),
                            origin: actor.origin,
                            rank,
                        },
                        Prior::New,
                    ),
                };
                e.status = r.status;
                e.late = r.late;
                e.joined_at = joined_at;
                e.rank = rank;
                e.offer_expires_at = None;
                e.confirmed_at = match r.status {
                    EnrolmentStatus::Waitlisted => None,
                    _ => Some(joined_at),
                };
                let mut row_writes = Vec::new();
                let changes = record(
                    &mut row_writes,
                    &mut outbox,
                    &mut e,
                    prior,
                    from,
                    actor,
                    now,
                    None,
                    None,
                    Some(&officer),
                )?;
                let targets: Vec<Key> = row_writes.iter().map(Write::target).collect();
                let sessions_after =
                    working.len() + usize::from(!working.contains_key(&session_id));
                if !plan.fits(&targets, sessions_after) {
                    break;
                }
                for w in row_writes {
                    plan.push(w);
                }
                last_rank = last_rank.max(rank);
                working.insert(session_id.clone(), (session, last_rank));
                enrolments.insert(key, (e, changes));
                plan.outcomes.push(if from.is_some() {
                    RowOutcome::Updated
                } else {
                    RowOutcome::Created
                });
            }
            for (id, (session, last_rank)) in &working {
                let meta = read
                    .get(id)
                    .map(|(_, m)| *m)
                    .ok_or_else(|| DomainError::internal("import: session read lost"))?;
                plan.push(save_counters(session, meta, Some(*last_rank)));
            }
            self.commit_window(plan, &mut outcomes, &mut attempt, "import_enrolments")
                .await?;
        }
        Ok(outcomes)
    }
}
