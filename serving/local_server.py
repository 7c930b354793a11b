"""Start a server process on 127.0.0.1, wait until it is ready, stop it: for tests, benchmarks and the demo."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, *, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} was not ready within {timeout:.0f} s")


@contextmanager
def started(command: Sequence[str], *, env: Mapping[str, str] | None = None, log: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run ``command`` until the block ends, without waiting for it; its output goes to ``log`` (or is discarded).

    Starting several servers first and then waiting for all overlaps their start-up (mostly imports).
    """
    environment = {**os.environ, **(env or {})}
    with open(log or os.devnull, "wb") as sink:
        process = subprocess.Popen(list(command), env=environment, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield process
        finally:
            stop(process)


@contextmanager
def running(
    command: Sequence[str], *, ready_url: str, env: Mapping[str, str] | None = None, log: Path | None = None, timeout: float = 60.0
) -> Iterator[subprocess.Popen]:
    """Run ``command`` until the block ends, once ``ready_url`` answers."""
    with started(command, env=env, log=log) as process:
        wait_until_ready(ready_url, timeout=timeout, process=process)
        yield process


def stop(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the process group (uvicorn and anything it started), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
