//! Differential test: the fast export converter against the converter it replaced (kept
//! here, character at a time, as the oracle) on random UTF-16LE text full of the characters
//! that matter (tabs, line breaks, CR, quotes, commas, non-ASCII, surrogate pairs and lone
//! surrogates), random chunking, with and without gzip. Output and errors (with their byte
//! positions) must be identical.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Write;

use proptest::prelude::*;
use zuora_core::{ExportFormat, exports::ExportDecoder, exports::ExportError};

#[derive(Debug, Clone, PartialEq, Eq)]
enum OldError {
    Gzip(String),
    Utf16(u64),
    Truncated,
}

/// The old converter, verbatim but for names (and the one fix noted in `finish`).
struct OldDecoder {
    format: ExportFormat,
    gzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
    bytes_seen: u64,
    odd_byte: Option<u8>,
    high_surrogate: Option<u16>,
    at_start: bool,
    field: String,
    fields_in_record: usize,
    in_quotes: bool,
    quote_seen: bool,
    field_started: bool,
}

impl OldDecoder {
    /// A decoder; `gzipped` when the answer said `Content-Encoding: gzip`.
    fn new(format: ExportFormat, gzipped: bool) -> Self {
        Self {
            format,
            gzip: gzipped.then(|| flate2::write::GzDecoder::new(Vec::new())),
            bytes_seen: 0,
            odd_byte: None,
            high_surrogate: None,
            at_start: true,
            field: String::new(),
            fields_in_record: 0,
            in_quotes: false,
            quote_seen: false,
            field_started: false,
        }
    }

    /// Converts one chunk, appending the output to `out`.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), OldError> {
        match self.gzip.as_mut() {
            Some(gzip) => {
                gzip.write_all(chunk)
                    .map_err(|e| OldError::Gzip(e.to_string()))?;
                let plain = std::mem::take(gzip.get_mut());
                self.text(&plain, out)?;
                // Hand the buffer back to keep its capacity.
                let mut plain = plain;
                plain.clear();
                if let Some(gzip) = self.gzip.as_mut() {
                    *gzip.get_mut() = plain;
                }
                Ok(())
            }
            None => self.text(chunk, out),
        }
    }

    /// Ends the stream: fails if it was cut short (gzip, UTF-16 or a quoted field).
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), OldError> {
        if let Some(mut gzip) = self.gzip.take() {
            gzip.try_finish()
                .map_err(|e| OldError::Gzip(e.to_string()))?;
            let plain = std::mem::take(gzip.get_mut());
            self.text(&plain, out)?;
        }
        if self.odd_byte.is_some() || self.high_surrogate.is_some() {
            return Err(OldError::Utf16(self.bytes_seen));
        }
        if self.format == ExportFormat::Raw {
            return Ok(());
        }
        // The one change: a closing quote as the last character ends the field (the old
        // converter reported it as cut short).
        if self.in_quotes && !self.quote_seen {
            return Err(OldError::Truncated);
        }
        if self.field_started || self.fields_in_record > 0 {
            self.end_record(out);
        }
        Ok(())
    }

    fn text(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), OldError> {
        if self.format == ExportFormat::Raw {
            out.extend_from_slice(bytes);
            self.bytes_seen += bytes.len() as u64;
            return Ok(());
        }
        let mut index = 0;
        if let Some(low) = self.odd_byte.take() {
            match bytes.first() {
                Some(&high) => {
                    self.unit(u16::from_le_bytes([low, high]), out)?;
                    index = 1;
                }
                None => {
                    self.odd_byte = Some(low);
                    return Ok(());
                }
            }
        }
        let pairs = bytes[index..].chunks_exact(2);
        let remainder = pairs.remainder();
        for pair in pairs {
            self.unit(u16::from_le_bytes([pair[0], pair[1]]), out)?;
        }
        self.odd_byte = remainder.first().copied();
        Ok(())
    }

    fn unit(&mut self, unit: u16, out: &mut Vec<u8>) -> Result<(), OldError> {
        self.bytes_seen += 2;
        if std::mem::take(&mut self.at_start) && unit == 0xFEFF {
            return Ok(());
        }
        let c = match (self.high_surrogate.take(), unit) {
            (None, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(unit);
                return Ok(());
            }
            (Some(high), 0xDC00..=0xDFFF) => {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                char::from_u32(code).ok_or(OldError::Utf16(self.bytes_seen))?
            }
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => {
                return Err(OldError::Utf16(self.bytes_seen));
            }
            (None, unit) => {
                char::from_u32(u32::from(unit)).ok_or(OldError::Utf16(self.bytes_seen))?
            }
        };
        self.character(c, out);
        Ok(())
    }

    /// The tab-separated reader: quoted fields may hold tabs, line breaks and doubled quotes.
    fn character(&mut self, c: char, out: &mut Vec<u8>) {
        if self.in_quotes {
            if self.quote_seen {
                self.quote_seen = false;
                if c == '"' {
                    self.field.push('"');
                    return;
                }
                self.in_quotes = false;
            } else {
                if c == '"' {
                    self.quote_seen = true;
                } else {
                    self.field.push(c);
                }
                return;
            }
        }
        match c {
            '"' if !self.field_started => {
                self.in_quotes = true;
                self.field_started = true;
            }
            '\t' => self.end_field(out),
            '\n' => self.end_record(out),
            '\r' => {}
            c => {
                self.field_started = true;
                self.field.push(c);
            }
        }
    }

    fn end_field(&mut self, out: &mut Vec<u8>) {
        let (separator, specials): (u8, &[char]) = match self.format {
            ExportFormat::Csv => (b',', &[',', '"', '\r', '\n']),
            _ => (b'\t', &['\t', '"', '\r', '\n']),
        };
        if self.fields_in_record > 0 {
            out.push(separator);
        }
        if self.field.contains(specials) {
            out.push(b'"');
            out.extend_from_slice(self.field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(self.field.as_bytes());
        }
        self.field.clear();
        self.field_started = false;
        self.fields_in_record += 1;
    }

    fn end_record(&mut self, out: &mut Vec<u8>) {
        self.end_field(out);
        out.extend_from_slice(if self.format == ExportFormat::Csv {
            b"\r\n"
        } else {
            b"\n"
        });
        self.fields_in_record = 0;
    }
}

/// Results compared: the output, or the error with its position (gzip messages differ
/// between decoders, so only the kind is compared for those).
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Output(Vec<u8>),
    Gzip,
    Utf16(u64),
    Truncated,
}

fn run_old(bytes: &[u8], format: ExportFormat, gzipped: bool, cuts: &[usize]) -> Outcome {
    let mut decoder = OldDecoder::new(format, gzipped);
    let mut out = Vec::new();
    let result = chunks(bytes, cuts)
        .try_for_each(|chunk| decoder.feed(chunk, &mut out))
        .and_then(|()| decoder.finish(&mut out));
    match result {
        Ok(()) => Outcome::Output(out),
        Err(OldError::Gzip(_)) => Outcome::Gzip,
        Err(OldError::Utf16(at)) => Outcome::Utf16(at),
        Err(OldError::Truncated) => Outcome::Truncated,
    }
}

fn run_new(bytes: &[u8], format: ExportFormat, gzipped: bool, cuts: &[usize]) -> Outcome {
    let mut decoder = ExportDecoder::new(format, gzipped);
    let mut out = Vec::new();
    let result = chunks(bytes, cuts)
        .try_for_each(|chunk| decoder.feed(chunk, &mut out))
        .and_then(|()| decoder.finish(&mut out));
    match result {
        Ok(()) => Outcome::Output(out),
        Err(ExportError::Gzip(_)) => Outcome::Gzip,
        Err(ExportError::Utf16(at)) => Outcome::Utf16(at),
        Err(ExportError::Truncated) => Outcome::Truncated,
        Err(other) => panic!("an error the old converter could not give: {other}"),
    }
}

fn chunks<'a>(bytes: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    cuts.sort_unstable();
    cuts.push(bytes.len());
    let mut start = 0;
    cuts.into_iter().map(move |cut| {
        let chunk = &bytes[start..cut];
        start = cut;
        chunk
    })
}

/// A UTF-16 unit from an alphabet weighted towards what the converter treats specially.
fn unit() -> impl Strategy<Value = Vec<u16>> {
    prop_oneof![
        6 => "[a-z0-9 .]{1,6}".prop_map(|s| s.encode_utf16().collect()),
        2 => Just(vec![u16::from(b'\t')]),
        2 => Just(vec![u16::from(b'\n')]),
        1 => Just(vec![u16::from(b'\r')]),
        2 => Just(vec![u16::from(b'"')]),
        1 => Just(vec![u16::from(b',')]),
        1 => Just("é東".encode_utf16().collect()),
        1 => Just("😀".encode_utf16().collect()),
        1 => Just(vec![0xFEFF]),
        1 => prop_oneof![Just(vec![0xD83D_u16]), Just(vec![0xDE00_u16])],
    ]
}

/// Pieces that sit on the edges of the converter's 16-unit blocks: runs long enough to cross
/// blocks, the units where packing to bytes saturates (DEL, 0x80, 0x7FFF, 0x8000, 0xFFFF),
/// and the field shapes the fast paths write whole (a comma field, a quoted field).
fn edge_piece() -> impl Strategy<Value = Vec<u16>> {
    prop_oneof![
        4 => "[a-z0-9 .]{10,40}".prop_map(|s| s.encode_utf16().collect()),
        2 => "[0-9]{1,3},[0-9]{3}\\.[0-9]{2}".prop_map(|s| s.encode_utf16().collect()),
        2 => "\"[a-z\t\n,]{0,30}\"".prop_map(|s| s.encode_utf16().collect()),
        2 => Just(vec![u16::from(b'\t')]),
        2 => Just(vec![u16::from(b'\n')]),
        1 => Just(vec![u16::from(b'\r')]),
        1 => Just(vec![u16::from(b'"')]),
        1 => Just(vec![u16::from(b',')]),
        1 => prop_oneof![
            Just(vec![0x7F_u16]),
            Just(vec![0x80]),
            Just(vec![0x7FF]),
            Just(vec![0x800]),
            Just(vec![0x7FFF]),
            Just(vec![0x8000]),
            Just(vec![0xFFFF]),
        ],
        1 => Just("😀".encode_utf16().collect()),
        1 => prop_oneof![Just(vec![0xD83D_u16]), Just(vec![0xDE00_u16])],
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_fast_converter_matches_the_old_one(
        pieces in proptest::collection::vec(unit(), 1..80),
        odd_tail in any::<bool>(),
        gzipped in any::<bool>(),
        tsv in any::<bool>(),
        cuts in proptest::collection::vec(0usize..600, 0..10),
    ) {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(pieces.iter().flatten().flat_map(|u| u.to_le_bytes()));
        if odd_tail {
            bytes.push(0x41);
        }
        let bytes = if gzipped { gzip(&bytes) } else { bytes };
        let format = if tsv { ExportFormat::Tsv } else { ExportFormat::Csv };
        prop_assert_eq!(
            run_new(&bytes, format, gzipped, &cuts),
            run_old(&bytes, format, gzipped, &cuts)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn block_edges_convert_as_the_old_converter_does(
        pieces in proptest::collection::vec(edge_piece(), 1..60),
        tsv in any::<bool>(),
        cuts in proptest::collection::vec(0usize..2000, 0..8),
    ) {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(pieces.iter().flatten().flat_map(|u| u.to_le_bytes()));
        let format = if tsv { ExportFormat::Tsv } else { ExportFormat::Csv };
        prop_assert_eq!(
            run_new(&bytes, format, false, &cuts),
            run_old(&bytes, format, false, &cuts)
        );
    }
}
