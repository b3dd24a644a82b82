//! `zuora-report` driven as a process against zuora-sim over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use zuora_sim::{RunTiming, SimConfig, Simulator};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zuora-report-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with the simulator's credentials in the environment, as a user sets them.
fn against(sim: &Simulator, secret: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zuora-report"));
    command
        .env_clear()
        .env("ZUORA_BASE_URL", sim.base_url())
        .env("ZUORA_CLIENT_ID", sim.client_id())
        .env("ZUORA_CLIENT_SECRET", secret);
    command
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{:?}", text(output));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", text(output)))
}

#[test]
fn the_readme_main_job_works_exactly_as_written() {
    let dir = scratch("readme");
    let output = Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .current_dir(&dir)
        .env_clear()
        .args([
            "--simulate",
            "run",
            "Invoice Detail",
            "--wait",
            "--out",
            "report.csv",
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("simulating"), "{stderr}");
    let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
    assert!(csv.starts_with("Invoice: Invoice Number,Invoice: Created Date,Account: Name"));
    assert_eq!(csv.matches("\r\nINV").count(), 250);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left behind"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_command_with_json_output() {
    let sim = Simulator::start(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_millis(200)),
        ..SimConfig::new(4)
    })
    .unwrap();
    let secret = sim.client_secret().to_owned();
    let run = |args: &[&str]| {
        against(&sim, &secret)
            .arg("--json")
            .args(args)
            .output()
            .unwrap()
    };

    let found = json(&run(&["search", "Invoice Detail"]));
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "Invoice Detail")
    );
    let started = json(&run(&["run", "Invoice Detail"]));
    let run_id = started["reportRunId"].as_str().unwrap().to_owned();
    assert_eq!(started["requestId"].as_str().unwrap().len(), 36);
    let status = json(&run(&["status", &run_id]));
    assert_eq!(status["id"], run_id.as_str());
    let done = json(&run(&["wait", &run_id]));
    assert_eq!(done["status"], "COMPLETED");
    let latest = json(&run(&["latest", "Invoice Detail"]));
    assert_eq!(latest["id"], run_id.as_str());

    let dir = scratch("commands");
    let out = dir.join("data.tsv");
    let downloaded = json(&run(&[
        "download",
        &run_id,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "tsv",
    ]));
    assert!(downloaded["bytesWritten"].as_u64().unwrap() > 10_000);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("Invoice: Invoice Number\t")
    );

    let slow = Simulator::start(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(60)),
        ..SimConfig::new(4)
    })
    .unwrap();
    let slow_secret = slow.client_secret().to_owned();
    let pending = json(
        &against(&slow, &slow_secret)
            .args(["--json", "run", "Payments Detail"])
            .output()
            .unwrap(),
    );
    let pending_id = pending["reportRunId"].as_str().unwrap();
    let cancelled = json(
        &against(&slow, &slow_secret)
            .args(["--json", "cancel", pending_id])
            .output()
            .unwrap(),
    );
    assert_eq!(cancelled["message"], "The report run has been canceled");

    let token = run(&["token"]);
    let token_json = json(&token);
    assert_eq!(token_json["expiresIn"], 3599);
    assert!(!String::from_utf8_lossy(&token.stdout).contains("access_token"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_inputs_give_the_documented_exit_codes_and_no_file() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let dir = scratch("bad");
    let out = dir.join("out.csv");
    let out_arg = out.to_str().unwrap().to_owned();
    let secret = sim.client_secret().to_owned();
    let cases: Vec<(Vec<&str>, &str, i32)> = vec![
        (
            vec![
                "--track-id",
                "job:1",
                "run",
                "Invoice Detail",
                "--wait",
                "--out",
                &out_arg,
            ],
            secret.as_str(),
            2,
        ),
        (
            vec!["run", "No Such Report", "--wait", "--out", &out_arg],
            secret.as_str(),
            3,
        ),
        (
            vec!["run", "Invoice Detail", "--wait", "--out", &out_arg],
            "SENTINEL-WRONG-SECRET",
            3,
        ),
        (
            vec!["download", "ff808081529f4e3401529fd61f080074"],
            secret.as_str(),
            2,
        ),
        (
            vec![
                "run",
                "Broken Definition Report",
                "--wait",
                "--out",
                &out_arg,
            ],
            secret.as_str(),
            4,
        ),
    ];
    for (args, secret, expected) in cases {
        let output = against(&sim, secret).args(&args).output().unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} left {out:?}");
        assert!(
            !stdout.contains("SENTINEL") && !stderr.contains("SENTINEL"),
            "a secret was printed: {stderr}"
        );
        // The tool's own errors are one line; clap's usage errors explain the usage.
        if stderr.starts_with("zuora-report:") {
            assert_eq!(
                stderr.lines().count(),
                1,
                "errors are one clear line: {stderr}"
            );
        }
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no temporary file left behind"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_timeout_cancels_the_run_and_exits_5() {
    let sim = Simulator::start(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(60)),
        ..SimConfig::new(4)
    })
    .unwrap();
    let output = against(&sim, sim.client_secret())
        .args(["--timeout", "1", "run", "Invoice Detail", "--wait"])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
}

#[test]
fn help_documents_exit_codes_and_examples() {
    let output = Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .arg("--help")
        .output()
        .unwrap();
    let (stdout, _) = text(&output);
    assert!(stdout.contains("130  interrupted"));
    let output = Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    assert!(text(&output).0.contains("Example:"));
}

#[test]
fn ctrl_c_while_waiting_cancels_the_run_and_exits_130() {
    let sim = Simulator::start(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(60)),
        ..SimConfig::new(4)
    })
    .unwrap();
    let child = against(&sim, sim.client_secret())
        .args(["run", "Payments Detail", "--wait"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run exists and is being polled, then interrupt as a terminal would.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sim
        .request_log()
        .iter()
        .filter(|r| r.method == "GET")
        .count()
        < 1
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("the run was cancelled"), "{stderr}");
    let deletes = sim
        .request_log()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 1, "the run was cancelled on the server");
}

#[test]
fn filters_from_a_file_or_inline() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let dir = scratch("filters");
    let file = dir.join("filters.json");
    std::fs::write(&file, r#"[{"logicalOperator":{"value":"AND"},"filterClauses":[{"field":{"id":"Account.Status","type":"Text"},"operator":"=","value":"Active"}]}]"#).unwrap();
    let at_file = format!("@{}", file.display());
    let ok = against(&sim, sim.client_secret())
        .args(["run", "Invoice Detail", "--filter", &at_file])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{:?}", text(&ok));
    let sent = sim
        .request_log()
        .into_iter()
        .find(|r| r.path.ends_with("/reportrun"))
        .unwrap();
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let bad = against(&sim, sim.client_secret())
        .args(["run", "Invoice Detail", "--filter", "[{"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{:?}", text(&bad));
    assert_eq!(sim.runs_created(), 1, "the malformed filter sent nothing");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_host_flag_overrides_the_other_hosts_environment_variable() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    // ZUORA_ENV is exported, --base-url typed: the flag wins, no clap conflict.
    let output = against(&sim, sim.client_secret())
        .env_remove("ZUORA_BASE_URL")
        .env("ZUORA_ENV", "SBX")
        .args(["--base-url", sim.base_url(), "token"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    // ZUORA_BASE_URL is exported, --env typed: the flag wins (the sandbox host here, so
    // only the usage is checked: the simulator got nothing).
    let before = sim.token_requests();
    let both = against(&sim, sim.client_secret())
        .args(["--env", "NOT-A-HOST", "token"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2), "{:?}", text(&both));
    assert!(text(&both).1.contains("NOT-A-HOST"), "{:?}", text(&both));
    assert_eq!(
        sim.token_requests(),
        before,
        "the flag's host was used, not the variable's"
    );
    // Two variables: a usage error that names them.
    let ambiguous = Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .env_clear()
        .env("ZUORA_ENV", "SBX")
        .env("ZUORA_BASE_URL", sim.base_url())
        .env("ZUORA_CLIENT_ID", sim.client_id())
        .env("ZUORA_CLIENT_SECRET", sim.client_secret())
        .arg("token")
        .output()
        .unwrap();
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(text(&ambiguous).1.contains("ZUORA_ENV and ZUORA_BASE_URL"));
}

#[test]
fn an_unwritable_out_is_refused_before_anything_is_sent() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let dir = scratch("unwritable");
    for out in [dir.join("missing-folder").join("report.csv"), dir.clone()] {
        let output = against(&sim, sim.client_secret())
            .args(["run", "Invoice Detail", "--wait", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{:?}", text(&output));
        assert!(
            text(&output).1.contains("nothing was sent"),
            "{:?}",
            text(&output)
        );
    }
    assert!(
        sim.request_log().is_empty(),
        "requests were sent: {:?}",
        sim.request_log()
    );
    assert_eq!(sim.token_requests(), 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_name_that_matches_nothing_suggests_search() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let output = against(&sim, sim.client_secret())
        .args(["run", "Invoice Detial"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        text(&output).1.contains("zuora-report search \"Invoice\""),
        "{:?}",
        text(&output)
    );
}

#[test]
fn a_bad_filter_shows_the_expected_shape_and_no_parser_internals() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let output = against(&sim, sim.client_secret())
        .args([
            "run",
            "Invoice Detail",
            "--filter",
            r#"{"field":"Account.Currency"}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let (_, stderr) = text(&output);
    assert!(
        stderr.contains(r#""logicalOperator":{"value":"AND"}"#),
        "{stderr}"
    );
    assert!(!stderr.contains("untagged enum"), "{stderr}");
    assert_eq!(sim.runs_created(), 0);
    let help = Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    assert!(text(&help).0.contains(r#""filterClauses""#));
}

#[test]
fn json_errors_are_one_json_object() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let output = against(&sim, sim.client_secret())
        .args(["--json", "status", "ff808081529f4e3401529fd61f080074"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", text(&output)));
    assert_eq!(error["error"]["kind"], "run_not_found");
    assert_eq!(error["error"]["status"], 400);
    assert_eq!(error["error"]["exitCode"], 3);
    assert_eq!(error["error"]["requestId"].as_str().map(str::len), Some(36));
    let usage = against(&sim, sim.client_secret())
        .args(["--json", "status", &"x".repeat(300)])
        .output()
        .unwrap();
    let error: serde_json::Value = serde_json::from_slice(&usage.stdout).unwrap();
    assert_eq!(error["error"]["exitCode"], 2);
}

/// The exactly-once recipe of the README: a stable key per job and day.
#[test]
fn two_invocations_with_one_idempotency_key_start_one_run() {
    let sim = Simulator::start(SimConfig::new(4)).unwrap();
    let key = "nightly-invoices-2026-11-28";
    let start = || {
        against(&sim, sim.client_secret())
            .args(["--idempotency-key", key, "run", "Invoice Detail"])
            .spawn()
            .unwrap()
    };
    // Started together (the second may meet the first in flight: 409, retried) ...
    let (first, second) = (start(), start());
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    // ... and once more later, as a crashed job restarted would.
    let third = start().wait_with_output().unwrap();
    let ids: Vec<String> = [&first, &second, &third]
        .iter()
        .map(|output| {
            assert!(output.status.success(), "{:?}", text(output));
            text(output).0.trim().to_owned()
        })
        .collect();
    assert_eq!(sim.runs_created_for_key(key), 1, "{ids:?}");
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
}

fn zuora_report(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zuora-report"))
        .env_clear()
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn completions_are_scripts_their_shells_accept_and_need_no_credentials() {
    let dir = scratch("completions");
    for shell in ["bash", "zsh", "fish"] {
        let output = zuora_report(&["completions", shell]);
        let (script, stderr) = text(&output);
        assert!(output.status.success(), "{shell}: {stderr}");
        for command in ["search", "run", "download", "completions"] {
            assert!(script.contains(command), "{shell} script lacks {command}");
        }
        if shell == "bash" {
            let path = dir.join("zuora-report.bash");
            std::fs::write(&path, &script).unwrap();
            let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(check.status.success(), "bash -n: {:?}", text(&check));
        }
    }
    let unknown = zuora_report(&["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_manual_page_and_help_come_from_one_definition() {
    let manual = zuora_report(&["man"]);
    let (page, stderr) = text(&manual);
    assert!(manual.status.success(), "{stderr}");
    assert!(page.contains(".TH zuora-report 1"), "{page}");
    let help = zuora_report(&["--help"]);
    let (help, _) = text(&help);
    // Every command --help lists is in the page, and so are the exit codes.
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() >= 9, "{help}");
    for command in commands {
        assert!(
            page.contains(&format!("zuora\\-report\\-{}", command.replace('-', "\\-"))),
            "{command}"
        );
    }
    assert!(page.contains("Exit codes:") && help.contains("Exit codes:"));
    // Hidden from --help: the page is for the release archive.
    assert!(!help.contains("  man "), "{help}");
}

#[cfg(unix)]
#[test]
fn report_files_are_owner_only_keep_a_chosen_mode_and_leave_nothing_beside_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("modes");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_zuora-report"))
            .current_dir(&dir)
            .env_clear()
            .args([
                "--simulate",
                "-q",
                "run",
                "Invoice Detail",
                "--wait",
                "--out",
                "r.csv",
            ])
            .output()
            .unwrap()
    };
    let mode = || {
        std::fs::metadata(dir.join("r.csv"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert!(run().status.success());
    assert_eq!(mode(), 0o600, "billing data is not world-readable");
    std::fs::set_permissions(dir.join("r.csv"), std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(run().status.success());
    assert_eq!(
        mode(),
        0o640,
        "a mode the user chose survives the replacement"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["r.csv"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_secret_can_come_from_a_file_or_stdin_and_the_flag_warns() {
    let sim = Simulator::start(SimConfig::new(9)).unwrap();
    let dir = scratch("secret-file");
    let file = dir.join("secret");
    std::fs::write(&file, format!("{}\n", sim.client_secret())).unwrap();
    let base = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_zuora-report"));
        command
            .env_clear()
            .env("ZUORA_BASE_URL", sim.base_url())
            .env("ZUORA_CLIENT_ID", sim.client_id());
        command
    };
    // From a file, over a wrong secret in the environment.
    let output = base()
        .env("ZUORA_CLIENT_SECRET", "wrong")
        .arg("--client-secret-file")
        .arg(&file)
        .arg("token")
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    // From standard input.
    let mut child = base()
        .args(["--client-secret-file", "-", "token"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        sim.client_secret().as_bytes(),
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", text(&output));
    // On the command line: it works, with a warning that never shows the secret.
    let output = base()
        .args(["--client-secret", sim.client_secret(), "token"])
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: --client-secret on the command line"),
        "{stderr}"
    );
    assert!(!stderr.contains(sim.client_secret()));
    // Both: a usage error, nothing sent.
    let output = base()
        .args(["--client-secret", "x", "--client-secret-file"])
        .arg(&file)
        .arg("token")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{:?}", text(&output));
}
