//! The simulator's reports: a seeded catalogue and a deterministic row generator.
//!
//! Every value is a function of (seed, report, row), so a test can compare what a client
//! downloaded with [`Report::row`] row by row, and an export of any size is generated while
//! it streams, never held in memory.

use zuora_core::{ReportId, ViewType};

use crate::rng::Rng;

/// A report column: its field id (`Invoice.Amount`, the key in data pages) and its label
/// (`Invoice: Amount`, the export header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// `<Object>.<Field>`.
    pub id: &'static str,
    /// `<Object>: <Field>`.
    pub label: &'static str,
}

/// What a report's rows are about; it fixes the columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// Invoices (Detail).
    Invoice,
    /// Accounts (Detail).
    Account,
    /// Payments (Detail).
    Payment,
    /// Invoice totals per currency (Summary).
    InvoiceTotals,
}

/// How the tenant's numbers are written (Zuora formats them with the user's locale).
///
/// The simulator stands in for Zuora, so it formats numbers with its own code rather than
/// with the `zuora-tables` parser's: the two check each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberLocale {
    /// `1,430.5`.
    #[default]
    EnUs,
    /// `1.430,5`.
    De,
    /// `1 430,5` with a narrow no-break space (U+202F) between groups.
    Fr,
}

impl NumberLocale {
    fn separators(self) -> (char, char) {
        match self {
            Self::EnUs => (',', '.'),
            Self::De => ('.', ','),
            Self::Fr => ('\u{202f}', ','),
        }
    }
}

impl std::str::FromStr for NumberLocale {
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

/// How a run of the report ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// `COMPLETED`.
    Completes,
    /// `INVALID`: the definition is broken.
    Invalid,
    /// `ERROR`: the run fails while querying.
    Fails,
}

const INVOICE_COLUMNS: &[Column] = &[
    Column {
        id: "Invoice.InvoiceNumber",
        label: "Invoice: Invoice Number",
    },
    Column {
        id: "Invoice.CreatedDate",
        label: "Invoice: Created Date",
    },
    Column {
        id: "Account.Name",
        label: "Account: Name",
    },
    Column {
        id: "Account.Currency",
        label: "Account: Currency",
    },
    Column {
        id: "Invoice.Amount",
        label: "Invoice: Amount",
    },
    Column {
        id: "Invoice.Status",
        label: "Invoice: Status",
    },
    Column {
        id: "BillToContact.AccountId",
        label: "Bill To Contact: Account Id",
    },
    Column {
        id: "Invoice.Comments",
        label: "Invoice: Comments",
    },
];
const ACCOUNT_COLUMNS: &[Column] = &[
    Column {
        id: "Account.AccountNumber",
        label: "Account: Account Number",
    },
    Column {
        id: "Account.Name",
        label: "Account: Name",
    },
    Column {
        id: "Account.Status",
        label: "Account: Status",
    },
    Column {
        id: "Account.Currency",
        label: "Account: Currency",
    },
    Column {
        id: "Account.Balance",
        label: "Account: Balance",
    },
    Column {
        id: "Account.CreatedDate",
        label: "Account: Created Date",
    },
    Column {
        id: "Account.Notes",
        label: "Account: Notes",
    },
    Column {
        id: "Account.LegacyCode",
        label: "Account: Legacy Code",
    },
];
const PAYMENT_COLUMNS: &[Column] = &[
    Column {
        id: "Payment.PaymentNumber",
        label: "Payment: Payment Number",
    },
    Column {
        id: "Payment.EffectiveDate",
        label: "Payment: Effective Date",
    },
    Column {
        id: "Account.Name",
        label: "Account: Name",
    },
    Column {
        id: "Payment.Amount",
        label: "Payment: Amount",
    },
    Column {
        id: "Payment.Status",
        label: "Payment: Status",
    },
    Column {
        id: "Payment.Comment",
        label: "Payment: Comment",
    },
];
const TOTALS_COLUMNS: &[Column] = &[
    Column {
        id: "Account.Currency",
        label: "Account: Currency",
    },
    Column {
        id: "Invoice.Count",
        label: "COUNT of Invoice",
    },
    Column {
        id: "Invoice.Amount",
        label: "SUM of 'Invoice: Amount'",
    },
    Column {
        id: "Invoice.AverageAmount",
        label: "AVG of 'Invoice: Amount'",
    },
];

/// The groups of a Summary report: a group without a value shows as `(none)`, one whose
/// value is the empty string as `(blank)`, as Zuora writes them.
const SUMMARY_GROUPS: &[&str] = &["USD", "EUR", "CAD", "(none)", "GBP", "(blank)", "JPY"];

/// The row (within each cycle of the catalogue's rows) whose legacy code is not a number: a text
/// column that looks numeric for its first 99 rows, so a reader that typed it from a
/// sample would be wrong.
pub const LEGACY_CODE_CONTRADICTION_ROW: u64 = 100;

const NAMES: &[&str] = &[
    "Acme, Inc.",
    "Globex Corporation",
    "\"Quoted\" Partners LLP",
    "Zürich Consulting AG",
    "東京商事株式会社",
    "Café ☕ & Co",
    "Rocket 🚀 Labs",
    "O'Brien & Sons",
    "Initech\tEMEA",
    "Northwind\nTraders",
    "Żółć Sp. z o.o.",
    "Umbrella Corp 🧪👩‍🔬",
];
const NOTES: &[&str] = &[
    "",
    "Net 30",
    "Paid, thanks!",
    "He said \"ASAP\"",
    "Line one\nLine two",
    "Tab\tseparated",
    "Emoji 🎉 party",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
    "Comma, quote \", and\r\nCRLF",
    "Ünïcödé ✓ ½",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "CAD", "GBP", "JPY"];
const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl DataSource {
    /// The columns of reports on this source.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Invoice => INVOICE_COLUMNS,
            Self::Account => ACCOUNT_COLUMNS,
            Self::Payment => PAYMENT_COLUMNS,
            Self::InvoiceTotals => TOTALS_COLUMNS,
        }
    }

    /// Zuora's data-source name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Invoice | Self::InvoiceTotals => "Invoice",
            Self::Account => "Account",
            Self::Payment => "Payment",
        }
    }
}

/// Rows whose values repeat: see [`Report::row`].
pub const ROW_CYCLE: u64 = 4096;

/// One report definition of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `id`.
    pub id: ReportId,
    /// `name`.
    pub name: String,
    /// `number`, such as `REP0000007`.
    pub number: String,
    /// `description`.
    pub description: String,
    /// The view the definition has.
    pub view_type: ViewType,
    /// Its data source (fixes the columns).
    pub source: DataSource,
    /// Data rows a completed run has.
    pub rows: u64,
    /// How its runs end.
    pub outcome: RunOutcome,
    /// How its numbers are written.
    pub locale: NumberLocale,
    seed: u64,
    index: u64,
}

impl Report {
    /// The columns.
    pub fn columns(&self) -> &'static [Column] {
        self.source.columns()
    }

    /// Row `row` (1-based: index 0 of a run's result is the header) as strings, one per
    /// column, exactly as data pages and exports carry them.
    ///
    /// The values repeat every 4096 rows (`ROW_CYCLE`; only the row's own number, at the end of
    /// its first field, keeps counting), so a large export can be served from pre-encoded
    /// text with no per-row work.
    pub fn row(&self, row: u64) -> Vec<String> {
        let cycled = 1 + row.saturating_sub(1) % ROW_CYCLE;
        let mut rng = Rng::for_item(self.seed, self.index, cycled);
        let name = || (*rng_pick(self.seed, self.index, cycled, NAMES)).to_owned();
        let locale = self.locale;
        match self.source {
            DataSource::Invoice => vec![
                format!("INV{row:08}"),
                date_time(&mut rng),
                name(),
                (*rng.pick(CURRENCIES)).to_owned(),
                money(rng.below(500_000_000), locale),
                (*rng.pick(&["Posted", "Draft", "Canceled"])).to_owned(),
                rng.hex32(),
                (*rng.pick(NOTES)).to_owned(),
            ],
            DataSource::Account => vec![
                format!("A{row:08}"),
                name(),
                (*rng.pick(&["Active", "Draft", "Canceled"])).to_owned(),
                (*rng.pick(CURRENCIES)).to_owned(),
                match rng.chance(0.05) {
                    true => "(none)".to_owned(),
                    false => signed_money(rng.below(200_000_000), rng.chance(0.2), locale),
                },
                date_time(&mut rng),
                (*rng.pick(NOTES)).to_owned(),
                match cycled {
                    LEGACY_CODE_CONTRADICTION_ROW => format!("K-{row}"),
                    _ => (10_000 + rng.below(90_000)).to_string(),
                },
            ],
            DataSource::Payment => vec![
                format!("P-{row:08}"),
                date(&mut rng),
                name(),
                money(rng.below(90_000_000), locale),
                (*rng.pick(&["Processed", "Error", "Canceled"])).to_owned(),
                (*rng.pick(NOTES)).to_owned(),
            ],
            DataSource::InvoiceTotals => {
                let group = SUMMARY_GROUPS
                    .get((cycled as usize - 1) % SUMMARY_GROUPS.len())
                    .unwrap_or(&"USD");
                let count = 1 + rng.below(100_000);
                let sum = rng.below(90_000_000_000);
                // Summary values are rounded to 3 decimals, as Zuora rounds them.
                let average_thousandths = (sum * 10 + count / 2) / count;
                vec![
                    (*group).to_owned(),
                    thousands(count, locale),
                    money(sum, locale),
                    fixed(average_thousandths, 3, locale),
                ]
            }
        }
    }

    /// The report definition as Zuora nests it: a JSON document inside a string.
    pub fn definition(&self) -> String {
        let fields: Vec<serde_json::Value> = self
            .columns()
            .iter()
            .map(|c| serde_json::json!({ "id": c.id, "label": c.label }))
            .collect();
        let (selected, values) = match self.view_type {
            ViewType::Detail => (fields, Vec::new()),
            ViewType::Summary => (Vec::new(), fields),
        };
        serde_json::json!({
            "datasource": self.source.name(),
            "id": self.id.as_str(),
            "name": self.name,
            "dsName": self.source.name(),
            "number": self.number,
            "viewType": self.view_type.as_str(),
            "viewFields": { "rowFields": [], "colFields": [], "valFields": values, "selectedFields": selected },
            "detailFilters": [],
            "summaryFilters": [],
            "shareAsReadOnly": false
        })
        .to_string()
    }
}

/// Names are drawn from their own stream so that every source shares them per row.
fn rng_pick(
    seed: u64,
    index: u64,
    row: u64,
    items: &'static [&'static str],
) -> &'static &'static str {
    let mut rng = Rng::for_item(seed, index ^ 0xA11CE, row);
    rng.pick(items)
}

/// `Dec 7, 2013 2:18:00 PM`, as Zuora formats dates for an en-US user.
fn date_time(rng: &mut Rng) -> String {
    let month = rng.pick(MONTHS);
    let day = 1 + rng.below(28);
    let year = 2013 + rng.below(14);
    let hour = 1 + rng.below(12);
    let minute = rng.below(60);
    let second = rng.below(60);
    let half = if rng.chance(0.5) { "AM" } else { "PM" };
    format!("{month} {day}, {year} {hour}:{minute:02}:{second:02} {half}")
}

/// `Dec 7, 2013`, a date without a time.
fn date(rng: &mut Rng) -> String {
    let month = rng.pick(MONTHS);
    let day = 1 + rng.below(28);
    let year = 2013 + rng.below(14);
    format!("{month} {day}, {year}")
}

/// `1,729.76` from cents.
fn money(cents: u64, locale: NumberLocale) -> String {
    fixed(cents, 2, locale)
}

/// `units / 10^scale` with the locale's separators.
fn fixed(units: u64, scale: u32, locale: NumberLocale) -> String {
    let one = 10u64.pow(scale);
    let (_, point) = locale.separators();
    let fraction = units % one;
    let width = scale as usize;
    format!(
        "{}{point}{fraction:0width$}",
        thousands(units / one, locale)
    )
}

fn signed_money(cents: u64, negative: bool, locale: NumberLocale) -> String {
    let text = money(cents, locale);
    if negative && cents > 0 {
        format!("-{text}")
    } else {
        text
    }
}

fn thousands(value: u64, locale: NumberLocale) -> String {
    let (group, _) = locale.separators();
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(group);
        }
        out.push(digit);
    }
    out
}

/// Name of the large report, whose row count is set with [`Catalogue::set_rows`] (or the
/// binary's `--large-rows`).
pub const LARGE_REPORT_NAME: &str = "Large Export Detail";

/// The reports the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    reports: Vec<Report>,
}

impl Catalogue {
    /// The sample catalogue: Detail and Summary reports on invoices, accounts and payments,
    /// one report whose runs end `INVALID`, one whose runs end in `ERROR`, a large report of
    /// `large_rows` rows, and sixty "Customer report NNN" reports to page a search through.
    pub fn sample(seed: u64, large_rows: u64) -> Self {
        let specs: Vec<(String, &str, ViewType, DataSource, u64, RunOutcome)> = [
            (
                "Invoice Detail",
                "Every posted and draft invoice, with comments",
                ViewType::Detail,
                DataSource::Invoice,
                250,
                RunOutcome::Completes,
            ),
            (
                "Daily Invoices Detail Report",
                "Invoices created today",
                ViewType::Detail,
                DataSource::Invoice,
                40,
                RunOutcome::Completes,
            ),
            (
                "Invoice Totals by Currency",
                "Count, sum and average of invoices per currency",
                ViewType::Summary,
                DataSource::InvoiceTotals,
                7,
                RunOutcome::Completes,
            ),
            (
                "Account Overview",
                "Accounts with balances and notes",
                ViewType::Detail,
                DataSource::Account,
                120,
                RunOutcome::Completes,
            ),
            (
                "Account Balance Summary",
                "Balances per currency",
                ViewType::Summary,
                DataSource::InvoiceTotals,
                7,
                RunOutcome::Completes,
            ),
            (
                "Payments Detail",
                "Payments with their status",
                ViewType::Detail,
                DataSource::Payment,
                500,
                RunOutcome::Completes,
            ),
            (
                "Broken Definition Report",
                "A definition that no longer validates",
                ViewType::Detail,
                DataSource::Invoice,
                10,
                RunOutcome::Invalid,
            ),
            (
                "Failing Usage Report",
                "A run that fails while querying",
                ViewType::Detail,
                DataSource::Payment,
                10,
                RunOutcome::Fails,
            ),
            (
                LARGE_REPORT_NAME,
                "A large invoice export for throughput tests",
                ViewType::Detail,
                DataSource::Invoice,
                large_rows,
                RunOutcome::Completes,
            ),
        ]
        .into_iter()
        .map(|(name, description, view, source, rows, outcome)| {
            (name.to_owned(), description, view, source, rows, outcome)
        })
        .chain((1..=60).map(|n| {
            (
                format!("Customer report {n:03}"),
                "Customer accounts, one of many",
                ViewType::Detail,
                DataSource::Account,
                20,
                RunOutcome::Completes,
            )
        }))
        .collect();
        let mut ids = Rng::new(seed ^ 0xCA7A_1060);
        let reports = specs
            .into_iter()
            .enumerate()
            .map(
                |(index, (name, description, view_type, source, rows, outcome))| Report {
                    id: hex_id(&mut ids),
                    number: format!("REP{:07}", index + 1),
                    name,
                    description: description.to_owned(),
                    view_type,
                    source,
                    rows,
                    outcome,
                    locale: NumberLocale::EnUs,
                    seed,
                    index: index as u64,
                },
            )
            .collect();
        Self { reports }
    }

    /// Every report, in catalogue order.
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// The report with this id.
    pub fn by_id(&self, id: &str) -> Option<&Report> {
        self.reports.iter().find(|r| r.id.as_str() == id)
    }

    /// The report with exactly this name.
    pub fn by_name(&self, name: &str) -> Option<&Report> {
        self.reports.iter().find(|r| r.name == name)
    }

    /// Sets the row count of the named report; returns whether it exists.
    pub fn set_rows(&mut self, name: &str, rows: u64) -> bool {
        self.reports
            .iter_mut()
            .find(|r| r.name == name)
            .map(|r| r.rows = rows)
            .is_some()
    }

    /// Sets how every report writes its numbers.
    pub fn set_locale(&mut self, locale: NumberLocale) {
        for report in &mut self.reports {
            report.locale = locale;
        }
    }

    /// Sets how runs of the named report end; returns whether it exists.
    pub fn set_outcome(&mut self, name: &str, outcome: RunOutcome) -> bool {
        self.reports
            .iter_mut()
            .find(|r| r.name == name)
            .map(|r| r.outcome = outcome)
            .is_some()
    }

    /// *Search reports by name*: case-insensitive substring match of every word of three or
    /// more letters over name, data-source name and description (reference §4.7).
    pub fn search(&self, query: &str) -> Vec<&Report> {
        let words: Vec<String> = query
            .split_whitespace()
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        self.reports
            .iter()
            .filter(|r| {
                let haystack =
                    format!("{}\n{}\n{}", r.name, r.source.name(), r.description).to_lowercase();
                words.iter().all(|w| haystack.contains(w.as_str()))
            })
            .collect()
    }
}

/// A fresh 32-hex-character id, the shape of Zuora's.
#[allow(clippy::expect_used)] // 32 hex digits always satisfy ReportId's rules; not outside input.
pub(crate) fn hex_id(rng: &mut Rng) -> ReportId {
    ReportId::try_from(rng.hex32()).expect("32 hex digits are a valid id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_deterministic_and_match_their_columns() {
        let a = Catalogue::sample(7, 10);
        let b = Catalogue::sample(7, 10);
        assert_eq!(a, b);
        for report in a.reports() {
            for row in [1, 2, report.rows.max(1)] {
                assert_eq!(
                    report.row(row),
                    b.by_id(report.id.as_str()).unwrap().row(row)
                );
                assert_eq!(report.row(row).len(), report.columns().len());
            }
        }
        assert_ne!(Catalogue::sample(8, 10).reports()[0].id, a.reports()[0].id);
    }

    #[test]
    fn data_has_the_hard_characters() {
        let catalogue = Catalogue::sample(1, 10);
        let report = catalogue.by_name("Invoice Detail").unwrap();
        let all: String = (1..=report.rows).flat_map(|r| report.row(r)).collect();
        for needle in [",", "\"", "\n", "\t", "🚀", "東京"] {
            assert!(all.contains(needle), "no {needle:?} in the data");
        }
    }

    #[test]
    fn search_follows_the_reference() {
        let catalogue = Catalogue::sample(1, 10);
        assert_eq!(catalogue.search("customer report").len(), 60);
        assert_eq!(catalogue.search("INVOICE detail").len(), 3);
        assert!(catalogue.search("of to").is_empty());
        assert_eq!(thousands(1_234_567, NumberLocale::EnUs), "1,234,567");
        assert_eq!(money(172_976, NumberLocale::EnUs), "1,729.76");
        assert_eq!(money(123_456_789, NumberLocale::De), "1.234.567,89");
        assert_eq!(money(5, NumberLocale::Fr), "0,05");
        assert_eq!(fixed(1_234_567, 3, NumberLocale::Fr), "1\u{202f}234,567");
    }
}
