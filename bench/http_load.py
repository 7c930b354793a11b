"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request
as soon as the last answer arrives, bounded by a request count and a time limit.

Raw asyncio streams and pre-encoded requests keep the generator's own cost per request far below
the servers' (an HTTP client library would cost as much as the server under test), which matters
on a 2-core machine where the generator and the server share the CPU.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def post_request(host: str, port: int, path: str, body: object, headers: dict[str, str] | None = None) -> bytes:
    payload = json.dumps(body, separators=(",", ":")).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies: np.ndarray

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1e3


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), None)
    if length is None:
        raise RuntimeError(f"response without Content-Length: {lines[:3]}")
    return status, await reader.readexactly(length)


async def _connection(host: str, port: int, requests: Sequence[bytes], offset: int, budget: list[int], deadline: float, latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        i = offset
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status, _ = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors[0] += 1
            i += 1
    finally:
        writer.close()


async def _run(host: str, port: int, requests: Sequence[bytes], concurrency: int, max_requests: int, max_seconds: float) -> LoadResult:
    latencies: list[float] = []
    errors, budget = [0], [max_requests]
    started = time.perf_counter()
    deadline = started + max_seconds
    step = max(1, len(requests) // concurrency)
    await asyncio.gather(
        *(_connection(host, port, requests, k * step, budget, deadline, latencies, errors) for k in range(concurrency))
    )
    seconds = time.perf_counter() - started
    return LoadResult(concurrency, len(latencies), errors[0], seconds, np.asarray(latencies))


def run_load(host: str, port: int, requests: Sequence[bytes], *, concurrency: int, max_requests: int, max_seconds: float) -> LoadResult:
    """Send up to ``max_requests`` (cycling through ``requests``) over ``concurrency`` connections, for at most ``max_seconds``."""
    return asyncio.run(_run(host, port, requests, concurrency, max_requests, max_seconds))
