//! The filter parser: never panics, and what parses round-trips through its JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zuora_core::filters::parse_filter_groups;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(groups) = parse_filter_groups(text) {
        let json = serde_json::to_string(&groups).expect("filters serialise");
        let again = parse_filter_groups(&json).expect("serialised filters parse");
        assert_eq!(again, groups);
    }
});
