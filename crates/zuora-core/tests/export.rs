//! The export decoder: any chunking, with or without gzip, yields the records that were
//! encoded; a cut-off stream is an error, never a short success.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Write;
use zuora_tests::parse_csv;

use proptest::prelude::*;
use zuora_core::{ExportFormat, exports::ExportDecoder, exports::ExportError};

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

fn csv_of(bytes: &[u8], gzipped: bool) -> Result<String, ExportError> {
    decode(bytes, ExportFormat::Csv, gzipped, &[1, 7, 64])
        .map(|csv| String::from_utf8(csv).unwrap())
}

#[test]
fn multi_member_gzip_is_read_whole() {
    let records = vec![
        vec!["a".to_owned(), "b".to_owned()],
        vec!["1".to_owned(), "2".to_owned()],
    ];
    let plain = encode(&records);
    let (first, second) = plain.split_at(9);
    let mut members = gzip(first);
    members.extend(gzip(second));
    assert_eq!(csv_of(&members, true).unwrap(), "a,b\r\n1,2\r\n");
}

#[test]
fn a_byte_order_mark_is_obeyed_and_without_one_the_text_is_utf16le() {
    let text = "Name\tCity\nMüller\t東京 😀\n";
    let expected = "Name,City\r\nMüller,東京 😀\r\n";
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    assert_eq!(csv_of(&be, false).unwrap(), expected);
    let utf8_bom: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(text.bytes()).collect();
    assert_eq!(csv_of(&utf8_bom, false).unwrap(), expected);
    assert!(matches!(
        csv_of(b"\xEF\xBB\xBFNa\xFF\xFEme\n", false),
        Err(ExportError::Utf8(_))
    ));
    // No mark: the documented UTF-16LE, never a guess. Text whose first character's bytes
    // look like big-endian UTF-16 (U+0100: 00 01) or like ASCII (U+4E2D: 2D 4E) is read
    // right, not written as garbage or refused.
    for text in ["Āb\tc\n", "中文\tx\n"] {
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(
            csv_of(&le, false).unwrap(),
            text.replace('\t', ",").replace('\n', "\r\n")
        );
    }
}

#[test]
fn an_empty_export_is_an_error() {
    for format in [ExportFormat::Csv, ExportFormat::Tsv, ExportFormat::Raw] {
        assert_eq!(
            decode(&[], format, false, &[]),
            Err(ExportError::Empty),
            "{format:?}"
        );
        assert_eq!(
            decode(&gzip(&[]), format, true, &[]),
            Err(ExportError::Empty),
            "{format:?}"
        );
    }
    assert_eq!(
        decode(&[0xFF, 0xFE], ExportFormat::Csv, false, &[]),
        Err(ExportError::Empty)
    );
}

#[test]
fn a_field_longer_than_the_cap_is_a_typed_error_and_memory_stays_bounded() {
    // One field that never ends, fed 64 KiB at a time: the output buffer never holds more
    // than the cap plus a chunk, and the error names the record.
    let mut decoder = ExportDecoder::new(ExportFormat::Csv, false).max_field_bytes(1 << 20);
    let mut out = Vec::new();
    decoder.feed(&[0xFF, 0xFE], &mut out).unwrap();
    decoder
        .feed(
            &"h\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
            &mut out,
        )
        .unwrap();
    let chunk: Vec<u8> = "x"
        .repeat(32 * 1024)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let mut result = Ok(());
    for _ in 0..1000 {
        result = decoder.feed(&chunk, &mut out);
        assert!(
            out.capacity() < 4 << 20,
            "output buffer grew to {}",
            out.capacity()
        );
        if result.is_err() {
            break;
        }
    }
    assert_eq!(
        result,
        Err(ExportError::FieldTooLong {
            limit: 1 << 20,
            record: 2
        })
    );
    // The same inside quotes, and through gzip.
    let mut text = String::from("a\t\"");
    text.push_str(&"y".repeat(3000));
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let mut decoder = ExportDecoder::new(ExportFormat::Tsv, true).max_field_bytes(1000);
    let mut out = Vec::new();
    let result = decoder
        .feed(&gzip(&bytes), &mut out)
        .and_then(|()| decoder.finish(&mut out));
    assert_eq!(
        result,
        Err(ExportError::FieldTooLong {
            limit: 1000,
            record: 1
        })
    );
}

#[test]
fn a_closing_quote_at_the_very_end_ends_the_field() {
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("a\t\"b\tc\"".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(csv_of(&bytes, false).unwrap(), "a,b\tc\r\n");
}
