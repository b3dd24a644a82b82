//! The export decoder: any chunking, with or without gzip, yields the records that were
//! encoded; a cut-off stream is an error, never a short success.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Write;

use proptest::prelude::*;
use zuora_core::{ExportDecoder, ExportError, ExportFormat};

/// Encodes records the way the simulator documents Zuora's export: UTF-16LE with a BOM,
/// tabs between fields, `\n` after each record, quoting for tab/CR/LF/quote.
fn encode(records: &[Vec<String>]) -> Vec<u8> {
    let mut text = String::new();
    for record in records {
        let fields: Vec<String> = record
            .iter()
            .map(|f| {
                if f.contains(['\t', '\n', '\r', '"']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect();
        text.push_str(&fields.join("\t"));
        text.push('\n');
    }
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An independent RFC 4180 reader for the CSV the decoder writes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

fn decode(
    bytes: &[u8],
    format: ExportFormat,
    gzipped: bool,
    cuts: &[usize],
) -> Result<Vec<u8>, ExportError> {
    let mut decoder = ExportDecoder::new(format, gzipped);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain([bytes.len()].iter()) {
        let cut = cut.clamp(start, bytes.len());
        decoder.feed(&bytes[start..cut], &mut out)?;
        start = cut;
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,:;-]{0,12}",
        "[ -~\t\n\r\"éü東京😀🚀👩‍🔬]{0,12}",
        Just("1,729.76".to_owned()),
        Just("He said \"ASAP\"".to_owned()),
    ]
}

proptest! {
    #[test]
    fn any_chunking_gives_the_encoded_records(
        records in proptest::collection::vec(proptest::collection::vec(field(), 1..6), 1..20),
        gzipped in any::<bool>(),
        mut cuts in proptest::collection::vec(0usize..4000, 0..12),
    ) {
        // A record of one empty field is an empty line, which readers skip: keep it out.
        let records: Vec<Vec<String>> = records.into_iter().filter(|r| !(r.len() == 1 && r[0].is_empty())).collect();
        prop_assume!(!records.is_empty());
        let plain = encode(&records);
        let bytes = if gzipped { gzip(&plain) } else { plain.clone() };
        cuts.sort_unstable();
        let csv = decode(&bytes, ExportFormat::Csv, gzipped, &cuts).unwrap();
        let normalised: Vec<Vec<String>> = records
            .iter()
            .map(|r| r.iter().map(|f| f.replace("\r\n", "\n").replace('\r', "")).collect())
            .collect();
        let parsed: Vec<Vec<String>> = parse_csv(&String::from_utf8(csv).unwrap())
            .into_iter()
            .map(|r| r.into_iter().map(|f| f.replace("\r\n", "\n").replace('\r', "")).collect())
            .collect();
        prop_assert_eq!(parsed, normalised);
        prop_assert_eq!(decode(&bytes, ExportFormat::Raw, gzipped, &cuts).unwrap(), plain);
    }
}

#[test]
fn tsv_output_keeps_tabs_quoted() {
    let records = vec![
        vec!["a".to_owned(), "b\tc".to_owned()],
        vec!["x".to_owned(), "\"y\"".to_owned()],
    ];
    let tsv = decode(&encode(&records), ExportFormat::Tsv, false, &[5]).unwrap();
    assert_eq!(
        String::from_utf8(tsv).unwrap(),
        "a\t\"b\tc\"\nx\t\"\"\"y\"\"\"\n"
    );
}

#[test]
fn a_cut_off_export_is_an_error() {
    let records = vec![
        vec!["name".to_owned(), "notes".to_owned()],
        vec!["Acme".to_owned(), "line one\nline two".to_owned()],
    ];
    let plain = encode(&records);
    let inside_quotes = plain.len() - 10;
    assert_eq!(
        decode(&plain[..inside_quotes], ExportFormat::Csv, false, &[]),
        Err(ExportError::Truncated)
    );
    assert!(matches!(
        decode(&plain[..plain.len() - 1], ExportFormat::Csv, false, &[]),
        Err(ExportError::Utf16(_))
    ));
    let zipped = gzip(&plain);
    for format in [ExportFormat::Csv, ExportFormat::Raw] {
        assert!(
            matches!(
                decode(&zipped[..zipped.len() - 6], format, true, &[]),
                Err(ExportError::Gzip(_))
            ),
            "{format:?}"
        );
    }
    let lone_surrogate = [0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00];
    assert!(matches!(
        decode(&lone_surrogate, ExportFormat::Csv, false, &[]),
        Err(ExportError::Utf16(_))
    ));
}
