//! The export decoder: never panics, stays within its field cap, and gives the same output
//! (or the same error) however the bytes are chunked, and however small the output batches
//! `feed_some` is held to.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zuora_core::{exports::ExportDecoder, exports::ExportError, ExportFormat};

fn decode(
    bytes: &[u8],
    format: ExportFormat,
    gzipped: bool,
    cuts: &[usize],
) -> Result<Vec<u8>, ExportError> {
    let mut decoder = ExportDecoder::new(format, gzipped).max_field_bytes(4096);
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

/// As a driver drains: each batch at most `batch` more bytes (plus one inflated buffer).
fn decode_in_batches(
    bytes: &[u8],
    format: ExportFormat,
    gzipped: bool,
    batch: usize,
) -> Result<Vec<u8>, ExportError> {
    let mut decoder = ExportDecoder::new(format, gzipped).max_field_bytes(4096);
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let before = out.len();
        let taken = decoder.feed_some(rest, &mut out, before + batch)?;
        assert!(
            gzipped || taken == rest.len(),
            "plain input is always taken whole"
        );
        assert!(
            !gzipped || out.len() - before <= batch + (96 << 10),
            "a batch overran: {} bytes",
            out.len() - before
        );
        rest = &rest[taken..];
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else {
        return;
    };
    let format = match control % 3 {
        0 => ExportFormat::Csv,
        1 => ExportFormat::Tsv,
        _ => ExportFormat::Raw,
    };
    let gzipped = control & 4 != 0;
    let bytes = if gzipped {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = encoder.write_all(body);
        encoder.finish().unwrap_or_default()
    } else {
        body.to_vec()
    };
    let step = usize::from(control >> 3) + 1;
    let cuts: Vec<usize> = (0..bytes.len()).step_by(step).collect();
    let whole = decode(&bytes, format, gzipped, &[]);
    let chunked = decode(&bytes, format, gzipped, &cuts);
    let batched = decode_in_batches(&bytes, format, gzipped, step);
    for other in [&chunked, &batched] {
        match (&whole, other) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "chunking changed the output"),
            (Err(ExportError::Gzip(_)), Err(ExportError::Gzip(_))) => {}
            (a, b) => assert_eq!(a, b, "chunking changed the outcome"),
        }
    }
});
