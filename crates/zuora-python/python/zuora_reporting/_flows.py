"""The client's work as one sans-IO flow, written once for `Client` and `AsyncClient`.

Every operation is a task of the Rust engine (`_native.Task`): the engine composes it (the
search over every page, the rows page by page, the wait with its looks and cancel, the whole
trip) and decides every step. `drive` is the one generator that walks a task: it yields an
*effect* when a step needs IO (send this request, sleep, read the next chunk of a body) and
is resumed with the outcome. `Client` performs effects with blocking httpx calls,
`AsyncClient` with awaited ones; neither holds any logic of its own about Zuora.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Generator, Optional

from . import _native

Flow = Generator[Any, Any, Any]


@dataclass
class Send:
    """Send the task's request. Outcome: ``("head", response)`` with its body unread, or
    ``("failed", kind, may_have_been_sent, message)``."""

    task: _native.Task


@dataclass
class Sleep:
    """Sleep `seconds`. Outcome: None."""

    seconds: float


@dataclass
class ReadChunk:
    """The next raw chunk of an answer's body. Outcome: bytes, None at the end, or
    ``("failed", kind, True, message)``."""

    response: Any


@dataclass
class Spawn:
    """Run `flow` beside this one (a thread, an asyncio task). Outcome: None."""

    flow: Flow
    key: Any


@dataclass
class AwaitAny:
    """Wait until a spawned flow ends, or `seconds` pass (None: no limit). Outcome: a list
    of ``(key, error)`` for the flows that ended, `error` None or the exception's text."""

    seconds: Optional[float]


def stops() -> tuple:
    """What stops a flow from outside: Ctrl-C in a sync client, a cancelled task in an async
    one (asyncio's only once it is loaded: nothing can be cancelled before, and a sync
    client never pays for importing it)."""
    asyncio = sys.modules.get("asyncio")
    return (KeyboardInterrupt, asyncio.CancelledError) if asyncio else (KeyboardInterrupt,)


def drive(
    task: _native.Task,
    out: Any = None,
    on_status: Optional[Callable[[_native.ReportRun], Optional[bool]]] = None,
    cancel_on_stop: bool = False,
    cancel_on_interrupt: bool = True,
) -> Flow:
    """Walks `task` until it ends (returns its result, or raises its error) or hands over a
    page of rows (returns them; `task.resume()`, then drive it again). An export's body is
    converted into the binary file `out`; a status is shown to `on_status`, whose true
    answer stops the task (cancelling the run if `cancel_on_stop`).

    A stop thrown in by the driver (Ctrl-C, a cancelled task) interrupts the task, which
    cancels the run it waits for unless `cancel_on_interrupt` is false (the CLI does the same),
    and is raised again once the task is over."""
    stopped: Optional[BaseException] = None
    while True:
        kind = task.kind
        try:
            if kind == "send":
                outcome = yield Send(task)
                if outcome[0] == "failed":
                    task.on_failure(*outcome[1:])
                else:
                    yield from _receive(task, outcome[1], out)
            elif kind == "sleep":
                yield Sleep(task.delay)
                task.resume()
            elif kind == "rows":
                return json.loads(task.rows)
            elif kind == "status":
                if on_status is not None and on_status(task.result()):
                    task.interrupt(cancel_on_stop)
                else:
                    task.resume()
            elif stopped is not None:
                raise stopped
            else:
                return task.result()
        except stops() as stop:
            if stopped is not None:
                raise  # a second stop: no more waiting for the cancel
            stopped = stop
            task.interrupt(cancel_on_interrupt)


def _receive(task: _native.Task, response: Any, out: Any) -> Flow:
    """An answer's body, handed to the task chunk by chunk: the task keeps a failed answer
    (up to its cap) and converts an export into `out`."""
    if not task.on_head(response.status_code, response.headers.raw):
        return  # not HTTP: the task took it as a broken connection
    while True:
        chunk = yield ReadChunk(response)
        if isinstance(chunk, tuple):
            task.on_failure(*chunk[1:])
            return
        converted, full, drain = (b"", True, False) if chunk is None else task.on_body(chunk)
        if converted:
            out.write(converted)
        while drain:  # a gzip chunk expanding past a batch: the rest before reading on
            converted, full, drain = task.on_body(b"")
            out.write(converted)
        if full:
            # At the end, or past a failed answer's cap: whatever is left of the body is
            # closed with the flow.
            last = task.on_body_end()
            if last:
                out.write(last)
            return


def to_destination(flow_for: Callable[[Any], Flow], destination: Any) -> Flow:
    """Runs `flow_for(out)` writing to `destination`: a binary file object as it is, or a
    path through the engine's `PartialFile` (an unpredictable temporary name beside it,
    created exclusively, owner-only; renamed into place on success and removed on any
    failure, an interrupt or a cancelled task included), so a broken download leaves
    nothing behind."""
    if hasattr(destination, "write"):
        return (yield from flow_for(destination))
    out = _native.PartialFile(os.fspath(destination))
    try:
        result = yield from flow_for(out)
    except BaseException:
        out.discard()
        raise
    out.commit()
    return result


def typed(flow_for: Callable[[Any], Flow], spool: _native.TableSpool) -> Flow:
    """Runs the download `flow_for(spool)` into the table spool (pass 1: the export's TSV
    spooled, every value read for the types); returns its result and the typed table."""
    result = yield from flow_for(spool)
    return result, spool.finish()


def table(flow_for: Callable[[Any], Flow], spool: _native.TableSpool) -> Flow:
    """`typed`, returning only the table."""
    _result, done = yield from typed(flow_for, spool)
    return done


def as_table(
    flow_for: Callable[[Any], Flow], spool: _native.TableSpool, format: str
) -> Callable[[Any], Flow]:
    """`flow_for` for `to_destination`, writing the typed table as `format` (parquet, arrow
    or jsonl) instead of the export's text: the download goes to `spool`, then the table
    (pass 2) to the destination."""

    def write(out: Any) -> Flow:
        result, table = yield from typed(flow_for, spool)
        table.write_to(out, format)
        return result

    return write


def pull(native: _native.Pull, engine: _native.Engine,
         on_event: Optional[Callable[[dict], Any]] = None) -> Flow:
    """A pull: the engine's `Pull` decides every step (which window next, how many at once,
    back-off, splits, the state); this asks it, spawns each work's flow, and tells it how
    each ended. Returns the summary (a dict)."""
    while True:
        step, value = native.next()
        for event in native.take_events():
            if on_event is not None:
                on_event(json.loads(event))
        if step == "start":
            yield Spawn(pull_work(native, value, engine), value)
        elif step == "done":
            return json.loads(value)
        else:
            for work, error in (yield AwaitAny(value if step == "sleep" else None)):
                native.finished(work, error)


def pull_work(native: _native.Pull, work: _native.PullWork, engine: _native.Engine) -> Flow:
    """One work of a pull: its task (a search, or a window's trip whose statuses the pull
    sees, and which stops and cancels its run when the pull is interrupted), and for a
    window its file, renamed into place only once everything went well."""
    task = work.start(engine)
    on_status = lambda run: native.observe(work, run)  # noqa: E731
    if work.format is None:
        return (yield from drive(task, on_status=on_status, cancel_on_stop=True))
    out = native.create_output(work)
    try:
        if work.format in ("parquet", "arrow", "jsonl"):
            spool = _native.TableSpool("en-US", [])
            yield from drive(task, spool, on_status, cancel_on_stop=True)
            spool.finish().write_to(out, work.format)
        else:
            yield from drive(task, out, on_status, cancel_on_stop=True)
    except BaseException:
        out.discard()
        raise
    out.commit()
