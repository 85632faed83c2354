//! Round robin, random, and smooth weighted round robin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{LbContext, LoadBalancer};
use crate::host::Host;

#[derive(Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl LoadBalancer for RoundRobin {
    fn choose(&self, hosts: &[Arc<Host>], _: &LbContext) -> Option<usize> {
        (!hosts.is_empty()).then(|| self.next.fetch_add(1, Ordering::Relaxed) % hosts.len())
    }
}

pub struct Random;

impl LoadBalancer for Random {
    fn choose(&self, hosts: &[Arc<Host>], _: &LbContext) -> Option<usize> {
        (!hosts.is_empty()).then(|| fastrand::usize(..hosts.len()))
    }
}

/// nginx's smooth weighted round robin: each pick, every host gains its weight, the richest is
/// chosen and pays the total. Picks follow the weights and interleave evenly.
#[derive(Default)]
pub struct WeightedRoundRobin {
    current: Mutex<Vec<i64>>,
}

impl LoadBalancer for WeightedRoundRobin {
    fn choose(&self, hosts: &[Arc<Host>], _: &LbContext) -> Option<usize> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        current.resize(hosts.len(), 0);
        let total: i64 = hosts.iter().map(|h| i64::from(h.weight)).sum();
        let mut best: Option<usize> = None;
        for (i, host) in hosts.iter().enumerate() {
            current[i] += i64::from(host.weight);
            if best.is_none_or(|b| current[i] > current[b]) {
                best = Some(i);
            }
        }
        let best = best?;
        current[best] -= total;
        Some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lb::test_hosts;

    #[test]
    fn round_robin_cycles_and_random_reaches_every_host() {
        let hosts = test_hosts(&[1, 1, 1]);
        let lb = RoundRobin::default();
        let picks: Vec<_> = (0..6)
            .map(|_| lb.choose(&hosts, &LbContext::default()).unwrap())
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        assert_eq!(lb.choose(&[], &LbContext::default()), None);
        let mut seen = [false; 3];
        for _ in 0..300 {
            seen[Random.choose(&hosts, &LbContext::default()).unwrap()] = true;
        }
        assert_eq!(seen, [true; 3]);
    }

    #[test]
    fn weighted_round_robin_follows_weights_smoothly() {
        let hosts = test_hosts(&[5, 1, 1]);
        let lb = WeightedRoundRobin::default();
        let picks: Vec<_> = (0..7)
            .map(|_| lb.choose(&hosts, &LbContext::default()).unwrap())
            .collect();
        assert_eq!(
            picks,
            [0, 0, 1, 0, 2, 0, 0],
            "nginx's smooth order for 5:1:1"
        );
    }
}
