//! `cargo xtask bench table`: the simulator's large export (UTF-16LE TSV, invoice-like rows:
//! en-US amounts, date-times, non-ASCII text, quoted fields) converted to Parquet by zuora-rs
//! (the export converter, then zuora-tables' two passes: types from every value while the
//! TSV spools, then Parquet with zstd) and, on the same file in the same run, by what a user
//! would do otherwise: `iconv` then `pyarrow.csv.read_csv` then `pyarrow.parquet.write_table`,
//! and `iconv` then DuckDB's `COPY ... TO ... (FORMAT parquet)` (pyarrow and duckdb from PyPI
//! in `target/bench-venv`). Each runs as its own process, so its peak resident set is its own.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use zuora_core::{ExportFormat, exports::ExportDecoder};
use zuora_sim::{Catalogue, ExportStream, LARGE_REPORT_NAME};
use zuora_tables::{ColumnType, Locale, Spooling, TableFormat};

use crate::bench_sim::{SEED, parse_size, peak_rss_kib_of, rows_for_export_bytes};
use crate::{run_command, target_dir};

/// The bytes read from the export at a time (what a transport hands the converter).
const CHUNK: usize = 256 * 1024;

/// What one pipeline did, as its process reports it on its last line of output.
#[derive(Debug, serde::Deserialize)]
struct Outcome {
    rss_kib: u64,
    typed: u64,
    columns: u64,
    rows: u64,
}

/// `iconv` into UTF-8, then pyarrow (`read_csv` infers what it can) into Parquet.
const PYARROW: &str = r#"
import json, resource, subprocess, sys
import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
src, utf8, out = sys.argv[1:4]
with open(utf8, "wb") as f:
    subprocess.run(["iconv", "-f", "UTF-16", "-t", "UTF-8", src], stdout=f, check=True)
table = pc.read_csv(utf8, parse_options=pc.ParseOptions(delimiter="\t", newlines_in_values=True))
pq.write_table(table, out)
schema = pq.read_schema(out)
typed = sum(not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)) for f in schema)
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"rss_kib": rss, "typed": typed, "columns": len(schema), "rows": table.num_rows}))
"#;

/// `iconv` into UTF-8, then DuckDB (`read_csv` sniffs the types) into Parquet.
const DUCKDB: &str = r#"
import json, resource, subprocess, sys
import duckdb
src, utf8, out = sys.argv[1:4]
with open(utf8, "wb") as f:
    subprocess.run(["iconv", "-f", "UTF-16", "-t", "UTF-8", src], stdout=f, check=True)
con = duckdb.connect()
con.execute(f"COPY (SELECT * FROM read_csv('{utf8}', delim='\t', header=true, quote='\"', escape='\"')) TO '{out}' (FORMAT parquet)")
types = [row[1] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()]
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"rss_kib": rss, "typed": sum(t != "VARCHAR" for t in types), "columns": len(types), "rows": rows}))
"#;

/// Writes the simulator's large report, sized to about `size` bytes, to `path` as it
/// streams (never whole in memory).
fn generate(size: u64, path: &Path) -> Result<u64, String> {
    let catalogue = Catalogue::sample(SEED, rows_for_export_bytes(size));
    let report = catalogue
        .by_name(LARGE_REPORT_NAME)
        .ok_or("the simulator's catalogue has no large report")?
        .clone();
    let mut out = BufWriter::new(File::create(path).map_err(|e| e.to_string())?);
    let mut written = 0u64;
    for chunk in ExportStream::new(report) {
        out.write_all(&chunk).map_err(|e| e.to_string())?;
        written += chunk.len() as u64;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(written)
}

/// `bench table-generate SIZE OUT`: the bench's input alone, to profile a pipeline on it.
pub fn generate_to(args: &[&str]) -> Result<(), String> {
    let [size, output] = args else {
        return Err("usage: cargo xtask bench table-generate SIZE OUT".to_owned());
    };
    let bytes = generate(parse_size(size)?, Path::new(output))?;
    println!("{bytes} bytes in {output}");
    Ok(())
}

/// The zuora-rs pipeline, in this process (run as `bench table-convert IN OUT`): the export
/// converted to TSV as it is read, spooled while its types are inferred, then written as
/// Parquet. Prints its [`Outcome`].
pub fn convert(args: &[&str]) -> Result<(), String> {
    let [input, output] = args else {
        return Err("usage: cargo xtask bench table-convert IN OUT".to_owned());
    };
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let started = Instant::now();
    let mut input = File::open(input).map_err(|e| error(&e))?;
    let mut decoder = ExportDecoder::new(ExportFormat::Tsv, false);
    let mut spooling = Spooling::temporary(Locale::EnUs).map_err(|e| error(&e))?;
    let mut chunk = vec![0u8; CHUNK];
    let mut tsv = Vec::with_capacity(2 * CHUNK);
    loop {
        let read = input.read(&mut chunk).map_err(|e| error(&e))?;
        if read == 0 {
            break;
        }
        decoder
            .feed(&chunk[..read], &mut tsv)
            .map_err(|e| error(&e))?;
        spooling.write_all(&tsv).map_err(|e| error(&e))?;
        tsv.clear();
    }
    decoder.finish(&mut tsv).map_err(|e| error(&e))?;
    spooling.write_all(&tsv).map_err(|e| error(&e))?;
    let typed = spooling.finish(&[]).map_err(|e| error(&e))?;
    let pass_one = started.elapsed();
    let columns = typed.columns().len() as u64;
    let non_text = typed
        .columns()
        .iter()
        .filter(|c| c.column_type != ColumnType::Text)
        .count() as u64;
    let rows = typed.rows();
    let out = BufWriter::new(File::create(output).map_err(|e| error(&e))?);
    typed
        .rewound()
        .and_then(|t| t.write(TableFormat::Parquet, out))
        .map_err(|e| error(&e))?;
    let rss_kib = peak_rss_kib_of("self").unwrap_or(0);
    eprintln!(
        "pass 1 (convert, infer, spool) {:.2} s, pass 2 (typed Parquet) {:.2} s",
        pass_one.as_secs_f64(),
        (started.elapsed() - pass_one).as_secs_f64()
    );
    println!(
        "{}",
        serde_json::json!({ "rss_kib": rss_kib, "typed": non_text, "columns": columns, "rows": rows })
    );
    Ok(())
}

/// Runs `command`; its wall time and the [`Outcome`] on its last line.
fn timed(mut command: Command) -> Result<(f64, Outcome), String> {
    let start = Instant::now();
    let output = command.output().map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let outcome =
        serde_json::from_str(last).map_err(|e| format!("{command:?} said {last:?}: {e}"))?;
    Ok((seconds, outcome))
}

/// The bench's own virtual environment with pyarrow and duckdb; `None` (said why) when
/// Python or PyPI is not there.
fn bench_python() -> Option<PathBuf> {
    let venv = target_dir().join("bench-venv");
    let python = venv.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import pyarrow, duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ready {
        return Some(python);
    }
    let made =
        run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv)).and_then(|()| {
            run_command(
                Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "pyarrow", "duckdb"]),
            )
        });
    match made {
        Ok(()) => Some(python),
        Err(error) => {
            eprintln!("no pyarrow/duckdb environment ({error}): the alternatives are skipped");
            None
        }
    }
}

pub fn run(args: &[&str]) -> Result<(), String> {
    let Some(size) = crate::bench_sim::release_bench_size("table", args)? else {
        return Ok(());
    };
    let dir = target_dir().join("bench-table");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join("export.utf16");
    eprintln!("generating {} MiB of UTF-16LE export...", size >> 20);
    let bytes = generate(size, &input)?;
    let mb = bytes as f64 / 1e6;
    println!("input: {mb:.1} MB UTF-16LE TSV (the simulator's large invoice export)");
    println!(
        "{:<34} {:>8} {:>10} {:>14}",
        "pipeline", "MB/s", "peak MiB", "typed columns"
    );
    let show = |name: &str, seconds: f64, outcome: &Outcome| {
        println!(
            "{name:<34} {:>8.1} {:>10.1} {:>14}",
            mb / seconds,
            outcome.rss_kib as f64 / 1024.0,
            format!("{} of {}", outcome.typed, outcome.columns)
        );
    };

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut ours = Command::new(&exe);
    ours.args(["bench", "table-convert"])
        .arg(&input)
        .arg(dir.join("zuora.parquet"));
    let (seconds, outcome) = timed(ours)?;
    show("zuora-rs (typed, zstd)", seconds, &outcome);
    let table_speed = mb / seconds;
    let rows = outcome.rows;

    let mut best: Option<(&str, f64)> = None;
    if let Some(python) = bench_python() {
        for (name, script) in [("iconv + pyarrow", PYARROW), ("iconv + duckdb", DUCKDB)] {
            let mut command = Command::new(&python);
            command
                .args(["-c", script])
                .arg(&input)
                .arg(dir.join("utf8.tsv"))
                .arg(dir.join(format!("{}.parquet", name.replace(' ', ""))));
            match timed(command) {
                Ok((seconds, outcome)) => {
                    show(name, seconds, &outcome);
                    if outcome.rows != rows {
                        eprintln!("{name} read {} rows, zuora-rs {rows}", outcome.rows);
                    }
                    let speed = mb / seconds;
                    if best.is_none_or(|(_, b)| speed > b) {
                        best = Some((name, speed));
                    }
                }
                Err(error) => eprintln!("{name}: {error}"),
            }
        }
    }
    for file in ["export.utf16", "utf8.tsv"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    match best {
        Some((name, speed)) => println!(
            "table: {table_speed:.1} MB/s; best alternative ({name}): {speed:.1} MB/s; ratio {:.2}x",
            table_speed / speed
        ),
        None => println!("table: {table_speed:.1} MB/s; best alternative: not run"),
    }
    Ok(())
}
