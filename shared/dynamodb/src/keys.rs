//! The single-table design: every key the store builds, and the indexes they feed.
//!
//! One table with a string partition key `pk` and sort key `sk`, one local secondary index and
//! three global ones, all projecting every attribute:
//!
//! * `lsi1` (`pk`, `lsi1sk`): strongly consistent, so that a waiting list read inside a
//!   read-then-conditional-write is the list as it is.
//! * `gsi1` (`gsi1pk`, `gsi1sk`): collections of one kind, in display order.
//! * `gsi2` (`gsi2pk`, `gsi2sk`): look-ups by e-mail, and what belongs to one officer.
//! * `gsi3` (`gsi3pk`, `gsi3sk`): sparse work queues; an item leaves the queue when the
//!   attributes are removed.
//!
//! | Access pattern | Index | Key condition |
//! |---|---|---|
//! | staff member by id | table | `pk = STAFF#<id>`, `sk = STAFF` |
//! | all staff | gsi1 | `gsi1pk = STAFF` |
//! | staff member by e-mail | gsi2 | `gsi2pk = EMAIL#<email>`, `gsi2sk = STAFF` |
//! | officer by id | table | `pk = OFFICER#<id>`, `sk = OFFICER` |
//! | all officers | gsi1 | `gsi1pk = OFFICER` |
//! | officer by e-mail | gsi2 | `gsi2pk = EMAIL#<email>`, `gsi2sk = OFFICER` |
//! | an officer's programme | table | `pk = OFFICER#<id>`, `sk` begins with `PLAN#` |
//! | training by id | table | `pk = TRAINING#<id>`, `sk = TRAINING` |
//! | all trainings, by code | gsi1 | `gsi1pk = TRAINING`, `gsi1sk = <code>` |
//! | training by code; a code's uniqueness | table | `pk = CODE#<code>`, `sk = CODE` → id |
//! | officers interested in a training | table | `pk = TRAINING#<id>`, `sk` begins with `INTEREST#` |
//! | session by id | table | `pk = SESSION#<id>`, `sk = SESSION` |
//! | sessions by start | gsi1 | `gsi1pk = SESSION`, `gsi1sk = <starts_at>#<reference>`, between bounds |
//! | session by reference; its uniqueness | table | `pk = REF#<reference>`, `sk = REF` → id |
//! | a session's enrolments (roster: each carries a copy of its officer's record, `officer`) | table | `pk = SESSION#<id>`, `sk` begins with `ENROL#` |
//! | one officer's enrolment in a session | table | `pk = SESSION#<id>`, `sk = ENROL#<officer>` |
//! | a session and its enrolments, session first | table | `pk = SESSION#<id>`, backwards |
//! | a session's waiting list, in order | lsi1 | `pk = SESSION#<id>`; `lsi1sk = WAIT#<rank>#<enrolment>`, only while waitlisted |
//! | an officer's enrolments, by date (and to rewrite their copies of the record) | gsi2 | `gsi2pk = OFFICER#<id>`, `gsi2sk` begins with `ENROL#` (`ENROL#<joined_at>#<session>`) |
//! | an enrolment's history | table | `pk = ENROLMENT#<id>`, `sk` begins with `CHANGE#` (`CHANGE#<sequence>`) |
//! | offers held, by expiry | gsi3 | `gsi3pk = OFFERS`, `gsi3sk = <expires_at>#<session>#<officer>` up to now |
//! | pending notifications, in queue order | gsi3 | `gsi3pk = OUTBOX`, `gsi3sk = <queued_at>#<seq>#<id>` |
//! | one notice; the outbox's uniqueness | table | `pk = NOTICE#<id>`, `sk = NOTICE`, id = hash of (officer, session, kind, version) |
//! | an officer's notices, newest first | gsi2 | `gsi2pk = OFFICER#<id>`, `gsi2sk` begins with `NOTICE#` |
//! | a session's notices, newest first | gsi1 | `gsi1pk = NOTICES#<session>`, `gsi1sk = <queued_at>#<seq>#<id>` |
//! | an officer's calendar token (its hash, when created) | table | `pk = OFFICER#<id>`, `sk = CALENDAR` |
//! | the officer of a calendar token; its uniqueness | table | `pk = CALENDAR#<sha-256 of the token>`, `sk = CALENDAR` → officer id |
//! | a one-time claim (a link's nonce, a digest's day) | table | `pk = CLAIM#<key>`, `sk = CLAIM`, written once with `attribute_not_exists` |
//! | notice fan-outs not yet expanded | gsi3 | `gsi3pk = FANOUT` |
//! | notices bounced or complained of, by report time | gsi3 | `gsi3pk = UNDELIVERED`, `gsi3sk = <reported_at>#00000#<id>` between bounds (set by the report, once the notice has left `OUTBOX`) |
//! | a stored answer to an enrolment request | table | `pk = IDEM#enrol:<officer>#<key>`, `sk = IDEM` |
//! | a caller's uses in one quota window (the set of their ids) | table | `pk = QUOTA#<subject>`, `sk = WINDOW#<start>` (expires at the window's end) |
//! | an audit line (other than an enrolment change) | table | `pk = AUDIT#<ulid>`, `sk = AUDIT` |
//! | a session's audit log: its lines and its enrolments' changes | gsi1 | `gsi1pk = AUDIT#SESSION#<id>`, `gsi1sk = <at>#…` |
//! | a training's audit log | gsi1 | `gsi1pk = AUDIT#TRAINING#<id>`, `gsi1sk = <at>#…` |
//! | an officer's audit log: lines and enrolment changes | gsi2 | `gsi2pk = OFFICER#<id>`, `gsi2sk` begins with `AUDIT#` (`AUDIT#<at>#…`) |
//! | an erased officer's tombstone (by former id); the new id while the erasure runs | table | `pk = ERASED#<id>`, `sk = ERASED` |
//! | the statistics snapshot | table | `pk = STATISTICS`, `sk = STATISTICS` |
//! | one officer's feedback on a session; its uniqueness | table | `pk = SESSION#<id>`, `sk = FEEDBACK#<officer>` |
//! | a session's feedback | table | `pk = SESSION#<id>`, `sk` begins with `FEEDBACK#` |
//! | all feedback (statistics) | gsi1 | `gsi1pk = FEEDBACK`, `gsi1sk = <session>#<officer>` |
//!
//! A soft-deleted session keeps its item (with `deleted_at`) and its reference guard, but
//! loses `gsi1pk`: it leaves the session collection, and every read by id treats it as absent.
//!
//! Numbers inside sort keys go through [`sortable`], so that string order is numeric order.
//! Nothing scans the table.

use cassiopee_domain::ids::{EnrolmentId, OfficerId, SessionId, StaffId, TrainingId};
use cassiopee_domain::model::Email;

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
pub(crate) const GSI1PK: &str = "gsi1pk";
pub(crate) const GSI1SK: &str = "gsi1sk";
pub(crate) const GSI2PK: &str = "gsi2pk";
pub(crate) const GSI2SK: &str = "gsi2sk";
pub(crate) const GSI3PK: &str = "gsi3pk";
pub(crate) const GSI3SK: &str = "gsi3sk";
pub(crate) const LSI1SK: &str = "lsi1sk";
/// The table's time-to-live attribute (epoch seconds), as the SAM template declares it.
pub(crate) const TTL: &str = "expires_at";

pub(crate) const GSI1: &str = "gsi1";
pub(crate) const GSI2: &str = "gsi2";
pub(crate) const GSI3: &str = "gsi3";
pub(crate) const LSI1: &str = "lsi1";

/// The partition of each collection in `gsi1`, and of each queue in `gsi3`.
pub(crate) const STAFF_KIND: &str = "STAFF";
pub(crate) const OFFICER_KIND: &str = "OFFICER";
pub(crate) const TRAINING_KIND: &str = "TRAINING";
pub(crate) const SESSION_KIND: &str = "SESSION";
pub(crate) const FEEDBACK_KIND: &str = "FEEDBACK";
pub(crate) const OFFERS_QUEUE: &str = "OFFERS";
pub(crate) const OUTBOX_QUEUE: &str = "OUTBOX";
pub(crate) const FANOUT_QUEUE: &str = "FANOUT";
pub(crate) const UNDELIVERED_QUEUE: &str = "UNDELIVERED";

pub(crate) const ENROLMENT_PREFIX: &str = "ENROL#";
pub(crate) const WAIT_PREFIX: &str = "WAIT#";
pub(crate) const CHANGE_PREFIX: &str = "CHANGE#";
pub(crate) const PLAN_PREFIX: &str = "PLAN#";
pub(crate) const INTEREST_PREFIX: &str = "INTEREST#";
pub(crate) const NOTICE_PREFIX: &str = "NOTICE#";
pub(crate) const FEEDBACK_PREFIX: &str = "FEEDBACK#";
pub(crate) const AUDIT_PREFIX: &str = "AUDIT#";

/// A primary key: (`pk`, `sk`).
pub(crate) type Key = (String, String);

/// An `i64` as 20 digits whose string order is the numbers' order, negatives included.
pub(crate) fn sortable(v: i64) -> String {
    format!("{:020}", (v as u64) ^ (1u64 << 63))
}

/// A bound just above every sort key that starts with `sortable(v)#`: `#` sorts before `$`.
pub(crate) fn sortable_upper(v: i64) -> String {
    format!("{}$", sortable(v))
}

pub(crate) fn staff(id: &StaffId) -> Key {
    (format!("STAFF#{id}"), "STAFF".into())
}

pub(crate) fn officer(id: &OfficerId) -> Key {
    (format!("OFFICER#{id}"), "OFFICER".into())
}

pub(crate) fn officer_partition(id: &OfficerId) -> String {
    format!("OFFICER#{id}")
}

pub(crate) fn email(email: &Email) -> String {
    format!("EMAIL#{email}")
}

pub(crate) fn plan(officer: &OfficerId, training: &TrainingId) -> Key {
    (
        officer_partition(officer),
        format!("{PLAN_PREFIX}{training}"),
    )
}

pub(crate) fn training(id: &TrainingId) -> Key {
    (training_partition(id), "TRAINING".into())
}

pub(crate) fn training_partition(id: &TrainingId) -> String {
    format!("TRAINING#{id}")
}

pub(crate) fn training_code(code: &str) -> Key {
    (format!("CODE#{code}"), "CODE".into())
}

pub(crate) fn interest(training: &TrainingId, officer: &OfficerId) -> Key {
    (
        training_partition(training),
        format!("{INTEREST_PREFIX}{officer}"),
    )
}

pub(crate) fn session(id: &SessionId) -> Key {
    (session_partition(id), "SESSION".into())
}

pub(crate) fn session_partition(id: &SessionId) -> String {
    format!("SESSION#{id}")
}

pub(crate) fn session_reference(reference: &str) -> Key {
    (format!("REF#{reference}"), "REF".into())
}

/// `gsi1sk` of a session: start, then reference, as the session list is ordered.
pub(crate) fn session_order(starts_at_micros: i64, reference: &str) -> String {
    format!("{}#{reference}", sortable(starts_at_micros))
}

pub(crate) fn enrolment(session: &SessionId, officer: &OfficerId) -> Key {
    (
        session_partition(session),
        format!("{ENROLMENT_PREFIX}{officer}"),
    )
}

/// `lsi1sk` of a waiting enrolment: the list's order is (rank, enrolment id).
pub(crate) fn waiting_order(rank: i64, id: &EnrolmentId) -> String {
    format!("{WAIT_PREFIX}{}#{id}", sortable(rank))
}

/// `gsi2sk` of an enrolment under its officer: by the day it was made.
pub(crate) fn officer_enrolment_order(joined_at_micros: i64, session: &SessionId) -> String {
    format!("{ENROLMENT_PREFIX}{}#{session}", sortable(joined_at_micros))
}

/// `gsi3sk` of a held offer: by expiry.
pub(crate) fn offer_order(expires_micros: i64, session: &SessionId, officer: &OfficerId) -> String {
    format!("{}#{session}#{officer}", sortable(expires_micros))
}

pub(crate) fn change(enrolment: &EnrolmentId, sequence: u32) -> Key {
    (
        format!("ENROLMENT#{enrolment}"),
        format!("{CHANGE_PREFIX}{sequence:010}"),
    )
}

pub(crate) fn change_partition(enrolment: &EnrolmentId) -> String {
    format!("ENROLMENT#{enrolment}")
}

pub(crate) fn notice(id: i64) -> Key {
    (format!("NOTICE#{id}"), "NOTICE".into())
}

/// Queue order of a notice: when it was queued, then its place in the writing transaction.
pub(crate) fn notice_order(queued_micros: i64, seq: u32, id: i64) -> String {
    format!("{}#{seq:05}#{id:019}", sortable(queued_micros))
}

/// `gsi1pk` of a notice: the notices about one session, as staff list them.
pub(crate) fn session_notices_partition(session: &SessionId) -> String {
    format!("NOTICES#{session}")
}

pub(crate) fn officer_calendar(officer: &OfficerId) -> Key {
    (officer_partition(officer), "CALENDAR".into())
}

pub(crate) fn calendar_token(hash: &str) -> Key {
    (format!("CALENDAR#{hash}"), "CALENDAR".into())
}

pub(crate) fn claim(key: &str) -> Key {
    (format!("CLAIM#{key}"), "CLAIM".into())
}

pub(crate) fn fanout(session: &SessionId, kind_key: &str, version: u32) -> Key {
    (
        format!("FANOUT#{session}#{kind_key}#{version}"),
        "FANOUT".into(),
    )
}

/// One fixed window of a caller's quota; the item expires (TTL) at the window's end.
pub(crate) fn quota(subject: &str, window_start_micros: i64) -> Key {
    (
        format!("QUOTA#{subject}"),
        format!("WINDOW#{}", sortable(window_start_micros)),
    )
}

pub(crate) fn idempotency(scope: &str, key: &str) -> Key {
    (format!("IDEM#{scope}#{key}"), "IDEM".into())
}

pub(crate) fn feedback(session: &SessionId, officer: &OfficerId) -> Key {
    (
        session_partition(session),
        format!("{FEEDBACK_PREFIX}{officer}"),
    )
}

pub(crate) fn statistics() -> Key {
    ("STATISTICS".into(), "STATISTICS".into())
}

/// FNV-1a (64 bits) over the parts, separated by NUL: stable across builds and platforms.
pub(crate) fn fnv64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    // Finish with a multiply-xorshift: FNV mixes the last bytes poorly.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The outbox id of a notice: a positive 63-bit hash of its uniqueness key, so that the key of
/// the notice item is the uniqueness constraint itself.
///
/// Two different keys hashing alike would make the second notice look like a duplicate and be
/// skipped. With 63 bits the chance stays below one in a million until some four million
/// notices; the outbox of a training cell holds a few thousand a year.
pub(crate) fn notice_id(officer: &OfficerId, session: &SessionId, kind: &str, version: u32) -> i64 {
    let version = version.to_string();
    (fnv64(&[officer.as_str(), session.as_str(), kind, &version]) & (i64::MAX as u64)) as i64
}

pub(crate) fn audit_line(id: &str) -> Key {
    (format!("{AUDIT_PREFIX}{id}"), "AUDIT".into())
}

pub(crate) fn session_audit(session: &SessionId) -> String {
    format!("{AUDIT_PREFIX}SESSION#{session}")
}

pub(crate) fn training_audit(training: &TrainingId) -> String {
    format!("{AUDIT_PREFIX}TRAINING#{training}")
}

/// The sort key of an audit line or enrolment change in its views: time first, then `tie`
/// (unique per line), so that the views read oldest first.
pub(crate) fn audit_order(at_micros: i64, tie: &str) -> String {
    format!("{}#{tie}", sortable(at_micros))
}

pub(crate) fn erasure(officer: &OfficerId) -> Key {
    (format!("ERASED#{officer}"), "ERASED".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_numbers_sort_as_numbers_negatives_included() {
        let mut values = [
            -5_000_000_i64,
            -1,
            0,
            1,
            42,
            1_800_000_000_000_000,
            i64::MIN,
            i64::MAX,
        ];
        let mut encoded: Vec<String> = values.iter().map(|v| sortable(*v)).collect();
        encoded.sort();
        values.sort();
        assert_eq!(
            encoded,
            values.iter().map(|v| sortable(*v)).collect::<Vec<_>>()
        );
        assert!(session_order(10, "ZZZ") < sortable_upper(10));
        assert!(sortable_upper(10) < session_order(11, "AAA"));
    }

    #[test]
    fn notice_ids_are_stable_positive_and_distinct_per_version() {
        let o = OfficerId::derived("a@b.fr");
        let s = SessionId::derived("REF");
        let a = notice_id(&o, &s, "withdrawn", 1);
        assert_eq!(a, notice_id(&o, &s, "withdrawn", 1));
        assert!(a >= 0);
        assert_ne!(a, notice_id(&o, &s, "withdrawn", 2));
        assert_ne!(a, notice_id(&o, &s, "left_waitlist", 1));
    }
}
