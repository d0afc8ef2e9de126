//! The model: who takes part, what is offered, and where each officer stands.

use crate::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use crate::time::{DailyHours, Instant};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An e-mail address, trimmed and lower-cased so that `Jean.Dupont@…` and `jean.dupont@…` are
/// the same person. It never holds CR or LF, so it is safe in a mail header.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Option<Self> {
        let e = raw.trim().to_lowercase();
        if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (local, domain) = e.split_once('@')?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') || !domain.contains('.') {
            return None;
        }
        if domain.starts_with('.') || domain.ends_with('.') || e.contains(['<', '>', ',', ';', '"'])
        {
            return None;
        }
        Some(Self(e))
    }

    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount of money in euro cents: exact, never a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses an amount as French spreadsheets write it: `4 800`, `4 800,50`, `1900`, `12,5 €`.
    /// Negative amounts and more than two decimals are refused.
    pub fn parse_french(raw: &str) -> Option<Self> {
        let cleaned: String = raw
            .trim()
            .trim_end_matches('€')
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
            .collect();
        if cleaned.is_empty() {
            return None;
        }
        let (units, decimals) = match cleaned.split_once([',', '.']) {
            Some((u, d)) => (u, d),
            None => (cleaned.as_str(), ""),
        };
        if units.is_empty()
            || !units.chars().all(|c| c.is_ascii_digit())
            || !decimals.chars().all(|c| c.is_ascii_digit())
            || decimals.len() > 2
            || units.len() > 12
        {
            return None;
        }
        let units: i64 = units.parse().ok()?;
        let cents: i64 = match decimals.len() {
            0 => 0,
            1 => decimals.parse::<i64>().ok()? * 10,
            _ => decimals.parse().ok()?,
        };
        Some(Self(units * 100 + cents))
    }

    /// French rendering: `1 234,50 €` (narrow no-break space as thousands separator).
    pub fn to_french(self) -> String {
        let units = self.0 / 100;
        let cents = (self.0 % 100).abs();
        let digits = units.abs().to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('\u{202f}');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{grouped},{cents:02}\u{a0}€")
    }
}

impl Serialize for Money {
    /// JSON carries money as a decimal string (`"4800.00"`) so that no client reads it as a float.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sign = if self.0 < 0 { "-" } else { "" };
        s.serialize_str(&format!(
            "{sign}{}.{:02}",
            (self.0 / 100).abs(),
            (self.0 % 100).abs()
        ))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Money::parse_french(&raw).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "montant invalide « {} »",
                raw.chars().take(20).collect::<String>()
            ))
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    /// A career-transition advisor who follows officers.
    Advisor,
    /// An administrator of the training cell.
    Administrator,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Advisor => "advisor",
            StaffRole::Administrator => "administrator",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_lowercase().as_str() {
            "advisor" | "conseiller" | "conseillère" => Some(StaffRole::Advisor),
            "administrator" | "administrateur" | "administratrice" => {
                Some(StaffRole::Administrator)
            }
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Staff {
    pub id: StaffId,
    pub last_name: String,
    pub first_name: String,
    pub function: String,
    pub email: Email,
    pub role: StaffRole,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Officer {
    pub id: OfficerId,
    pub last_name: String,
    pub first_name: String,
    pub grade: String,
    pub branch: String,
    pub email: Email,
    pub phone: Option<String>,
    pub accompaniment_start: NaiveDate,
    pub accompaniment_end: NaiveDate,
    pub advisor_id: Option<StaffId>,
}

impl Officer {
    /// What stands for an erased officer where their kept records need one (a roster line):
    /// their pseudonym and nothing else, the same on every store.
    pub fn erased(id: OfficerId) -> Self {
        let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
        Self {
            email: Email::from_stored(format!(
                "{}@{ERASED_DOMAIN}",
                id.as_str().to_ascii_lowercase()
            )),
            id,
            last_name: String::new(),
            first_name: String::new(),
            grade: String::new(),
            branch: String::new(),
            phone: None,
            accompaniment_start: day,
            accompaniment_end: day,
            advisor_id: None,
        }
    }

    pub fn is_erased(&self) -> bool {
        self.email.as_str().ends_with(ERASED_DOMAIN)
    }
}

/// The domain of an erased officer's stand-in address: reserved, it reaches nobody.
pub const ERASED_DOMAIN: &str = "erased.invalid";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    #[serde(rename = "présentiel", alias = "presentiel")]
    InPerson,
    #[serde(rename = "distanciel")]
    Remote,
    #[serde(rename = "hybride")]
    Hybrid,
}

impl Modality {
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::InPerson => "présentiel",
            Modality::Remote => "distanciel",
            Modality::Hybrid => "hybride",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_lowercase().as_str() {
            "présentiel" | "presentiel" => Some(Modality::InPerson),
            "distanciel" => Some(Modality::Remote),
            "hybride" => Some(Modality::Hybrid),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Training {
    pub id: TrainingId,
    pub code: String,
    pub title: String,
    pub theme: String,
    pub modality: Modality,
    pub length_days: u32,
    pub provider: String,
    pub session_cost: Money,
    pub trainee_cost: Money,
    pub min_group: u32,
    pub max_group: u32,
    pub archived: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Scheduled,
    Cancelled,
    Completed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Completed => "completed",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "scheduled" => Some(SessionStatus::Scheduled),
            "cancelled" => Some(SessionStatus::Cancelled),
            "completed" => Some(SessionStatus::Completed),
            _ => None,
        }
    }
}

/// What happens to a seat freed while people are waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum WaitlistMode {
    /// No waiting list: a full session refuses new enrolments.
    Off,
    /// The next in line is confirmed at once.
    Direct,
    /// The next in line is offered the seat and has `hours` to accept it.
    Offer { hours: u32 },
}

impl WaitlistMode {
    pub fn is_on(self) -> bool {
        !matches!(self, WaitlistMode::Off)
    }
}

/// A dated session of a training. Times are UTC instants; the Paris dates and daily hours it
/// was entered with are kept for display.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: SessionId,
    pub reference: String,
    pub training_id: TrainingId,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    #[serde(skip)]
    pub hours: DailyHours,
    #[serde(with = "crate::time::paris_serde")]
    pub starts_at: Instant,
    #[serde(with = "crate::time::paris_serde")]
    pub ends_at: Instant,
    pub place: String,
    pub capacity: u32,
    #[serde(with = "crate::time::paris_serde")]
    pub enrolment_closes_at: Instant,
    #[serde(with = "crate::time::paris_serde")]
    pub free_withdrawal_until: Instant,
    pub trainer: Option<String>,
    pub status: SessionStatus,
    pub waitlist: WaitlistMode,
    /// Confirmed enrolments plus offers still held: never above `capacity`.
    pub seats_taken: u32,
    /// Officers on the waiting list (offers excluded).
    pub waiting: u32,
    /// The longest the waiting list has ever been: raised with `waiting`, in the same
    /// transaction, never lowered. The demand a session met, for the statistics.
    pub waiting_peak: u32,
    /// Seats whose attendance has been marked (attended, absent, excused): taken at the start,
    /// and no longer in `seats_taken`. Read from the enrolments, never stored.
    pub seats_marked: u32,
    /// Bumped at every change of schedule, so that a reminder is tied to the schedule it was
    /// computed from.
    pub schedule_version: u32,
}

impl Session {
    pub fn seats_left(&self) -> u32 {
        self.capacity
            .saturating_sub(self.seats_taken + self.seats_marked)
    }

    /// Seats filled: held now, or held at the start by those whose attendance is marked.
    pub fn seats_filled(&self) -> u32 {
        self.seats_taken + self.seats_marked
    }
}

/// Where an enrolment stands. The transitions allowed between these states are in
/// [`EnrolmentStatus::can_become`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentStatus {
    Confirmed,
    Waitlisted,
    /// A freed seat held for this officer until the offer expires.
    Offered,
    /// Withdrew before the session; `late` on the enrolment says whether after the cut-off.
    Withdrawn,
    /// Left the waiting list, or declined an offer.
    Declined,
    OfferExpired,
    Attended,
    Absent,
    Excused,
}

impl EnrolmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrolmentStatus::Confirmed => "confirmed",
            EnrolmentStatus::Waitlisted => "waitlisted",
            EnrolmentStatus::Offered => "offered",
            EnrolmentStatus::Withdrawn => "withdrawn",
            EnrolmentStatus::Declined => "declined",
            EnrolmentStatus::OfferExpired => "offer_expired",
            EnrolmentStatus::Attended => "attended",
            EnrolmentStatus::Absent => "absent",
            EnrolmentStatus::Excused => "excused",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "confirmed" => EnrolmentStatus::Confirmed,
            "waitlisted" => EnrolmentStatus::Waitlisted,
            "offered" => EnrolmentStatus::Offered,
            "withdrawn" => EnrolmentStatus::Withdrawn,
            "declined" => EnrolmentStatus::Declined,
            "offer_expired" => EnrolmentStatus::OfferExpired,
            "attended" => EnrolmentStatus::Attended,
            "absent" => EnrolmentStatus::Absent,
            "excused" => EnrolmentStatus::Excused,
            _ => return None,
        })
    }

    /// French label for the UI.
    pub fn label_fr(self) -> &'static str {
        match self {
            EnrolmentStatus::Confirmed => "inscrit",
            EnrolmentStatus::Waitlisted => "liste d'attente",
            EnrolmentStatus::Offered => "place proposée",
            EnrolmentStatus::Withdrawn => "désisté",
            EnrolmentStatus::Declined => "a renoncé",
            EnrolmentStatus::OfferExpired => "proposition expirée",
            EnrolmentStatus::Attended => "présent",
            EnrolmentStatus::Absent => "absent",
            EnrolmentStatus::Excused => "excusé",
        }
    }

    /// Holds a seat: counted in the session's `seats_taken`.
    pub fn holds_seat(self) -> bool {
        matches!(self, EnrolmentStatus::Confirmed | EnrolmentStatus::Offered)
    }

    /// Still in play for this session: holding a seat or waiting for one.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            EnrolmentStatus::Confirmed | EnrolmentStatus::Waitlisted | EnrolmentStatus::Offered
        )
    }

    /// The state machine. Any change not listed here is refused by the use cases.
    pub fn can_become(self, next: EnrolmentStatus) -> bool {
        use EnrolmentStatus::*;
        match (self, next) {
            // Joining again after leaving puts the officer back in play.
            (Withdrawn | Declined | OfferExpired, Confirmed | Waitlisted) => true,
            (Waitlisted, Confirmed | Offered | Declined) => true,
            (Offered, Confirmed | Declined | OfferExpired) => true,
            (Confirmed, Withdrawn) => true,
            // Attendance is marked on confirmed officers, and can be corrected.
            (Confirmed | Attended | Absent | Excused, Attended | Absent | Excused) => self != next,
            _ => false,
        }
    }
}

/// Who made a change, and through which door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The officer, in the app.
    #[serde(rename = "self")]
    Officer,
    /// A staff member, on the officer's behalf.
    Staff,
    /// A spreadsheet import.
    Import,
    /// A scheduled or event-driven job (promotion, offer expiry).
    System,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Officer => "self",
            Origin::Staff => "staff",
            Origin::Import => "import",
            Origin::System => "system",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "self" => Origin::Officer,
            "staff" => Origin::Staff,
            "import" => Origin::Import,
            "system" => Origin::System,
            _ => return None,
        })
    }
}

/// The person or job behind a change, as recorded in an enrolment's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The caller's subject (officer or staff id, or a job name).
    pub id: String,
    pub origin: Origin,
}

impl Actor {
    pub fn officer(id: &OfficerId) -> Self {
        Self {
            id: id.to_string(),
            origin: Origin::Officer,
        }
    }
    pub fn staff(id: &StaffId) -> Self {
        Self {
            id: id.to_string(),
            origin: Origin::Staff,
        }
    }
    pub fn import(by: &str) -> Self {
        Self {
            id: by.to_string(),
            origin: Origin::Import,
        }
    }
    pub fn system(job: &str) -> Self {
        Self {
            id: job.to_string(),
            origin: Origin::System,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enrolment {
    pub id: EnrolmentId,
    pub session_id: SessionId,
    pub officer_id: OfficerId,
    pub status: EnrolmentStatus,
    /// For a withdrawal: made after the free-withdrawal cut-off.
    pub late: bool,
    #[serde(with = "crate::time::paris_serde")]
    pub joined_at: Instant,
    #[serde(with = "crate::time::paris_serde::option")]
    pub confirmed_at: Option<Instant>,
    #[serde(with = "crate::time::paris_serde::option")]
    pub offer_expires_at: Option<Instant>,
    #[serde(with = "crate::time::paris_serde")]
    pub updated_at: Instant,
    pub updated_by: String,
    pub origin: Origin,
    /// Ordering key on the waiting list: join time, then the stable id.
    #[serde(skip)]
    pub rank: i64,
}

/// An officer's answer about a session they attended: one per (officer, session).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub session_id: SessionId,
    pub officer_id: OfficerId,
    /// How good the session was, 1 to 5.
    pub rating: u8,
    /// How useful it is to the officer's project, 1 to 5.
    pub relevance: u8,
    /// Shown to staff only.
    pub comment: Option<String>,
    #[serde(with = "crate::time::paris_serde")]
    pub at: Instant,
}

/// One line of an enrolment's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnrolmentChange {
    #[serde(with = "crate::time::paris_serde")]
    pub at: Instant,
    pub from: Option<EnrolmentStatus>,
    pub to: EnrolmentStatus,
    pub actor: String,
    pub origin: Origin,
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgrammeKind {
    Required,
    Recommended,
}

impl ProgrammeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgrammeKind::Required => "required",
            ProgrammeKind::Recommended => "recommended",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "required" => Some(ProgrammeKind::Required),
            "recommended" => Some(ProgrammeKind::Recommended),
            _ => None,
        }
    }
}

/// A training that an officer's advisor plans for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProgrammeItem {
    pub officer_id: OfficerId,
    pub training_id: TrainingId,
    pub kind: ProgrammeKind,
    pub planned_by: String,
    #[serde(with = "crate::time::paris_serde")]
    pub planned_at: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_header_injection_is_refused() {
        assert_eq!(
            Email::parse(" Jean.Dupont@Intradef.Example ")
                .unwrap()
                .as_str(),
            "jean.dupont@intradef.example"
        );
        assert!(Email::parse("a@b.fr\r\nBcc: x@y.fr").is_none());
        assert!(Email::parse("no-at-sign").is_none());
        assert!(Email::parse("a@nodot").is_none());
        assert!(Email::parse("\"x\" <a@b.fr>").is_none());
    }

    #[test]
    fn money_parses_french_spreadsheet_amounts_exactly() {
        assert_eq!(Money::parse_french("4 800").unwrap().cents(), 480_000);
        assert_eq!(Money::parse_french("1 900,5").unwrap().cents(), 190_050);
        assert_eq!(Money::parse_french("0").unwrap().cents(), 0);
        assert_eq!(Money::parse_french("12,34 €").unwrap().cents(), 1_234);
        assert!(Money::parse_french("-5").is_none());
        assert!(Money::parse_french("1,234").is_none());
        assert!(Money::parse_french("abc").is_none());
        assert!(Money::parse_french("99999999999999999").is_none());
    }

    #[test]
    fn money_renders_the_french_way() {
        assert_eq!(
            Money::from_cents(123_450).to_french(),
            "1\u{202f}234,50\u{a0}€"
        );
        assert_eq!(Money::from_cents(5).to_french(), "0,05\u{a0}€");
    }

    #[test]
    fn state_machine_allows_the_expected_transitions_only() {
        use EnrolmentStatus::*;
        assert!(Waitlisted.can_become(Offered));
        assert!(Offered.can_become(Confirmed));
        assert!(Offered.can_become(OfferExpired));
        assert!(Confirmed.can_become(Withdrawn));
        assert!(Withdrawn.can_become(Waitlisted));
        assert!(Confirmed.can_become(Attended));
        assert!(Attended.can_become(Absent));
        assert!(!Attended.can_become(Attended));
        assert!(!Waitlisted.can_become(Attended));
        assert!(!Withdrawn.can_become(Attended));
        assert!(!Confirmed.can_become(Waitlisted));
        assert!(!Declined.can_become(Offered));
    }
}
