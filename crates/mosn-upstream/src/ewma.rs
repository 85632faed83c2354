//! A peak-sensitive moving average of response latency (as in Finagle and linkerd): a slower
//! response counts at once, a faster one pulls the average down gradually.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far back the average looks.
const DECAY: Duration = Duration::from_secs(10);
/// What a host that has not answered yet is assumed to take (linkerd's default RTT), so that a
/// host never heard from does not look like the fastest.
const UNKNOWN: f64 = 30_000.0;

#[derive(Debug, Default)]
pub struct Ewma {
    state: Mutex<Option<(f64, Instant)>>,
}

impl Ewma {
    /// The average in microseconds; a default before the first response.
    pub fn get(&self) -> f64 {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.map_or(UNKNOWN, |(value, _)| value)
    }

    pub fn observe(&self, latency: Duration) {
        let sample = latency.as_secs_f64() * 1e6;
        let now = Instant::now();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let value = match *state {
            None => sample,
            Some((value, _)) if sample > value => sample,
            Some((value, at)) => {
                let weight = (-(now - at).as_secs_f64() / DECAY.as_secs_f64()).exp();
                value * weight + sample * (1.0 - weight)
            }
        };
        *state = Some((value, now));
    }
}
