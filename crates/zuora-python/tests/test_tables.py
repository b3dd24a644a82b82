"""Typed tables against zuora-sim over loopback, sync and async: the export as an Arrow
stream read by pyarrow, polars and pandas, every typed value checked against the CSV read
by an independent oracle (Python's `decimal` and `datetime`), Parquet and Arrow files, the
user's column types, and bad input."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest

import zuora_reporting as zr
from conftest import Sim


def _completed_run(client, report: str = "Invoice Detail", view: str = "Detail") -> str:
    started = client.run_report(client.find_report(report).id, view)
    return client.wait_for_run(started.report_run_id, poll_first=0.05).id


def _plain_number(text: str, locale: str) -> str:
    """A number as Zuora writes it in `locale`, as Python's `Decimal` reads it."""
    if locale == "de-DE":
        return text.replace(".", "").replace(",", ".")
    if locale == "fr-FR":
        for space in (" ", "\u00a0", "\u202f"):
            text = text.replace(space, "")
        return text.replace(",", ".")
    return text.replace(",", "")


def _csv(client, run_id: str) -> list:
    out = io.BytesIO()
    client.download_export(run_id, out)
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"), newline="")))


def _expected(text: str, arrow_type: pa.DataType, locale: str = "en-US"):
    """What a cell of the CSV (as Zuora formats it in `locale`) means, read without zuora-rs."""
    if text in ("", "(none)"):
        return None
    if text == "(blank)":
        return "" if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) else None
    if pa.types.is_decimal(arrow_type):
        return Decimal(_plain_number(text, locale))
    if pa.types.is_integer(arrow_type):
        return int(_plain_number(text, locale))
    if pa.types.is_boolean(arrow_type):
        return {"true": True, "false": False}[text.lower()]
    if pa.types.is_timestamp(arrow_type):
        for shape in ("%b %d, %Y %I:%M:%S %p", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(text, shape)
            except ValueError:
                pass
        raise AssertionError(f"{text!r} typed as a timestamp")
    if pa.types.is_date(arrow_type):
        try:
            return datetime.strptime(text, "%b %d, %Y").date()
        except ValueError:
            return date.fromisoformat(text)
    return text


def test_a_table_is_an_arrow_stream_with_every_value_typed(sim, tmp_path, make_client):
    with make_client(**sim.kwargs()) as client:
        run_id = _completed_run(client)
        table = client.export_table(run_id)
        records = _csv(client, run_id)
        client.download_export(run_id, tmp_path / "x.parquet", format="parquet")
        client.download_export(run_id, str(tmp_path / "x.arrow"), format="arrow")
        jsonl = io.BytesIO()
        client.download_export(run_id, jsonl, format="jsonl")

    read = pa.table(table)
    schema = read.schema
    assert pa.types.is_decimal(schema.field("Invoice: Amount").type)
    assert pa.types.is_timestamp(schema.field("Invoice: Created Date").type)
    assert schema.field("Invoice: Created Date").type.tz is None  # the tenant's time, no zone
    assert pa.types.is_string(schema.field("Account: Name").type)
    assert read.num_rows == len(records) == table.num_rows == len(table) > 0
    assert read.column_names == list(records[0].keys())
    for name in read.column_names:
        arrow_type = schema.field(name).type
        expected = [_expected(record[name], arrow_type) for record in records]
        assert read.column(name).to_pylist() == expected, name

    # Every consumer sees the same table, as often as it asks.
    assert pa.table(table).equals(read)
    assert pq.read_table(tmp_path / "x.parquet").equals(read)
    assert pyarrow.ipc.open_file(tmp_path / "x.arrow").read_all().equals(read)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.arrow", "x.parquet"]
    lines = jsonl.getvalue().decode("utf-8").splitlines()
    assert len(lines) == len(records)
    total = sum(Decimal(r["Invoice: Amount"].replace(",", "")) for r in records)
    assert sum(read.column("Invoice: Amount").to_pylist()) == total

    frame = pl.DataFrame(table)
    assert frame.shape == (len(records), len(read.column_names))
    assert frame["Invoice: Amount"].dtype == pl.Decimal
    assert frame["Invoice: Amount"].sum() == total
    pandas_frame = pd.DataFrame.from_arrow(table)
    assert len(pandas_frame) == len(records)
    assert list(pandas_frame.columns) == read.column_names
    # DuckDB scans the same stream (its replacement scan finds the Python variable).
    arrow_table = table  # noqa: F841 - named in the SQL below
    [(count, summed)] = duckdb.sql(
        'SELECT count(*), sum("Invoice: Amount") FROM arrow_table'
    ).fetchall()
    assert count == len(records)
    assert summed == total


def test_typed_rows_are_python_values(sim, make_client):
    with make_client(**sim.kwargs()) as client:
        run_id = _completed_run(client)
        records = _csv(client, run_id)
        typed = list(client.rows(run_id, typed=True))
        read = pa.table(client.export_table(run_id))
    assert len(typed) == len(records)
    assert list(typed[0].keys()) == list(records[0].keys())
    for row, record in zip(typed, records):
        for name, value in row.items():
            assert value == _expected(record[name], read.schema.field(name).type), name
    amounts = [row["Invoice: Amount"] for row in typed]
    assert all(isinstance(a, Decimal) for a in amounts if a is not None)
    created = [row["Invoice: Created Date"] for row in typed]
    assert all(isinstance(c, datetime) and c.tzinfo is None for c in created if c is not None)


def test_the_user_sets_column_types_and_a_value_that_does_not_fit_is_an_error(
    sim, tmp_path, make_client
):
    with make_client(**sim.kwargs()) as client:
        run_id = _completed_run(client)
        table = client.export_table(run_id, columns={"Invoice: Amount": "decimal(20,4)"})
        assert pa.table(table).schema.field("Invoice: Amount").type == pa.decimal128(20, 4)
        assert ("Invoice: Amount", "decimal(20,4)", "set by the user") in table.columns

        # Bad input is told before anything is sent: the engine of a client that cannot
        # connect would otherwise raise a transport error.
        with pytest.raises(zr.InvalidInputError):
            client.export_table(run_id, columns={"Invoice: Amount": "money"})
        with pytest.raises(zr.InvalidInputError):
            client.export_table(run_id, locale="tlh-Qaak")
        with pytest.raises(zr.InvalidInputError, match="Nowhere"):
            client.export_table(run_id, columns={"Nowhere": "text"})

        path = tmp_path / "x.parquet"
        with pytest.raises(zr.TableValueError, match="Account: Name") as raised:
            client.download_export(
                run_id, path, format="parquet", columns={"Account: Name": "integer"}
            )
        assert "row 1" in str(raised.value)
    assert list(tmp_path.iterdir()) == []  # no file, no temporary


def test_bad_table_input_raises_before_anything_is_sent():
    client = zr.Client(base_url="http://127.0.0.1:9", client_id="id", client_secret="secret")
    with pytest.raises(zr.InvalidInputError):
        client.export_table("ff808081529f4e3401529fd61f080074", columns={"A": "decimal(99,2)"})
    with pytest.raises(zr.InvalidInputError):
        client.download_export(
            "ff808081529f4e3401529fd61f080074", io.BytesIO(), format="parquet", locale="xx"
        )
    client.close()


@pytest.fixture(scope="module", params=["en-US", "de-DE", "fr-FR"])
def locale_sim(request):
    running = Sim("--run-seconds", "0", "--locale", request.param)
    running.locale = request.param
    yield running
    running.stop()


@pytest.mark.parametrize(
    "report, view",
    [("Account Overview", "Detail"), ("Payments Detail", "Detail"), ("Invoice Totals by Currency", "Summary")],
)
def test_every_locale_and_shape_zuora_writes_is_typed_exactly(locale_sim, report, view):
    locale = locale_sim.locale
    with zr.Client(**locale_sim.kwargs()) as client:
        run_id = _completed_run(client, report, view)
        table = client.export_table(run_id, locale=locale)
        records = _csv(client, run_id)
    read = pa.table(table)
    assert read.num_rows == len(records)
    typed = 0
    for name in read.column_names:
        arrow_type = read.schema.field(name).type
        expected = [_expected(record[name], arrow_type, locale) for record in records]
        assert read.column(name).to_pylist() == expected, name
        typed += not pa.types.is_string(arrow_type)
    assert typed >= 2  # amounts, counts and dates are never left as text
    reasons = {name: reason for name, _type, reason in table.columns}
    if report == "Account Overview":
        # Numeric-looking for 99 rows, then "K-100": text, and the reason says where.
        assert read.schema.field("Account: Legacy Code").type == pa.string()
        assert "row 100" in reasons["Account: Legacy Code"]
        assert pa.types.is_decimal(read.schema.field("Account: Balance").type)
        assert None in read.column("Account: Balance").to_pylist()  # (none)
    if report == "Payments Detail":
        assert read.schema.field("Payment: Effective Date").type == pa.date32()
    if report == "Invoice Totals by Currency":
        assert read.schema.field("AVG of 'Invoice: Amount'").type.scale == 3
        groups = read.column("Account: Currency").to_pylist()
        assert None in groups and "" in groups  # (none) and (blank)
