"""Process lifecycle: graceful stop, timeouts, the connection limit, configuration and the data dir."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time

import pytest

from conftest import BINARY
from shopfloor_http import ConnectionClosed, RawConnection, build_request


def refused_or_dropped(server, timeout: float = 0.5) -> bool | None:
    """Tries one new connection. True: refused, or closed without an answer. False: got a 200
    from /ready. None: a 503 (draining, still accepting)."""
    try:
        conn = RawConnection(server.host, server.port, timeout=timeout)
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    with conn:
        try:
            conn.send(build_request("GET", "/ready"))
            response = conn.read_response(timeout=timeout)
        except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
            return True
        if response.status == 503:
            return None
        return False


def wait_until_refused(server, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if refused_or_dropped(server):
            return True
        time.sleep(0.02)
    return False


def assert_timed_out(conn, low: float, high: float) -> float:
    """The server ends the connection between `low` and `high` seconds from now, with either no
    answer or a 408."""
    elapsed = conn.wait_closed(high + 1.0)
    assert low <= elapsed <= high, f"closed after {elapsed:.2f} s, expected {low}..{high} s"
    if conn.buffer:
        text = bytes(conn.buffer)
        assert text.startswith(b"HTTP/1.1 408 "), text[:200]
    return elapsed


# Graceful stop -----------------------------------------------------------------------------------


def test_sigterm_drains_in_flight_request_then_exits_zero(launch):
    server = launch({"enable_echo": True, "drain_timeout": "5s"})
    busy = server.connect(timeout=10)
    idle = server.connect(timeout=10)
    # A round trip on each proves both connections are accepted and owned by the server.
    assert busy.request("GET", "/health").status == 200
    assert idle.request("GET", "/health").status == 200

    started = time.monotonic()
    busy.send(build_request("POST", "/v1/echo?delay_ms=1500", [("Content-Type", "text/plain")], b"in flight"))
    # Nothing outside the server shows the request reaching its handler; 0.3 s of the 1.5 s delay
    # is left for it to be read and dispatched.
    time.sleep(0.3)
    server.signal(signal.SIGTERM)

    assert wait_until_refused(server, timeout=1.0), "new connections still served after SIGTERM"
    assert server.proc.poll() is None, "exited before the in-flight request finished"
    idle.wait_closed(1.0)  # an idle keep-alive connection is closed at once, not kept for the drain

    response = busy.read_final_response(timeout=5)
    assert response.status == 200
    assert response.body == b"in flight"
    assert response.header("Content-Type") == "text/plain"
    assert time.monotonic() - started >= 1.4
    busy.wait_closed(3)

    assert server.wait_exit(timeout=5) == 0
    busy.close()
    idle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1).close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_idle_server_with_exit_zero(launch, sig):
    server = launch()
    with server.connect() as conn:
        assert conn.request("GET", "/health").status == 200
    started = time.monotonic()
    server.signal(sig)
    assert server.wait_exit(timeout=5) == 0
    assert time.monotonic() - started < 3.0
    assert "listening on" in server.log_text()


def test_drain_timeout_bounds_the_stop(launch):
    server = launch({"enable_echo": True, "drain_timeout": "1s"})
    conn = server.connect(timeout=10)
    assert conn.request("GET", "/health").status == 200
    conn.send(build_request("POST", "/v1/echo?delay_ms=8000", body=b"too slow"))
    time.sleep(0.3)  # as above: let the request reach its handler
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait_exit(timeout=6) == 0
    assert time.monotonic() - started < 3.5, "stop took longer than the 1 s drain timeout allows"
    with conn:
        try:
            conn.wait_closed(2)
        except TimeoutError:
            pytest.fail("connection left open after the process exited")
        assert b"too slow" not in bytes(conn.buffer)


# Timeouts ----------------------------------------------------------------------------------------


@pytest.fixture
def impatient_server(session_launch):
    return session_launch.shared("impatient", {"enable_echo": True, "header_timeout": "1s", "idle_timeout": "1s",
                                               "body_timeout": "1s"})


def test_partial_headers_are_cut_off_after_header_timeout(impatient_server):
    with impatient_server.connect() as conn:
        conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert_timed_out(conn, 0.5, 3.0)


def test_trickled_headers_do_not_extend_header_timeout(impatient_server):
    """Slowloris: a byte every 200 ms keeps the socket busy but never finishes the head."""
    with impatient_server.connect() as conn:
        conn.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        while time.monotonic() - started < 4.0:
            try:
                conn.send(b"a")
            except (BrokenPipeError, ConnectionResetError):
                break
            if not conn.is_open_after(0.2):
                break
        elapsed = time.monotonic() - started
    assert elapsed <= 3.0, f"slowloris connection still open after {elapsed:.1f} s"


def test_slow_body_is_cut_off_after_body_timeout(impatient_server):
    with impatient_server.connect() as conn:
        conn.send(build_request("POST", "/v1/echo", [("Content-Length", "100")]) + b"only ten b")
        assert_timed_out(conn, 0.5, 3.0)


def test_idle_keep_alive_is_closed_after_idle_timeout(impatient_server):
    with impatient_server.connect() as conn:
        assert conn.request("GET", "/health").status == 200
        assert_timed_out(conn, 0.5, 3.0)
        assert not conn.buffer, "an idle close must not send a response"


def test_silent_connection_is_closed(impatient_server):
    with impatient_server.connect() as conn:
        elapsed = conn.wait_closed(4.0)
    assert elapsed <= 3.0


def test_a_connection_that_never_speaks_gets_the_header_timeout_not_the_idle_one(session_launch):
    """A few thousand silent sockets must not hold `--max-connections` for the idle timeout: a new
    connection has the header timeout to send its first byte; one that has spoken idles as usual."""
    server = session_launch.shared("silent-vs-idle", {"header_timeout": "1s", "idle_timeout": "30s"})
    with server.connect() as silent, server.connect() as spoken:
        assert spoken.request("GET", "/health").status == 200
        elapsed = silent.wait_closed(6.0)
        assert elapsed <= 3.0, f"a silent connection was held {elapsed:.1f} s"
        assert spoken.is_open_after(1.0), "a connection that has spoken keeps the idle timeout"
        assert spoken.request("GET", "/health").status == 200


def test_activity_keeps_a_connection_alive(impatient_server):
    """Each request restarts the idle clock: 6 requests 0.4 s apart outlive one idle timeout."""
    with impatient_server.connect() as conn:
        for i in range(6):
            response = conn.request("GET", "/health", headers=[("X-Request-Id", f"alive-{i}")])
            assert response.status == 200 and response.header("X-Request-Id") == f"alive-{i}"
            time.sleep(0.4)


def test_slow_handler_is_not_a_header_timeout(impatient_server):
    """delay_ms longer than every timeout: the server is the one being slow, so nothing fires."""
    with impatient_server.connect(timeout=10) as conn:
        response = conn.request("POST", "/v1/echo?delay_ms=1800", body=b"patience")
    assert response.status == 200
    assert response.body == b"patience"


# Connection limit --------------------------------------------------------------------------------


def _open_served(server, deadline: float) -> RawConnection:
    """A connection that got a 200; retried while a just-closed probe may still be counted."""
    while True:
        conn = server.connect(timeout=2)
        try:
            if conn.request("GET", "/health").status == 200:
                return conn
        except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
            pass
        conn.close()
        if time.monotonic() > deadline:
            raise AssertionError("could not open a served connection under the limit")
        time.sleep(0.05)


def test_connection_over_the_limit_is_refused_gracefully(launch):
    limit = 4
    server = launch({"max_connections": limit})
    deadline = time.monotonic() + 5
    held = [_open_served(server, deadline) for _ in range(limit)]
    try:
        # One more: a 503 problem and close, or a close with no answer.
        extra = RawConnection(server.host, server.port, timeout=3)
        with extra:
            try:
                extra.send(build_request("GET", "/health"))
                response = extra.read_response(timeout=3)
            except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
                response = None
            if response is not None:
                assert response.status == 503, response
                assert response.header("Content-Type").split(";")[0] == "application/problem+json"
                problem = json.loads(response.body)
                assert problem["status"] == 503 and problem["code"] == "unavailable"
                extra.wait_closed(3)

        # The connections already open are unaffected.
        for i, conn in enumerate(held):
            response = conn.request("GET", "/health", headers=[("X-Request-Id", f"held-{i}")])
            assert response.status == 200 and response.header("X-Request-Id") == f"held-{i}"

        # Closing one frees a slot.
        held.pop().close()
        held.append(_open_served(server, time.monotonic() + 3))
    finally:
        for conn in held:
            conn.close()


# Configuration -----------------------------------------------------------------------------------


def _echo_status(server, size: int) -> int:
    with server.connect() as conn:
        conn.send(build_request("POST", "/v1/echo", body=b"e" * size))
        return conn.read_final_response(timeout=3).status


def test_environment_configures_the_server(launch, tmp_path):
    server = launch(raw_args=["serve"], env={
        "SHOPFLOOR_HOST": "127.0.0.1", "SHOPFLOOR_PORT": "0", "SHOPFLOOR_DATA_DIR": str(tmp_path / "envdata"),
        "SHOPFLOOR_ENABLE_ECHO": "1", "SHOPFLOOR_MAX_BODY_SIZE": "64", "SHOPFLOOR_DRAIN_TIMEOUT": "2s",
        "SHOPFLOOR_LOG_LEVEL": "debug",
    })
    assert _echo_status(server, 64) == 200
    assert _echo_status(server, 65) == 413
    assert (tmp_path / "envdata" / "shopfloor.sqlite").exists()


def test_flags_win_over_environment(launch):
    server = launch({"enable_echo": True, "max_body_size": 64}, env={"SHOPFLOOR_MAX_BODY_SIZE": "16"})
    assert _echo_status(server, 64) == 200
    assert _echo_status(server, 65) == 413


def test_serve_is_the_default_subcommand(launch, tmp_path):
    server = launch(raw_args=["--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "d"),
                              "--drain-timeout", "2s"])
    with server.connect() as conn:
        assert conn.request("GET", "/health").json() == {"status": "ok"}


@pytest.mark.parametrize("bad", [["--header-timeout", "banana"], ["--log-level", "loud"], ["--max-body-size", "-5"],
                                 ["--port", "70000"], ["--max-header-size", "10"], ["--cors-origins", "https://shop.example/"],
                                 ["--cors-origins", "shop.example"], ["--cors-origins", "https://shop.example/path"],
                                 ["--cors-origins", "ftp://x"], ["--rate-limit", "fast"], ["--key-rate-limit", "10/d"],
                                 ["--sensitive-rate-limit", "5/min:0"], ["--trusted-proxies", "10.0.0.0/40"],
                                 ["--trusted-proxies", "proxy.local"], ["--max-cart-hold", "10s"], ["--max-units-per-sku", "0"],
                                 ["--max-open-carts-per-address", "x"], ["--max-connections-per-address", "-1"]])
def test_invalid_configuration_exits_non_zero(tmp_path, bad):
    result = subprocess.run(
        [str(BINARY), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "d"), *bad],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=8,
    )
    assert result.returncode != 0
    assert b"listening on" not in result.stdout + result.stderr


# Data directory ----------------------------------------------------------------------------------


def _migrations(db_path) -> list[tuple]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()


def test_data_dir_holds_a_wal_database_with_migrations(launch, tmp_path):
    data_dir = tmp_path / "nested" / "data"  # does not exist yet: the server creates it
    launch({"data_dir": data_dir})
    db_path = data_dir / "shopfloor.sqlite"
    assert db_path.is_file()
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "schema_migrations" in tables
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        db.close()
    # Each applied migration is one row, versions strictly increasing (there may be none yet).
    assert versions == sorted(set(versions))
    assert all(isinstance(v, int) and v > 0 for v in versions)


def test_restart_on_the_same_data_dir_reapplies_nothing(launch, tmp_path):
    data_dir = tmp_path / "data"
    first = launch({"data_dir": data_dir})
    before = _migrations(data_dir / "shopfloor.sqlite")
    first.signal(signal.SIGTERM)
    assert first.wait_exit(timeout=5) == 0
    second = launch({"data_dir": data_dir})
    with second.connect() as conn:
        assert conn.request("GET", "/ready").json() == {"status": "ready"}
    assert _migrations(data_dir / "shopfloor.sqlite") == before
