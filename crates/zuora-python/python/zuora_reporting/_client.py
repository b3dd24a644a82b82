"""The drivers: `Client` (httpx.Client) and `AsyncClient` (httpx.AsyncClient).

They send what the engine asks, sleep when it says, and hand back what happened. Every
decision (validation, retries, idempotency keys, token caching, waiting, paging, export
conversion) is the Rust engine's, shared with zuora-rs's Rust transports.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import IO, AsyncIterator, Callable, Iterator, List, Optional, Union

import httpx

from . import _native
from ._native import ExportSummary, ReportRun, ReportSummary, RunStarted

__all__ = ["Client", "AsyncClient"]

Destination = Union[str, "os.PathLike[str]", IO[bytes]]
OnStatus = Callable[[ReportRun], Optional[bool]]


def _engine(kwargs: dict) -> _native.Engine:
    """The engine from keyword arguments, the `ZUORA_*` variables filling what is missing."""
    env = os.environ
    if kwargs.get("base_url") is None and kwargs.get("environment") is None:
        if env.get("ZUORA_BASE_URL"):
            kwargs["base_url"] = env["ZUORA_BASE_URL"]
        elif env.get("ZUORA_ENVIRONMENT"):
            kwargs["environment"] = env["ZUORA_ENVIRONMENT"]
    for key, var in (("client_id", "ZUORA_CLIENT_ID"), ("client_secret", "ZUORA_CLIENT_SECRET")):
        if kwargs.get(key) is None:
            kwargs[key] = env.get(var, "")
    if kwargs.get("entity_ids") is None and env.get("ZUORA_ENTITY_IDS"):
        kwargs["entity_ids"] = env["ZUORA_ENTITY_IDS"]
    return _native.Engine(**{k: v for k, v in kwargs.items() if v is not None})


def _timeout(engine: _native.Engine, step: _native.Step) -> httpx.Timeout:
    """The attempt's timeouts: connect, and the attempt (or, for an export's body, the
    longest silence between two reads)."""
    whole = step.timeout
    read = step.idle_timeout if step.idle_timeout is not None else whole
    return httpx.Timeout(whole, connect=engine.connect_timeout, read=read)


def _request(client: Union[httpx.Client, httpx.AsyncClient], engine, step) -> httpx.Request:
    return client.build_request(
        step.method,
        step.url,
        headers=step.headers,
        content=step.body,
        timeout=_timeout(engine, step),
    )


def _transport_failure(error: httpx.HTTPError):
    """How the engine classifies an httpx failure: (kind, may the request have been sent)."""
    if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
        return ("timeout" if isinstance(error, httpx.ConnectTimeout) else "connect", False)
    if isinstance(error, httpx.TimeoutException):
        return ("timeout", True)
    return ("io", True)


def _open(destination: Destination):
    """A binary file to write to, a temporary path to rename on success, and the final path."""
    if hasattr(destination, "write"):
        return destination, None, None
    final = Path(destination)
    partial = final.with_name(final.name + ".partial")
    return open(partial, "wb"), partial, final


class Client:
    """A synchronous Zuora Reporting client on httpx.

    Give `base_url` (a Zuora REST host, or zuora-sim's URL) or `environment` (such as
    ``"us-cloud-2-api-sandbox"``), `client_id` and `client_secret`; any left out come from
    ``ZUORA_BASE_URL`` / ``ZUORA_ENVIRONMENT``, ``ZUORA_CLIENT_ID``, ``ZUORA_CLIENT_SECRET``
    (and ``ZUORA_ENTITY_IDS``). Timeouts are in seconds. Thread-safe; close it (or use it as
    a context manager) to release its connections.
    """

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
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        self._engine = _engine(
            dict(
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
            )
        )
        self._http = http_client or httpx.Client(follow_redirects=False)
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Client(base_url={self._engine.base_url!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes the HTTP connections."""
        self._http.close()

    # The driver loop.

    def _drive(self, call: _native.Call, stream: bool = False):
        """Runs a call to its end: its `done` step (or, for an export, the open answer)."""
        step = call.start()
        while True:
            if step.kind == "token":
                stale = call.stale_token() if step.refresh else None
                step = call.with_token(self._token(stale))
            elif step.kind == "send":
                request = _request(self._http, self._engine, step)
                try:
                    response = self._http.send(request, stream=True)
                except httpx.HTTPError as error:
                    kind, sent = _transport_failure(error)
                    step = call.on_transport_error(kind, sent, str(error))
                    continue
                if stream:
                    limit = self._engine.export_head(response.status_code)
                    if limit is None:
                        return response
                else:
                    limit = self._engine.max_body
                try:
                    body = self._read(response, limit)
                except httpx.HTTPError as error:
                    kind, sent = _transport_failure(error)
                    step = call.on_transport_error(kind, True, str(error))
                    continue
                step = call.on_response(response.status_code, response.headers.raw, body)
            elif step.kind == "wait":
                time.sleep(step.delay)
                step = call.resume()
            else:
                return step

    @staticmethod
    def _read(response: httpx.Response, limit: int) -> bytes:
        """The raw body (not decompressed: the engine decodes), one byte past `limit` at most."""
        body = bytearray()
        try:
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > limit:
                    break
        finally:
            response.close()
        return bytes(body)

    def _token(self, stale: Optional[_native.Token]) -> _native.Token:
        """The cached token or a new one, one fetch at a time."""
        with self._token_lock:
            token = self._engine.cached_token(stale)
            if token is not None:
                return token
            started = time.monotonic()
            token = self._drive(self._engine.token()).result
            self._engine.store_token(token, time.monotonic() - started)
            return token

    def _result(self, call: _native.Call):
        return self._drive(call).result

    # The API.

    def run_report(
        self,
        report_id: str,
        view_type: str = "Detail",
        *,
        track_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        filters: Optional[str] = None,
    ) -> RunStarted:
        """*Run a report*: starts a run of `report_id` (`view_type` ``"Detail"`` or
        ``"Summary"``). `filters` is the filter groups as JSON. Every attempt sends one
        idempotency key, so a retry never starts a second run."""
        call = self._engine.run_report(
            report_id,
            view_type,
            track_id=track_id,
            idempotency_key=idempotency_key,
            filters=filters,
        )
        return self._result(call)

    def get_run(self, run_id: str) -> ReportRun:
        """*Retrieve a report run*."""
        return self._result(self._engine.get_run(run_id))

    def latest_run(self, report_id: str) -> ReportRun:
        """The caller's last completed run of a report."""
        return self._result(self._engine.latest_run(report_id))

    def cancel_run(self, run_id: str) -> str:
        """Cancels a run in progress; Zuora's message."""
        return self._result(self._engine.cancel_run(run_id))

    def search_reports(self, query: str) -> List[ReportSummary]:
        """Every report whose name, data source or description matches `query`."""
        search = self._engine.search(query)
        while (call := search.next_call()) is not None:
            search.on_page(self._result(call))
        return search.reports()

    def find_report(self, name: str) -> ReportSummary:
        """The one report named exactly `name`."""
        search = self._engine.search(name)
        while (call := search.next_call()) is not None:
            search.on_page(self._result(call))
        return search.exactly(name)

    def wait_for_run(
        self,
        run_id: str,
        *,
        timeout: float = 3600.0,
        cancel_on_timeout: bool = False,
        poll_first: float = 1.0,
        poll_max: float = 30.0,
        on_status: Optional[OnStatus] = None,
    ) -> ReportRun:
        """Waits until the run completes. `on_status(run)` sees every status; returning
        ``True`` stops the wait (`InterruptedError`). The timeout bounds every look."""
        wait = self._engine.wait(
            run_id,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            poll_first=poll_first,
            poll_max=poll_max,
        )
        step = wait.start()
        while True:
            if step.kind == "look":
                look = self._drive(wait.look_call(step.seconds))
                stop = bool(on_status(look.result)) if on_status and look.ok else False
                step = wait.on_look(look, stop=stop, cancel=stop and cancel_on_timeout)
            elif step.kind == "sleep":
                time.sleep(step.seconds)
                step = wait.after_sleep()
            elif step.kind == "cancel":
                cancel = self._drive(wait.cancel_call(step.seconds))
                step = wait.on_cancelled(cancel.ok)
            else:
                return step.result

    def rows(self, run_id: str, page_size: int = 1000) -> Iterator[dict]:
        """Every row of a completed run, as a dict of field id to value, a page at a time."""
        import json

        pages = self._engine.rows(run_id, page_size)
        while (call := pages.next_call()) is not None:
            yield from json.loads(pages.on_page(self._result(call)))

    def download_export(
        self, run_id: str, destination: Destination, *, format: str = "csv"
    ) -> ExportSummary:
        """Streams a completed run's export into `destination` (a path, or a binary file),
        converted to `format` (``"csv"``, ``"tsv"`` or ``"raw"`` UTF-16) as it arrives. A
        path is written to ``<path>.partial`` and renamed on success: a download that breaks
        off leaves nothing behind."""
        response = self._drive(self._engine.export(run_id, format), stream=True)
        download = self._engine.download(response.status_code, response.headers.raw, format)
        out, partial, final = _open(destination)
        try:
            try:
                for chunk in response.iter_raw():
                    out.write(download.feed(chunk))
            except httpx.HTTPError as error:
                stalled = isinstance(error, httpx.TimeoutException)
                raise download.broken(str(error), stalled) from None
            finally:
                response.close()
            rest, summary = download.finish()
            out.write(rest)
        except BaseException:
            if partial is not None:
                out.close()
                partial.unlink(missing_ok=True)
            raise
        if partial is not None:
            out.close()
            os.replace(partial, final)
        return summary

    def run_and_download(
        self,
        report: str,
        destination: Destination,
        *,
        view_type: str = "Detail",
        format: str = "csv",
        track_id: Optional[str] = None,
        timeout: float = 3600.0,
    ) -> ExportSummary:
        """The whole trip: `report` is an id (32 hex digits) or an exact name."""
        report_id = report if _looks_like_id(report) else self.find_report(report).id
        started = self.run_report(report_id, view_type, track_id=track_id)
        run = self.wait_for_run(started.report_run_id, timeout=timeout)
        return self.download_export(run.id, destination, format=format)


def _looks_like_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text)


class AsyncClient:
    """An asyncio Zuora Reporting client on httpx: `Client`'s API, with ``await``."""

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
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self._engine = _engine(
            dict(
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
            )
        )
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self._engine.base_url!r})"

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Closes the HTTP connections."""
        await self._http.aclose()

    async def _drive(self, call: _native.Call, stream: bool = False):
        step = call.start()
        while True:
            if step.kind == "token":
                stale = call.stale_token() if step.refresh else None
                step = call.with_token(await self._token(stale))
            elif step.kind == "send":
                request = _request(self._http, self._engine, step)
                try:
                    response = await self._http.send(request, stream=True)
                except httpx.HTTPError as error:
                    kind, sent = _transport_failure(error)
                    step = call.on_transport_error(kind, sent, str(error))
                    continue
                if stream:
                    limit = self._engine.export_head(response.status_code)
                    if limit is None:
                        return response
                else:
                    limit = self._engine.max_body
                try:
                    body = await self._read(response, limit)
                except httpx.HTTPError as error:
                    step = call.on_transport_error("io", True, str(error))
                    continue
                step = call.on_response(response.status_code, response.headers.raw, body)
            elif step.kind == "wait":
                await asyncio.sleep(step.delay)
                step = call.resume()
            else:
                return step

    @staticmethod
    async def _read(response: httpx.Response, limit: int) -> bytes:
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > limit:
                    break
        finally:
            await response.aclose()
        return bytes(body)

    async def _token(self, stale: Optional[_native.Token]) -> _native.Token:
        async with self._token_lock:
            token = self._engine.cached_token(stale)
            if token is not None:
                return token
            started = time.monotonic()
            token = (await self._drive(self._engine.token())).result
            self._engine.store_token(token, time.monotonic() - started)
            return token

    async def _result(self, call: _native.Call):
        return (await self._drive(call)).result

    async def run_report(
        self,
        report_id: str,
        view_type: str = "Detail",
        *,
        track_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        filters: Optional[str] = None,
    ) -> RunStarted:
        """*Run a report* (see `Client.run_report`)."""
        call = self._engine.run_report(
            report_id,
            view_type,
            track_id=track_id,
            idempotency_key=idempotency_key,
            filters=filters,
        )
        return await self._result(call)

    async def get_run(self, run_id: str) -> ReportRun:
        """*Retrieve a report run*."""
        return await self._result(self._engine.get_run(run_id))

    async def latest_run(self, report_id: str) -> ReportRun:
        """The caller's last completed run of a report."""
        return await self._result(self._engine.latest_run(report_id))

    async def cancel_run(self, run_id: str) -> str:
        """Cancels a run in progress; Zuora's message."""
        return await self._result(self._engine.cancel_run(run_id))

    async def search_reports(self, query: str) -> List[ReportSummary]:
        """Every report whose name, data source or description matches `query`."""
        search = self._engine.search(query)
        while (call := search.next_call()) is not None:
            search.on_page(await self._result(call))
        return search.reports()

    async def find_report(self, name: str) -> ReportSummary:
        """The one report named exactly `name`."""
        search = self._engine.search(name)
        while (call := search.next_call()) is not None:
            search.on_page(await self._result(call))
        return search.exactly(name)

    async def wait_for_run(
        self,
        run_id: str,
        *,
        timeout: float = 3600.0,
        cancel_on_timeout: bool = False,
        poll_first: float = 1.0,
        poll_max: float = 30.0,
        on_status: Optional[OnStatus] = None,
    ) -> ReportRun:
        """Waits until the run completes (see `Client.wait_for_run`)."""
        wait = self._engine.wait(
            run_id,
            timeout=timeout,
            cancel_on_timeout=cancel_on_timeout,
            poll_first=poll_first,
            poll_max=poll_max,
        )
        step = wait.start()
        while True:
            if step.kind == "look":
                look = await self._drive(wait.look_call(step.seconds))
                stop = bool(on_status(look.result)) if on_status and look.ok else False
                step = wait.on_look(look, stop=stop, cancel=stop and cancel_on_timeout)
            elif step.kind == "sleep":
                await asyncio.sleep(step.seconds)
                step = wait.after_sleep()
            elif step.kind == "cancel":
                cancel = await self._drive(wait.cancel_call(step.seconds))
                step = wait.on_cancelled(cancel.ok)
            else:
                return step.result

    async def rows(self, run_id: str, page_size: int = 1000) -> AsyncIterator[dict]:
        """Every row of a completed run, a page at a time (an async iterator)."""
        import json

        pages = self._engine.rows(run_id, page_size)
        while (call := pages.next_call()) is not None:
            for row in json.loads(pages.on_page(await self._result(call))):
                yield row

    async def download_export(
        self, run_id: str, destination: Destination, *, format: str = "csv"
    ) -> ExportSummary:
        """Streams a completed run's export into `destination` (see
        `Client.download_export`)."""
        response = await self._drive(self._engine.export(run_id, format), stream=True)
        download = self._engine.download(response.status_code, response.headers.raw, format)
        out, partial, final = _open(destination)
        try:
            try:
                async for chunk in response.aiter_raw():
                    out.write(download.feed(chunk))
            except httpx.HTTPError as error:
                stalled = isinstance(error, httpx.TimeoutException)
                raise download.broken(str(error), stalled) from None
            finally:
                await response.aclose()
            rest, summary = download.finish()
            out.write(rest)
        except BaseException:
            if partial is not None:
                out.close()
                partial.unlink(missing_ok=True)
            raise
        if partial is not None:
            out.close()
            os.replace(partial, final)
        return summary

    async def run_and_download(
        self,
        report: str,
        destination: Destination,
        *,
        view_type: str = "Detail",
        format: str = "csv",
        track_id: Optional[str] = None,
        timeout: float = 3600.0,
    ) -> ExportSummary:
        """The whole trip: `report` is an id (32 hex digits) or an exact name."""
        report_id = report if _looks_like_id(report) else (await self.find_report(report)).id
        started = await self.run_report(report_id, view_type, track_id=track_id)
        run = await self.wait_for_run(started.report_run_id, timeout=timeout)
        return await self.download_export(run.id, destination, format=format)
