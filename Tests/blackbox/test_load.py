"""1,000 connections open at once, each answered correctly."""

from __future__ import annotations

import asyncio
import resource
import time

import pytest

from shopfloor_http import build_request

CONNECTIONS = 1000


@pytest.fixture
def load_server(launch):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * CONNECTIONS + 200:
        pytest.skip(f"RLIMIT_NOFILE {soft} is too low for {CONNECTIONS} connections")
    return launch({"enable_echo": True})


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _thousand_connections(port: int) -> list[tuple[int, str, bytes]]:
    async def connect(i: int):
        for attempt in range(3):  # a SYN dropped by a full backlog is retried by the kernel; this covers resets
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except ConnectionError:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.1)

    # Phase 1: all connections open at the same time.
    streams = await asyncio.wait_for(asyncio.gather(*(connect(i) for i in range(CONNECTIONS))), timeout=30)
    try:
        # Phase 2: every connection sends a request carrying its own identity.
        for i, (_, writer) in enumerate(streams):
            writer.write(build_request("POST", "/v1/echo", [("X-Request-Id", f"load-{i}")], f"conn-{i}".encode()))

        async def exchange(i: int):
            reader, writer = streams[i]
            await writer.drain()
            status, headers, body = await _read_response(reader)
            # A second request on the same connection: keep-alive holds under load.
            writer.write(build_request("GET", "/health"))
            status2, _, body2 = await _read_response(reader)
            assert (status2, body2) == (200, b'{"status":"ok"}'), (i, status2, body2)
            return status, headers.get("x-request-id", ""), body

        return await asyncio.wait_for(asyncio.gather(*(exchange(i) for i in range(CONNECTIONS))), timeout=30)
    finally:
        for _, writer in streams:
            writer.close()


def test_thousand_concurrent_connections(load_server):
    started = time.monotonic()
    results = asyncio.run(_thousand_connections(load_server.port))
    elapsed = time.monotonic() - started
    assert len(results) == CONNECTIONS
    wrong = [(i, r) for i, r in enumerate(results) if r != (200, f"load-{i}", f"conn-{i}".encode())]
    assert not wrong, f"{len(wrong)} wrong answers, first: {wrong[:3]}"
    assert elapsed < 40
    # And the server is still healthy afterwards.
    with load_server.connect() as conn:
        assert conn.request("GET", "/health").status == 200
