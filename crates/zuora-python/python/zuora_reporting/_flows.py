"""The client's work as sans-IO flows, written once for `Client` and `AsyncClient`.

A flow is a generator: it asks the Rust engine what to do, yields an *effect* when that
needs IO (send this request, sleep, fetch a token, read the next chunk of a body) and is
resumed with the outcome. `Client` performs effects with blocking httpx calls, `AsyncClient`
with awaited ones; neither holds any logic of its own about Zuora.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
import os
from pathlib import Path
from typing import Any, Callable, Generator, Optional

from . import _native

Flow = Generator[Any, Any, Any]


@dataclass
class Send:
    """Send `step`'s request. Outcome: ``("answer", status, raw headers, raw body)``,
    ``("stream", response)`` (only when `stream` and the engine says to stream it), or
    ``("failed", kind, may_have_been_sent, message)``."""

    step: _native.Step
    stream: bool


@dataclass
class Sleep:
    """Sleep `seconds`. Outcome: None."""

    seconds: float


@dataclass
class NeedToken:
    """A token: the cached one, or a fresh one (one fetch at a time); `stale` was refused.
    Outcome: the token."""

    stale: Optional[_native.Token]


@dataclass
class ReadChunk:
    """The next raw chunk of a streamed answer's body. Outcome: bytes, None at the end,
    or ``("failed", stalled, message)``."""

    response: Any


def call(c: _native.Call, stream: bool = False) -> Flow:
    """One call to its end: returns its `done` step (or, for an export, the open answer)."""
    step = c.start()
    while True:
        if step.kind == "token":
            token = yield NeedToken(c.stale_token() if step.refresh else None)
            step = c.with_token(token)
        elif step.kind == "send":
            outcome = yield Send(step, stream)
            if outcome[0] == "stream":
                return outcome[1]
            if outcome[0] == "answer":
                step = c.on_response(*outcome[1:])
            else:
                step = c.on_transport_error(*outcome[1:])
        elif step.kind == "wait":
            yield Sleep(step.delay)
            step = c.resume()
        else:
            return step


def result(c: _native.Call) -> Flow:
    """One call's result (its error raised)."""
    step = yield from call(c)
    return step.result


def token(engine: _native.Engine) -> Flow:
    """A fresh token from the token endpoint."""
    return (yield from result(engine.token()))


def search(engine: _native.Engine, query: str, exact: bool) -> Flow:
    """Every report matching `query` (or, `exact`, the one named exactly so)."""
    paging = engine.search(query)
    while (page := paging.next_call()) is not None:
        paging.on_page((yield from result(page)))
    return paging.exactly(query) if exact else paging.reports()


def next_rows(pages: _native.Rows) -> Flow:
    """The rows of the next page, or None after the last."""
    page = pages.next_call()
    if page is None:
        return None
    return json.loads(pages.on_page((yield from result(page))))


def wait(
    engine: _native.Engine,
    run_id: str,
    timeout: Optional[float],
    cancel_on_timeout: bool,
    poll_first: Optional[float],
    poll_max: Optional[float],
    on_status: Optional[Callable[[_native.ReportRun], Optional[bool]]],
) -> Flow:
    """Waits for a run with the engine's wait machine; returns the completed run."""
    machine = engine.wait(
        run_id,
        timeout=timeout,
        cancel_on_timeout=cancel_on_timeout,
        poll_first=poll_first,
        poll_max=poll_max,
    )
    step = machine.start()
    while True:
        if step.kind == "look":
            look = yield from call(machine.look_call(step.seconds))
            stop = bool(on_status(look.result)) if on_status is not None and look.ok else False
            step = machine.on_look(look, stop=stop, cancel=stop and cancel_on_timeout)
        elif step.kind == "sleep":
            yield Sleep(step.seconds)
            step = machine.after_sleep()
        elif step.kind == "cancel":
            cancelled = yield from call(machine.cancel_call(step.seconds))
            step = machine.on_cancelled(cancelled.ok)
        else:
            return step.result


def download(engine: _native.Engine, run_id: str, out, format: str) -> Flow:
    """Streams a run's export, converted to `format`, into the binary file `out`."""
    response = yield from call(engine.export(run_id, format), stream=True)
    converter = engine.download(response.status_code, response.headers.raw, format)
    while True:
        chunk = yield ReadChunk(response)
        if chunk is None:
            break
        if isinstance(chunk, tuple):
            _, stalled, message = chunk
            raise converter.broken(message, stalled)
        out.write(converter.feed(chunk))
    rest, summary = converter.finish()
    out.write(rest)
    return summary


def trip(
    engine: _native.Engine,
    report: str,
    out,
    view_type: str,
    format: str,
    track_id: Optional[str],
    timeout: Optional[float],
) -> Flow:
    """Find (by exact name, unless `report` is an id), run, wait, download."""
    kind, report_id = engine.report_ref(report)
    if kind == "name":
        report_id = (yield from search(engine, report_id, exact=True)).id
    started = yield from result(engine.run_report(report_id, view_type, track_id=track_id))
    run = yield from wait(engine, started.report_run_id, timeout, False, None, None, None)
    return (yield from download(engine, run.id, out, format))


def to_destination(flow_for, destination) -> Flow:
    """Runs `flow_for(out)` writing to `destination`: a binary file object as it is, or a
    path through ``<path>.partial``, renamed on success and removed on any failure (an
    interrupted download included), so a broken download leaves nothing behind."""
    if hasattr(destination, "write"):
        return (yield from flow_for(destination))
    final = Path(destination)
    partial = final.with_name(final.name + ".partial")
    try:
        with open(partial, "wb") as out:
            summary = yield from flow_for(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, final)
    return summary
