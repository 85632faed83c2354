//! Upstream addresses and port lists: any text, no panic; what parses is well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mosn_config::address::{UpstreamAddress, parse_port_ranges, parse_upstream_address};

fuzz_target!(|text: &str| {
    if let Ok(UpstreamAddress::Name { name, .. }) = parse_upstream_address(text, Some(80)) {
        assert!(!name.is_empty());
    }
    if let Ok(ranges) = parse_port_ranges(text) {
        assert!(ranges.iter().all(|(min, max)| min <= max));
    }
});
