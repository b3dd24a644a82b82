"""A zuora-sim process per test module, over loopback.

`ZUORA_SIM_BINARY` names the simulator (`cargo xtask python-test` builds it and sets it);
without it, the tests build and find it through cargo.
"""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _binary() -> str:
    binary = os.environ.get("ZUORA_SIM_BINARY")
    if binary:
        return binary
    subprocess.run(["cargo", "build", "-q", "-p", "zuora-sim"], cwd=REPO, check=True)
    return str(REPO / "target" / "debug" / "zuora-sim")


class Sim:
    """A running simulator: its base URL and the credentials it accepts."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [_binary(), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        banner = {}
        assert self.process.stdout is not None
        while len(banner) < 3:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("zuora-sim ended before printing its banner")
            key, _, value = line.partition(":")
            if key in ("base URL", "client id", "client secret"):
                banner[key] = value.strip()
        self.base_url = banner["base URL"]
        self.client_id = banner["client id"]
        self.client_secret = banner["client secret"]

    def kwargs(self) -> dict:
        return {
            "base_url": self.base_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def sim():
    running = Sim("--run-seconds", "0")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def slow_sim():
    running = Sim("--run-seconds", "1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def faulty_sim():
    running = Sim("--run-seconds", "0", "--fault-rate", "0.3", "--seed", "7")
    yield running
    running.stop()


class AsyncAsSync:
    """An `AsyncClient` driven from synchronous test code, on an event loop of its own (made
    inside that loop, as a service makes it), so that one test body checks both clients."""

    def __init__(self, **kwargs) -> None:
        import asyncio

        import zuora_reporting as zr

        self._loop = asyncio.new_event_loop()

        async def make():
            return zr.AsyncClient(**kwargs)

        self._client = self._loop.run_until_complete(make())

    def _wait(self, value):
        import inspect

        return self._loop.run_until_complete(value) if inspect.isawaitable(value) else value

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name == "rows":

            def rows(*args, **kwargs):
                async def collect():
                    return [row async for row in attr(*args, **kwargs)]

                return iter(self._loop.run_until_complete(collect()))

            return rows
        if callable(attr):
            return lambda *args, **kwargs: self._wait(attr(*args, **kwargs))
        return attr

    def __repr__(self) -> str:
        return repr(self._client)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture(params=["sync", "async"])
def make_client(request):
    """Makes a `Client`, or an `AsyncClient` behind the same calls: each test that takes
    this fixture runs once per client."""
    import zuora_reporting as zr

    if request.param == "sync":
        return zr.Client
    return AsyncAsSync
