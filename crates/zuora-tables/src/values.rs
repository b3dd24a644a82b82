//! The value shapes Zuora writes into a report export, read back exactly: numbers with the
//! locale's separators, its dates and date-times, its empty markers. Hand-written on
//! purpose: each shape is a few lines, and a general parser (a date library's format
//! strings, a float parser) would accept more than Zuora writes and round money.

/// How numbers are written: Zuora formats them with the tenant's locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Locale {
    /// `1,430.5` (en-US, Zuora's default).
    #[default]
    EnUs,
    /// `1.430,5` (de-DE and most of continental Europe).
    De,
    /// `1 430,5`, the group separator a space, a no-break space or a narrow one (fr-FR).
    Fr,
}

impl Locale {
    fn separators(self) -> (&'static [char], char) {
        match self {
            Self::EnUs => (&[','], '.'),
            Self::De => (&['.'], ','),
            Self::Fr => (&[' ', '\u{a0}', '\u{202f}'], ','),
        }
    }
}

impl std::str::FromStr for Locale {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "en-us" | "en" => Ok(Self::EnUs),
            "de-de" | "de" => Ok(Self::De),
            "fr-fr" | "fr" => Ok(Self::Fr),
            _ => Err(format!("unknown locale {name:?}: en-US, de-DE or fr-FR")),
        }
    }
}

/// A cell as Zuora means it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// No value: an empty cell or `(none)`.
    Null,
    /// `(blank)`: an empty string where the column is text, no value otherwise.
    Blank,
    /// Anything else.
    Text(&'a str),
}

impl<'a> Cell<'a> {
    /// What `field` (one field of a record) means.
    pub fn of(field: &'a str) -> Self {
        // Most cells are neither marker: one byte says so before any comparison.
        if field.as_bytes().first().is_some_and(|b| *b != b'(') {
            return Self::Text(field);
        }
        match field {
            "" | "(none)" => Self::Null,
            "(blank)" => Self::Blank,
            text => Self::Text(text),
        }
    }
}

/// An exact decimal: `unscaled / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    /// The digits, sign included.
    pub unscaled: i128,
    /// Digits after the decimal separator.
    pub scale: u8,
    /// Digits before it (for the precision a column needs).
    pub integer_digits: u8,
}

/// The most digits a decimal may have (Arrow's `Decimal128`).
pub const MAX_PRECISION: u8 = 38;

/// `text` as a number written in `locale`: digits in groups of three between group
/// separators (or none at all), an optional fraction, an optional leading `-`. `None` for
/// anything else (`1,5` in en-US is not fifteen).
pub fn parse_decimal(text: &str, locale: Locale) -> Option<Decimal> {
    let (groups, point) = locale.separators();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // Bytes, not chars: every value of every numeric-looking column comes through here
    // (twice), and all but the fr-FR group separators are ASCII.
    let (whole, fraction) = match split_at_byte(body, point as u8) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    let mut number = Digits::default();
    let mut group = 0usize;
    let mut grouped = false;
    let bytes = whole.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte.is_ascii_digit() {
            number.push(byte - b'0')?;
            group += 1;
            at += 1;
            continue;
        }
        let separator = groups
            .iter()
            .find(|g| whole[at..].starts_with(**g))
            .map(|g| g.len_utf8())?;
        // The first group has 1 to 3 digits, every later one exactly 3.
        if (grouped && group != 3) || group == 0 || group > 3 {
            return None;
        }
        grouped = true;
        group = 0;
        at += separator;
    }
    if number.digits == 0 || (grouped && group != 3) {
        return None;
    }
    let integer_digits = number.digits;
    if let Some(fraction) = fraction {
        if fraction.is_empty() {
            return None;
        }
        for byte in fraction.bytes() {
            if !byte.is_ascii_digit() {
                return None;
            }
            number.push(byte - b'0')?;
        }
    }
    let scale = number.digits - integer_digits;
    if scale > usize::from(MAX_PRECISION) {
        return None;
    }
    Some(Decimal {
        unscaled: if negative {
            -number.unscaled
        } else {
            number.unscaled
        },
        scale: scale as u8,
        integer_digits: integer_digits.min(usize::from(MAX_PRECISION)) as u8,
    })
}

/// Digits gathered into a number, at most [`MAX_PRECISION`] of them significant.
#[derive(Default)]
struct Digits {
    unscaled: i128,
    digits: usize,
    significant: usize,
}

impl Digits {
    fn push(&mut self, digit: u8) -> Option<()> {
        self.digits += 1;
        // Leading zeros do not count towards the precision.
        if self.significant > 0 || digit != 0 {
            self.significant += 1;
        }
        if self.significant > usize::from(MAX_PRECISION) {
            return None;
        }
        // 38 significant digits always fit an i128; checked all the same.
        self.unscaled = self
            .unscaled
            .checked_mul(10)?
            .checked_add(i128::from(digit))?;
        Some(())
    }
}

/// `text` split around its first `byte` (an ASCII byte, so both sides stay text).
fn split_at_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    debug_assert!(byte.is_ascii());
    let at = text.bytes().position(|b| b == byte)?;
    Some((&text[..at], &text[at + 1..]))
}

/// `unscaled / 10^scale` written exactly, plainly (`-0.05`, `3980735.56`): how a decimal
/// leaves a table as text.
pub fn decimal_text(unscaled: i128, scale: u8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date; `None` for a date that does not
/// exist (Feb 30).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> Option<i32> {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let last = match month {
        2 if leap => 29,
        1..=12 => DAYS[(month - 1) as usize],
        _ => return None,
    };
    if day == 0 || day > last || !(1..=9999).contains(&year) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The civil date of a day count (the inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The month of Zuora's English abbreviation (`Dec`: 12).
fn month(name: &str) -> Option<u32> {
    // A match on the three bytes, not a search: every date of every date column asks.
    Some(match name.as_bytes() {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn number<T: std::str::FromStr>(text: &str, min: usize, max: usize) -> Option<T> {
    let ok = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if ok { text.parse().ok() } else { None }
}

/// A date as Zuora writes it: `Dec 7, 2013`, or ISO `2013-12-07`. Days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i32> {
    if text.as_bytes().get(4) == Some(&b'-') {
        let (year, rest) = split_at_byte(text, b'-')?;
        let (month, day) = split_at_byte(rest, b'-')?;
        return days_from_civil(
            number(year, 4, 4)?,
            number(month, 2, 2)?,
            number(day, 2, 2)?,
        );
    }
    let (month_day, year) = split_at_byte(text, b',')?;
    let year = year.strip_prefix(' ')?;
    let (name, day) = split_at_byte(month_day, b' ')?;
    days_from_civil(number(year, 4, 4)?, month(name)?, number(day, 1, 2)?)
}

/// A date-time as Zuora writes it, in the tenant's time (no zone): `Dec 7, 2013 2:18:00 PM`,
/// or ISO `2013-12-07T14:18:00` / `2013-12-07 14:18:00`, seconds optionally with a fraction
/// of up to three digits. Milliseconds since 1970-01-01T00:00:00.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let (days, time, meridiem) = if bytes.get(4) == Some(&b'-') {
        // `2013-12-07T14:18:00`: the date is ten bytes.
        if !matches!(bytes.get(10), Some(b'T' | b' ')) {
            return None;
        }
        (parse_date(text.get(..10)?)?, text.get(11..)?, None)
    } else {
        // `Dec 7, 2013 2:18:00 PM`: the date is the first three words.
        let mut spaces = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b' ')
            .map(|(at, _)| at);
        let (_, _, third) = (spaces.next()?, spaces.next()?, spaces.next()?);
        let days = parse_date(&text[..third])?;
        let (time, meridiem) = split_at_byte(&text[third + 1..], b' ')?;
        (days, time, Some(meridiem))
    };
    let mut parts = time.split(':');
    let hour: u32 = number(parts.next()?, 1, 2)?;
    let minute: u32 = number(parts.next()?, 2, 2)?;
    let (second, millis) = match parts.next() {
        None => (0, 0),
        Some(seconds) => match split_at_byte(seconds, b'.') {
            None => (number(seconds, 2, 2)?, 0),
            Some((whole, fraction)) => {
                let value: u32 = number(fraction, 1, 3)?;
                (
                    number(whole, 2, 2)?,
                    value * 10u32.pow(3 - fraction.len() as u32),
                )
            }
        },
    };
    if parts.next().is_some() {
        return None;
    }
    let hour = match meridiem {
        None if hour < 24 => hour,
        Some("AM") if (1..=12).contains(&hour) => hour % 12,
        Some("PM") if (1..=12).contains(&hour) => hour % 12 + 12,
        _ => return None,
    };
    if minute > 59 || second > 59 {
        return None;
    }
    let seconds = i64::from(days) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds * 1000 + i64::from(millis))
}

/// A boolean where it is unambiguous: `true` or `false`.
pub fn parse_boolean(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_each_locale() {
        let d = |t, l| parse_decimal(t, l).map(|d| (d.unscaled, d.scale));
        assert_eq!(d("3,980,735.56", Locale::EnUs), Some((398_073_556, 2)));
        assert_eq!(d("-120.20", Locale::EnUs), Some((-12_020, 2)));
        assert_eq!(d("1.430,5", Locale::De), Some((14_305, 1)));
        assert_eq!(d("1\u{a0}430,5", Locale::Fr), Some((14_305, 1)));
        assert_eq!(d("42", Locale::EnUs), Some((42, 0)));
        for bad in [
            "1,5",
            "1,23,456",
            ",123",
            "1.",
            "",
            "-",
            "12a",
            "1,234.5.6",
            "--1",
        ] {
            assert_eq!(d(bad, Locale::EnUs), None, "{bad}");
        }
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_date("Jan 1, 1970"), Some(0));
        assert_eq!(parse_date("Dec 7, 2013"), parse_date("2013-12-07"));
        assert_eq!(parse_date("Feb 30, 2013"), None);
        assert_eq!(parse_date("2013-12-7"), None);
        let afternoon = parse_datetime("Dec 7, 2013 2:18:00 PM").unwrap();
        assert_eq!(Some(afternoon), parse_datetime("2013-12-07T14:18:00"));
        assert_eq!(
            Some(afternoon + 500),
            parse_datetime("2013-12-07 14:18:00.5")
        );
        assert_eq!(
            parse_datetime("Jul 11, 2015 12:15:05 AM").unwrap() % 86_400_000,
            15 * 60_000 + 5_000
        );
        assert_eq!(parse_datetime("Dec 7, 2013 13:18:00 PM"), None);
        assert_eq!(parse_datetime("Dec 7, 2013"), None);
        for days in [-1000, 0, 16_000, 2_932_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), Some(days));
        }
    }
}
