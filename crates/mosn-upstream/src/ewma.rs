//! A peak-sensitive moving average of response latency (as in Finagle and linkerd): a slower
//! response counts at once, a faster one pulls the average down gradually, and while no
//! response comes the average decays toward zero, so that a host once slow is tried again
//! rather than shunned for good.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How far back the average looks.
const DECAY: Duration = Duration::from_secs(10);
/// What a host that has not answered yet is assumed to take (linkerd's default RTT), so that a
/// host never heard from does not look like the fastest.
const UNKNOWN: f64 = 30_000.0;

#[derive(Debug)]
pub struct Ewma {
    /// The average in microseconds, as of when it was last brought up to date; `UNKNOWN` as of
    /// when the host was made, until its first answer.
    state: Mutex<(f64, Instant)>,
}

/// The default decays like any average: a host added while the others answer fast is drawn
/// once it has decayed below theirs, rather than never (tower's and linkerd's start).
impl Default for Ewma {
    fn default() -> Ewma {
        Ewma {
            state: Mutex::new((UNKNOWN, Instant::now())),
        }
    }
}

impl Ewma {
    /// The average in microseconds; before the first response, the default, decayed.
    pub fn get(&self) -> f64 {
        self.get_at(Instant::now())
    }

    pub fn observe(&self, latency: Duration) {
        self.observe_at(latency, Instant::now());
    }

    /// As linkerd reads it: the time since the last update counts as a response that took no
    /// time.
    fn get_at(&self, now: Instant) -> f64 {
        let mut state = self.state();
        let (value, at) = *state;
        let decayed = value * weight(now.saturating_duration_since(at));
        *state = (decayed, now);
        decayed
    }

    fn observe_at(&self, latency: Duration, now: Instant) {
        let sample = latency.as_secs_f64() * 1e6;
        let mut state = self.state();
        let (value, at) = *state;
        let value = if sample > value {
            sample
        } else {
            let weight = weight(now.saturating_duration_since(at));
            value * weight + sample * (1.0 - weight)
        };
        *state = (value, now);
    }

    fn state(&self) -> MutexGuard<'_, (f64, Instant)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How much of the average is kept after `elapsed`.
fn weight(elapsed: Duration) -> f64 {
    (-elapsed.as_secs_f64() / DECAY.as_secs_f64()).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: f64 = 1_000.0;

    #[test]
    fn a_host_not_heard_from_counts_the_default_which_decays_too() {
        let start = Instant::now();
        let ewma = Ewma::default();
        let now = ewma.get_at(start);
        assert!((29_999.0..=UNKNOWN).contains(&now), "{now}");
        // Three decay periods on: e^-3 of 30 ms.
        let later = ewma.get_at(start + 3 * DECAY);
        assert!((1_490.0..1_500.0).contains(&later), "{later}");
    }

    #[test]
    fn a_slower_answer_counts_at_once_and_a_faster_one_gradually() {
        let ewma = Ewma::default();
        let start = Instant::now();
        // 50 ms, slower than the 30 ms default: counted at once.
        ewma.observe_at(Duration::from_millis(50), start);
        assert_eq!(ewma.get_at(start), 50.0 * MS);
        // 5 ms at the same moment: no time has passed for it to pull the average down.
        ewma.observe_at(Duration::from_millis(5), start);
        assert_eq!(ewma.get_at(start), 50.0 * MS);
        // One second later, a 5 ms answer moves the average 1 - e^-0.1 of the way: 45.72 ms.
        let later = start + Duration::from_secs(1);
        ewma.observe_at(Duration::from_millis(5), later);
        let average = ewma.get_at(later);
        assert!((45_717.0..45_719.0).contains(&average), "{average}");
    }

    #[test]
    fn without_answers_the_average_decays_toward_zero() {
        let ewma = Ewma::default();
        let start = Instant::now();
        ewma.observe_at(Duration::from_secs(2), start);
        // Three decay periods: e^-3 of it is left, about 100 ms.
        let later = ewma.get_at(start + 3 * DECAY);
        assert!((99.0 * MS..100.0 * MS).contains(&later), "{later}");
        // Read again at the same moment, it stays.
        assert_eq!(ewma.get_at(start + 3 * DECAY), later);
    }
}
