//! Any decimal and any date, formatted the way each locale writes it, reads back exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test fails.

use proptest::prelude::*;
use zuora_tables::Locale;
use zuora_tables::values::{civil_from_days, parse_date, parse_datetime, parse_decimal};

/// `unscaled / 10^scale` written as `locale` writes it, grouped in thousands.
fn format(unscaled: i128, scale: u32, locale: Locale, group: char) -> String {
    let point = if locale == Locale::EnUs { '.' } else { ',' };
    let digits = format!(
        "{:0>width$}",
        unscaled.unsigned_abs(),
        width = scale as usize + 1
    );
    let (whole, fraction) = digits.split_at(digits.len() - scale as usize);
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if unscaled < 0 { "-" } else { "" };
    match scale {
        0 => format!("{sign}{grouped}"),
        _ => format!("{sign}{grouped}{point}{fraction}"),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

proptest! {
    #[test]
    fn a_decimal_reads_back_in_every_locale(
        unscaled in -10i128.pow(20)..10i128.pow(20),
        scale in 0u32..6,
        locale in prop_oneof![Just((Locale::EnUs, ',')), Just((Locale::De, '.')), Just((Locale::Fr, '\u{a0}')), Just((Locale::Fr, ' '))],
    ) {
        let (locale, group) = locale;
        let text = format(unscaled, scale, locale, group);
        let parsed = parse_decimal(&text, locale).expect(&text);
        prop_assert_eq!((parsed.unscaled, u32::from(parsed.scale)), (unscaled, scale), "{}", text);
    }

    #[test]
    fn a_date_and_a_time_read_back(days in -700_000i32..2_900_000, seconds in 0i64..86_400) {
        let (y, m, d) = civil_from_days(days);
        let zuora = format!("{} {d}, {y:04}", MONTHS[m as usize - 1]);
        prop_assert_eq!(parse_date(&zuora), Some(days));
        prop_assert_eq!(parse_date(&format!("{y:04}-{m:02}-{d:02}")), Some(days));
        let (h, min, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let (h12, meridiem) = match h { 0 => (12, "AM"), 1..=11 => (h, "AM"), 12 => (12, "PM"), _ => (h - 12, "PM") };
        let text = format!("{zuora} {h12}:{min:02}:{s:02} {meridiem}");
        prop_assert_eq!(parse_datetime(&text), Some((i64::from(days) * 86_400 + seconds) * 1000), "{}", text);
    }
}
