//! Go durations: parsing never panics, and what parses formats back to the same duration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mosn_config::duration::{format, parse};

fuzz_target!(|text: &str| {
    if let Ok(duration) = parse(text) {
        assert_eq!(
            parse(&format(duration)),
            Ok(duration),
            "{text:?} -> {}",
            format(duration)
        );
    }
});
