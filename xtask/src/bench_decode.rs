//! `cargo xtask bench decode`: the export converter alone, on the simulator's large export
//! (UTF-16LE, tab-separated, invoice-like rows with non-ASCII text, quoted fields, commas and
//! surrogate pairs), to CSV, TSV and raw, from plain and gzip input; beside `iconv` (transcoding only,
//! when installed), a plain UTF-16 → UTF-8 transcoding and gunzip alone. One thread; each
//! figure is the best of a few passes, in MB/s of UTF-16 input (10^6 bytes per second).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zuora_core::machines::{Arrived, Handover, Spare};
use zuora_core::{ExportFormat, exports::ExportDecoder};

use zuora_sim::{Catalogue, ExportStream, LARGE_REPORT_NAME};

use crate::bench_sim::{SEED, rows_for_export_bytes};

/// The chunk size a transport hands the converter.
const CHUNK: usize = 64 * 1024;
/// Passes per line: five, because this machine kind swings a single pass by 10-15%.
const PASSES: usize = 5;

/// The simulator's large report, sized to `size` bytes: the same rows (invoice-like, with
/// non-ASCII names, quoted fields, line breaks and CRLF inside quotes, surrogate pairs) that
/// `bench export` downloads, encoded exactly as the simulator serves them.
pub(crate) fn generate(size: u64) -> Result<Vec<u8>, String> {
    let catalogue = Catalogue::sample(SEED, rows_for_export_bytes(size));
    let report = catalogue
        .by_name(LARGE_REPORT_NAME)
        .ok_or("the simulator's catalogue has no large report")?
        .clone();
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + (1 << 20));
    for chunk in ExportStream::new(report) {
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

pub(crate) fn best_of(mut pass: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    let mut best = Duration::MAX;
    for _ in 0..PASSES {
        let start = Instant::now();
        pass()?;
        best = best.min(start.elapsed());
    }
    Ok(best)
}

pub(crate) fn convert(input: &[u8], format: ExportFormat, gzipped: bool) -> Result<u64, String> {
    let mut decoder = ExportDecoder::new(format, gzipped);
    let mut out = Vec::with_capacity(4 * CHUNK);
    let mut written = 0u64;
    for chunk in input.chunks(CHUNK) {
        decoder.feed(chunk, &mut out).map_err(|e| e.to_string())?;
        written += out.len() as u64;
        out.clear();
    }
    decoder.finish(&mut out).map_err(|e| e.to_string())?;
    Ok(written + out.len() as u64)
}

/// CSV from gzip input as the clients do it when they receive on a thread of their own:
/// that thread inflates (`Download::inflate_elsewhere`), this one converts, with the same
/// bounded hand-over (`Handover::INFLATED`).
fn convert_gzip_on_two_threads(gzipped: &[u8]) -> Result<u64, String> {
    let config = zuora_core::ClientConfig::builder()
        .base_url("http://127.0.0.1:1")
        .credentials("bench", "bench")
        .into_config()
        .map_err(|e| e.to_string())?;
    let head = http::Response::builder()
        .status(200)
        .header("content-encoding", "gzip")
        .body(())
        .map_err(|e| e.to_string())?;
    let mut download = zuora_core::machines::Download::start(&head, ExportFormat::Csv, &config);
    let mut inflater = download
        .inflate_elsewhere()
        .ok_or("a gzip download does not split")?;
    let handover = Handover::INFLATED;
    let (hand, pieces) =
        std::sync::mpsc::sync_channel::<Arrived<Vec<u8>, std::io::Error>>(handover.capacity);
    // Emptied pieces go back to the inflating thread, as the clients' receive loops do, so
    // a piece's buffer is grown once rather than allocated (and page-faulted) per piece.
    let (spare, spares) = std::sync::mpsc::sync_channel::<Vec<u8>>(handover.spares());
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let at = Instant::now();
            for chunk in gzipped.chunks(CHUNK) {
                let mut taken = 0;
                while taken < chunk.len() {
                    let piece = spares
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                    let (took, next) = inflater.next_piece(&chunk[taken..], piece, at);
                    taken += took;
                    let last = next.is_last();
                    if hand.send(next).is_err() || last {
                        return;
                    }
                }
            }
            let _ = hand.send(inflater.end());
        });
        let (mut out, mut written) = (Vec::with_capacity(4 * CHUNK), 0u64);
        for arrived in pieces {
            let emptied = download
                .on_arrived(arrived, &mut out)
                .map_err(|e| e.to_string())?;
            written += out.len() as u64;
            out.clear();
            if let Some(Spare::Inflated(piece)) = emptied {
                let _ = spare.try_send(piece);
            }
        }
        let summary = download.ended().map_err(|e| e.to_string())?;
        (summary.bytes_received == gzipped.len() as u64)
            .then_some(written)
            .ok_or_else(|| "the inflating thread stopped early".to_owned())
    })
}

fn transcode_only(input: &[u8]) -> u64 {
    let mut units = Vec::with_capacity(CHUNK / 2);
    let mut utf8 = vec![0u8; CHUNK / 2 * 3 + 1];
    let mut written = 0u64;
    for chunk in input.chunks(CHUNK) {
        units.clear();
        units.extend(
            chunk
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]])),
        );
        written += encoding_rs::mem::convert_utf16_to_utf8(&units, &mut utf8) as u64;
    }
    written
}

fn gunzip_only(gzipped: &[u8]) -> Result<u64, String> {
    let mut reader = flate2::read::MultiGzDecoder::new(gzipped);
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// `iconv -f UTF-16 -t UTF-8 FILE > /dev/null`, timed from outside; `None` when not installed.
fn iconv(path: &std::path::Path) -> Result<Option<Duration>, String> {
    if Command::new("iconv").arg("--version").output().is_err() {
        return Ok(None);
    }
    let duration = best_of(|| {
        let status = Command::new("iconv")
            .args(["-f", "UTF-16", "-t", "UTF-8"])
            .arg(path)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("iconv failed: {status}"))
    })?;
    Ok(Some(duration))
}

fn mb_per_s(bytes: usize, duration: Duration) -> f64 {
    bytes as f64 / duration.as_secs_f64() / 1e6
}

pub fn run(args: &[&str]) -> Result<(), String> {
    let Some(size) = crate::bench_sim::release_bench_size("decode", args)? else {
        return Ok(());
    };
    eprintln!("generating {} MiB of UTF-16LE export...", size >> 20);
    let plain = generate(size)?;
    let gzipped = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&plain).map_err(|e| e.to_string())?;
        encoder.finish().map_err(|e| e.to_string())?
    };
    let dir = std::path::Path::new("target/bench-decode");
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let file = dir.join("export.utf16");
    std::fs::write(&file, &plain).map_err(|e| e.to_string())?;

    println!(
        "input: {:.1} MB UTF-16LE ({:.1} MB gzipped), {CHUNK} B chunks, one thread (but the line that says beside), best of {PASSES}",
        plain.len() as f64 / 1e6,
        gzipped.len() as f64 / 1e6
    );
    println!("{:<40} {:>10}", "what", "MB/s");
    let mut csv_plain = 0.0;
    for (label, format) in [
        ("csv", ExportFormat::Csv),
        ("tsv", ExportFormat::Tsv),
        ("raw", ExportFormat::Raw),
    ] {
        for (source, input, gz) in [("plain", &plain, false), ("gzip", &gzipped, true)] {
            let duration = best_of(|| convert(input, format, gz).map(drop))?;
            let speed = mb_per_s(plain.len(), duration);
            if label == "csv" && !gz {
                csv_plain = speed;
            }
            println!(
                "{:<40} {speed:>10.0}",
                format!("converter to {label}, {source} input")
            );
        }
    }
    let duration = best_of(|| {
        transcode_only(&plain);
        Ok(())
    })?;
    println!(
        "{:<40} {:>10.0}",
        "UTF-16 -> UTF-8 transcoding alone",
        mb_per_s(plain.len(), duration)
    );
    let duration = best_of(|| convert_gzip_on_two_threads(&gzipped).map(drop))?;
    let csv_gzip_two = mb_per_s(plain.len(), duration);
    println!(
        "{:<40} {csv_gzip_two:>10.0}",
        "converter to csv, gzip, inflate beside"
    );
    let duration = best_of(|| gunzip_only(&gzipped).map(drop))?;
    let gunzip = mb_per_s(plain.len(), duration);
    println!("{:<40} {gunzip:>10.0}", "gunzip alone (of output)");
    match iconv(&file)? {
        Some(duration) => {
            let speed = mb_per_s(plain.len(), duration);
            println!(
                "{:<40} {speed:>10.0}",
                "iconv -f UTF-16 -t UTF-8 (transcoding)"
            );
            println!("csv / iconv: {:.2}x", csv_plain / speed);
        }
        None => println!("iconv is not installed: no csv / iconv ratio"),
    }
    // The clients' gzip path (inflating on the receiving thread) against gunzip alone.
    println!("gzip / gunzip: {:.2}x", csv_gzip_two / gunzip);
    let _ = std::fs::remove_file(&file);
    Ok(())
}
