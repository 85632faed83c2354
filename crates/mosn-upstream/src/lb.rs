//! Load balancers, chosen by MOSN's `lb_type` name.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Picks the index of a host among `count` hosts.
pub trait LoadBalancer: Send + Sync {
    fn choose(&self, count: usize) -> Option<usize>;
}

#[derive(Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

impl LoadBalancer for RoundRobin {
    fn choose(&self, count: usize) -> Option<usize> {
        (count > 0).then(|| self.next.fetch_add(1, Ordering::Relaxed) % count)
    }
}

pub struct Random;

impl LoadBalancer for Random {
    fn choose(&self, count: usize) -> Option<usize> {
        (count > 0).then(|| fastrand::usize(..count))
    }
}

/// The balancer for `lb_type`, and whether that name is one this build implements
/// (others run as round robin).
pub fn for_lb_type(lb_type: &str) -> (Box<dyn LoadBalancer>, bool) {
    match lb_type {
        "LB_RANDOM" => (Box::new(Random), true),
        "LB_ROUNDROBIN" => (Box::new(RoundRobin::default()), true),
        _ => (Box::new(RoundRobin::default()), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_cycles_through_every_host() {
        let lb = RoundRobin::default();
        let picks: Vec<_> = (0..6).map(|_| lb.choose(3).unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        assert_eq!(lb.choose(0), None);
    }

    #[test]
    fn random_stays_in_range_and_reaches_every_host() {
        let mut seen = [false; 4];
        for _ in 0..1000 {
            seen[Random.choose(4).unwrap()] = true;
        }
        assert_eq!(seen, [true; 4]);
    }
}
