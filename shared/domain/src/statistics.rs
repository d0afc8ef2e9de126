//! The statistics staff read: per session, training, theme, month or year, the fill rate
//! weighted by capacity, attendance, withdrawals, waiting-list demand, cost and relevance.
//!
//! Pure functions over what the store holds; [`compute`] is what the use cases (and the
//! benchmark) call.
//!
//! Implementation notes: how each figure is derived from the records.
//!
//! * *Confirmed at the start* is read from the enrolments' statuses, without a snapshot taken
//!   at the start: once a session has started, the rules allow no change that enters or
//!   leaves the seated set (withdrawals, enrolments and promotions are refused from the
//!   start, and attendance is only marked on, and corrected among, seated officers). So the
//!   seated at the start are exactly those now confirmed, attended, absent or excused. An
//!   import may still write a withdrawal after the start; it is then counted as a withdrawal.
//! * *Peak waiting-list length* is the session's `waiting_peak`, raised by the stores in the
//!   same transaction as the waiting counter.
//! * *Never served* are the officers still on the waiting list at the start (nobody is
//!   promoted after it). Those who left the list themselves are not counted.
//! * *Seats lost to late withdrawals*: the late withdrawals whose seat stayed empty, that is
//!   min(late withdrawals, capacity − seated at the start). A late seat refilled from the
//!   waiting list is not lost.
//! * *Cost*: the training's session cost plus its cost per trainee × the trainees billed
//!   (seated at the start, excused included, plus the seats lost to late withdrawals, which
//!   the withdrawal notice tells the officer may be billed). Cancelled sessions cost nothing
//!   and are left out, as are sessions not started yet and deleted ones (the store never
//!   returns those).
//! * *Cost per present participant* divides the cost of the sessions whose attendance is fully
//!   marked by the officers present at them: a session whose roster is not filled in yet adds
//!   neither its cost nor anyone present, rather than inflating the figure.
//! * For a group, the *peak* waiting list is the longest of its sessions' peaks (not a sum).

use crate::error::{DomainError, Result};
use crate::export;
use crate::ids::{SessionId, TrainingId};
use crate::model::{Enrolment, EnrolmentStatus, Feedback, Money, Session, SessionStatus, Training};
use crate::notices::MONTHS;
use crate::ports::{Figures, RowDisplay, StatisticsRow, StatisticsSnapshot};
use crate::time::Instant;
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashMap};

/// How rows are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Session,
    Training,
    Theme,
    Month,
    Year,
}

impl Grouping {
    pub const ALL: [Grouping; 5] = [
        Grouping::Session,
        Grouping::Training,
        Grouping::Theme,
        Grouping::Month,
        Grouping::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Session => "session",
            Grouping::Training => "training",
            Grouping::Theme => "theme",
            Grouping::Month => "month",
            Grouping::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }
}

/// What staff ask for: sessions that started on a Paris day within `from..=to`, grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatisticsQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub group: Grouping,
}

impl StatisticsQuery {
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>, group: Grouping) -> Result<Self> {
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(DomainError::invalid(
                "invalid-period",
                format!(
                    "La date de début ({}) est postérieure à la date de fin ({}).",
                    f.format("%d/%m/%Y"),
                    t.format("%d/%m/%Y")
                ),
            ));
        }
        Ok(Self { from, to, group })
    }

    /// Every session, grouped by training (what the scheduled job stores).
    pub fn all_time() -> Self {
        Self {
            from: None,
            to: None,
            group: Grouping::Training,
        }
    }

    fn covers(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }
}

/// `round(num / den)`, halves up, for non-negative operands; None when `den` is 0.
fn ratio_rounded(num: u64, den: u64, scale: u64) -> Option<u32> {
    (den > 0).then(|| ((num * scale * 2 + den) / (den * 2)) as u32)
}

/// `num / den` in per-mille, rounded half up.
pub fn permille(num: u32, den: u32) -> Option<u32> {
    ratio_rounded(u64::from(num), u64::from(den), 1000)
}

/// The figures of one session that has started. `feedback` holds the answers about it.
pub fn figures_of(
    session: &Session,
    training: Option<&Training>,
    enrolments: &[Enrolment],
    feedback: &[&Feedback],
) -> Figures {
    let mut f = Figures {
        sessions: 1,
        capacity: session.capacity,
        waiting_peak: session.waiting_peak,
        ..Figures::default()
    };
    for e in enrolments {
        match e.status {
            EnrolmentStatus::Confirmed => f.confirmed_at_start += 1,
            EnrolmentStatus::Attended => f.attended += 1,
            EnrolmentStatus::Absent => f.absent += 1,
            EnrolmentStatus::Excused => f.excused += 1,
            EnrolmentStatus::Withdrawn if e.late => f.late_withdrawals += 1,
            EnrolmentStatus::Withdrawn => f.on_time_withdrawals += 1,
            EnrolmentStatus::Waitlisted => f.waiting_never_served += 1,
            EnrolmentStatus::Offered
            | EnrolmentStatus::Declined
            | EnrolmentStatus::OfferExpired => {}
        }
    }
    f.confirmed_at_start += f.attended + f.absent + f.excused;
    f.seats_lost_late = f
        .late_withdrawals
        .min(session.capacity.saturating_sub(f.confirmed_at_start));
    f.trainees_billed = f.confirmed_at_start + f.seats_lost_late;
    if let Some(t) = training {
        f.cost = Money::from_cents(
            t.session_cost.cents() + t.trainee_cost.cents() * i64::from(f.trainees_billed),
        );
    }
    let unmarked = enrolments
        .iter()
        .filter(|e| e.status == EnrolmentStatus::Confirmed)
        .count();
    if unmarked == 0 {
        f.marked_cost = f.cost;
        f.marked_attended = f.attended;
    }
    for answer in feedback {
        f.feedback_answers += 1;
        f.rating_sum += u32::from(answer.rating);
        f.relevance_sum += u32::from(answer.relevance);
    }
    f
}

fn add(into: &mut Figures, f: &Figures) {
    into.sessions += f.sessions;
    into.capacity += f.capacity;
    into.confirmed_at_start += f.confirmed_at_start;
    into.attended += f.attended;
    into.absent += f.absent;
    into.excused += f.excused;
    into.on_time_withdrawals += f.on_time_withdrawals;
    into.late_withdrawals += f.late_withdrawals;
    into.seats_lost_late += f.seats_lost_late;
    into.waiting_peak = into.waiting_peak.max(f.waiting_peak);
    into.waiting_never_served += f.waiting_never_served;
    into.trainees_billed += f.trainees_billed;
    into.cost = Money::from_cents(into.cost.cents() + f.cost.cents());
    into.marked_cost = Money::from_cents(into.marked_cost.cents() + f.marked_cost.cents());
    into.marked_attended += f.marked_attended;
    into.feedback_answers += f.feedback_answers;
    into.rating_sum += f.rating_sum;
    into.relevance_sum += f.relevance_sum;
}

/// A row with its rates derived from the summed figures.
pub fn row(scope: &str, key: String, label: String, figures: Figures) -> StatisticsRow {
    let present = u64::from(figures.marked_attended);
    let cost_per_present = (present > 0).then(|| {
        let cents = figures.marked_cost.cents().max(0) as u64;
        Money::from_cents(((cents * 2 + present) / (present * 2)) as i64)
    });
    let answers = u64::from(figures.feedback_answers);
    let fill_rate_permille = permille(figures.confirmed_at_start, figures.capacity);
    // Over the seats whose attendance is marked: a session whose roster is not yet filled in
    // does not count as absences.
    let attendance_permille = permille(
        figures.attended,
        figures.attended + figures.absent + figures.excused,
    );
    let rating_mean_hundredths = ratio_rounded(u64::from(figures.rating_sum), answers, 100);
    let relevance_mean_hundredths = ratio_rounded(u64::from(figures.relevance_sum), answers, 100);
    let rate = |p: Option<u32>| {
        p.map(|_| format!("{}\u{202f}%", export::percent(p)))
            .unwrap_or_default()
    };
    let display = RowDisplay {
        cost: figures.cost.to_french(),
        cost_per_present: cost_per_present.map(Money::to_french).unwrap_or_default(),
        fill_rate: rate(fill_rate_permille),
        attendance: rate(attendance_permille),
        rating_mean: export::hundredths(rating_mean_hundredths),
        relevance_mean: export::hundredths(relevance_mean_hundredths),
    };
    StatisticsRow {
        scope: scope.to_string(),
        key,
        label,
        fill_rate_permille,
        attendance_permille,
        cost_per_present,
        rating_mean_hundredths,
        relevance_mean_hundredths,
        display,
        figures,
    }
}

/// `mars 2027`.
pub fn month_label(day: NaiveDate) -> String {
    format!("{} {}", MONTHS[day.month0() as usize], day.year())
}

/// The statistics of the sessions that started by `now`, as `query` asks.
pub fn compute(
    now: Instant,
    sessions: &[(Session, Vec<Enrolment>)],
    trainings: &HashMap<TrainingId, Training>,
    feedback: &[Feedback],
    query: &StatisticsQuery,
) -> StatisticsSnapshot {
    let mut answers: HashMap<&SessionId, Vec<&Feedback>> = HashMap::new();
    for a in feedback {
        answers.entry(&a.session_id).or_default().push(a);
    }
    let mut counted: Vec<&(Session, Vec<Enrolment>)> = sessions
        .iter()
        .filter(|(s, _)| {
            s.status != SessionStatus::Cancelled && s.starts_at <= now && query.covers(s.first_day)
        })
        .collect();
    counted.sort_by(|a, b| (a.0.starts_at, &a.0.reference).cmp(&(b.0.starts_at, &b.0.reference)));

    let mut total = Figures::default();
    let mut session_rows = Vec::new();
    // Group key → (label, figures), in key order.
    let mut groups: BTreeMap<String, (String, Figures)> = BTreeMap::new();
    for (session, enrolments) in counted {
        let training = trainings.get(&session.training_id);
        let mine = answers.get(&session.id).map(Vec::as_slice).unwrap_or(&[]);
        let f = figures_of(session, training, enrolments, mine);
        add(&mut total, &f);
        let code = training
            .map(|t| t.code.clone())
            .unwrap_or_else(|| session.training_id.to_string());
        let (key, label) = match query.group {
            Grouping::Session => {
                let title = training.map(|t| t.title.clone()).unwrap_or_default();
                session_rows.push(row("session", session.reference.clone(), title, f));
                continue;
            }
            Grouping::Training => (code, training.map(|t| t.title.clone()).unwrap_or_default()),
            Grouping::Theme => {
                let theme = training.map(|t| t.theme.clone()).unwrap_or_default();
                (theme.clone(), theme)
            }
            Grouping::Month => (
                session.first_day.format("%Y-%m").to_string(),
                month_label(session.first_day),
            ),
            Grouping::Year => {
                let year = session.first_day.year().to_string();
                (year.clone(), year)
            }
        };
        let entry = groups
            .entry(key)
            .or_insert_with(|| (label, Figures::default()));
        add(&mut entry.1, &f);
    }
    let scope = query.group.as_str();
    let rows = if query.group == Grouping::Session {
        session_rows
    } else {
        groups
            .into_iter()
            .map(|(key, (label, f))| row(scope, key, label, f))
            .collect()
    };
    StatisticsSnapshot {
        computed_at: now,
        group: scope.to_string(),
        from: query.from,
        to: query.to,
        rows,
        total: Some(row("total", "total".into(), "Total".into(), total)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_and_need_a_denominator() {
        assert_eq!(permille(2, 3), Some(667));
        assert_eq!(permille(1, 8), Some(125));
        assert_eq!(permille(1, 0), None);
        assert_eq!(ratio_rounded(13, 3, 100), Some(433));
        assert_eq!(ratio_rounded(9, 2, 100), Some(450));
    }

    #[test]
    fn a_period_must_not_end_before_it_starts() {
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day);
        let e = StatisticsQuery::new(d(6, 2), d(6, 1), Grouping::Month).unwrap_err();
        assert_eq!(e.code, "invalid-period");
        assert!(e.detail.contains("02/06/2027"), "{}", e.detail);
        assert!(StatisticsQuery::new(d(6, 1), d(6, 1), Grouping::Month).is_ok());
        assert_eq!(Grouping::parse("theme"), Some(Grouping::Theme));
        assert_eq!(Grouping::parse("week"), None);
    }

    #[test]
    fn months_are_labelled_in_french() {
        let day = NaiveDate::from_ymd_opt(2027, 8, 3).expect("date");
        assert_eq!(month_label(day), "août 2027");
    }
}
