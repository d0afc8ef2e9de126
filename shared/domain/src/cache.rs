//! Answers kept while they hold: a read that many callers make alike (the officers' list of
//! upcoming sessions) is written once and served again until the store changes or the time
//! reaches an instant where the answer would differ (an enrolment closing, a session starting).
//!
//! Only a store that can tell when it changed takes part ([`crate::ports::Store::generation`]:
//! the embedded store, whose one process sees every write). On DynamoDB, where other instances
//! write too, nothing is kept.

use crate::time::Instant;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// At most this many answers are kept: the key comes from the request's query, so a caller
/// could otherwise make the cache grow without end. Past it, the cache starts afresh.
const MAX_ENTRIES: usize = 64;

#[derive(Default)]
pub struct AnswerCache {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    generation: u64,
    /// The answer holds for `from <= now < until`.
    from: Instant,
    until: Instant,
    body: Arc<str>,
}

impl AnswerCache {
    /// The answer kept under `key`, if it was written at store `generation` and `now` is
    /// within the times it holds for.
    pub fn get(&self, key: &str, generation: u64, now: Instant) -> Option<Arc<str>> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        (e.generation == generation && e.from <= now && now < e.until).then(|| e.body.clone())
    }

    /// Keeps `body`, read at store `generation` (taken before the reads), as holding from
    /// `from` until `until`.
    pub fn put(&self, key: String, generation: u64, from: Instant, until: Instant, body: Arc<str>) {
        if until <= from {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                from,
                until,
                body,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    #[test]
    fn an_answer_holds_for_its_generation_and_times_only() {
        let cache = AnswerCache::default();
        let t = |s| parse_instant(s).expect("instant");
        let (from, until) = (t("2026-12-01T10:00"), t("2026-12-01T12:00"));
        cache.put("q".into(), 7, from, until, Arc::from("[1]"));
        assert_eq!(cache.get("q", 7, from).as_deref(), Some("[1]"));
        assert_eq!(
            cache.get("q", 7, t("2026-12-01T11:59")).as_deref(),
            Some("[1]")
        );
        assert!(cache.get("q", 7, until).is_none(), "until is excluded");
        assert!(
            cache.get("q", 7, t("2026-12-01T09:59")).is_none(),
            "a clock set back"
        );
        assert!(cache.get("q", 8, from).is_none(), "the store changed");
        assert!(cache.get("other", 7, from).is_none());
        cache.put("empty".into(), 7, from, from, Arc::from("[]"));
        assert!(
            cache.get("empty", 7, from).is_none(),
            "an answer holding for no time"
        );
    }

    #[test]
    fn the_cache_never_keeps_more_than_its_bound() {
        let cache = AnswerCache::default();
        let from = parse_instant("2026-12-01T10:00").expect("instant");
        let until = from + chrono::Duration::hours(1);
        for i in 0..(MAX_ENTRIES * 3) {
            cache.put(format!("q{i}"), 1, from, until, Arc::from("x"));
            assert!(cache.entries.lock().expect("lock").len() <= MAX_ENTRIES);
        }
        let last = format!("q{}", MAX_ENTRIES * 3 - 1);
        assert!(cache.get(&last, 1, from).is_some());
    }
}
