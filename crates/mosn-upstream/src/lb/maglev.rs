//! Maglev consistent hashing: a lookup table filled from each host's own permutation, so that
//! a key keeps its host, and losing a host moves only that host's keys. Requests without a key
//! (no `hash_policy` value) go to a random host.

use std::sync::Arc;

use super::{LbContext, LoadBalancer, hash_key};
use crate::host::Host;

/// The table size: a prime well above the host count, as Maglev requires.
const TABLE: usize = 65_537;

pub struct Maglev {
    table: Vec<u32>,
}

impl Maglev {
    pub fn new(hosts: &[Arc<Host>]) -> Maglev {
        if hosts.is_empty() {
            return Maglev { table: Vec::new() };
        }
        let max_weight = hosts.iter().map(|h| h.weight.max(1)).max().unwrap_or(1);
        let permutations: Vec<(usize, usize)> = hosts
            .iter()
            .map(|host| {
                let name = host.address.to_string();
                let offset = hash_key(name.as_bytes()) as usize % TABLE;
                let skip = hash_key(format!("{name}#skip").as_bytes()) as usize % (TABLE - 1) + 1;
                (offset, skip)
            })
            .collect();
        let mut next = vec![0usize; hosts.len()];
        let mut table = vec![u32::MAX; TABLE];
        let mut filled = 0;
        // Each round, a host takes a turn with a chance proportional to its weight.
        let mut round = 0u64;
        while filled < TABLE {
            round += 1;
            for (i, host) in hosts.iter().enumerate() {
                if u64::from(host.weight.max(1)) * round / u64::from(max_weight)
                    == u64::from(host.weight.max(1)) * (round - 1) / u64::from(max_weight)
                {
                    continue;
                }
                let (offset, skip) = permutations[i];
                let slot = loop {
                    let candidate = (offset + next[i] * skip) % TABLE;
                    next[i] += 1;
                    if table[candidate] == u32::MAX {
                        break candidate;
                    }
                };
                table[slot] = i as u32;
                filled += 1;
                if filled == TABLE {
                    break;
                }
            }
        }
        Maglev { table }
    }
}

impl LoadBalancer for Maglev {
    fn choose(&self, hosts: &[Arc<Host>], context: &LbContext) -> Option<usize> {
        if hosts.is_empty() || self.table.is_empty() {
            return None;
        }
        match context.hash {
            Some(hash) => {
                Some(self.table[hash as usize % TABLE] as usize).filter(|i| *i < hosts.len())
            }
            None => Some(fastrand::usize(..hosts.len())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lb::test_hosts;

    fn spread(weights: &[u32]) -> Vec<usize> {
        let hosts = test_hosts(weights);
        let maglev = Maglev::new(&hosts);
        let mut counts = vec![0; hosts.len()];
        for i in maglev.table {
            counts[i as usize] += 1;
        }
        counts
    }

    #[test]
    fn the_table_is_shared_by_weight() {
        let even = spread(&[1, 1, 1, 1]);
        assert!(
            even.iter().all(|c| (15_000..18_000).contains(c)),
            "{even:?}"
        );
        let weighted = spread(&[3, 1]);
        assert!((47_000..51_000).contains(&weighted[0]), "{weighted:?}");
    }

    #[test]
    fn a_key_keeps_its_host_and_few_keys_move_when_a_host_goes() {
        let hosts = test_hosts(&[1, 1, 1, 1, 1]);
        let before = Maglev::new(&hosts);
        let after = Maglev::new(&hosts[..4]);
        let context = |key: u64| LbContext {
            hash: Some(hash_key(&key.to_le_bytes())),
        };
        let moved = (0..10_000u64)
            .filter(|key| {
                let old = before.choose(&hosts, &context(*key)).unwrap();
                let new = after.choose(&hosts[..4], &context(*key)).unwrap();
                assert_eq!(
                    old,
                    before.choose(&hosts, &context(*key)).unwrap(),
                    "stable"
                );
                old != 4 && old != new
            })
            .count();
        assert!(
            moved < 1_000,
            "{moved} of the keys not on the lost host moved"
        );
    }
}
