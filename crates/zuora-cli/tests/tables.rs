//! `--format parquet|arrow|jsonl`: typed tables from the simulator's exports, read back with
//! the parquet crate and checked against the CSV of the same report, parsed independently.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use zuora_tests::parse_csv;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zuora-tables-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `zuora-report --simulate run "Invoice Detail" --wait` with `args`, in `dir`.
fn trip(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .current_dir(dir)
        .env_clear()
        .args(["--simulate", "run", "Invoice Detail", "--wait"])
        .args(args)
        .output()
        .unwrap()
}

/// `3,980,735.56` in cents, by hand.
fn cents(amount: &str) -> i128 {
    let digits: String = amount.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, "00"));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let whole: i128 = whole.trim_start_matches('-').parse().unwrap();
    let fraction: i128 = format!("{fraction:0<2}").parse().unwrap();
    sign * (whole * 100 + fraction)
}

#[test]
fn parquet_has_typed_columns_and_the_csv_rows_and_amounts() {
    let dir = folder("parquet");
    let csv = trip(&dir, &["--out", "x.csv"]);
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let parquet = trip(
        &dir,
        &[
            "--format",
            "parquet",
            "--out",
            "x.parquet",
            "--explain-types",
        ],
    );
    let stderr = String::from_utf8_lossy(&parquet.stderr);
    assert!(parquet.status.success(), "{stderr}");
    assert!(stderr.contains("Invoice: Amount: decimal("), "{stderr}");

    let records = parse_csv(&std::fs::read_to_string(dir.join("x.csv")).unwrap());
    let header = &records[0];
    let amount = header.iter().position(|h| h == "Invoice: Amount").unwrap();
    let csv_sum: i128 = records[1..].iter().map(|r| cents(&r[amount])).sum();

    let file = std::fs::File::open(dir.join("x.parquet")).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let (mut rows, mut sum) = (0usize, 0i128);
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        let kind = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
        assert!(matches!(
            kind("Invoice: Amount"),
            DataType::Decimal128(_, 2)
        ));
        assert!(matches!(
            kind("Invoice: Created Date"),
            DataType::Timestamp(_, None)
        ));
        assert_eq!(kind("Account: Name"), DataType::Utf8);
        let column = batch.column(schema.index_of("Invoice: Amount").unwrap());
        sum += column
            .as_primitive::<Decimal128Type>()
            .iter()
            .flatten()
            .sum::<i128>();
        rows += batch.num_rows();
    }
    assert_eq!(rows, records.len() - 1);
    assert_eq!(sum, csv_sum);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "no spool or temporary file left: {left:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn json_lines_are_one_typed_object_a_row_and_the_extension_picks_the_format() {
    let dir = folder("jsonl");
    let output = trip(&dir, &["--out", "x.jsonl"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(dir.join("x.jsonl")).unwrap();
    let objects: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(objects.len(), 250);
    let first = &objects[0];
    let amount = first["Invoice: Amount"].as_str().unwrap();
    assert!(!amount.contains(','), "a plain exact decimal: {amount}");
    let created = first["Invoice: Created Date"].as_str().unwrap();
    assert_eq!(created.as_bytes()[10], b'T', "ISO: {created}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_type_that_does_not_fit_or_names_no_column_fails_and_leaves_no_file() {
    let dir = folder("bad");
    let output = trip(
        &dir,
        &["--out", "x.parquet", "--column", "Account: Name=integer"],
    );
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("row 1, column \"Account: Name\""),
        "{stderr}"
    );
    let output = trip(&dir, &["--out", "x.parquet", "--column", "Nope=text"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no column is named \"Nope\""));
    let output = trip(
        &dir,
        &["--out", "x.parquet", "--column", "Amount=decimal(99,2)"],
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "refused before anything is sent"
    );
    let output = trip(&dir, &["--format", "parquet"]);
    assert_eq!(output.status.code(), Some(2), "parquet to stdout");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no file left");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn normalized_csv_has_plain_numbers_and_iso_dates_row_for_row() {
    let dir = folder("normalized");
    let plain = trip(&dir, &["--out", "zuora.csv"]);
    assert!(plain.status.success());
    let normalized = trip(&dir, &["--out", "plain.csv", "--normalize"]);
    assert!(
        normalized.status.success(),
        "{}",
        String::from_utf8_lossy(&normalized.stderr)
    );
    let zuora = parse_csv(&std::fs::read_to_string(dir.join("zuora.csv")).unwrap());
    let plain = parse_csv(&std::fs::read_to_string(dir.join("plain.csv")).unwrap());
    assert_eq!(plain.len(), zuora.len());
    assert_eq!(plain[0], zuora[0], "the same header");
    let column = |name: &str| zuora[0].iter().position(|c| c == name).unwrap();
    let (amount, created, name) = (
        column("Invoice: Amount"),
        column("Invoice: Created Date"),
        column("Account: Name"),
    );
    for (row, (theirs, ours)) in zuora[1..].iter().zip(&plain[1..]).enumerate() {
        let number = &ours[amount];
        assert!(!number.contains(','), "row {row}: {number}");
        assert_eq!(cents(number), cents(&theirs[amount]), "row {row}");
        let date = &ours[created];
        assert!(
            date.len() >= 19 && date.as_bytes()[4] == b'-' && date.as_bytes()[10] == b'T',
            "row {row}: {date}"
        );
        if theirs[name] != "(blank)" && theirs[name] != "(none)" {
            assert_eq!(ours[name], theirs[name], "row {row}: text as it was");
        }
    }
    let output = trip(&dir, &["--out", "x.parquet", "--normalize"]);
    assert_eq!(output.status.code(), Some(2), "--normalize is for CSV");
    std::fs::remove_dir_all(&dir).ok();
}
