//! Each column's type, from every value of the whole export: the narrowest type that fits
//! them all, or text with the reason.

use crate::TableError;
use crate::values::{
    Cell, Locale, MAX_PRECISION, parse_boolean, parse_date, parse_datetime, parse_decimal,
};

/// A column's type in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `true` / `false`.
    Boolean,
    /// A whole number that fits 64 bits.
    Integer,
    /// An exact decimal (Arrow `Decimal128`): `precision` digits, `scale` after the point.
    Decimal {
        /// All digits.
        precision: u8,
        /// Digits after the point.
        scale: u8,
    },
    /// A date.
    Date,
    /// A date-time in the tenant's time, to the millisecond, no zone.
    Timestamp,
    /// Text.
    Text,
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Boolean => f.write_str("boolean"),
            Self::Integer => f.write_str("integer"),
            Self::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Self::Date => f.write_str("date"),
            Self::Timestamp => f.write_str("timestamp"),
            Self::Text => f.write_str("text"),
        }
    }
}

impl std::str::FromStr for ColumnType {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        Ok(match text.as_str() {
            "boolean" | "bool" => Self::Boolean,
            "integer" | "int" => Self::Integer,
            "date" => Self::Date,
            "timestamp" | "datetime" => Self::Timestamp,
            "text" | "string" => Self::Text,
            other => {
                let inner = other
                    .strip_prefix("decimal(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .ok_or_else(|| format!("unknown type {other:?}: boolean, integer, decimal(P,S), date, timestamp or text"))?;
                let (p, s) = inner.split_once(',').ok_or("decimal(P,S) needs both")?;
                let precision: u8 = p
                    .trim()
                    .parse()
                    .map_err(|_| "decimal precision: a number")?;
                let scale: u8 = s.trim().parse().map_err(|_| "decimal scale: a number")?;
                if precision == 0 || precision > MAX_PRECISION || scale > precision {
                    return Err(format!(
                        "decimal({precision},{scale}): precision 1 to 38, scale at most the precision"
                    ));
                }
                Self::Decimal { precision, scale }
            }
        })
    }
}

/// A column of the finished inference: its name (the export's label), its type, and why
/// it is text when it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The export's label, exactly.
    pub name: String,
    /// Its type.
    pub column_type: ColumnType,
    /// Why a column is text (the value that fit no other type), or that the user set it.
    pub reason: Option<String>,
}

const BOOLEAN: u8 = 1;
const INTEGER: u8 = 2;
const DECIMAL: u8 = 4;
const DATE: u8 = 8;
const TIMESTAMP: u8 = 16;
const ALL: u8 = BOOLEAN | INTEGER | DECIMAL | DATE | TIMESTAMP;

#[derive(Debug, Clone)]
struct Guess {
    fits: u8,
    values: u64,
    scale: u8,
    integer_digits: u8,
    reason: Option<String>,
}

/// `text` as a number in `locale`; a leading zero (`007`, not `0.5`) makes it an
/// identifier, not a number.
pub(crate) fn number(text: &str, locale: Locale) -> Option<crate::values::Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text).as_bytes();
    let leading_zero = digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit();
    match leading_zero {
        true => None,
        false => parse_decimal(text, locale),
    }
}

/// Which of the types in `candidates` `text` fits, with its decimal's shape. Only the
/// candidates' parsers run: a column already ruled out of dates never parses a date again.
pub(crate) fn fits(
    text: &str,
    locale: Locale,
    candidates: u8,
) -> (u8, Option<crate::values::Decimal>) {
    let mut fits = 0;
    if candidates & BOOLEAN != 0 && parse_boolean(text).is_some() {
        fits |= BOOLEAN;
    }
    let decimal = match candidates & (DECIMAL | INTEGER) {
        0 => None,
        _ => number(text, locale),
    };
    if let Some(d) = decimal {
        fits |= DECIMAL;
        if d.scale == 0 && i64::try_from(d.unscaled).is_ok() {
            fits |= INTEGER;
        }
    }
    if candidates & DATE != 0 && parse_date(text).is_some() {
        fits |= DATE;
    }
    if candidates & TIMESTAMP != 0 && parse_datetime(text).is_some() {
        fits |= TIMESTAMP;
    }
    (fits & candidates, decimal)
}

/// Infers the columns' types from every record of an export (the header first).
#[derive(Debug)]
pub struct Inference {
    locale: Locale,
    names: Option<Vec<String>>,
    guesses: Vec<Guess>,
    rows: u64,
}

impl Inference {
    /// An inference for numbers written in `locale`.
    pub fn new(locale: Locale) -> Self {
        Self {
            locale,
            names: None,
            guesses: Vec::new(),
            rows: 0,
        }
    }

    /// Takes record `index` (0: the header).
    pub fn record(&mut self, index: u64, fields: &[&str]) -> Result<(), TableError> {
        let Some(names) = &self.names else {
            self.names = Some(fields.iter().map(|f| (*f).to_owned()).collect());
            self.guesses = vec![
                Guess {
                    fits: ALL,
                    values: 0,
                    scale: 0,
                    integer_digits: 0,
                    reason: None,
                };
                fields.len()
            ];
            return Ok(());
        };
        if fields.len() != names.len() {
            return Err(TableError::Malformed {
                record: index,
                reason: format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    names.len()
                ),
            });
        }
        self.rows += 1;
        for (guess, field) in self.guesses.iter_mut().zip(fields) {
            let Cell::Text(text) = Cell::of(field) else {
                continue;
            };
            guess.values += 1;
            if guess.fits == 0 {
                continue;
            }
            let (fits, decimal) = fits(text, self.locale, guess.fits);
            if let Some(d) = decimal {
                guess.scale = guess.scale.max(d.scale);
                guess.integer_digits = guess.integer_digits.max(d.integer_digits);
            }
            let left = guess.fits & fits;
            if left == 0 {
                guess.reason = Some(match guess.fits {
                    ALL => format!("row {index}: {text:?} is not a number, date or boolean"),
                    before => format!(
                        "row {index}: {text:?} is not {}, as the rows before it",
                        type_names(before)
                    ),
                });
            }
            guess.fits = left;
        }
        Ok(())
    }

    /// Data rows seen.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The locale its numbers are read in.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The columns, each typed as narrowly as every value allows, `overrides` (name, type)
    /// taking precedence.
    ///
    /// # Errors
    ///
    /// [`TableError::UnknownColumn`] for an override naming no column;
    /// [`TableError::Malformed`] for an export with no header.
    pub fn finish(self, overrides: &[(String, ColumnType)]) -> Result<Vec<Column>, TableError> {
        let names = self.names.ok_or(TableError::Malformed {
            record: 0,
            reason: "no header".into(),
        })?;
        for (name, _) in overrides {
            if !names.contains(name) {
                return Err(TableError::UnknownColumn {
                    name: name.clone(),
                    known: names.clone(),
                });
            }
        }
        Ok(names
            .into_iter()
            .zip(self.guesses)
            .map(|(name, guess)| {
                if let Some((_, column_type)) = overrides.iter().find(|(n, _)| *n == name) {
                    return Column {
                        name,
                        column_type: *column_type,
                        reason: Some("set by the user".into()),
                    };
                }
                let (column_type, reason) = choose(&guess);
                Column {
                    name,
                    column_type,
                    reason,
                }
            })
            .collect())
    }
}

/// The types in `fits`, for a reason.
fn type_names(fits: u8) -> String {
    let all = [
        (BOOLEAN, "a boolean"),
        (INTEGER, "an integer"),
        (DECIMAL, "a decimal"),
        (DATE, "a date"),
        (TIMESTAMP, "a date-time"),
    ];
    let names: Vec<&str> = all
        .iter()
        .filter(|(bit, _)| fits & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    names.join(" or ")
}

fn choose(guess: &Guess) -> (ColumnType, Option<String>) {
    if guess.values == 0 {
        return (ColumnType::Text, Some("no values".into()));
    }
    let precision = guess.integer_digits.saturating_add(guess.scale);
    let fits = guess.fits;
    let chosen = if fits & BOOLEAN != 0 {
        ColumnType::Boolean
    } else if fits & INTEGER != 0 {
        ColumnType::Integer
    } else if fits & DECIMAL != 0 && precision <= MAX_PRECISION {
        ColumnType::Decimal {
            precision: precision.max(1),
            scale: guess.scale,
        }
    } else if fits & DATE != 0 {
        ColumnType::Date
    } else if fits & TIMESTAMP != 0 {
        ColumnType::Timestamp
    } else {
        let reason = guess
            .reason
            .clone()
            .unwrap_or_else(|| "values of no single type".into());
        return (ColumnType::Text, Some(reason));
    };
    (chosen, None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // A panic is how a test fails.

    use super::*;

    fn infer(rows: &[&[&str]]) -> Vec<Column> {
        let mut inference = Inference::new(Locale::EnUs);
        for (index, row) in rows.iter().enumerate() {
            inference.record(index as u64, row).unwrap();
        }
        inference.finish(&[]).unwrap()
    }

    #[test]
    fn a_late_value_that_contradicts_keeps_the_column_text_and_says_why() {
        let mut rows: Vec<&[&str]> = vec![&["Code", "Amount", "Flag", "Id"]];
        rows.extend(std::iter::repeat_n(
            &["12", "1,000.5", "true", "007"][..],
            1000,
        ));
        rows.push(&["N/A", "(none)", "(blank)", "008"]);
        let columns = infer(&rows);
        assert_eq!(columns[0].column_type, ColumnType::Text);
        let reason = columns[0].reason.as_deref().unwrap();
        assert!(
            reason.contains("row 1001") && reason.contains("N/A"),
            "{reason}"
        );
        assert_eq!(
            columns[1].column_type,
            ColumnType::Decimal {
                precision: 5,
                scale: 1
            }
        );
        assert_eq!(
            columns[2].column_type,
            ColumnType::Boolean,
            "(blank) is null here"
        );
        assert_eq!(
            columns[3].column_type,
            ColumnType::Text,
            "leading zeros: an id"
        );
    }

    #[test]
    fn types_parse_and_refuse_as_documented() {
        assert_eq!(
            "decimal(18,2)".parse::<ColumnType>(),
            Ok(ColumnType::Decimal {
                precision: 18,
                scale: 2
            })
        );
        assert!("decimal(99,2)".parse::<ColumnType>().is_err());
        assert!("money".parse::<ColumnType>().is_err());
        let mut inference = Inference::new(Locale::EnUs);
        inference.record(0, &["A"]).unwrap();
        let error = inference
            .finish(&[("B".to_owned(), ColumnType::Text)])
            .unwrap_err();
        assert!(matches!(error, TableError::UnknownColumn { .. }));
    }
}
