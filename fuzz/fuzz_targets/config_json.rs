//! Any text read as a JSON config: decoding, directory includes and validation must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mosn_config::{Format, parse_text};

fuzz_target!(|text: &str| {
    let _ = parse_text(text, Format::Json);
});
