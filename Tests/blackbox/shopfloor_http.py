"""A small raw HTTP/1.1 client for framing tests.

`requests` hides exactly what these tests look at (interim responses, pipelining, whether the server
closed the connection, the bytes of a HEAD response), so the protocol tests speak HTTP over a plain or
TLS socket themselves. Nothing here retries or sleeps: every read has a deadline.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import time
from dataclasses import dataclass, field

CRLF = b"\r\n"


class ConnectionClosed(Exception):
    """The peer closed (or reset) the connection before a whole response arrived."""


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, comma lists split, trimmed."""
        lowered = name.lower()
        values: list[str] = []
        for key, value in self.headers:
            if key.lower() == lowered:
                values.extend(part.strip() for part in value.split(",") if part.strip())
        return values

    def has_token(self, name: str, token: str) -> bool:
        return token.lower() in (v.lower() for v in self.header_values(name))

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def decoded_body(self) -> bytes:
        if (self.header("Content-Encoding") or "").lower() == "gzip":
            return gzip.decompress(self.body)
        return self.body


def build_request(
    method: str,
    target: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    version: str = "HTTP/1.1",
    host: str | None = "127.0.0.1",
    content_length: bool = True,
) -> bytes:
    """Serialises a request. Adds `Host` (unless host is None) and, when a body is given and
    content_length is true, `Content-Length`."""
    lines = [f"{method} {target} {version}".encode("latin-1")]
    names = {name.lower() for name, _ in headers or []}
    if host is not None and "host" not in names:
        lines.append(f"Host: {host}".encode("latin-1"))
    for name, value in headers or []:
        lines.append(f"{name}: {value}".encode("latin-1"))
    if body is not None and content_length and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}".encode("latin-1"))
    return CRLF.join(lines) + CRLF + CRLF + (body or b"")


def chunked(*chunks: bytes, extensions: dict[int, str] | None = None, trailers: list[tuple[str, str]] | None = None) -> bytes:
    """A chunked body (RFC 9112 §7.1): each chunk, optional extensions by chunk index, then the last
    chunk and any trailer fields."""
    out = bytearray()
    for index, chunk in enumerate(chunks):
        ext = (extensions or {}).get(index, "")
        out += f"{len(chunk):x}{ext}".encode("latin-1") + CRLF + chunk + CRLF
    out += b"0" + CRLF
    for name, value in trailers or []:
        out += f"{name}: {value}".encode("latin-1") + CRLF
    out += CRLF
    return bytes(out)


class RawConnection:
    """One TCP (or TLS) connection to the server, read with deadlines."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float = 5.0,
        tls_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ):
        self.timeout = timeout
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(raw, server_hostname=server_hostname or host)
        else:
            self.sock = raw
        self.buffer = bytearray()
        self.eof = False

    # Context manager -------------------------------------------------------------------------

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # Writing ---------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str, target: str, headers=None, body: bytes | None = None, **kwargs) -> Response:
        """Sends one request and returns its final response (interim 1xx responses are skipped)."""
        self.send(build_request(method, target, headers, body, **kwargs))
        return self.read_final_response(head=(method == "HEAD"))

    # Reading ---------------------------------------------------------------------------------

    def _fill(self, deadline: float) -> bool:
        """Reads more bytes into the buffer; False on EOF or reset. Raises TimeoutError at the deadline."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from server before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise TimeoutError("no data from server before the deadline") from None
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            data = b""
        except ssl.SSLError as error:
            # A TLS peer that closes without close_notify (or resets) ends the stream too.
            if isinstance(error, (ssl.SSLZeroReturnError, ssl.SSLEOFError)) or "EOF" in str(error) or "reset" in str(error).lower():
                data = b""
            else:
                raise
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def _read_until(self, marker: bytes, deadline: float) -> bytes:
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                out = bytes(self.buffer[: index + len(marker)])
                del self.buffer[: index + len(marker)]
                return out
            if not self._fill(deadline):
                raise ConnectionClosed(f"closed while waiting for {marker!r}; got {bytes(self.buffer[:200])!r}")

    def _read_exact(self, count: int, deadline: float) -> bytes:
        while len(self.buffer) < count:
            if not self._fill(deadline):
                raise ConnectionClosed(f"closed after {len(self.buffer)} of {count} body bytes")
        out = bytes(self.buffer[:count])
        del self.buffer[:count]
        return out

    def read_response(self, head: bool = False, timeout: float | None = None) -> Response:
        """Reads the next response, interim (1xx) ones included."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        head_bytes = self._read_until(CRLF + CRLF, deadline)
        lines = head_bytes[:-4].split(CRLF)
        parts = lines[0].decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError(f"not an HTTP status line: {lines[0]!r}")
        response = Response(version=parts[0], status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "")
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            response.headers.append((name.strip(), value.strip()))
        if 100 <= response.status < 200 or head or response.status in (204, 304):
            return response
        if (response.header("Transfer-Encoding") or "").lower().endswith("chunked"):
            body = bytearray()
            while True:
                size_line = self._read_until(CRLF, deadline)[:-2]
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self._read_until(CRLF, deadline) != CRLF:
                        pass  # trailer fields
                    break
                body += self._read_exact(size, deadline)
                self._read_exact(2, deadline)
            response.body = bytes(body)
        elif response.header("Content-Length") is not None:
            response.body = self._read_exact(int(response.header("Content-Length")), deadline)
        else:
            while self._fill(deadline):
                pass
            response.body = bytes(self.buffer)
            self.buffer.clear()
        return response

    def read_final_response(self, head: bool = False, timeout: float | None = None) -> Response:
        while True:
            response = self.read_response(head=head, timeout=timeout)
            if not 100 <= response.status < 200:
                return response

    def wait_closed(self, timeout: float) -> float:
        """Waits until the server closes the connection, discarding nothing: any bytes that arrive
        stay in the buffer. Returns the seconds waited; raises TimeoutError if still open."""
        start = time.monotonic()
        deadline = start + timeout
        while self._fill(deadline):
            pass
        return time.monotonic() - start

    def is_open_after(self, seconds: float) -> bool:
        """True if no EOF arrives within `seconds` (bytes that arrive are kept)."""
        try:
            self.wait_closed(seconds)
        except TimeoutError:
            return True
        return False


def make_client_context(cafile) -> ssl.SSLContext:
    """Trusts only the given certificate; the suite connects to 127.0.0.1 so the host name is not
    checked here (the chain still is)."""
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False
    return context


def http_date_ok(value: str | None, now: float | None = None, slack: float = 120.0) -> bool:
    """Whether `value` is an IMF-fixdate (RFC 9110 §5.6.7) close to now."""
    from email.utils import parsedate_to_datetime

    if not value or not value.endswith(" GMT"):
        return False
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return False
    return abs(when - (now if now is not None else time.time())) <= slack
