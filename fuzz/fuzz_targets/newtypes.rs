//! Every validated value: parsing never panics, and what parses round-trips through its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zuora_core::{
    values::BaseUrl, values::EntityIds, Environment, values::IdempotencyKey, ReportId, ReportRef, ReportRunId, TrackId,
    ViewType,
};

fn round_trip<T: std::str::FromStr + AsRef<str> + PartialEq + std::fmt::Debug>(text: &str) {
    if let Ok(value) = text.parse::<T>() {
        let again: T = value
            .as_ref()
            .parse()
            .unwrap_or_else(|_| panic!("{value:?} did not round-trip"));
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip::<ReportId>(text);
    round_trip::<ReportRunId>(text);
    round_trip::<TrackId>(text);
    round_trip::<IdempotencyKey>(text);
    round_trip::<EntityIds>(text);
    if let Ok(url) = BaseUrl::parse(text) {
        let again = BaseUrl::parse(url.as_str()).expect("a base URL re-parses");
        assert_eq!(again.as_str(), url.as_str());
    }
    let _ = text.parse::<Environment>();
    let _ = text.parse::<ViewType>();
    let _ = ReportRef::parse(text);
});
