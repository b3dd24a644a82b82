"""Issue 23, "keep it held": the native boundary fuzzed from Python as the core is fuzzed
from Rust. Random steps in random order (heads with any status and header bytes, bodies of
random and gzip bytes, failures of unknown kinds, resumes and interrupts out of turn) are
fed to every kind of task; whatever comes back, a call either returns or raises a
`ZuoraError` (or the `TypeError`/`OverflowError` Python itself raises for a wrong type), the
process never crashes, and a task always ends within a bounded number of steps."""

import gzip
import random

import pytest

import zuora_reporting as zr
from zuora_reporting import _native

RUN = "ff808081529f4e3401529fd61f080074"
REPORT = "2c92c0f95e4a6e4b015e4f3a1b2c3d4e"
ALLOWED = (zr.ZuoraError, TypeError, OverflowError)


def _engine():
    return _native.Engine(
        client_id="id", client_secret="secret", base_url="http://127.0.0.1:9", seed=5, max_attempts=10
    )


def _tasks(engine):
    return [
        lambda: engine.check_credentials(),
        lambda: engine.get_run(RUN),
        lambda: engine.search("Invoice"),
        lambda: engine.find_report("Invoice Detail"),
        lambda: engine.rows(RUN, 50),
        lambda: engine.download(RUN, "csv"),
        lambda: engine.download(RUN, "raw"),
        lambda: engine.cancel_run(RUN),
        lambda: engine.latest_run(REPORT),
    ]


def _body(rng):
    pick = rng.randrange(6)
    if pick == 0:
        return rng.randbytes(rng.randrange(64))
    if pick == 1:
        text = rng.choice(['{"access_token":"t","expires_in":3599}', '{"success":true}', "\ufeffa\tb\n1\t2\n"])
        return text.encode("utf-16-le") if rng.random() < 0.5 else text.encode()
    if pick == 2:
        return gzip.compress(rng.randbytes(rng.randrange(256)))
    if pick == 3:
        return gzip.compress(b"\xff\xfe" + "x\ty\n".encode("utf-16-le") * rng.randrange(1, 50000))
    if pick == 4:
        return b""
    return bytes([0xFF, 0xFE, 0x00, 0xDC])  # a lone surrogate


def _headers(rng):
    names = [b"content-type", b"content-encoding", b"retry-after", b"ratelimit-reset", b"zuora-request-id", b"x"]
    values = [b"application/json", b"gzip", b"text/csv;charset=utf-16", b"99999999999999999999", b"-1", b"\xff\xfe", b""]
    return [(rng.choice(names), rng.choice(values)) for _ in range(rng.randrange(5))]


def _step(rng, task):
    action = rng.choices(range(7), weights=[25, 35, 15, 8, 10, 2, 5])[0]
    if action == 0:
        task.on_head(rng.choice([200, 201, 204, 302, 400, 401, 404, 429, 500, 504, 0, 99, 1000, 65535]), _headers(rng))
    elif action == 1:
        task.on_body(_body(rng))
    elif action == 2:
        task.on_body_end()
    elif action == 3:
        task.on_failure(rng.choice(["connect", "timeout", "io", "other", "bogus", ""]), rng.random() < 0.5, "x" * rng.randrange(300))
    elif action == 4:
        task.resume()
    elif action == 5:
        task.interrupt(rng.random() < 0.5)
    else:
        task.result()


@pytest.mark.parametrize("seed", range(32))
def test_random_steps_never_escape_the_error_types_and_always_end(seed):
    rng = random.Random(seed)
    engine = _engine()
    for make in _tasks(engine) * 6:
        task = make()
        for _ in range(400):
            if task.kind == "done":
                break
            try:
                _step(rng, task)
            except ALLOWED:
                pass
        # However it was fed, an interrupt and a few answers end it.
        for _ in range(50):
            if task.kind == "done":
                break
            try:
                task.interrupt(False)
                if task.kind == "send":
                    task.on_failure("connect", False, "gone")
                elif task.kind == "sleep":
                    task.resume()
            except ALLOWED:
                pass
        assert task.kind == "done", task
        try:
            task.result()
        except ALLOWED:
            pass
