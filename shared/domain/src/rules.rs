//! The rules that decide who gets a seat and when. Pure functions over the model: the stores
//! call them inside their transactions, so every adapter applies the same rules.

use crate::error::{DomainError, Result};
use crate::model::{Enrolment, EnrolmentStatus, Session, SessionStatus, WaitlistMode};
use crate::notices::french_datetime;
use crate::time::{DailyHours, Instant, paris};
use chrono::{Duration, NaiveDate};

/// The largest session the product accepts: well above any MiRVOG room, low enough that a typo
/// such as `2000000` is caught.
pub const MAX_CAPACITY: u32 = 1000;

fn check_status(session: &Session) -> Result<()> {
    match session.status {
        SessionStatus::Scheduled => Ok(()),
        SessionStatus::Cancelled => Err(DomainError::conflict(
            "session-cancelled",
            "Cette session a été annulée.",
        )),
        SessionStatus::Completed => Err(DomainError::conflict(
            "session-completed",
            "Cette session est terminée.",
        )),
    }
}

/// An officer may enrol up to and including the close instant, and always strictly before the
/// start. Staff acting for an officer may still enrol them after the close, until the start.
pub fn check_enrolment_window(session: &Session, now: Instant, by_staff: bool) -> Result<()> {
    check_status(session)?;
    if now >= session.starts_at {
        return Err(DomainError::conflict(
            "session-started",
            "Cette session a déjà commencé : les inscriptions sont closes.",
        ));
    }
    if now > session.enrolment_closes_at && !by_staff {
        return Err(DomainError::conflict(
            "enrolment-closed",
            format!(
                "Les inscriptions à cette session sont closes depuis le {}.",
                french_datetime(session.enrolment_closes_at)
            ),
        ));
    }
    Ok(())
}

/// A withdrawal is possible until the start; after the free-withdrawal cut-off it is late.
pub fn check_withdrawal(session: &Session, now: Instant) -> Result<WithdrawalTiming> {
    check_status(session)?;
    if now >= session.starts_at {
        return Err(DomainError::conflict(
            "session-started",
            "Cette session a déjà commencé : il n'est plus possible de se désister.",
        ));
    }
    Ok(if now > session.free_withdrawal_until {
        WithdrawalTiming::Late
    } else {
        WithdrawalTiming::OnTime
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithdrawalTiming {
    OnTime,
    Late,
}

/// What a freed seat becomes, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Promotion {
    /// Confirm the next in line at once.
    Confirm,
    /// Offer the seat to the next in line until this instant.
    Offer { expires_at: Instant },
}

impl Promotion {
    /// Applies the promotion to the next in line: confirmed now, or offered until the
    /// deadline. The session's counters are the caller's.
    pub fn apply(self, e: &mut Enrolment, now: Instant) {
        match self {
            Promotion::Confirm => {
                e.status = EnrolmentStatus::Confirmed;
                e.confirmed_at = Some(now);
                e.offer_expires_at = None;
            }
            Promotion::Offer { expires_at } => {
                e.status = EnrolmentStatus::Offered;
                e.offer_expires_at = Some(expires_at);
            }
        }
    }
}

/// Decides whether a freed seat can go to the next in line now. No promotion after the close or
/// the start; an offer needs time left before the close to be worth making.
pub fn promotion_for(session: &Session, now: Instant) -> Option<Promotion> {
    if session.status != SessionStatus::Scheduled
        || now >= session.starts_at
        || now > session.enrolment_closes_at
    {
        return None;
    }
    match session.waitlist {
        WaitlistMode::Off => None,
        WaitlistMode::Direct => Some(Promotion::Confirm),
        WaitlistMode::Offer { hours } => {
            let expires_at =
                (now + Duration::hours(i64::from(hours))).min(session.enrolment_closes_at);
            (expires_at > now).then_some(Promotion::Offer { expires_at })
        }
    }
}

/// A new capacity is refused below the seats already taken, above [`MAX_CAPACITY`], and at 0
/// unless the waiting list is on (a session that only collects demand).
pub fn check_capacity(
    capacity: u32,
    waitlist: WaitlistMode,
    confirmed: u32,
    offers_held: u32,
) -> Result<()> {
    if capacity > MAX_CAPACITY {
        return Err(DomainError::field(
            "capacity",
            format!("La capacité ne peut pas dépasser {MAX_CAPACITY} places."),
        ));
    }
    if capacity == 0 && !waitlist.is_on() {
        return Err(DomainError::field(
            "capacity",
            "Une capacité de 0 place n'est possible qu'avec la liste d'attente activée.",
        ));
    }
    if capacity < confirmed + offers_held {
        let offers = if offers_held > 0 {
            format!(" et {offers_held} place(s) proposée(s) en attente de réponse")
        } else {
            String::new()
        };
        return Err(DomainError::conflict(
            "capacity-below-confirmed",
            format!(
                "Impossible de réduire la capacité à {capacity} place(s) : {confirmed} officier(s) \
                 sont déjà inscrits{offers}."
            ),
        ));
    }
    Ok(())
}

/// The timing of a session as staff enter it, checked and resolved into instants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub hours: DailyHours,
    pub starts_at: Instant,
    pub ends_at: Instant,
    pub enrolment_closes_at: Instant,
    pub free_withdrawal_until: Instant,
}

impl Schedule {
    /// End after start; enrolment close and free-withdrawal cut-off before the start; every
    /// wall-clock time must exist in Paris.
    pub fn new(
        first_day: NaiveDate,
        last_day: NaiveDate,
        hours: DailyHours,
        enrolment_closes_at: Instant,
        free_withdrawal_until: Instant,
    ) -> Result<Self> {
        if last_day < first_day {
            return Err(DomainError::field(
                "last_day",
                "Le dernier jour doit être identique ou postérieur au premier jour.",
            ));
        }
        if (last_day - first_day).num_days() > 365 {
            return Err(DomainError::field(
                "last_day",
                "Une session ne peut durer plus d'un an.",
            ));
        }
        let starts_at = paris(first_day, hours.start)?;
        let ends_at = paris(last_day, hours.end)?;
        if ends_at <= starts_at {
            return Err(DomainError::field(
                "hours",
                "La fin doit être postérieure au début.",
            ));
        }
        if enrolment_closes_at >= starts_at {
            return Err(DomainError::field(
                "enrolment_closes_at",
                format!(
                    "La clôture des inscriptions (le {}) doit précéder le début de la session \
                     (le {}).",
                    french_datetime(enrolment_closes_at),
                    french_datetime(starts_at)
                ),
            ));
        }
        if free_withdrawal_until >= starts_at {
            return Err(DomainError::field(
                "free_withdrawal_until",
                format!(
                    "La date limite de désistement sans frais (le {}) doit précéder le début de \
                     la session (le {}).",
                    french_datetime(free_withdrawal_until),
                    french_datetime(starts_at)
                ),
            ));
        }
        Ok(Self {
            first_day,
            last_day,
            hours,
            starts_at,
            ends_at,
            enrolment_closes_at,
            free_withdrawal_until,
        })
    }
}

/// Waiting-list ordering key for someone joining now: join time in microseconds, never below
/// the last key handed out for the session, so that two joins in the same microsecond (or a
/// clock set back in the local mode) still queue in arrival order.
pub fn next_rank(now: Instant, last_rank: i64) -> i64 {
    now.timestamp_micros().max(last_rank + 1)
}

/// The ordering key that puts an entry at `position` (1-based) among `ranks` (the current
/// waiting list in order, without the entry being moved). `None` when the neighbours' keys are
/// adjacent and the list must be renumbered first.
pub fn rank_for_position(ranks: &[i64], position: usize) -> Option<i64> {
    let index = position.saturating_sub(1).min(ranks.len());
    let before = index.checked_sub(1).and_then(|i| ranks.get(i)).copied();
    let after = ranks.get(index).copied();
    match (before, after) {
        (None, None) => Some(0),
        (None, Some(a)) => a.checked_sub(1_000_000),
        (Some(b), None) => b.checked_add(1_000_000),
        (Some(b), Some(a)) => (a - b > 1).then(|| b + (a - b) / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SessionId, TrainingId};
    use crate::time::parse_instant;
    use chrono::NaiveTime;

    fn at(s: &str) -> Instant {
        parse_instant(s).expect("test instant")
    }

    fn session(waitlist: WaitlistMode) -> Session {
        let hours = DailyHours {
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
            end: NaiveTime::from_hms_opt(17, 30, 0).expect("time"),
        };
        Session {
            id: SessionId::generate(),
            reference: "FIN-01-S999".into(),
            training_id: TrainingId::generate(),
            first_day: NaiveDate::from_ymd_opt(2026, 6, 10).expect("date"),
            last_day: NaiveDate::from_ymd_opt(2026, 6, 11).expect("date"),
            hours,
            starts_at: at("2026-06-10T09:00"),
            ends_at: at("2026-06-11T17:30"),
            place: "Paris".into(),
            capacity: 2,
            enrolment_closes_at: at("2026-06-01T23:59:59"),
            free_withdrawal_until: at("2026-06-05T23:59:59"),
            trainer: None,
            status: SessionStatus::Scheduled,
            waitlist,
            seats_taken: 0,
            waiting: 0,
            waiting_peak: 0,
            seats_marked: 0,
            schedule_version: 1,
        }
    }

    #[test]
    fn enrolment_is_accepted_at_the_close_instant_and_refused_one_second_later() {
        let s = session(WaitlistMode::Direct);
        assert!(check_enrolment_window(&s, s.enrolment_closes_at, false).is_ok());
        let late = s.enrolment_closes_at + Duration::seconds(1);
        assert_eq!(
            check_enrolment_window(&s, late, false).unwrap_err().code,
            "enrolment-closed"
        );
    }

    #[test]
    fn staff_may_enrol_after_the_close_but_nobody_at_or_after_the_start() {
        let s = session(WaitlistMode::Direct);
        let after_close = s.enrolment_closes_at + Duration::hours(1);
        assert!(check_enrolment_window(&s, after_close, true).is_ok());
        assert_eq!(
            check_enrolment_window(&s, s.starts_at, true)
                .unwrap_err()
                .code,
            "session-started"
        );
    }

    #[test]
    fn a_cancelled_session_takes_no_enrolment() {
        let mut s = session(WaitlistMode::Direct);
        s.status = SessionStatus::Cancelled;
        let now = at("2026-05-01T10:00");
        assert_eq!(
            check_enrolment_window(&s, now, false).unwrap_err().code,
            "session-cancelled"
        );
    }

    #[test]
    fn a_withdrawal_after_the_cut_off_is_late_and_after_the_start_is_refused() {
        let s = session(WaitlistMode::Direct);
        assert_eq!(
            check_withdrawal(&s, s.free_withdrawal_until).unwrap(),
            WithdrawalTiming::OnTime
        );
        let after = s.free_withdrawal_until + Duration::seconds(1);
        assert_eq!(check_withdrawal(&s, after).unwrap(), WithdrawalTiming::Late);
        assert!(check_withdrawal(&s, s.starts_at).is_err());
    }

    #[test]
    fn an_offer_expires_at_the_earlier_of_its_hours_and_the_close() {
        let s = session(WaitlistMode::Offer { hours: 48 });
        let early = at("2026-05-01T10:00");
        assert_eq!(
            promotion_for(&s, early),
            Some(Promotion::Offer {
                expires_at: early + Duration::hours(48)
            })
        );
        let near_close = s.enrolment_closes_at - Duration::hours(2);
        assert_eq!(
            promotion_for(&s, near_close),
            Some(Promotion::Offer {
                expires_at: s.enrolment_closes_at
            })
        );
    }

    #[test]
    fn no_promotion_after_the_close_or_with_the_waiting_list_off() {
        let s = session(WaitlistMode::Direct);
        assert_eq!(
            promotion_for(&s, s.enrolment_closes_at),
            Some(Promotion::Confirm)
        );
        assert_eq!(
            promotion_for(&s, s.enrolment_closes_at + Duration::seconds(1)),
            None
        );
        let off = session(WaitlistMode::Off);
        assert_eq!(promotion_for(&off, at("2026-05-01T10:00")), None);
    }

    #[test]
    fn lowering_capacity_below_the_confirmed_count_names_both_numbers() {
        let e = check_capacity(3, WaitlistMode::Direct, 5, 0).unwrap_err();
        assert_eq!(e.code, "capacity-below-confirmed");
        assert!(
            e.detail.contains("à 3 place") && e.detail.contains("5 officier"),
            "{}",
            e.detail
        );
        assert!(check_capacity(5, WaitlistMode::Direct, 5, 0).is_ok());
    }

    #[test]
    fn capacity_zero_needs_the_waiting_list() {
        assert!(check_capacity(0, WaitlistMode::Direct, 0, 0).is_ok());
        assert!(check_capacity(0, WaitlistMode::Off, 0, 0).is_err());
        assert!(check_capacity(MAX_CAPACITY + 1, WaitlistMode::Direct, 0, 0).is_err());
    }

    #[test]
    fn a_schedule_must_close_before_it_starts_and_exist_in_paris() {
        let hours = DailyHours::parse("09:00-17:30").expect("hours");
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).expect("date");
        assert!(
            Schedule::new(
                d(6, 10),
                d(6, 11),
                hours,
                at("2026-06-01T12:00"),
                at("2026-06-05T12:00")
            )
            .is_ok()
        );
        let e = Schedule::new(
            d(6, 10),
            d(6, 11),
            hours,
            at("2026-06-10T09:00"),
            at("2026-06-05T12:00"),
        )
        .unwrap_err();
        assert_eq!(e.fields[0].field, "enrolment_closes_at");
        assert!(
            Schedule::new(
                d(6, 11),
                d(6, 10),
                hours,
                at("2026-06-01T12:00"),
                at("2026-06-05T12:00")
            )
            .is_err()
        );
        let night = DailyHours::parse("02:30-04:00").expect("hours");
        let e = Schedule::new(
            d(3, 29),
            d(3, 29),
            night,
            at("2026-03-01T12:00"),
            at("2026-03-01T12:00"),
        )
        .unwrap_err();
        assert_eq!(e.code, "invalid-time");
    }

    #[test]
    fn ranks_keep_arrival_order_even_in_the_same_microsecond() {
        let now = at("2026-05-01T10:00");
        let first = next_rank(now, 0);
        let second = next_rank(now, first);
        assert!(second > first);
    }

    #[test]
    fn a_rank_can_be_found_between_any_two_spaced_neighbours() {
        let ranks = [10, 20, 30];
        assert_eq!(rank_for_position(&ranks, 1), Some(10 - 1_000_000));
        assert_eq!(rank_for_position(&ranks, 2), Some(15));
        assert_eq!(rank_for_position(&ranks, 9), Some(30 + 1_000_000));
        assert_eq!(rank_for_position(&[10, 11], 2), None);
    }
}
