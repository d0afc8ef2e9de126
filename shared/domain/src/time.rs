//! Time: every instant is stored in UTC and entered or shown in Europe/Paris.
//!
//! A wall-clock time that does not exist in Paris (the hour skipped in spring) is refused; one
//! that happens twice (the hour repeated in autumn) is refused unless the caller gives an
//! explicit offset. Nothing in the crate holds a naive date-time past this module.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Europe::Paris;
use chrono_tz::Tz;

/// An instant, always UTC.
pub type Instant = DateTime<Utc>;

/// Why a time given by a user could not be turned into an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "« {0} » n'est pas une date et heure valide (attendu : 2026-05-05T10:00 ou 2026-05-05T10:00:00+02:00)"
    )]
    Malformed(String),
    #[error("{0} n'existe pas à Paris (passage à l'heure d'été) : choisissez une autre heure")]
    Nonexistent(String),
    #[error(
        "{0} existe deux fois à Paris (passage à l'heure d'hiver) : précisez le décalage, par exemple +02:00 ou +01:00"
    )]
    Ambiguous(String),
    #[error("« {0} » n'est pas une date valide (attendu : jj/mm/aaaa ou aaaa-mm-jj)")]
    BadDate(String),
    #[error("« {0} » n'est pas une plage horaire valide (attendu : 09:00-17:30)")]
    BadHours(String),
    #[error("« {0} » n'est pas une durée valide (attendu : PT48H, P2D, PT30M…)")]
    BadDuration(String),
    #[error("« {0} » est hors de la période admise (années {FIRST_YEAR} à {LAST_YEAR})")]
    OutOfRange(String),
}

/// The years a date may fall in: wide enough for any accompaniment, narrow enough to catch a
/// typo such as `0001-01-01` or `07/06/1827`.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2099;

fn check_year(year: i32, raw: &str) -> Result<(), TimeError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(TimeError::OutOfRange(truncate(raw)))
    }
}

/// Resolves a Paris wall-clock date and time into an instant.
pub fn paris(date: NaiveDate, time: NaiveTime) -> Result<Instant, TimeError> {
    let local = NaiveDateTime::new(date, time);
    match Paris.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(TimeError::Nonexistent(describe_local(local))),
        LocalResult::Ambiguous(_, _) => Err(TimeError::Ambiguous(describe_local(local))),
    }
}

fn describe_local(local: NaiveDateTime) -> String {
    format!(
        "Le {} à {}",
        local.format("%d/%m/%Y"),
        local.format("%H:%M")
    )
}

/// The last second of a Paris calendar day: how a closing day written in a spreadsheet
/// ("clôture le 29/12/2025") becomes an instant. The end of a day always exists in Paris.
pub fn paris_end_of_day(date: NaiveDate) -> Instant {
    let next = date.succ_opt().unwrap_or(date);
    let midnight = Paris
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&next.and_time(NaiveTime::MIN)));
    midnight - Duration::seconds(1)
}

/// The same Paris wall-clock time `days` calendar days later (or earlier): how a deadline
/// follows a session that moves, keeping its lead time in days whatever clock change lies
/// between. A wall-clock time that does not exist on the new day (in the spring gap) becomes
/// the first instant after the gap; an ambiguous one (the autumn hour) the first occurrence.
pub fn shift_paris_days(t: Instant, days: i64) -> Instant {
    let local = t.with_timezone(&Paris).naive_local();
    let Some(moved) = local.checked_add_signed(Duration::days(days)) else {
        return t;
    };
    match Paris.from_local_datetime(&moved) {
        LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => x.with_timezone(&Utc),
        LocalResult::None => Paris
            .from_local_datetime(&(moved + Duration::hours(1)))
            .earliest()
            .map(|x| x.with_timezone(&Utc))
            .unwrap_or(t + Duration::days(days)),
    }
}

/// The first instant of a Paris calendar day.
pub fn paris_start_of_day(date: NaiveDate) -> Instant {
    Paris
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)))
}

/// Parses an instant typed by a person: RFC 3339 with an offset (`2026-05-05T10:00:00+02:00`,
/// `…Z`) is taken as is; without an offset (`2026-05-05T10:00`) it is read as Paris time, with
/// the spring and autumn rules above.
pub fn parse_instant(raw: &str) -> Result<Instant, TimeError> {
    let raw = raw.trim();
    let with_offset = DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M%:z"))
        .or_else(|_| DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M%:z"));
    if let Ok(t) = with_offset {
        check_year(t.year(), raw)?;
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(raw, format) {
            check_year(local.year(), raw)?;
            return paris(local.date(), local.time());
        }
    }
    Err(TimeError::Malformed(truncate(raw)))
}

/// Parses a calendar day, French (`29/12/2025`) or ISO (`2025-12-29`).
pub fn parse_date(raw: &str) -> Result<NaiveDate, TimeError> {
    let raw = raw.trim();
    let date = NaiveDate::parse_from_str(raw, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y-%m-%d"))
        .map_err(|_| TimeError::BadDate(truncate(raw)))?;
    check_year(date.year(), raw)?;
    Ok(date)
}

/// Daily hours of a session, Paris wall-clock, as written in the spreadsheets: `09:00-17:30`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl DailyHours {
    pub fn parse(raw: &str) -> Result<Self, TimeError> {
        let cleaned: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = || TimeError::BadHours(truncate(raw.trim()));
        let (a, b) = cleaned.split_once(['-', '–', '—']).ok_or_else(bad)?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(s, "%Hh%M"))
                .or_else(|_| NaiveTime::parse_from_str(&format!("{s}00"), "%Hh%M"))
                .map_err(|_| bad())
        };
        let hours = Self {
            start: time(a)?,
            end: time(b)?,
        };
        if hours.end <= hours.start {
            return Err(bad());
        }
        Ok(hours)
    }

    pub fn render(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// Parses an ISO 8601 duration of days, hours, minutes and seconds (`PT48H`, `P1DT2H`, `-PT1H`).
pub fn parse_duration(raw: &str) -> Result<Duration, TimeError> {
    let bad = || TimeError::BadDuration(truncate(raw.trim()));
    let s = raw.trim().to_ascii_uppercase();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, s),
    };
    let s = s.strip_prefix('P').ok_or_else(bad)?;
    let (date_part, time_part) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut total = Duration::zero();
    let mut any = false;
    let mut take = |part: &str, units: &[(char, i64)]| -> Result<(), TimeError> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let seconds = units
                .iter()
                .find(|(u, _)| *u == c)
                .map(|(_, s)| *s)
                .ok_or_else(bad)?;
            let n: i64 = number.parse().map_err(|_| bad())?;
            if n > 100_000 {
                return Err(bad());
            }
            total += Duration::seconds(n * seconds);
            number.clear();
            any = true;
        }
        if number.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    take(date_part, &[('W', 604_800), ('D', 86_400)])?;
    if let Some(t) = time_part {
        if t.is_empty() {
            return Err(bad());
        }
        take(t, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    if !any {
        return Err(bad());
    }
    Ok(if negative { -total } else { total })
}

/// An instant shown as Paris time with its offset: `2026-01-12T14:00:00+01:00`.
pub fn to_paris_rfc3339(t: Instant) -> String {
    t.with_timezone(&Paris)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// An instant in Paris time zone.
pub fn in_paris(t: Instant) -> DateTime<Tz> {
    t.with_timezone(&Paris)
}

/// The Paris calendar day an instant falls on.
pub fn paris_date(t: Instant) -> NaiveDate {
    t.with_timezone(&Paris).date_naive()
}

/// Serialises instants as Paris time with an explicit offset, for JSON answers.
pub mod paris_serde {
    use super::{Instant, to_paris_rfc3339};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Instant, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_paris_rfc3339(*t))
    }

    pub mod option {
        use super::super::{Instant, to_paris_rfc3339};
        use serde::Serializer;

        pub fn serialize<S: Serializer>(t: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&to_paris_rfc3339(*t)),
                None => s.serialize_none(),
            }
        }
    }
}

fn truncate(raw: &str) -> String {
    raw.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    #[test]
    fn a_deadline_moved_with_its_session_keeps_its_wall_clock_time_across_clock_changes() {
        let at = |day, h, m| paris(day, t(h, m)).expect("instant");
        // 1 March 2027 18:00 (winter) four weeks on is 29 March 18:00 (summer): 27 days and
        // 23 hours later in UTC.
        let moved = shift_paris_days(at(d(2027, 3, 1), 18, 0), 28);
        assert_eq!(moved, at(d(2027, 3, 29), 18, 0));
        assert_eq!(moved.to_rfc3339(), "2027-03-29T16:00:00+00:00");
        // And back again, across the autumn change of 2026.
        let back = shift_paris_days(at(d(2026, 11, 2), 9, 0), -14);
        assert_eq!(back.to_rfc3339(), "2026-10-19T07:00:00+00:00");
        // 02:30 does not exist on 28 March 2027: the first instant after the gap.
        let gap = shift_paris_days(at(d(2027, 3, 27), 2, 30), 1);
        assert_eq!(gap.to_rfc3339(), "2027-03-28T01:30:00+00:00");
        assert_eq!(shift_paris_days(moved, 0), moved);
    }

    #[test]
    fn winter_and_summer_times_resolve_to_the_right_utc_instant() {
        assert_eq!(
            paris(d(2026, 1, 12), t(14, 0)).unwrap().to_rfc3339(),
            "2026-01-12T13:00:00+00:00"
        );
        assert_eq!(
            paris(d(2026, 7, 1), t(9, 0)).unwrap().to_rfc3339(),
            "2026-07-01T07:00:00+00:00"
        );
    }

    #[test]
    fn the_hour_skipped_in_spring_is_refused() {
        // 29 March 2026: 02:00 jumps to 03:00 in Paris.
        assert!(matches!(
            paris(d(2026, 3, 29), t(2, 30)),
            Err(TimeError::Nonexistent(_))
        ));
        assert!(matches!(
            parse_instant("2026-03-29T02:30"),
            Err(TimeError::Nonexistent(_))
        ));
    }

    #[test]
    fn the_hour_repeated_in_autumn_needs_an_offset() {
        // 25 October 2026: 03:00 goes back to 02:00 in Paris.
        assert!(matches!(
            parse_instant("2026-10-25T02:30"),
            Err(TimeError::Ambiguous(_))
        ));
        let first = parse_instant("2026-10-25T02:30:00+02:00").unwrap();
        let second = parse_instant("2026-10-25T02:30:00+01:00").unwrap();
        assert_eq!(second - first, Duration::hours(1));
        // The offset may come without seconds, as the error message suggests typing it.
        assert_eq!(parse_instant("2026-10-25T02:30+01:00").unwrap(), second);
    }

    #[test]
    fn dates_outside_the_admitted_years_are_refused() {
        assert!(matches!(
            parse_date("07/06/1827"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_date("0001-01-01"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_instant("9999-01-01T10:00"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_instant("1999-12-31T10:00:00Z"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(parse_date("31/12/2099").is_ok());
    }

    #[test]
    fn end_of_day_is_the_last_second_in_paris() {
        assert_eq!(
            paris_end_of_day(d(2025, 12, 29)).to_rfc3339(),
            "2025-12-29T22:59:59+00:00"
        );
        assert_eq!(
            paris_end_of_day(d(2026, 7, 1)).to_rfc3339(),
            "2026-07-01T21:59:59+00:00"
        );
        // The day of the spring change is only 23 hours long.
        assert_eq!(
            paris_end_of_day(d(2026, 3, 29)).to_rfc3339(),
            "2026-03-29T21:59:59+00:00"
        );
    }

    #[test]
    fn french_and_iso_dates_parse_and_junk_does_not() {
        assert_eq!(parse_date("29/12/2025").unwrap(), d(2025, 12, 29));
        assert_eq!(parse_date("2025-12-29").unwrap(), d(2025, 12, 29));
        assert!(parse_date("31/02/2026").is_err());
        assert!(parse_date("12/29/2025").is_err());
    }

    #[test]
    fn daily_hours_parse_with_dashes_and_refuse_reversed_ranges() {
        let h = DailyHours::parse("09:00-17:30").unwrap();
        assert_eq!(h.render(), "09:00-17:30");
        assert_eq!(
            DailyHours::parse(" 14:00 – 17:30 ").unwrap().render(),
            "14:00-17:30"
        );
        assert!(DailyHours::parse("17:30-09:00").is_err());
        assert!(DailyHours::parse("9h").is_err());
    }

    #[test]
    fn durations_follow_iso_8601() {
        assert_eq!(parse_duration("PT48H").unwrap(), Duration::hours(48));
        assert_eq!(
            parse_duration("P1DT2H30M").unwrap(),
            Duration::minutes(26 * 60 + 30)
        );
        assert_eq!(parse_duration("-PT1H").unwrap(), Duration::hours(-1));
        assert!(parse_duration("48H").is_err());
        assert!(parse_duration("PT").is_err());
        assert!(parse_duration("P99999999999D").is_err());
    }

    #[test]
    fn instants_are_shown_in_paris_with_their_offset() {
        let t = parse_instant("2026-01-12T13:00:00Z").unwrap();
        assert_eq!(to_paris_rfc3339(t), "2026-01-12T14:00:00+01:00");
    }
}
