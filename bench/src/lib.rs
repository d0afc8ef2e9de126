//! Helpers shared by the benchmark binaries: percentiles and the printed table.

pub mod inprocess;

use std::time::Duration;

/// The `p`-th percentile (0–100) of `samples`, by the nearest-rank method.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Microseconds with one decimal.
pub fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1_000_000.0)
}

/// Whether a binary prints one JSON object per line instead of its table:
/// `CASSIOPEE_BENCH_FORMAT=json`, what `scripts/bench.py report` sets and reads.
pub fn json_lines() -> bool {
    std::env::var("CASSIOPEE_BENCH_FORMAT").is_ok_and(|v| v == "json")
}

/// Milliseconds as a JSON number.
pub fn ms_value(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Microseconds as a JSON number.
pub fn us_value(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_rank_percentile_picks_a_sample() {
        let s: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_millis(5));
        assert_eq!(percentile(&s, 95.0), Duration::from_millis(10));
        assert_eq!(percentile(&s, 0.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
