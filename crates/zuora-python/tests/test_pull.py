"""Pulls from Python: the same jobs files, windows, state and files as the CLI and the Rust
clients, against zuora-sim under faults, seen from outside through ``GET /sim/stats``."""

import csv
import io
import json
import urllib.request
from pathlib import Path

import pytest

import zuora_reporting as zr
from conftest import Sim

JOBS = """
concurrency = 2
state = "state/pulls.json"
out = "out/{report}/{start}_{end}.{ext}"
format = "FORMAT"

[[report]]
name = "Invoice Detail"
[report.window]
field = "Invoice.CreatedDate"
start = 2017-01-01
size = "2 months"
until = 2017-12-31

[[report]]
name = "Payments Detail"
[report.window]
field = "Payment.EffectiveDate"
start = 2017-01-01
size = "2 months"
until = 2017-12-31
"""


@pytest.fixture
def pull_sim():
    running = Sim("--run-seconds", "0.05", "--fault-rate", "0.15", "--seed", "5")
    yield running
    running.stop()


def stats(sim: Sim) -> dict:
    with urllib.request.urlopen(sim.base_url + "/sim/stats") as answer:
        return json.load(answer)


def rows_of(path: Path) -> int:
    return len(list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))) - 1


def test_a_pull_writes_each_window_once_and_a_rerun_starts_nothing(make_client, pull_sim, tmp_path):
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(JOBS.replace("FORMAT", "csv"))
    events = []
    with make_client(**pull_sim.kwargs()) as client:
        summary = client.pull(jobs, on_event=events.append)
        assert not summary["interrupted"]
        for line in summary["reports"]:
            assert (line["windows"], line["done"], line["failed"]) == (6, 6, 0), line
            files = sorted((tmp_path / "out" / line["report"].replace(" ", "_")).iterdir())
            assert len(files) == 6
            assert sum(rows_of(f) for f in files) == line["rows"]
        assert sum(1 for e in events if e["event"] == "done") == 12
        seen = stats(pull_sim)
        assert seen["duplicate_runs"] == 0
        assert seen["peak_running_runs"] <= 2
        assert seen["runs_started"] == 12
        state = json.loads((tmp_path / "state" / "pulls.json").read_text())
        assert len(state["reports"]["Invoice Detail"]["done"]) == 6

        again = client.pull(jobs)
        assert all(line["pulled"] == 0 and line["done"] == 6 for line in again["reports"])
        assert stats(pull_sim)["runs_started"] == 12, "a rerun starts no run"


def test_a_pull_to_parquet_gives_tables(pull_sim, tmp_path):
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(JOBS.replace("FORMAT", "parquet"))
    with zr.Client(**pull_sim.kwargs()) as client:
        summary = client.pull(jobs)
    invoice = summary["reports"][0]
    files = sorted((tmp_path / "out" / "Invoice_Detail").glob("*.parquet"))
    assert len(files) == 6
    assert sum(pyarrow_parquet.read_table(f).num_rows for f in files) == invoice["rows"] > 0


def test_a_bad_jobs_file_raises_before_anything_is_sent(make_client, sim, tmp_path):
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(JOBS.replace("FORMAT", "csv").replace('size = "2 months"', 'size = "0 days"', 1))
    before = stats(sim)
    with make_client(**sim.kwargs()) as client:
        with pytest.raises(zr.InvalidInputError) as raised:
            client.pull(jobs)
    message = str(raised.value)
    assert "jobs.toml:12: report[1].window.size" in message, message
    assert stats(sim) == before, "nothing was sent"
