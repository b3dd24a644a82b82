//! Calendar dates for windows: ISO `YYYY-MM-DD`, whole days and months, no time zone.
//!
//! Hand-written rather than a date crate: a pull needs only parsing, printing, adding days
//! and months, and "today" from a `SystemTime` (Howard Hinnant's civil-date algorithms, a
//! few lines each); a dependency for that would be heavier than the code.

use std::time::{SystemTime, UNIX_EPOCH};

/// A date of the proleptic Gregorian calendar, years 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: i32,
    month: u8,
    day: u8,
}

/// The last day of `month` (1-12) in `year`.
fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl CivilDate {
    /// 1970-01-01.
    pub const EPOCH: Self = Self {
        year: 1970,
        month: 1,
        day: 1,
    };

    /// The date, if it exists (years 1 to 9999).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        ((1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month))
        .then_some(Self { year, month, day })
    }

    /// Reads `YYYY-MM-DD` exactly.
    ///
    /// ```
    /// use zuora_core::pulls::CivilDate;
    /// assert_eq!(CivilDate::parse("2015-02-28").map(|d| d.to_string()).as_deref(), Some("2015-02-28"));
    /// assert!(CivilDate::parse("2015-02-29").is_none());
    /// assert!(CivilDate::parse("Feb 1, 2015").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(range)?;
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let year = i32::try_from(number(0..4)?).ok()?;
        let month = u8::try_from(number(5..7)?).ok()?;
        let day = u8::try_from(number(8..10)?).ok()?;
        Self::new(year, month, day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i64 {
        let (month, day) = (i64::from(self.month), i64::from(self.day));
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01, if within years 1 to 9999.
    pub fn from_days(days: i64) -> Option<Self> {
        let days = days.checked_add(719_468)?;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self::new(
            i32::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
    }

    /// The UTC date of `time`.
    pub fn of(time: SystemTime) -> Option<Self> {
        let seconds = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).ok()?,
            Err(before) => -i64::try_from(before.duration().as_secs()).ok()? - 1,
        };
        Self::from_days(seconds.div_euclid(86_400))
    }

    /// `days` later (earlier when negative), if within years 1 to 9999.
    pub fn add_days(self, days: i64) -> Option<Self> {
        Self::from_days(self.to_days().checked_add(days)?)
    }

    /// `months` later, the day kept or, past the month's end, its last day (Jan 31 + 1
    /// month = Feb 28).
    pub fn add_months(self, months: u32) -> Option<Self> {
        let index = i64::from(self.year) * 12 + i64::from(self.month) - 1 + i64::from(months);
        let year = i32::try_from(index.div_euclid(12)).ok()?;
        let month = u8::try_from(index.rem_euclid(12) + 1).ok()?;
        let day = self.day.min(days_in_month(year, month));
        Self::new(year, month, day)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Self) -> i64 {
        later.to_days() - self.to_days()
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for CivilDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CivilDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD date")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        let epoch = CivilDate::new(1970, 1, 1).map(CivilDate::to_days);
        assert_eq!(epoch, Some(0));
        let leap = CivilDate::parse("2000-02-29").map(CivilDate::to_days);
        assert_eq!(leap, Some(11_016));
        let next = CivilDate::parse("2016-01-31").and_then(|d| d.add_months(1));
        assert_eq!(next.map(|d| d.to_string()).as_deref(), Some("2016-02-29"));
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -719_162i64..2_932_896) {
            let date = CivilDate::from_days(days);
            prop_assert!(date.is_some());
            let date = date.unwrap_or(CivilDate { year: 1970, month: 1, day: 1 });
            prop_assert_eq!(date.to_days(), days);
            prop_assert_eq!(CivilDate::parse(&date.to_string()), Some(date));
        }
    }
}
