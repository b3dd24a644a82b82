//! Typed tables through both transports against zuora-sim: the export downloaded straight
//! into pass 1 (`tables::Spooling`, a `Write` for zuora-blocking and an `AsyncWrite` for
//! zuora-async), then read back as record batches (an iterator, a `Stream`) and as
//! Parquet, and checked value by value against the simulator's own rows parsed here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use futures_util::StreamExt;
use zuora_core::config::BuildClient;
use zuora_core::{ExportFormat, ReportRunId, RunReportOptions};
use zuora_sim::{LARGE_REPORT_NAME, SimConfig, Simulator};
use zuora_tests::builder_for;

/// Rows: more than one batch, so batches are cut and joined again.
const ROWS: u64 = 70_000;

fn sim() -> Simulator {
    let mut config = SimConfig::new(11);
    config.catalogue.set_rows(LARGE_REPORT_NAME, ROWS);
    Simulator::start(config).unwrap()
}

/// `3,980,735.56` as cents, written here on purpose without the library's parser.
fn cents(text: &str) -> i128 {
    let plain: String = text.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, "00"));
    let negative = whole.starts_with('-');
    let whole: i128 = whole.trim_start_matches('-').parse().unwrap();
    let fraction: i128 = format!("{fraction:0<2}").parse().unwrap();
    let value = whole * 100 + fraction;
    if negative { -value } else { value }
}

/// What the batches must hold, against the simulator's own rows.
fn check(sim: &Simulator, batches: &[RecordBatch]) {
    let report = sim.report_by_name(LARGE_REPORT_NAME).unwrap();
    let labels: Vec<&str> = report.columns().iter().map(|c| c.label).collect();
    let amount = labels.iter().position(|l| *l == "Invoice: Amount").unwrap();
    let created = labels
        .iter()
        .position(|l| *l == "Invoice: Created Date")
        .unwrap();
    let name = labels.iter().position(|l| *l == "Account: Name").unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names, labels,
        "the schema carries the export's labels exactly"
    );
    assert!(matches!(
        schema.field(amount).data_type(),
        DataType::Decimal128(_, 2)
    ));
    assert!(matches!(
        schema.field(created).data_type(),
        DataType::Timestamp(_, None)
    ));
    assert_eq!(schema.field(name).data_type(), &DataType::Utf8);
    assert!(batches.len() > 1, "{} rows in one batch", ROWS);
    let mut row = 0u64;
    for batch in batches {
        let amounts = batch.column(amount).as_primitive::<Decimal128Type>();
        let times = batch
            .column(created)
            .as_primitive::<TimestampMillisecondType>();
        let names = batch.column(name).as_string::<i32>();
        for index in 0..batch.num_rows() {
            row += 1;
            let expected = report.row(row);
            assert_eq!(amounts.value(index), cents(&expected[amount]), "row {row}");
            assert!(!times.is_null(index), "row {row}: a date-time");
            assert_eq!(names.value(index), expected[name], "row {row}");
        }
    }
    assert_eq!(row, ROWS);
}

fn completed_run(sim: &Simulator, client: &zuora_blocking::Client) -> ReportRunId {
    let report = sim.report_by_name(LARGE_REPORT_NAME).unwrap();
    client
        .run_report(&report.id, report.view_type, RunReportOptions::default())
        .unwrap()
        .report_run_id
}

#[test]
fn blocking_downloads_into_a_typed_table() {
    use zuora_blocking::tables::{Locale, Spooling, TableFormat};
    let sim = sim();
    let client = zuora_blocking::Client::from_config(builder_for(&sim).build().unwrap()).unwrap();
    let run = completed_run(&sim, &client);

    let mut spooling = Spooling::temporary(Locale::EnUs).unwrap();
    client
        .download_export(&run, ExportFormat::Tsv, &mut spooling)
        .unwrap();
    let table = spooling.finish(&[]).unwrap().shared();
    assert_eq!(table.rows(), ROWS);
    let batches: Vec<RecordBatch> = table
        .clone()
        .batches()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    check(&sim, &batches);

    // The same table as a Parquet file, read back by the parquet crate's own reader.
    let parquet = table.write(TableFormat::Parquet, Vec::new()).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        bytes::Bytes::from(parquet),
        8192,
    )
    .unwrap();
    let from_parquet: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    check(&sim, &from_parquet);
}

#[test]
fn async_downloads_into_a_typed_table_and_streams_its_batches() {
    use zuora_async::tables::{Locale, Spooling};
    let sim = sim();
    let blocking = zuora_blocking::Client::from_config(builder_for(&sim).build().unwrap()).unwrap();
    let run = completed_run(&sim, &blocking);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let batches = runtime.block_on(async {
        let client = zuora_async::Client::from_config(builder_for(&sim).build().unwrap()).unwrap();
        let mut spooling = Spooling::temporary(Locale::EnUs).unwrap();
        client
            .download_export(&run, ExportFormat::Tsv, &mut spooling)
            .await
            .unwrap();
        let table = spooling.finish(&[]).unwrap();
        let stream = table.rewound().unwrap().batch_stream().unwrap();
        let schema = stream.schema();
        let batches: Vec<RecordBatch> = stream.map(Result::unwrap).collect().await;
        assert_eq!(batches[0].schema(), schema);
        batches
    });
    check(&sim, &batches);
}
