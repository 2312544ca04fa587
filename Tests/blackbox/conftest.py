"""Fixtures that run the real `shopfloor` binary on loopback.

Each server gets a fresh temporary data directory, listens on 127.0.0.1 with `--port 0` (the real
port is read from its `listening on` log line, so there is no free-port race), and counts as started
once `GET /ready` answers 200. Teardown sends SIGTERM, then SIGKILL if it is still alive after the
drain window. A server that dies on its own while a test runs fails that test, with its log.

The binary is `$SHOPFLOOR_BIN`, else `.build/debug/shopfloor`, else `.build/release/shopfloor`.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest

import openapi_check
from shopfloor_http import RawConnection, make_client_context

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT / "openapi.yaml"
START_TIMEOUT = 20.0
LISTENING = re.compile(r"listening on (https?)://([^\s\"]+):(\d+)")  # in a text or a JSON log line


# The abuse limits' settings that let one loopback client do anything (see ServerLauncher.__call__).
UNLIMITED = {"rate_limit": "off", "key_rate_limit": "off", "sensitive_rate_limit": "off", "max_connections_per_address": "0",
             "max_open_carts_per_address": "100000", "max_units_per_sku": "10000"}


def _find_binary() -> Path | None:
    override = os.environ.get("SHOPFLOOR_BIN")
    if override:
        found = Path(override) if os.sep in override else shutil.which(override)
        return Path(found).resolve() if found else Path(override)  # servers run with another cwd
    for candidate in (REPO_ROOT / ".build/debug/shopfloor", REPO_ROOT / ".build/release/shopfloor"):
        if candidate.exists():
            return candidate
    return None


BINARY = _find_binary()


def _raise_fd_limit(want: int = 65536) -> None:
    """Lets this process and the servers it starts hold thousands of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


_raise_fd_limit()


def pytest_configure(config):
    if BINARY is None or not BINARY.exists():
        raise pytest.UsageError(
            f"shopfloor binary not found (SHOPFLOOR_BIN={os.environ.get('SHOPFLOOR_BIN')!r}, "
            f"{REPO_ROOT / '.build/debug/shopfloor'}): build it first with `swift build`"
        )


class ServerProcess:
    """One running `shopfloor serve`."""

    def __init__(self, workdir: Path, options: dict, env: dict | None, raw_args: list[str] | None, tls: tuple[Path, Path] | None):
        self.workdir = workdir
        self.data_dir = Path(options.pop("data_dir", workdir / "data"))
        self.log_path = workdir / "server.log"
        self.tls = tls
        self.expected_exit = False
        self.ssl_context: ssl.SSLContext | None = None
        if tls is not None:
            options = {**options, "tls_cert": str(tls[0]), "tls_key": str(tls[1])}
            self.ssl_context = make_client_context(tls[0])
        if raw_args is None:
            args = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.data_dir)]
            for key, value in options.items():
                if value is None or value is False:
                    continue
                flag = "--" + key.replace("_", "-")
                args += [flag] if value is True else [flag, str(value)]
        else:
            args = list(raw_args)
        self.args = args
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_") or k == "SHOPFLOOR_BIN"}
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(BINARY), *args], stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=full_env, cwd=workdir,
        )
        self.scheme = "https" if tls else "http"
        self.host = "127.0.0.1"
        self.port = 0

    # Start-up --------------------------------------------------------------------------------

    def wait_started(self, timeout: float = START_TIMEOUT) -> "ServerProcess":
        deadline = time.monotonic() + timeout
        while True:
            match = LISTENING.search(self.log_text())
            if match:
                self.scheme, self.port = match.group(1), int(match.group(3))
                break
            self._check_alive_while_starting(deadline)
            time.sleep(0.02)
        while True:
            try:
                with self.connect(timeout=2) as conn:
                    response = conn.request("GET", "/ready", headers=[("Connection", "close")])
                if response.status == 200:
                    return self
            except Exception:  # noqa: BLE001 - not accepting yet (refused, reset, TLS not up): poll again
                pass
            self._check_alive_while_starting(deadline)
            time.sleep(0.05)

    def _check_alive_while_starting(self, deadline: float) -> None:
        if self.proc.poll() is not None:
            self.expected_exit = True  # reported here, not again by _no_server_died
            raise RuntimeError(f"shopfloor exited with {self.proc.returncode} during start-up:\n{self.log_tail()}")
        if time.monotonic() > deadline:
            self.expected_exit = True
            raise RuntimeError(f"shopfloor not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    # Access ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def connect(self, timeout: float = 5.0) -> RawConnection:
        return RawConnection(self.host, self.port, timeout=timeout, tls_context=self.ssl_context)

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        """The end of the log or, after a crash, the fatal error and the crashed thread's frames."""
        text = self.log_text().splitlines()
        fatal = [i for i, line in enumerate(text) if "Fatal error" in line or "Program crashed" in line]
        if not fatal:
            return "\n".join(text[-lines:])
        crashed = next((i for i, line in enumerate(text) if line.rstrip().endswith("crashed:")), None)
        report = text[max(0, fatal[0] - 5):fatal[0] + 1] + [text[i] for i in fatal[1:2]]
        if crashed is not None:
            report += [""] + text[crashed:crashed + 20]
        return "\n".join(report)

    # Stopping --------------------------------------------------------------------------------

    def signal(self, sig: int) -> None:
        """Sends a signal the test expects to end the process."""
        self.expected_exit = True
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        self.expected_exit = True
        return self.proc.wait(timeout=timeout)

    def died_unexpectedly(self) -> bool:
        return not self.expected_exit and self.proc.poll() is not None

    def shutdown(self) -> None:
        if self.proc.poll() is None:
            self.expected_exit = True
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


class Launcher:
    """Starts servers and owns them until the fixture's scope ends."""

    def __init__(self, tmp_factory):
        self.tmp_factory = tmp_factory
        self.servers: list[ServerProcess] = []
        self.by_key: dict[str, ServerProcess] = {}

    def __call__(self, options: dict | None = None, env: dict | None = None, raw_args: list[str] | None = None,
                 tls: tuple[Path, Path] | None = None, wait: bool = True) -> ServerProcess:
        """options: flag name (underscores for dashes) -> value; True for a bare flag. A 3 s drain
        timeout is the default so teardown is quick. The abuse limits are off unless a test sets them
        (test_limits.py does): the suite makes many carts and requests from one loopback address.
        raw_args replaces the whole argument list."""
        merged = {"drain_timeout": "3s", **UNLIMITED, **(options or {})}
        workdir = self.tmp_factory.mktemp("shopfloor")
        server = ServerProcess(workdir, merged, env, raw_args, tls)
        self.servers.append(server)
        LIVE_SERVERS.append(server)
        if wait:
            server.wait_started()
        return server

    def shared(self, key: str, options: dict | None = None, tls: tuple[Path, Path] | None = None) -> ServerProcess:
        """One server per key for the launcher's whole scope; started again if an earlier test
        crashed it (that test has already failed), so one crash does not fail every later test."""
        current = self.by_key.get(key)
        if current is None or current.proc.poll() is not None:
            current = self(options, tls=tls)
            self.by_key[key] = current
        return current

    def close(self) -> None:
        """Stops every server still running; each must exit 0 on SIGTERM, like a graceful stop."""
        failures = []
        for server in self.servers:
            running = server.proc.poll() is None
            server.shutdown()
            if server in LIVE_SERVERS:
                LIVE_SERVERS.remove(server)
            if running and server.proc.returncode != 0:
                failures.append(f"{' '.join(server.args)} exited {server.proc.returncode} on SIGTERM:\n{server.log_tail()}")
        if failures:
            raise AssertionError("\n\n".join(failures))


LIVE_SERVERS: list[ServerProcess] = []


# Every response a test gets through `requests` from one of its servers is checked against
# openapi.yaml (openapi_check.py); a mismatch fails the test that saw it. With
# OPENAPI_CHECK_LOG=<file> the mismatches are written there instead, and fail nothing.
def _is_ours(host: str | None, port: int | None) -> bool:
    return host in ("127.0.0.1", "localhost") and any(s.port == port for s in LIVE_SERVERS)


SPEC_CHECK = openapi_check.install(_is_ours)
_SPEC_CHECK_LOG = os.environ.get("OPENAPI_CHECK_LOG")
_spec_reported = 0


@pytest.fixture(autouse=True)
def _responses_match_spec(request):
    """Fails a test whose responses do not match openapi.yaml (also those its module or session
    fixtures got since the previous test ended)."""
    global _spec_reported
    yield
    with SPEC_CHECK.lock:
        found = SPEC_CHECK.mismatches[_spec_reported:]
        _spec_reported = len(SPEC_CHECK.mismatches)
    if not found:
        return
    if _SPEC_CHECK_LOG:
        with open(_SPEC_CHECK_LOG, "a") as log:
            log.writelines(f"[{request.node.nodeid}] {line}\n" for line in found)
        return
    pytest.fail(f"{len(found)} response(s) do not match openapi.yaml:\n" + "\n".join(found[:10]), pytrace=False)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"openapi.yaml: {SPEC_CHECK.checked} responses checked, "
                                f"{len(SPEC_CHECK.mismatches)} mismatched")


@pytest.fixture(autouse=True)
def _no_server_died():
    """Fails the test during which a server crashed (bad input must never crash it)."""
    yield
    dead = [s for s in LIVE_SERVERS if s.died_unexpectedly()]
    for server in dead:
        server.expected_exit = True
    if dead:
        pytest.fail("shopfloor exited unexpectedly with "
                    + ", ".join(str(s.proc.returncode) for s in dead) + ":\n" + dead[0].log_tail())


@pytest.fixture
def launch(tmp_path_factory):
    """A factory for servers that live for one test: `launch({"enable_echo": True})`."""
    launcher = Launcher(tmp_path_factory)
    yield launcher
    launcher.close()


@pytest.fixture(scope="session")
def session_launch(tmp_path_factory):
    launcher = Launcher(tmp_path_factory)
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def module_launch(tmp_path_factory):
    """A launcher whose servers live for one test module (one shared catalogue per module)."""
    launcher = Launcher(tmp_path_factory)
    yield launcher
    launcher.close()


@pytest.fixture
def server(session_launch) -> ServerProcess:
    """The shared server: default limits, echo endpoints on."""
    return session_launch.shared("echo", {"enable_echo": True})


@pytest.fixture
def plain_server(session_launch) -> ServerProcess:
    """A shared server with default flags (no echo)."""
    return session_launch.shared("plain")


@pytest.fixture(scope="session")
def spec_bytes() -> bytes:
    return SPEC_PATH.read_bytes()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1, valid for one day."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key
