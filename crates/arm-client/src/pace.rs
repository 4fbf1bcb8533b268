//! Client-side pacing from ARM's throttling signals.
//!
//! ARM throttles each subscription with token buckets (reads: 250, refilled at 25 per second;
//! writes: 200, refilled at 10 per second) and reports what is left in
//! `x-ms-ratelimit-remaining-subscription-reads` / `-writes`. Without pacing, a run with more
//! resources than the bucket holds sends every in-flight request into an empty bucket, each gets
//! a 429 and retries after `Retry-After`, all at the same moment, and most fail again. A `Pacer`
//! shared by every request of one class (reads or writes) spaces the starts at the refill
//! interval once the bucket runs low or a 429 arrives, and stops pacing when the bucket has
//! refilled.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Pacer {
    /// One token's refill time: the spacing between starts while paced.
    refill: Duration,
    /// Pace when fewer tokens than this are left (the requests in flight can take them all).
    low_water: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// No request of this class starts before this instant.
    next: Option<Instant>,
    paced: bool,
}

impl Pacer {
    pub fn new(per_second: f64, low_water: u64) -> Pacer {
        Pacer {
            refill: Duration::from_secs_f64(1.0 / per_second.max(0.001)),
            low_water: low_water.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Reserve the next start; returns how long to wait before sending.
    pub fn reserve(&self, now: Instant) -> Duration {
        let Ok(mut s) = self.state.lock() else {
            return Duration::ZERO;
        };
        let start = s.next.map_or(now, |n| n.max(now));
        if s.paced {
            s.next = Some(start + self.refill);
        }
        start.saturating_duration_since(now)
    }

    /// Learn from a response: its status, the remaining-requests header and `Retry-After`.
    pub fn observe(
        &self,
        now: Instant,
        status: u16,
        remaining: Option<u64>,
        retry_after: Option<Duration>,
    ) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if status == 429 {
            s.paced = true;
            let until = now + retry_after.unwrap_or(self.refill);
            s.next = Some(s.next.map_or(until, |n| n.max(until)));
        } else if let Some(left) = remaining {
            if left < self.low_water {
                s.paced = true;
            } else if left >= 2 * self.low_water {
                // Refilled: back to full speed (hysteresis avoids flapping at the threshold).
                s.paced = false;
            }
        }
    }

    #[cfg(test)]
    fn paced(&self) -> bool {
        self.state.lock().map(|s| s.paced).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_speed_until_the_bucket_runs_low_then_one_start_per_refill() {
        let p = Pacer::new(25.0, 32);
        let t0 = Instant::now();
        assert_eq!(p.reserve(t0), Duration::ZERO);
        p.observe(t0, 200, Some(100), None);
        assert!(!p.paced());
        assert_eq!(p.reserve(t0), Duration::ZERO);
        p.observe(t0, 200, Some(10), None);
        assert!(p.paced());
        let waits: Vec<Duration> = (0..3).map(|_| p.reserve(t0)).collect();
        assert_eq!(
            waits,
            vec![
                Duration::ZERO,
                Duration::from_millis(40),
                Duration::from_millis(80)
            ]
        );
        // Between the thresholds: still paced.
        p.observe(t0, 200, Some(40), None);
        assert!(p.paced());
        p.observe(t0, 200, Some(64), None);
        assert!(!p.paced());
    }

    #[test]
    fn a_429_holds_every_start_until_retry_after() {
        let p = Pacer::new(10.0, 8);
        let t0 = Instant::now();
        p.observe(t0, 429, None, Some(Duration::from_millis(500)));
        assert_eq!(p.reserve(t0), Duration::from_millis(500));
        assert_eq!(p.reserve(t0), Duration::from_millis(600));
        // A response without the header (an injected fault) changes nothing.
        p.observe(t0, 500, None, None);
        assert!(p.paced());
    }
}
