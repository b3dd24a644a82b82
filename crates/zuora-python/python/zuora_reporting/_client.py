"""The drivers: `Client` (httpx.Client) and `AsyncClient` (httpx.AsyncClient).

Both walk the engine's tasks with the one flow (`_flows.drive`); a driver only performs the
effects it yields: it sends, sleeps and reads bodies. Token caching and its single-flight
fetch are the engine's. The public methods are written once, in `_Api`: on `Client` they
return the result, on `AsyncClient` an awaitable of it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import IO, TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator, Mapping, Optional, Union

from . import _flows, _native
from ._lazy import Lazy
from ._native import ReportRun

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures as futures
    import logging

    import httpx
else:
    # Loaded at first use (see `_lazy`): `import zuora_reporting` and `Client()` stay fast.
    asyncio = Lazy("asyncio")
    futures = Lazy("concurrent.futures")
    httpx = Lazy("httpx")
    logging = Lazy("logging")

__all__ = ["Client", "AsyncClient"]

Destination = Union[str, "os.PathLike[str]", IO[bytes]]
OnStatus = Callable[[ReportRun], Optional[bool]]
ColumnTypes = Optional[Mapping[str, str]]

#: The formats of a typed table (`Table.write_to`); the others are the export's text.
TABLE_FORMATS = ("parquet", "arrow", "jsonl")


def _spool(locale: str, columns: ColumnTypes) -> _native.TableSpool:
    """A table spool; bad locale or column types raise `InvalidInputError` here, before
    anything is sent."""
    return _native.TableSpool(locale, list((columns or {}).items()))


def _next_rows(rows: _native.TableRows, most: int = 4096) -> list:
    """Up to `most` rows of a table (an empty list at its end): what the async client reads
    on a worker thread, so the spool's reads never hold up the event loop."""
    return [row for _, row in zip(range(most), rows)]


class _Secret:
    """A secret whose `repr` is redacted: what error reporters that capture frame locals
    (Sentry, rich tracebacks, `cgitb`) see of it in this package's frames."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "[redacted]"

    __str__ = __repr__

    def reveal(self) -> str:
        return self._value


def _engine(**settings: Any) -> _native.Engine:
    """The engine from keyword arguments, the `ZUORA_*` variables filling what is missing.
    `os.environ` is never bound to a local here, and the secret travels wrapped until the
    native call: a failure's frame locals show neither."""
    if settings.get("base_url") is None and settings.get("environment") is None:
        if os.environ.get("ZUORA_BASE_URL"):
            settings["base_url"] = os.environ["ZUORA_BASE_URL"]
        elif os.environ.get("ZUORA_ENVIRONMENT"):
            settings["environment"] = os.environ["ZUORA_ENVIRONMENT"]
    for key, var in (
        ("client_id", "ZUORA_CLIENT_ID"),
        ("client_secret", "ZUORA_CLIENT_SECRET"),
        ("entity_ids", "ZUORA_ENTITY_IDS"),
    ):
        if settings.get(key) is None and os.environ.get(var):
            settings[key] = (
                _Secret(os.environ[var]) if key == "client_secret" else os.environ[var]
            )
    settings.setdefault("client_id", "")
    secret = settings.pop("client_secret", None)
    if not isinstance(secret, _Secret):
        secret = _Secret(secret or "")
    return _native.Engine(
        client_secret=secret.reveal(),
        **{k: v for k, v in settings.items() if v is not None},
    )


def _request(http, engine: _native.Engine, task: _native.Task) -> httpx.Request:
    """The task's request, with its timeouts: connect, and the attempt (or, for an export's
    body, the longest silence between two reads)."""
    read = task.idle_timeout if task.idle_timeout is not None else task.timeout
    timeout = httpx.Timeout(task.timeout, connect=engine.connect_timeout, read=read)
    return http.build_request(
        task.method, task.url, headers=task.headers, content=task.body, timeout=timeout
    )


def _failed(error: httpx.HTTPError, after_head: bool = False):
    """How the engine classifies an httpx failure."""
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)) and not after_head:
        kind = "timeout" if isinstance(error, httpx.ConnectTimeout) else "connect"
        return ("failed", kind, False, str(error))
    kind = "timeout" if isinstance(error, httpx.TimeoutException) else "io"
    return ("failed", kind, True, str(error))


class _NoCredentials:
    """A logging filter that drops a record that would show a credential. HTTP/2's header
    coder (hpack, used by an httpx client made with ``http2=True``) logs every header it
    encodes at DEBUG, the bearer token included; this package's own requests carry the token
    and, once, the client secret. (Any object with `filter` is a filter to `logging`.)"""

    WORDS = ("authorization", "bearer ", "client_secret", "access_token")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage().lower()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted shows nothing
            return False
        return not any(word in text for word in self.WORDS)


_NO_CREDENTIALS = _NoCredentials()
_FILTERED: list = []


def _http_client(kind: str, engine: _native.Engine) -> Any:
    """The driver's own httpx client (``"Client"`` or ``"AsyncClient"``), made at the first
    request: redirects off, no proxy for loopback, and no TLS context at all for an
    ``http://`` (loopback) base URL; otherwise one context shared by every client of the
    process (building one costs about 20 ms). Installs the credentials filter on the HTTP/2
    loggers once, before anything is logged."""
    if not _FILTERED:
        for name in ("hpack", "hpack.hpack", "hpack.table", "h2", "h2.connection", "httpcore.http2"):
            logging.getLogger(name).addFilter(_NO_CREDENTIALS)
        _FILTERED.append(True)
    plain = engine.base_url.startswith("http://")
    return getattr(httpx, kind)(
        follow_redirects=False,
        trust_env=not engine.is_loopback,
        verify=False if plain else _ssl_context(),
    )


_SSL_CONTEXT: list = []


def _ssl_context() -> Any:
    """httpx's default TLS context (certifi's roots), built once per process."""
    if not _SSL_CONTEXT:
        _SSL_CONTEXT.append(httpx.create_ssl_context())
    return _SSL_CONTEXT[0]


def _deadline(task: _native.Task) -> Optional[float]:
    """When the attempt must be over, on the monotonic clock: httpx's timeouts are per phase
    and per read, so a server sending one byte a second would hold an attempt forever. The
    attempt timeout bounds the whole attempt (for a streamed export, its head: the body is
    bounded by idleness and the engine's low-speed rule instead), as in the Rust drivers."""
    return None if task.timeout is None else time.monotonic() + task.timeout


def _late(what: str):
    """The engine's words for an attempt past its deadline."""
    return ("failed", "timeout", True, f"{what} took longer than the attempt timeout")


class _Sending:
    """One send of the sync client on a daemon thread of its own, so the caller's thread can
    give up on a head that never completes (httpx's sync API has no total deadline) and a
    process never waits at exit for a send a hostile server holds open. A send given up on
    closes its answer when it comes."""

    def __init__(self, send: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._outcome: Any = None
        self._error: Optional[BaseException] = None
        threading.Thread(
            target=self._run, args=(send, args, kwargs), name="zuora-send", daemon=True
        ).start()

    def _run(self, send: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            outcome, error = send(*args, **kwargs), None
        except BaseException as failure:  # noqa: BLE001 - handed to the waiting thread
            outcome, error = None, failure
        with self._lock:
            if self._abandoned:
                if outcome is not None:
                    outcome.close()
                return
            self._outcome, self._error = outcome, error
            self._done.set()

    def result(self, timeout: Optional[float]) -> Any:
        """The answer, or `futures.TimeoutError` once `timeout` has passed (the send abandoned)."""
        if not self._done.wait(timeout):
            with self._lock:
                if not self._done.is_set():
                    self._abandoned = True
                    raise futures.TimeoutError
        if self._error is not None:
            raise self._error
        return self._outcome


def _error_of(future: Any) -> Optional[str]:
    """A spawned flow's failure as text for the engine (None when it ended well)."""
    if future.cancelled():
        return "cancelled"
    error = future.exception()
    return None if error is None else f"{type(error).__name__}: {error}"


class _Api:
    """The public methods, each one flow; `_run` is the driver's."""

    _engine: _native.Engine

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        environment: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        entity_ids: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        attempt_timeout: Optional[float] = None,
        overall_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
        user_agent: Optional[str] = None,
        max_export_bytes: Optional[int] = None,
        http_client: Any = None,
    ) -> None:
        if client_secret is not None:
            client_secret = _Secret(client_secret)  # type: ignore[assignment]
        self._engine = _engine(
            base_url=base_url,
            environment=environment,
            client_id=client_id,
            client_secret=client_secret,
            entity_ids=entity_ids,
            connect_timeout=connect_timeout,
            attempt_timeout=attempt_timeout,
            overall_timeout=overall_timeout,
            idle_timeout=idle_timeout,
            max_attempts=max_attempts,
            user_agent=user_agent,
            max_export_bytes=max_export_bytes,
        )
        self._connect(http_client)

    def _connect(self, http_client: Any) -> None:  # pragma: no cover - each driver's own
        raise NotImplementedError

    def _run(self, flow: _flows.Flow) -> Any:  # pragma: no cover - each driver's own
        raise NotImplementedError

    def __repr__(self) -> str:
        engine = getattr(self, "_engine", None)  # None while __init__ has not finished
        return f"{type(self).__name__}(base_url={engine.base_url if engine else None!r})"

    def _do(self, task: _native.Task) -> Any:
        return self._run(_flows.drive(task))

    def run_report(
        self,
        report_id: str,
        view_type: str = "Detail",
        *,
        track_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        filters: Optional[str] = None,
    ):
        """*Run a report*: starts a run of `report_id` (`view_type` ``"Detail"`` or
        ``"Summary"``); returns a `RunStarted`. `filters` is the filter groups as JSON.
        Every attempt sends one idempotency key, so a retry never starts a second run."""
        return self._do(
            self._engine.run_report(
                report_id,
                view_type,
                track_id=track_id,
                idempotency_key=idempotency_key,
                filters=filters,
            )
        )

    def get_run(self, run_id: str):
        """*Retrieve a report run*: a `ReportRun`."""
        return self._do(self._engine.get_run(run_id))

    def latest_run(self, report_id: str):
        """The caller's last completed run of a report: a `ReportRun`."""
        return self._do(self._engine.latest_run(report_id))

    def cancel_run(self, run_id: str):
        """Cancels a run in progress; returns Zuora's message."""
        return self._do(self._engine.cancel_run(run_id))

    def search_reports(self, query: str):
        """Every report (`ReportSummary`) whose name, data source or description matches
        `query`, all pages."""
        return self._do(self._engine.search(query))

    def find_report(self, name: str):
        """The one report (`ReportSummary`) named exactly `name`."""
        return self._do(self._engine.find_report(name))

    def wait_for_run(
        self,
        run_id: str,
        *,
        timeout: Optional[float] = None,
        cancel_on_timeout: bool = False,
        poll_first: Optional[float] = None,
        poll_max: Optional[float] = None,
        on_status: Optional[OnStatus] = None,
        cancel_on_interrupt: bool = True,
    ):
        """Waits until the run completes; returns the `ReportRun`. `on_status(run)` sees
        every status; returning ``True`` stops the wait (`OperationInterruptedError`). The timeout
        bounds every look, one in flight too. Left out, `timeout` (one hour), `poll_first`
        (1 s) and `poll_max` (30 s) are the engine's defaults, the Rust clients' too. Ctrl-C
        (or cancelling the `AsyncClient`'s task) cancels the run on Zuora before it is raised,
        as the CLI does; ``cancel_on_interrupt=False`` leaves the run going."""
        task = self._engine.wait(
            run_id,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            poll_first=poll_first,
            poll_max=poll_max,
            observe=on_status is not None,
        )
        return self._run(
            _flows.drive(task, on_status=on_status, cancel_on_stop=cancel_on_timeout,
                         cancel_on_interrupt=cancel_on_interrupt)
        )

    def download_export(self, run_id: str, destination: Destination, *, format: str = "csv",
                        locale: str = "en-US", columns: ColumnTypes = None):
        """Streams a completed run's export into `destination` (a path, or a binary file),
        converted to `format` as it arrives: ``"csv"``, ``"tsv"`` or ``"raw"`` UTF-16 text,
        or a typed table (``"parquet"``, ``"arrow"``, ``"jsonl"``; see `export_table` for
        `locale` and `columns`). Returns an `ExportSummary`. A path is written through a
        temporary file beside it, renamed on success: a download that breaks off leaves
        nothing behind. A new file is owner-only (0600); an existing one keeps its mode."""
        flow_for, format = self._typed_or_text(format, locale, columns)
        task = self._engine.download(run_id, format)
        return self._run(_flows.to_destination(flow_for(lambda out: _flows.drive(task, out)), destination))

    def export_table(self, run_id: str, *, locale: str = "en-US", columns: ColumnTypes = None):
        """A completed run's export as a typed `Table`: each column gets the narrowest type
        that fits every value of the whole export (integer, exact decimal, date, timestamp
        in the tenant's time, boolean, else text). Numbers are read as `locale` writes them
        (``"en-US"``, Zuora's default; ``"de-DE"``; ``"fr-FR"``); `columns` sets a column's
        type by its label (``{"Invoice: Amount": "decimal(18,2)"}``); a value that does not
        fit it raises `TableValueError` naming row, column and value. The table is an Arrow
        stream: ``pyarrow.table(t)``, ``polars.DataFrame(t)``, ``pandas.DataFrame.from_arrow(t)``
        and DuckDB read it without a copy through Python."""
        spool = _spool(locale, columns)
        task = self._engine.download(run_id, "tsv")
        return self._run(_flows.table(lambda out: _flows.drive(task, out), spool))

    def run_and_download(
        self,
        report: str,
        destination: Destination,
        *,
        view_type: str = "Detail",
        format: str = "csv",
        track_id: Optional[str] = None,
        timeout: Optional[float] = None,
        locale: str = "en-US",
        columns: ColumnTypes = None,
    ):
        """The whole trip: `report` is an id (32 hex digits) or an exact name; returns the
        download's `ExportSummary`. `format`, `locale` and `columns` as for
        `download_export`."""
        flow_for, format = self._typed_or_text(format, locale, columns)
        task = self._engine.trip(
            report, view_type=view_type, format=format, track_id=track_id, timeout=timeout
        )

        def summary(out: Any) -> _flows.Flow:
            _run, export = yield from _flows.drive(task, out)
            return export

        return self._run(_flows.to_destination(flow_for(summary), destination))

    def pull(self, jobs: Union[str, "os.PathLike[str]"], *,
             on_event: Optional[Callable[[dict], Any]] = None):
        """Pulls what the jobs file says (TOML; see the README): every report's date windows
        since the last pull, each run once (an idempotency key per window, stable across
        reruns), at most its ``concurrency`` at once, each window's file renamed into place
        before the state file records it; a window too big is split. `on_event(dict)` sees
        each event. Returns the summary: ``{"reports": [...], "interrupted": bool}``, one
        line per report with ``windows``, ``done``, ``failed``, ``rows``, ``bytes``. A bad
        jobs file raises `InvalidInputError` (file, line, key) before anything is sent.
        Ctrl-C (or cancelling the task) stops it cleanly: runs in flight are cancelled."""
        native = _native.Pull(os.fspath(jobs))
        return self._run_pull(_flows.pull(native, self._engine, on_event), native)

    def _run_pull(self, flow: _flows.Flow, native: _native.Pull) -> Any:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _typed_or_text(format: str, locale: str, columns: ColumnTypes):
        """For a table format: a wrapper making a download's flow write the typed table, and
        the text format the download itself takes (TSV); otherwise no wrapper."""
        if format not in TABLE_FORMATS:
            return (lambda flow_for: flow_for), format
        spool = _spool(locale, columns)
        return (lambda flow_for: _flows.as_table(flow_for, spool, format)), "tsv"


class Client(_Api):
    """A synchronous Zuora Reporting client on httpx.

    Give `base_url` (a Zuora REST host, or zuora-sim's URL) or `environment` (such as
    ``"us-cloud-2-api-sandbox"``), `client_id` and `client_secret`; any left out come from
    ``ZUORA_BASE_URL`` / ``ZUORA_ENVIRONMENT``, ``ZUORA_CLIENT_ID``, ``ZUORA_CLIENT_SECRET``
    (and ``ZUORA_ENTITY_IDS``), as for the ``zuora-report`` CLI. Timeouts are in seconds;
    zero or absurd values raise `InvalidInputError`. Thread-safe; close it (or use it as a
    context manager) to release its connections. `http_client` is your own `httpx.Client`
    (redirects must stay off: they are never followed).
    """

    def _connect(self, http_client: Optional[httpx.Client]) -> None:
        self._own_http = http_client
        self._making = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        if self._own_http is None:
            with self._making:
                if self._own_http is None:
                    self._own_http = _http_client("Client", self._engine)
        return self._own_http

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the HTTP connections."""
        if self._own_http is not None:
            self._own_http.close()

    def rows(self, run_id: str, page_size: int = 1000, *, typed: bool = False,
             locale: str = "en-US", columns: ColumnTypes = None) -> Iterator[dict]:
        """Every row of a completed run as a dict of field id to value (Zuora's text), a
        page at a time. With ``typed=True`` the rows come from the typed table of the run's
        export instead (see `export_table`): dicts of column label to ``Decimal``, ``int``,
        ``bool``, ``date``, ``datetime`` (naive, the tenant's time), ``str`` or ``None``."""
        if typed:
            yield from self.export_table(run_id, locale=locale, columns=columns).rows()
            return
        task = self._engine.rows(run_id, page_size)
        while isinstance(rows := self._run(_flows.drive(task)), list):
            yield from rows
            task.resume()

    def _run(self, flow: _flows.Flow) -> Any:
        bodies: dict = {}  # the streamed answers this flow has open
        try:
            effect = next(flow)
            while True:
                try:
                    outcome = self._perform(effect, bodies)
                except KeyboardInterrupt as stop:
                    # Into the flow: its task stops (cancelling its run) and raises it again.
                    effect = flow.throw(stop)
                    continue
                effect = flow.send(outcome)
        except StopIteration as done:
            return done.value
        finally:
            # Closed here, not by the garbage collector: an interrupt's cleanup (a partial
            # file removed) happens before this call returns.
            flow.close()
            for response, *_ in bodies.values():
                response.close()

    def _run_pull(self, flow: _flows.Flow, native: _native.Pull) -> Any:
        """Each spawned flow on a worker thread; Ctrl-C stops the pull (its runs cancelled)
        and the summary says so."""
        with futures.ThreadPoolExecutor(max_workers=native.concurrency) as pool:
            running: dict = {}
            try:
                effect = next(flow)
                while True:
                    if isinstance(effect, _flows.Spawn):
                        running[pool.submit(self._run, effect.flow)] = effect.key
                        effect = flow.send(None)
                        continue
                    try:
                        ended, _ = futures.wait(running, effect.seconds, futures.FIRST_COMPLETED)
                    except KeyboardInterrupt:
                        native.interrupt()
                        ended = set()
                    effect = flow.send([(running.pop(f), _error_of(f)) for f in ended])
            except StopIteration as done:
                return done.value

    def _perform(self, effect: Any, bodies: dict) -> Any:
        if isinstance(effect, _flows.Send):
            return self._send(effect, bodies)
        if isinstance(effect, _flows.Sleep):
            return time.sleep(effect.seconds)
        return self._read_chunk(effect.response, bodies)

    def _send(self, effect: _flows.Send, bodies: dict) -> Any:
        request = _request(self._http, self._engine, effect.task)
        deadline = _deadline(effect.task)
        # Never a redirect, whatever the caller's own client says: a 307 on the token
        # request would replay the client secret to another host.
        sending = _Sending(self._http.send, request, stream=True, follow_redirects=False)
        try:
            budget = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            response = sending.result(budget)
        except futures.TimeoutError:
            return _late("the answer's head")
        except httpx.HTTPError as error:
            return _failed(error)
        whole = effect.task.idle_timeout is None
        bodies[id(response)] = (response, response.iter_raw(), deadline if whole else None)
        return ("head", response)

    @staticmethod
    def _read_chunk(response: httpx.Response, bodies: dict) -> Any:
        _, chunks, deadline = bodies[id(response)]
        try:
            if deadline is not None and time.monotonic() > deadline:
                chunk = _late("the answer")
            else:
                chunk = next(chunks, None)
        except httpx.HTTPError as error:
            chunk = _failed(error, after_head=True)
        if chunk is None or isinstance(chunk, tuple):
            bodies.pop(id(response), None)
            response.close()
        return chunk


class AsyncClient(_Api):
    """An asyncio Zuora Reporting client on httpx: `Client`'s API and settings (with your
    own `httpx.AsyncClient` as `http_client`), each method returning an awaitable (`rows` is
    an async iterator)."""

    def _connect(self, http_client: Optional[httpx.AsyncClient]) -> None:
        self._own_http = http_client

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._own_http is None:  # no await between the test and the set: no race
            self._own_http = _http_client("AsyncClient", self._engine)
        return self._own_http

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the HTTP connections."""
        if self._own_http is not None:
            await self._own_http.aclose()

    async def rows(self, run_id: str, page_size: int = 1000, *, typed: bool = False,
                   locale: str = "en-US", columns: ColumnTypes = None) -> AsyncIterator[dict]:
        """Every row of a completed run as a dict, a page at a time; ``typed=True`` as
        `Client.rows` (each batch of the table is read off the event loop's thread)."""
        if typed:
            table = await self.export_table(run_id, locale=locale, columns=columns)
            rows = table.rows()
            while (batch := await asyncio.to_thread(_next_rows, rows)):
                for row in batch:
                    yield row
            return
        task = self._engine.rows(run_id, page_size)
        while isinstance(rows := await self._run(_flows.drive(task)), list):
            for row in rows:
                yield row
            task.resume()

    async def _run(self, flow: _flows.Flow) -> Any:
        bodies: dict = {}  # the streamed answers this flow has open
        try:
            effect = next(flow)
            while True:
                try:
                    outcome = await self._perform(effect, bodies)
                except asyncio.CancelledError as stop:
                    # Into the flow: its task stops (cancelling its run) and raises it again.
                    effect = flow.throw(stop)
                    continue
                effect = flow.send(outcome)
        except StopIteration as done:
            return done.value
        finally:
            # Closed here, not by the garbage collector: a cancelled task's cleanup (a partial
            # file removed) happens before the cancellation reaches the caller.
            flow.close()
            for response, *_ in bodies.values():
                await response.aclose()

    async def _run_pull(self, flow: _flows.Flow, native: _native.Pull) -> Any:
        """Each spawned flow as an asyncio task; cancelling this stops the pull (its runs
        cancelled, the state consistent) and then re-raises the cancellation."""
        running: dict = {}
        cancelled = False
        try:
            effect = next(flow)
            while True:
                if isinstance(effect, _flows.Spawn):
                    running[asyncio.ensure_future(self._run(effect.flow))] = effect.key
                    effect = flow.send(None)
                    continue
                try:
                    ended, _ = await asyncio.wait(
                        running, timeout=effect.seconds, return_when=asyncio.FIRST_COMPLETED
                    )
                except asyncio.CancelledError:
                    native.interrupt()
                    cancelled, ended = True, set()
                effect = flow.send([(running.pop(f), _error_of(f)) for f in ended])
        except StopIteration as done:
            if cancelled:
                raise asyncio.CancelledError
            return done.value

    async def _perform(self, effect: Any, bodies: dict) -> Any:
        if isinstance(effect, _flows.Send):
            return await self._send(effect, bodies)
        if isinstance(effect, _flows.Sleep):
            return await asyncio.sleep(effect.seconds)
        return await self._read_chunk(effect.response, bodies)

    async def _send(self, effect: _flows.Send, bodies: dict) -> Any:
        request = _request(self._http, self._engine, effect.task)
        deadline = _deadline(effect.task)
        budget = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            # Never a redirect, whatever the caller's own client says (see `Client._send`).
            sending = self._http.send(request, stream=True, follow_redirects=False)
            response = await asyncio.wait_for(sending, budget)
        except asyncio.TimeoutError:
            return _late("the answer's head")
        except httpx.HTTPError as error:
            return _failed(error)
        whole = effect.task.idle_timeout is None
        bodies[id(response)] = (response, response.aiter_raw(), deadline if whole else None)
        return ("head", response)

    @staticmethod
    async def _read_chunk(response: httpx.Response, bodies: dict) -> Any:
        _, chunks, deadline = bodies[id(response)]
        budget = None if deadline is None else deadline - time.monotonic()
        try:
            if budget is not None and budget <= 0:
                chunk = _late("the answer")
            else:
                chunk = await asyncio.wait_for(chunks.__anext__(), budget)
        except asyncio.TimeoutError:
            chunk = _late("the answer")
        except StopAsyncIteration:
            chunk = None
        except httpx.HTTPError as error:
            chunk = _failed(error, after_head=True)
        if chunk is None or isinstance(chunk, tuple):
            bodies.pop(id(response), None)
            await response.aclose()
        return chunk
