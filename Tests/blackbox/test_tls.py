"""HTTPS with --tls-cert/--tls-key: verified handshake, ALPN, minimum TLS 1.2, keep-alive, gzip."""

from __future__ import annotations

import gzip
import socket
import ssl
import warnings

import pytest
import requests

from shopfloor_http import RawConnection, build_request, make_client_context


@pytest.fixture
def tls_server(session_launch, tls_files):
    return session_launch.shared("tls", {"enable_echo": True}, tls=tls_files)


def test_https_request_verifies_against_the_certificate(tls_server, tls_files):
    cert, _ = tls_files
    assert tls_server.scheme == "https"
    response = requests.get(tls_server.url("/health"), verify=str(cert), timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["Server"] == "shopfloor"
    assert response.headers["X-Request-Id"]


def test_hostname_localhost_matches_the_certificate(tls_server, tls_files):
    cert, _ = tls_files
    context = ssl.create_default_context(cafile=str(cert))  # full verification, hostname included
    with RawConnection("127.0.0.1", tls_server.port, tls_context=context, server_hostname="localhost") as conn:
        response = conn.request("GET", "/ready", host="localhost")
        assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert response.status == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.parametrize("offered", [["http/1.1"], ["h2", "http/1.1"]])
def test_alpn_selects_http11(tls_server, tls_files, offered):
    context = make_client_context(tls_files[0])
    context.set_alpn_protocols(offered)
    with RawConnection("127.0.0.1", tls_server.port, tls_context=context) as conn:
        assert conn.sock.selected_alpn_protocol() == "http/1.1"
        assert conn.request("GET", "/health").status == 200


def test_handshake_without_alpn_still_serves(tls_server, tls_files):
    context = make_client_context(tls_files[0])
    with RawConnection("127.0.0.1", tls_server.port, tls_context=context) as conn:
        assert conn.sock.selected_alpn_protocol() is None
        assert conn.request("GET", "/health").status == 200


def test_tls12_client_is_served(tls_server, tls_files):
    context = make_client_context(tls_files[0])
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with RawConnection("127.0.0.1", tls_server.port, tls_context=context) as conn:
        assert conn.sock.version() == "TLSv1.2"
        assert conn.request("GET", "/health").status == 200


def _tls11_only_context(cafile) -> ssl.SSLContext:
    context = make_client_context(cafile)
    try:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.1 at level 1 and above
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # deprecated is the point here
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as error:
        pytest.skip(f"local OpenSSL cannot offer TLS 1.1: {error}")
    return context


def test_tls11_client_is_refused(tls_server, tls_files):
    context = _tls11_only_context(tls_files[0])
    raw = socket.create_connection(("127.0.0.1", tls_server.port), timeout=5)
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)) as failure:
            context.wrap_socket(raw, server_hostname="127.0.0.1").close()
        reason = str(failure.value).upper()
        if "NO_PROTOCOLS_AVAILABLE" in reason or "NO PROTOCOLS AVAILABLE" in reason:
            pytest.skip(f"local OpenSSL cannot offer TLS 1.1: {failure.value}")
    finally:
        raw.close()
    # The refusal is the server's choice of protocol, not a broken listener.
    with tls_server.connect() as conn:
        assert conn.request("GET", "/health").status == 200


def test_keep_alive_over_tls(tls_server):
    with tls_server.connect() as conn:
        first = conn.request("GET", "/health", headers=[("X-Request-Id", "tls-1")])
        second = conn.request("POST", "/v1/echo", body=b"over tls")
        third = conn.request("GET", "/ready", headers=[("X-Request-Id", "tls-3")])
    assert (first.status, second.status, third.status) == (200, 200, 200)
    assert first.header("X-Request-Id") == "tls-1" and third.header("X-Request-Id") == "tls-3"
    assert second.body == b"over tls"


def test_pipelining_over_tls(tls_server):
    batch = (build_request("POST", "/v1/echo?delay_ms=200", body=b"one")
             + build_request("POST", "/v1/echo", body=b"two")
             + build_request("GET", "/health"))
    with tls_server.connect() as conn:
        conn.send(batch)
        bodies = [conn.read_final_response().body for _ in range(3)]
    assert bodies == [b"one", b"two", b'{"status":"ok"}']


def test_gzip_over_tls(tls_server, spec_bytes):
    with tls_server.connect() as conn:
        response = conn.request("GET", "/openapi.yaml", headers=[("Accept-Encoding", "gzip")])
    assert response.status == 200
    assert response.header("Content-Encoding") == "gzip"
    assert response.has_token("Vary", "Accept-Encoding")
    assert gzip.decompress(response.body) == spec_bytes


def test_large_body_over_tls(tls_server):
    body = bytes(range(256)) * 2048  # 512 KiB: many TLS records each way
    with tls_server.connect(timeout=10) as conn:
        response = conn.request("POST", "/v1/echo", body=body)
    assert response.status == 200
    assert response.body == body


def test_plain_http_on_the_tls_port_gets_no_http_answer(tls_server):
    with RawConnection("127.0.0.1", tls_server.port, timeout=3) as conn:
        conn.send(build_request("GET", "/health"))
        try:
            conn.wait_closed(3)
        except TimeoutError:
            pytest.fail("server kept a plaintext connection open on its TLS port")
        assert not bytes(conn.buffer).startswith(b"HTTP/")
    with tls_server.connect() as conn:
        assert conn.request("GET", "/health").status == 200
