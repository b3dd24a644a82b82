//! The export decoder: never panics, stays within its field cap, and gives the same output
//! (or the same error) however the bytes are chunked, and however small the output batches
//! `feed_some` is held to; and a driver's loop over `Download` (`next`, `on_arrived`), with
//! the body inflated in line or by an `Inflater` elsewhere, gives that same output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::Instant;

use zuora_core::machines::{Arrived, Download, DownloadNext};
use zuora_core::{exports::ExportDecoder, exports::ExportError, ClientConfig, ExportFormat};

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

/// As the drivers convert: the body read `step` bytes at a time, every event through
/// `Download::on_arrived`, inflated by an `Inflater` when `elsewhere` (as on a receiving
/// thread).
fn download(
    bytes: &[u8],
    format: ExportFormat,
    gzipped: bool,
    step: usize,
    elsewhere: bool,
) -> Option<Vec<u8>> {
    let config = ClientConfig::builder()
        .base_url("http://127.0.0.1:1")
        .credentials("id", "secret")
        .into_config()
        .ok()?;
    let mut head = http::Response::new(());
    if gzipped {
        head.headers_mut().insert(
            http::header::CONTENT_ENCODING,
            http::HeaderValue::from_static("gzip"),
        );
    }
    let mut download = Download::start(&head, format, &config);
    let mut inflater = if elsewhere {
        download.inflate_elsewhere()
    } else {
        None
    };
    // Every event the body gives, in order, as the receiving side hands them over.
    let mut events: Vec<Arrived<&[u8], std::io::Error>> = Vec::new();
    let at = Instant::now();
    for chunk in bytes.chunks(step) {
        match &mut inflater {
            None => events.push(Arrived::Chunk(chunk, at)),
            Some(inflater) => {
                let mut taken = 0;
                while taken < chunk.len() {
                    let (took, next) = inflater.next_piece(&chunk[taken..], Vec::new(), at);
                    taken += took;
                    let last = next.is_last();
                    events.push(next);
                    if last {
                        break;
                    }
                }
            }
        }
        if events.last().is_some_and(Arrived::is_last) {
            break;
        }
    }
    if !events.last().is_some_and(Arrived::is_last) {
        events.push(match &inflater {
            None => Arrived::End,
            Some(inflater) => inflater.end(),
        });
    }
    let mut events = events.into_iter();
    let mut out = Vec::new();
    loop {
        match download.next(&mut out, at).ok()? {
            DownloadNext::Ended => return Some(out),
            DownloadNext::Converted => {}
            DownloadNext::Read => {
                download.on_arrived(events.next()?, &mut out).ok()?;
            }
        }
    }
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
    for elsewhere in [false, true] {
        let downloaded = download(&bytes, format, gzipped, step, elsewhere);
        if let Ok(whole) = &whole {
            // The configuration's field cap is larger than the decoder's here, so what the
            // decoder takes, the download takes too.
            assert_eq!(downloaded.as_ref(), Some(whole), "the driver loop changed the output");
        }
    }
    for other in [&chunked, &batched] {
        match (&whole, other) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "chunking changed the output"),
            (Err(ExportError::Gzip(_)), Err(ExportError::Gzip(_))) => {}
            (a, b) => assert_eq!(a, b, "chunking changed the outcome"),
        }
    }
});
