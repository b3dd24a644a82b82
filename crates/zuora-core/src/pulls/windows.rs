//! A report's date range cut into windows, and a window cut in two.

use serde::{Deserialize, Serialize};

use super::dates::CivilDate;

/// A half-open range of days: from `start` (included) to `end` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Window {
    /// The first day.
    pub start: CivilDate,
    /// The day after the last.
    pub end: CivilDate,
}

impl Window {
    /// Its length in days.
    pub fn days(&self) -> i64 {
        self.start.days_until(self.end)
    }

    /// Its two halves (the first one day shorter when the length is odd), when it has at
    /// least two days.
    pub fn halves(&self) -> Option<(Window, Window)> {
        let days = self.days();
        if days < 2 {
            return None;
        }
        let middle = self.start.add_days(days / 2)?;
        Some((
            Window {
                start: self.start,
                end: middle,
            },
            Window {
                start: middle,
                end: self.end,
            },
        ))
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

/// How long each window is: `N day(s)`, `N week(s)` or `N month(s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowSize {
    /// Whole days.
    Days(u32),
    /// Whole weeks of seven days.
    Weeks(u32),
    /// Calendar months (each window starts on the same day of the month as the first).
    Months(u32),
}

/// The longest window: a century, which no report range needs and no arithmetic overflows.
const MAX_DAYS: u32 = 36_525;

impl WindowSize {
    /// Reads `1 month`, `2 weeks`, `7 days` (singular or plural, at least one, at most a
    /// century).
    ///
    /// ```
    /// use zuora_core::pulls::WindowSize;
    /// assert_eq!("1 month".parse(), Ok(WindowSize::Months(1)));
    /// assert!("0 days".parse::<WindowSize>().is_err());
    /// ```
    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split_whitespace();
        let (Some(count), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "{text:?} is not a window size: write a count and a unit, such as \"1 month\", \"2 weeks\" or \"7 days\""
            ));
        };
        let count: u32 = count
            .parse()
            .map_err(|_| format!("{count:?} is not a whole number of {unit}"))?;
        if count == 0 {
            return Err(format!(
                "{text:?} is empty: a window is at least one day, week or month"
            ));
        }
        let size = match unit.to_ascii_lowercase().as_str() {
            "day" | "days" => Self::Days(count),
            "week" | "weeks" => Self::Weeks(count),
            "month" | "months" => Self::Months(count),
            _ => {
                return Err(format!("{unit:?} is not a unit: use days, weeks or months"));
            }
        };
        if size.approximate_days() > u64::from(MAX_DAYS) {
            return Err(format!("{text:?} is longer than a century"));
        }
        Ok(size)
    }

    fn approximate_days(self) -> u64 {
        match self {
            Self::Days(n) => u64::from(n),
            Self::Weeks(n) => u64::from(n) * 7,
            Self::Months(n) => u64::from(n) * 31,
        }
    }

    /// The end of the window that starts `index` windows after `first`.
    fn boundary(self, first: CivilDate, index: u32) -> Option<CivilDate> {
        match self {
            Self::Days(n) => first.add_days(i64::from(n) * i64::from(index)),
            Self::Weeks(n) => first.add_days(i64::from(n) * 7 * i64::from(index)),
            Self::Months(n) => first.add_months(n.checked_mul(index)?),
        }
    }

    /// The whole windows from `first` that end on or before `end` (a window that would run
    /// past it waits for a later pull: a window is pulled once, complete, never in parts
    /// that overlap the next pull's). At most `limit` windows.
    pub fn cut(self, first: CivilDate, end: CivilDate, limit: usize) -> Vec<Window> {
        let mut windows = Vec::new();
        let mut start = first;
        for index in 1u32.. {
            if windows.len() >= limit {
                break;
            }
            // Each boundary is counted from the first day, so months do not drift
            // (Jan 31, Feb 28, Mar 31, not Mar 28).
            let Some(next) = self.boundary(first, index) else {
                break;
            };
            if next > end || next <= start {
                break;
            }
            windows.push(Window { start, end: next });
            start = next;
        }
        windows
    }
}

impl std::str::FromStr for WindowSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

impl std::fmt::Display for WindowSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (count, unit) = match *self {
            Self::Days(n) => (n, "day"),
            Self::Weeks(n) => (n, "week"),
            Self::Months(n) => (n, "month"),
        };
        write!(f, "{count} {unit}{}", if count == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> CivilDate {
        CivilDate::parse(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn months_cut_whole_windows_only() {
        let windows = WindowSize::Months(1).cut(date("2015-01-31"), date("2015-05-15"), 100);
        let shown: Vec<String> = windows.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "[2015-01-31, 2015-02-28)",
                "[2015-02-28, 2015-03-31)",
                "[2015-03-31, 2015-04-30)"
            ]
        );
    }

    #[test]
    fn halves_cover_the_window() {
        let window = Window {
            start: date("2015-01-01"),
            end: date("2015-02-01"),
        };
        let (a, b) = window.halves().unwrap_or((window, window));
        assert_eq!(
            (a.start, a.end, b.end),
            (window.start, date("2015-01-16"), window.end)
        );
        let day = Window {
            start: date("2015-01-01"),
            end: date("2015-01-02"),
        };
        assert!(day.halves().is_none());
    }

    #[test]
    fn sizes_parse_strictly() {
        assert_eq!("2 weeks".parse(), Ok(WindowSize::Weeks(2)));
        for bad in [
            "0 days",
            "month",
            "1 fortnight",
            "-1 days",
            "1 month extra",
            "99999 months",
        ] {
            assert!(bad.parse::<WindowSize>().is_err(), "{bad}");
        }
    }
}
