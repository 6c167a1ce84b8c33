//! Timing shared by the in-process benchmarks.

use std::time::{Duration, Instant};

/// Median seconds of `f` over enough runs to fill about `budget` (at least 5, at most 200).
pub fn median_secs(budget: Duration, mut f: impl FnMut()) -> f64 {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 200) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
