"""The Python package against zuora-sim over loopback: the whole trip, sync and async,
errors by kind, faults, bad input and secrets."""

import asyncio
import csv
import io
from pathlib import Path

import pytest

import zuora_reporting as zr
from zuora_reporting import _flows

UNKNOWN_REPORT = "2c92c0f95e4a6e4b015e4f3a1b2c3d4e"
UNKNOWN_RUN = "ff808081529f4e3401529fd61f080074"


def test_version():
    assert zr.__version__.count(".") == 2


def test_the_whole_trip_writes_a_csv(sim, tmp_path, make_client):
    path = tmp_path / "invoices.csv"
    with make_client(**sim.kwargs()) as client:
        summary = client.run_and_download("Invoice Detail", str(path))
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) > 1 and len(rows[0]) == len(rows[1])
    assert summary.bytes_written == path.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["invoices.csv"]  # no temporary file left


def test_step_by_step_with_statuses_and_rows(slow_sim, tmp_path, make_client):
    seen = []
    with make_client(**slow_sim.kwargs()) as client:
        report = client.find_report("Invoice Detail")
        started = client.run_report(report.id, "Detail", track_id="py-steps")
        assert len(started.report_run_id) == 32 and started.track_id == "py-steps"
        run = client.wait_for_run(
            started.report_run_id, poll_first=0.2, poll_max=0.5, on_status=lambda r: seen.append(r.status)
        )
        assert run.status == "COMPLETED" and run.id == started.report_run_id
        assert seen[0] != "COMPLETED" and seen[-1] == "COMPLETED"
        out = io.BytesIO()
        client.download_export(run.id, out)
        records = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
        rows = list(client.rows(run.id, page_size=7))
        assert len(rows) == len(records) - 1
        assert client.latest_run(report.id).id == run.id


def test_the_async_client_runs_the_same_trip(sim, tmp_path):
    path = tmp_path / "async.csv"

    async def trip():
        async with zr.AsyncClient(**sim.kwargs()) as client:
            reports = await client.search_reports("Customer report")
            assert len(reports) == 60  # two pages of search results
            summary = await client.run_and_download("Invoice Detail", path)
            run = await client.latest_run((await client.find_report("Invoice Detail")).id)
            rows = [row async for row in client.rows(run.id, page_size=50)]
            return summary, rows

    summary, rows = asyncio.run(trip())
    assert summary.bytes_written == path.stat().st_size
    assert len(rows) == len(list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))) - 1


def test_an_async_client_made_outside_any_loop_works_in_one_later(sim):
    """Issue 23, item 7: nothing bound to an event loop is made when the client is (Python
    3.9's asyncio primitives bind at creation; httpcore's locks are made on first use), so a
    client made at import time works in the loop `asyncio.run` starts later."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "no current event loop" would be a warning first
        client = zr.AsyncClient(**sim.kwargs())

    async def use():
        async with client:
            return await client.search_reports("Invoice")

    assert asyncio.run(use())


def test_errors_are_told_apart_and_carry_the_answer(sim, make_client):
    with make_client(**sim.kwargs()) as client:
        with pytest.raises(zr.ReportNotFoundError) as error:
            client.run_report(UNKNOWN_REPORT)
        assert error.value.status == 400 and len(error.value.request_id) == 36
        assert error.value.kind == "report_not_found" and not error.value.retryable
        assert isinstance(error.value, zr.NotFoundError)
        with pytest.raises(zr.RunNotFoundError):
            client.get_run(UNKNOWN_RUN)
        with pytest.raises(zr.WrongViewTypeError):
            client.run_report(client.find_report("Invoice Detail").id, "Summary")
        with pytest.raises(zr.NoCompletedRunError):
            client.latest_run(client.find_report("Account Balance Summary").id)
    with make_client(**dict(sim.kwargs(), client_secret="not-the-secret")) as refused:
        with pytest.raises(zr.AuthenticationError) as error:
            refused.get_run(UNKNOWN_RUN)
        assert "not-the-secret" not in str(error.value)


def test_bad_input_raises_before_anything_is_sent(make_client):
    # A port nobody listens on: a request would be a TransportError.
    with make_client(base_url="http://127.0.0.1:9", client_id="id", client_secret="secret") as client:
        for call in (
            lambda: client.run_report(""),
            lambda: client.run_report(UNKNOWN_REPORT, "Sideways"),
            lambda: client.run_report(UNKNOWN_REPORT, track_id="job:1"),
            lambda: client.wait_for_run(UNKNOWN_RUN, timeout=0),
            lambda: client.wait_for_run(UNKNOWN_RUN, poll_first=0),
            lambda: client.download_export(UNKNOWN_RUN, io.BytesIO(), format="xlsx"),
            lambda: client.run_and_download("   ", io.BytesIO()),
        ):
            with pytest.raises(zr.InvalidInputError):
                call()
    with pytest.raises(zr.InvalidInputError):
        make_client(base_url="http://127.0.0.1:9", client_id="id", client_secret="s", max_attempts=0)
    with pytest.raises(zr.InvalidInputError):
        make_client(base_url="http://example.com", client_id="id", client_secret="s")


def test_a_server_that_is_not_there_is_a_transport_error_with_nothing_sent(make_client):
    with make_client(base_url="http://127.0.0.1:9", client_id="id", client_secret="s", max_attempts=1) as client:
        with pytest.raises(zr.TransportError) as error:
            client.get_run(UNKNOWN_RUN)
    assert error.value.retryable and error.value.host == "127.0.0.1"


def test_faults_are_retried_with_one_key_and_never_start_two_runs(faulty_sim, make_client):
    with make_client(**faulty_sim.kwargs(), max_attempts=8) as client:
        report = client.find_report("Invoice Detail")
        runs = set()
        for n in range(12):
            started = client.run_report(report.id, idempotency_key=f"py-fault-{n:02}")
            runs.add(started.report_run_id)
            # The same key again: Zuora replays the first answer instead of a second run.
            again = client.run_report(report.id, idempotency_key=f"py-fault-{n:02}")
            assert again.report_run_id == started.report_run_id
        assert len(runs) == 12


def test_no_secret_in_repr_str_or_exceptions(sim, make_client):
    client = make_client(**sim.kwargs())
    lifetime = client._run(_flows.drive(client._engine.check_credentials()))
    assert lifetime > 0  # the credentials work
    client.search_reports("Invoice")  # a token fetched and cached
    task = client._engine.get_run(UNKNOWN_RUN)  # its first request carries the token
    assert task.kind == "send" and any(name == "authorization" for name, _ in task.headers)
    texts = [repr(client), str(client), repr(client._engine), repr(task)]
    with pytest.raises(zr.ZuoraError) as error:
        client.get_run(UNKNOWN_RUN)
    texts += [str(error.value), repr(error.value)]
    client.close()
    for text in texts:
        assert sim.client_secret not in text
        assert "Bearer" not in text
    assert repr(task).startswith("Task(send GET ")


def _locals_shown(error: BaseException) -> str:
    """What an error reporter that captures frame locals (Sentry, rich) would print of the
    package's frames: the repr of every local of each (the caller's own are the caller's)."""
    shown = []
    tb = error.__traceback__
    while tb is not None:
        if "zuora_reporting" in tb.tb_frame.f_code.co_filename:
            shown += [f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items()]
        tb = tb.tb_next
    return "\n".join(shown)


def test_no_secret_or_token_in_the_frame_locals_of_a_failure(sim, make_client, monkeypatch):
    secret = "frame-local-s3cret-42"
    with pytest.raises(zr.InvalidInputError) as error:
        make_client(base_url="ftp://example.com", client_id="x", client_secret=secret)
    shown = _locals_shown(error.value)
    assert "base_url" in shown and secret not in shown
    monkeypatch.setenv("ZUORA_CLIENT_SECRET", secret)
    with pytest.raises(zr.InvalidInputError) as error:
        make_client(base_url="ftp://example.com", client_id="x")
    shown = _locals_shown(error.value)
    assert "settings" in shown and secret not in shown
    monkeypatch.delenv("ZUORA_CLIENT_SECRET")
    with make_client(**sim.kwargs()) as client:
        client.search_reports("Invoice")  # a token fetched and cached
        with pytest.raises(zr.ZuoraError) as error:
            client.get_run(UNKNOWN_RUN)  # sent with the token, refused
    shown = _locals_shown(error.value)
    assert "task" in shown
    assert sim.client_secret not in shown and "Bearer" not in shown


def test_the_readme_example_runs_as_written(sim, tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZUORA_BASE_URL", sim.base_url)
    monkeypatch.setenv("ZUORA_CLIENT_ID", sim.client_id)
    monkeypatch.setenv("ZUORA_CLIENT_SECRET", sim.client_secret)
    exec(compile(example, "README.md", "exec"), {})
    assert (tmp_path / "invoices.csv").read_text(encoding="utf-8").startswith("Invoice")


def _hostile_server(
    export_body: bytes,
    declared_length: int,
    expires_in: str = "3599",
    stall: float = 0.0,
    export_status: bytes = b"200 OK",
    export_headers: bytes = b"",
):
    """A loopback server that answers the token request, then an export whose body is cut
    off: `declared_length` promised, `export_body` sent, `stall` seconds of silence, then
    the connection closed."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    data = conn.recv(65536)
                    if not data:
                        break
                    request += data
                if request.startswith(b"POST /oauth/token"):
                    body = b'{"access_token":"c652cbc0ea384b9f81856a93a2a74538","expires_in":%s}' % expires_in.encode()
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    conn.sendall(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
                else:
                    head = b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\n%s" % (export_status, export_headers)
                    conn.sendall(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % declared_length + export_body)
                    if stall:
                        import time

                        time.sleep(stall)

    threading.Thread(target=serve, daemon=True).start()
    return listener, "http://127.0.0.1:%d" % listener.getsockname()[1]


def test_an_export_cut_off_is_an_error_and_leaves_no_file(tmp_path):
    text = "\ufeffName\tAmount\n" + "".join(f"row {n}\t{n}.00\n" for n in range(2000))
    body = text.encode("utf-16-le")
    listener, base_url = _hostile_server(body[: len(body) // 2], len(body))
    path = tmp_path / "cut.csv"
    try:
        with zr.Client(base_url=base_url, client_id="id", client_secret="secret") as client:
            with pytest.raises(zr.ExportBrokenError) as error:
                client.download_export(UNKNOWN_RUN, path)
        assert error.value.kind == "export_broken"
        assert not path.exists() and not list(tmp_path.iterdir())

        async def cut_async():
            async with zr.AsyncClient(base_url=base_url, client_id="id", client_secret="secret") as client:
                await client.download_export(UNKNOWN_RUN, path)

        with pytest.raises(zr.ExportBrokenError):
            asyncio.run(cut_async())
        assert not path.exists() and not list(tmp_path.iterdir())
    finally:
        listener.close()


class _Meter(io.RawIOBase):
    """A binary file that keeps only the bytes' count and the largest single write."""

    def __init__(self):
        self.total = 0
        self.largest = 0

    def writable(self):
        return True

    def write(self, data):
        self.total += len(data)
        self.largest = max(self.largest, len(data))
        return len(data)


def test_a_gzip_export_expanding_a_thousandfold_comes_out_a_batch_at_a_time():
    import gzip

    rows = 2 << 20
    body = gzip.compress(("\ufeffa\tb\n" + "x\ty\n" * rows).encode("utf-16-le"), 9)
    assert len(body) < 128 << 10
    listener, base_url = _hostile_server(body, len(body), export_headers=b"Content-Encoding: gzip\r\n")
    settings = dict(base_url=base_url, client_id="id", client_secret="secret")
    try:
        with zr.Client(**settings) as client:
            meter = _Meter()
            summary = client.download_export(UNKNOWN_RUN, meter)
        assert meter.total == summary.bytes_written == (rows + 1) * 5
        assert meter.largest <= (1 << 20) + (64 << 10), meter.largest

        async def download_async(**more):
            async with zr.AsyncClient(**settings, **more) as client:
                meter = _Meter()
                await client.download_export(UNKNOWN_RUN, meter)
                return meter

        meter = asyncio.run(download_async())
        assert meter.total == (rows + 1) * 5 and meter.largest <= (1 << 20) + (64 << 10)
        with pytest.raises(zr.ExportBrokenError, match="cap of 3000000 bytes"):
            asyncio.run(download_async(max_export_bytes=3_000_000))
        with zr.Client(**settings, max_export_bytes=3_000_000) as client:
            meter = _Meter()
            with pytest.raises(zr.ExportBrokenError, match="cap of 3000000 bytes"):
                client.download_export(UNKNOWN_RUN, meter)
            assert meter.total <= 3_000_000
    finally:
        listener.close()


def test_an_absurd_token_lifetime_is_bounded_not_a_crash(tmp_path, make_client):
    text = "\ufeffName\n" + "".join(f"row {n}\n" for n in range(10))
    body = text.encode("utf-16-le")
    listener, base_url = _hostile_server(body, len(body), expires_in="18446744073709551615")
    try:
        with make_client(base_url=base_url, client_id="id", client_secret="secret") as client:
            for _ in range(2):  # the second call takes the cached token
                out = io.BytesIO()
                client.download_export(UNKNOWN_RUN, out)
                assert out.getvalue().decode("utf-8").splitlines()[1] == "row 0"
    finally:
        listener.close()


def test_names_reprs_and_defaults_read_as_python(slow_sim, make_client):
    # Tracebacks and reprs name the package, never the native module.
    public = [zr.ZuoraError, zr.WrongViewTypeError, zr.OperationInterruptedError,
              zr.RunStarted, zr.ReportRun, zr.ReportSummary, zr.ExportSummary]
    for cls in public:
        assert cls.__module__ == "zuora_reporting", cls
    assert issubclass(zr.OperationInterruptedError, zr.ZuoraError)
    # No name shadows a builtin on `from zuora_reporting import *`.
    import builtins
    assert not hasattr(zr, "InterruptedError")
    assert not [name for name in zr.__all__ if hasattr(builtins, name)]
    with make_client(**slow_sim.kwargs()) as client:
        started = client.run_report(client.find_report("Invoice Detail").id, "Detail")
        text = repr(started)
        assert "Some(" not in text and '"' not in text, text
        assert eval(text, {"RunStarted": dict}) == {
            "report_run_id": started.report_run_id,
            "request_id": started.request_id,
            "track_id": None,
        }
        # Stopped at once by on_status: the engine's defaults (1 s first pause, an hour) apply
        # when none is given, and the stop is the package's own error, not the builtin.
        with pytest.raises(zr.OperationInterruptedError) as stopped:
            client.wait_for_run(started.report_run_id, on_status=lambda run: True)
        assert not isinstance(stopped.value, InterruptedError)
        assert type(stopped.value).__module__ == "zuora_reporting"
        run = client.get_run(started.report_run_id)
        assert repr(run) == f"ReportRun(id='{run.id}', status='{run.status}')"


def test_report_files_are_owner_only_and_keep_a_chosen_mode(sim, tmp_path, make_client):
    import os
    import stat

    path = tmp_path / "modes.csv"
    old = os.umask(0o022)
    try:
        with make_client(**sim.kwargs()) as client:
            client.run_and_download("Invoice Detail", str(path))
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            path.chmod(0o640)
            client.run_and_download("Invoice Detail", path)
            assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["modes.csv"]


def test_a_cancelled_async_download_leaves_no_file_at_once(tmp_path):
    text = "\ufeffName\tAmount\n" + "".join(f"row {n}\t{n}.00\n" for n in range(2000))
    body = text.encode("utf-16-le")
    listener, base_url = _hostile_server(body[: len(body) // 2], len(body), stall=5.0)
    path = tmp_path / "cancelled.csv"

    async def cancel_mid_download():
        async with zr.AsyncClient(base_url=base_url, client_id="id", client_secret="secret") as client:
            download = asyncio.ensure_future(client.download_export(UNKNOWN_RUN, path))
            while not any(tmp_path.iterdir()):  # the partial file is being written
                await asyncio.sleep(0.01)
            download.cancel()
            with pytest.raises(asyncio.CancelledError):
                await download
            # Removed by the time the cancellation reached us, not by the garbage collector.
            return list(tmp_path.iterdir())

    try:
        assert asyncio.run(asyncio.wait_for(cancel_mid_download(), 10)) == []
    finally:
        listener.close()


def test_an_error_answer_to_a_download_is_a_zuora_error(tmp_path, make_client):
    body = b'{"message":"Authentication error"}'
    listener, base_url = _hostile_server(body, len(body), export_status=b"401 Unauthorized")
    path = tmp_path / "refused.csv"
    try:
        with make_client(base_url=base_url, client_id="id", client_secret="secret") as client:
            with pytest.raises(zr.AuthenticationError) as error:
                client.download_export(UNKNOWN_RUN, path)
            assert error.value.status == 401
            with pytest.raises(zr.ZuoraError):
                client.run_and_download(UNKNOWN_REPORT, path)
        assert not list(tmp_path.iterdir())
    finally:
        listener.close()


def test_ctrl_c_during_a_wait_cancels_the_run_unless_told_to_keep_it(slow_sim):
    import _thread
    import threading

    with zr.Client(**slow_sim.kwargs()) as client:
        report = client.find_report("Invoice Detail")
        for keep in (False, True):
            started = client.run_report(report.id)
            threading.Timer(0.5, _thread.interrupt_main).start()
            with pytest.raises(KeyboardInterrupt):
                client.wait_for_run(started.report_run_id, cancel_on_interrupt=not keep)
            status = client.get_run(started.report_run_id).status
            assert (status == "CANCELLED") != keep, (keep, status)


def test_a_cancelled_async_wait_cancels_the_run(slow_sim):
    import asyncio

    async def scenario():
        async with zr.AsyncClient(**slow_sim.kwargs()) as client:
            report = await client.find_report("Invoice Detail")
            started = await client.run_report(report.id)
            waiting = asyncio.ensure_future(client.wait_for_run(started.report_run_id))
            await asyncio.sleep(0.5)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            return (await client.get_run(started.report_run_id)).status

    assert asyncio.run(scenario()) == "CANCELLED"


def test_a_redirect_on_the_token_request_reaches_no_other_host_even_with_a_following_client():
    import http.server
    import threading

    import httpx

    reached = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the standard library's name
            reached.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    elsewhere = http.server.HTTPServer(("127.0.0.1", 0), Elsewhere)
    target = f"http://127.0.0.1:{elsewhere.server_address[1]}/oauth/token"

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(307)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    origin = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (elsewhere, origin):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{origin.server_address[1]}"
    try:
        following = httpx.Client(follow_redirects=True)
        with zr.Client(base_url=base_url, client_id="id", client_secret="s3cr3t-value",
                       max_attempts=1, http_client=following) as client:
            with pytest.raises(zr.ZuoraError):
                client.find_report("Invoice Detail")

        async def with_async():
            async with zr.AsyncClient(base_url=base_url, client_id="id",
                                      client_secret="s3cr3t-value", max_attempts=1,
                                      http_client=httpx.AsyncClient(follow_redirects=True)) as c:
                with pytest.raises(zr.ZuoraError):
                    await c.find_report("Invoice Detail")

        asyncio.run(with_async())
        assert reached == [], "the second listener received the token request"
    finally:
        for server in (elsewhere, origin):
            server.shutdown()


def test_loopback_requests_never_go_through_the_environments_proxy(sim, monkeypatch):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    reached = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            reached.append(connection.recv(1024))
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    try:
        with zr.Client(**sim.kwargs()) as client:
            assert client.find_report("Invoice Detail").name == "Invoice Detail"

        async def with_async():
            async with zr.AsyncClient(**sim.kwargs()) as client:
                return await client.find_report("Invoice Detail")

        assert asyncio.run(with_async()).name == "Invoice Detail"
        assert reached == [], "the proxy saw a request"
    finally:
        listener.close()


@pytest.mark.parametrize("trickle", ["head", "body"])
def test_an_answer_trickling_a_byte_a_second_ends_at_the_attempt_timeout(make_client, trickle):
    import socket
    import threading
    import time

    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            try:
                if trickle == "body":
                    connection.sendall(head)
                for byte in (head if trickle == "head" else b" " * 100):
                    connection.sendall(bytes([byte]))
                    time.sleep(1)
            except OSError:
                pass
            finally:
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    started = time.monotonic()
    try:
        with make_client(base_url=base_url, client_id="id", client_secret="secret",
                         attempt_timeout=5, max_attempts=1) as client:
            with pytest.raises(zr.TimedOutError) as raised:
                client.find_report("Invoice Detail")
        assert isinstance(raised.value, zr.TransportError)
        assert time.monotonic() - started < 10
    finally:
        listener.close()


def test_http2_header_logs_never_show_a_credential(caplog):
    import logging

    import zuora_reporting  # noqa: F401 - installs the filters

    with caplog.at_level(logging.DEBUG):
        for name in ("hpack.hpack", "hpack.table", "h2.connection"):
            logger = logging.getLogger(name)
            logger.debug("Encoding %s", (b"authorization", b"Bearer c652cbc0ea384b9f81856a93a2a74538"))
            logger.debug("Adding %s to the header table", (b"content-type", b"application/json"))
    shown = caplog.text
    assert "c652cbc0ea384b9f81856a93a2a74538" not in shown
    assert "content-type" in shown, "other headers are still logged"


def test_import_and_client_load_no_http_stack_until_the_first_call(sim):
    """Issue 24, item 3: `import zuora_reporting` and `Client()` import neither httpx nor
    asyncio (nor build a TLS context); the first call does. (`cargo xtask bench python`
    measures the times.)"""
    import subprocess
    import sys

    script = (
        "import sys, zuora_reporting as zr\n"
        "c = zr.Client(**%r)\n"
        "print(sorted(m for m in ('httpx', 'asyncio', 'ssl', 'concurrent.futures') if m in sys.modules))\n"
        "c.search_reports('Invoice')\n"
        "print('httpx' in sys.modules, 'asyncio' in sys.modules)\n"
        "c.close()\n"
    ) % (sim.kwargs(),)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "True False"]
