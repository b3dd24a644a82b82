//! Property tests for every validated header and path type.
//!
//! Each rule is restated here as an independent oracle predicate, written from the reference
//! (Zuora's header rules, `docs/api-choices.md`) rather than by calling the code under test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::str::FromStr;
use zuora_core::operations::Operation;

use http::HeaderValue;
use proptest::prelude::*;
use zuora_core::{
    Environment, ReportId, ReportRunId, TrackId, ViewType, errors::InvalidInput,
    operations::RunReport, values::AccessToken, values::EntityIds, values::IdempotencyKey,
};

fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// `Idempotency-Key`: 1..=255 characters, each visible US-ASCII (0x21..=0x7E).
fn idempotency_key_oracle(s: &str) -> bool {
    (1..=255).contains(&char_count(s)) && s.bytes().all(|b| (0x21..=0x7E).contains(&b))
}

/// `Zuora-Track-Id`: 1..=64 printable US-ASCII (0x20..=0x7E), none of `: ; " '`, and no
/// space at either end.
fn track_id_oracle(s: &str) -> bool {
    (1..=64).contains(&char_count(s))
        && s.bytes()
            .all(|b| (0x20..=0x7E).contains(&b) && !b":;\"'".contains(&b))
        && !s.starts_with(' ')
        && !s.ends_with(' ')
}

/// `Zuora-Entity-Ids`: one hyphenated UUID, 8-4-4-4-12 hex digits.
fn entity_ids_oracle(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Path identifiers: 1..=255 characters, no control character, not a dot-segment.
fn path_id_oracle(s: &str) -> bool {
    (1..=255).contains(&char_count(s)) && !s.chars().any(char::is_control) && s != "." && s != ".."
}

/// The characters every header type must refuse wherever they appear.
const ALWAYS_FORBIDDEN: [char; 6] = ['\r', '\n', '\0', '\u{7f}', 'é', '😀'];

/// Strings that sit near the rules: printable ASCII of lengths around the limits, UUID-ish
/// text, the forbidden characters, and anything at all.
fn near_rules() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,70}",
        "[!-~]{250,260}",
        "[0-9a-fA-F-]{30,40}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[ -~\r\n\t\u{0}\u{7f}é😀:;\"']{0,80}",
        proptest::collection::vec(any::<u8>(), 0..300)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

/// Asserts the type agrees with its oracle, never panics, and that an accepted value is a
/// header value that round-trips byte for byte.
fn check_header_type<T>(input: &str, oracle: fn(&str) -> bool) -> Result<(), TestCaseError>
where
    T: FromStr<Err = InvalidInput> + AsRef<str> + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    let parsed = T::from_str(input);
    prop_assert_eq!(
        parsed.is_ok(),
        oracle(input),
        "input {:?} gave {:?}",
        input,
        parsed
    );
    if let Ok(value) = parsed {
        prop_assert_eq!(value.as_ref(), input);
        prop_assert_eq!(value.to_string(), input);
        let header = HeaderValue::from_str(value.as_ref());
        prop_assert!(header.is_ok(), "accepted {input:?} is not a header value");
        if let Ok(header) = header {
            prop_assert_eq!(header.to_str().ok(), Some(input));
            prop_assert_eq!(T::from_str(header.to_str().unwrap_or_default())?, value);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn idempotency_key_accepts_exactly_the_documented_set(s in near_rules()) {
        check_header_type::<IdempotencyKey>(&s, idempotency_key_oracle)?;
    }

    #[test]
    fn track_id_accepts_exactly_the_documented_set(s in near_rules()) {
        check_header_type::<TrackId>(&s, track_id_oracle)?;
    }

    #[test]
    fn entity_ids_accepts_exactly_the_documented_set(s in near_rules()) {
        check_header_type::<EntityIds>(&s, entity_ids_oracle)?;
    }

    #[test]
    fn path_ids_accept_exactly_the_documented_set(s in near_rules()) {
        prop_assert_eq!(ReportId::from_str(&s).is_ok(), path_id_oracle(&s));
        prop_assert_eq!(ReportRunId::from_str(&s).is_ok(), path_id_oracle(&s));
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = IdempotencyKey::from_str(&text);
        let _ = TrackId::from_str(&text);
        let _ = EntityIds::from_str(&text);
        let _ = ReportId::from_str(&text);
        let _ = ViewType::from_str(&text);
        let _ = Environment::from_str(&text);
        let _ = AccessToken::new(text.as_ref());
        let _ = zuora_core::filters::parse_filter_groups(&text);
    }

    #[test]
    fn forbidden_characters_are_refused_anywhere(
        base in "[A-Za-z0-9]{1,40}",
        index in 0usize..41,
        bad in proptest::sample::select(ALWAYS_FORBIDDEN.to_vec()),
    ) {
        let at = index.min(base.len());
        let mut s = base.clone();
        s.insert(at, bad);
        prop_assert!(IdempotencyKey::from_str(&s).is_err());
        prop_assert!(TrackId::from_str(&s).is_err());
        prop_assert!(EntityIds::from_str(&s).is_err());
        prop_assert!(AccessToken::new(s.as_str()).is_err());
        if bad.is_control() {
            prop_assert!(ReportId::from_str(&s).is_err());
        }
    }

    #[test]
    fn errors_point_at_the_first_offending_character(s in "[ -~]{1,64}") {
        let expected = s.chars().position(|c| ":;\"'".contains(c));
        match (TrackId::from_str(&s), expected) {
            (Err(InvalidInput::ForbiddenCharacter { position, found, .. }), Some(index)) => {
                prop_assert_eq!(position, index + 1);
                prop_assert!(":;\"'".contains(found));
            }
            (Err(InvalidInput::ForbiddenCharacter { found: ' ', .. }), None) => {
                prop_assert!(s.starts_with(' ') || s.ends_with(' '));
            }
            (Ok(_), None) => {}
            (other, _) => prop_assert!(false, "{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn accepted_track_ids_arrive_unchanged_in_the_request(s in "[!-~][ -~]{0,62}[!-~]") {
        if let Ok(track_id) = TrackId::from_str(&s) {
            let request = RunReport::new("r".parse()?, ViewType::Detail)
                .track_id(track_id)
                .to_request(&Environment::UsCloud2Production, &AccessToken::new("t")?)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(request.headers()["zuora-track-id"].to_str().ok(), Some(s.as_str()));
        }
    }

    #[test]
    fn view_type_accepts_any_case_and_emits_documented_casing(
        word in proptest::sample::select(vec!["detail", "summary"]),
        mask in any::<u16>(),
    ) {
        let mixed: String = word
            .chars()
            .enumerate()
            .map(|(i, c)| if mask >> i & 1 == 1 { c.to_ascii_uppercase() } else { c })
            .collect();
        let view = ViewType::from_str(&mixed)?;
        prop_assert!(view.as_str() == "Detail" || view.as_str() == "Summary");
        prop_assert!(view.as_str().eq_ignore_ascii_case(word));
    }
}

#[test]
fn boundaries_are_exact() {
    assert!(TrackId::from_str(&"t".repeat(64)).is_ok());
    assert!(matches!(
        TrackId::from_str(&"t".repeat(65)),
        Err(InvalidInput::TooLong {
            length: 65,
            max: 64,
            ..
        })
    ));
    assert!(IdempotencyKey::from_str(&"k".repeat(255)).is_ok());
    assert!(matches!(
        IdempotencyKey::from_str(&"k".repeat(256)),
        Err(InvalidInput::TooLong {
            length: 256,
            max: 255,
            ..
        })
    ));
    assert!(ReportId::from_str(&"r".repeat(255)).is_ok());
    assert!(ReportId::from_str(&"r".repeat(256)).is_err());
    for empty in [
        TrackId::from_str("").err(),
        IdempotencyKey::from_str("").err(),
        EntityIds::from_str("").err(),
        ReportId::from_str("").err(),
        ReportRunId::from_str("").err(),
    ] {
        assert!(
            matches!(empty, Some(InvalidInput::Empty { .. })),
            "{empty:?}"
        );
    }
    assert!(EntityIds::from_str("1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc").is_ok());
    assert!(EntityIds::from_str("1A2B7A37-3E7D-4CB3-B0E2-883DE9E766CC").is_ok());
    assert!(matches!(
        EntityIds::from_str("1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc0"),
        Err(InvalidInput::WrongLength {
            length: 37,
            expected: 36,
            ..
        })
    ));
    assert!(ViewType::from_str("Pivot").is_err());
}

#[test]
fn errors_name_the_field_and_rule() {
    let err = TrackId::from_str("nightly;run").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Zuora-Track-Id has ';' at position 8, which is not allowed: only printable US-ASCII is allowed, and none of : ; \" '"
    );
    assert_eq!(err.field(), "Zuora-Track-Id");
    let err = IdempotencyKey::from_str(&"k".repeat(300)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Idempotency-Key is 300 characters long; at most 255 are allowed"
    );
}

#[test]
fn secrets_are_never_quoted() {
    let sentinel = "SENTINEL-SECRET-\u{7f}-VALUE";
    let err = AccessToken::new(sentinel).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("SENTINEL"), "{shown}");
    assert!(!shown.contains('\u{7f}'), "{shown}");
    assert!(shown.contains("position 17"), "{shown}");

    let token = AccessToken::new("SENTINEL-TOKEN").unwrap();
    let request = RunReport::new("r".parse().unwrap(), ViewType::Detail)
        .to_request(&Environment::UsCloud2Production, &token)
        .unwrap();
    assert!(!format!("{token:?} {token} {request:?}").contains("SENTINEL"));
}
