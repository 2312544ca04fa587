"""System endpoints, common response headers, problem+json errors and response compression."""

from __future__ import annotations

import gzip
import re

import pytest
import requests

from shopfloor_http import http_date_ok

PROBLEM_TYPE = "application/problem+json"


def assert_common_headers(headers) -> None:
    assert http_date_ok(headers.get("Date")), f"Date: {headers.get('Date')!r}"
    assert headers.get("Server") == "shopfloor"
    assert headers.get("X-Request-Id"), "X-Request-Id missing"


def assert_problem(response, status: int, code: str | None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].split(";")[0].strip() == PROBLEM_TYPE
    problem = response.json()
    assert {"type", "title", "status", "detail", "code"} <= problem.keys(), problem
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str)
    if code is not None:
        assert problem["code"] == code
    return problem


# Health, readiness, spec -------------------------------------------------------------------------


def test_health_is_ok_json(server):
    response = requests.get(server.url("/health"), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    assert response.json() == {"status": "ok"}
    assert_common_headers(response.headers)


def test_ready_once_storage_is_open(server):
    response = requests.get(server.url("/ready"), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    assert response.json() == {"status": "ready"}
    assert_common_headers(response.headers)


def test_openapi_yaml_is_served_verbatim(server, spec_bytes):
    response = requests.get(server.url("/openapi.yaml"), headers={"Accept-Encoding": "identity"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/yaml"
    assert "Content-Encoding" not in response.headers
    assert response.content == spec_bytes, "served spec differs from openapi.yaml (stale binary?)"
    assert_common_headers(response.headers)


@pytest.mark.parametrize("path", ["/health", "/ready", "/openapi.yaml"])
def test_head_has_get_headers_and_no_body(server, path):
    with server.connect() as conn:
        get = conn.request("GET", path)
        head = conn.request("HEAD", path)
        # Had HEAD carried a body, this next response would not parse.
        after = conn.request("GET", "/health")
    assert head.status == get.status == 200
    assert head.body == b""
    assert head.header("Content-Type") == get.header("Content-Type")
    assert head.header("Content-Length") == get.header("Content-Length") == str(len(get.body))
    assert head.header("Server") == "shopfloor"
    assert http_date_ok(head.header("Date"))
    assert head.header("X-Request-Id")
    assert after.status == 200 and after.json() == {"status": "ok"}


# Request ids -------------------------------------------------------------------------------------


def test_sane_request_id_is_echoed(server):
    sent = "client-42_abc.DEF:7"
    response = requests.get(server.url("/health"), headers={"X-Request-Id": sent}, timeout=5)
    assert response.headers["X-Request-Id"] == sent


@pytest.mark.parametrize("sent", ["has space", "x" * 300, "semi;colon", "quote\"d", "é-unicode".encode("utf-8").decode("latin-1")])
def test_unsafe_request_id_is_replaced(server, sent):
    with server.connect() as conn:
        response = conn.request("GET", "/health", headers=[("X-Request-Id", sent)])
    assert response.status == 200
    generated = response.header("X-Request-Id")
    assert generated and generated != sent
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", generated), generated


def test_generated_request_ids_are_unique(server):
    with requests.Session() as session:
        ids = {session.get(server.url("/health"), timeout=5).headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


# Errors ------------------------------------------------------------------------------------------


def test_unknown_path_is_404_problem(server):
    response = requests.get(server.url("/no/such/path"), timeout=5)
    assert_problem(response, 404, "not_found")
    assert_common_headers(response.headers)


def test_wrong_method_is_405_with_allow(server):
    response = requests.post(server.url("/health"), data=b"x", timeout=5)
    assert_problem(response, 405, None)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert "POST" not in allowed
    assert_common_headers(response.headers)


def test_echo_is_404_unless_enabled(plain_server):
    response = requests.post(plain_server.url("/v1/echo"), data=b"hello", timeout=5)
    assert_problem(response, 404, "not_found")


def test_echo_returns_body_and_content_type(server):
    body = bytes(range(256)) * 4
    response = requests.post(server.url("/v1/echo"), data=body, headers={"Content-Type": "image/x-test"}, timeout=5)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["Content-Type"] == "image/x-test"
    assert_common_headers(response.headers)


def test_echo_defaults_to_octet_stream(server):
    with server.connect() as conn:
        response = conn.request("POST", "/v1/echo", body=b"raw bytes")
    assert response.status == 200
    assert response.body == b"raw bytes"
    assert response.header("Content-Type") == "application/octet-stream"


def test_echo_empty_body(server):
    with server.connect() as conn:
        response = conn.request("POST", "/v1/echo", body=b"")
    assert response.status == 200
    assert response.body == b""
    assert response.header("Content-Length") == "0"


@pytest.mark.parametrize("delay", ["abc", "-1", "10001"])
def test_echo_rejects_bad_delay(server, delay):
    response = requests.post(server.url(f"/v1/echo?delay_ms={delay}"), data=b"x", timeout=5)
    assert_problem(response, 400, "invalid_request")


def test_large_echo_round_trips(server):
    body = (b"0123456789abcdef" * 32768)  # 512 KiB, below the 1 MiB default limit
    response = requests.post(server.url("/v1/echo"), data=body, timeout=10)
    assert response.status_code == 200
    assert len(response.content) == len(body)
    assert response.content == body


# Compression -------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*"])
def test_spec_is_gzipped_when_accepted(server, spec_bytes, accept):
    with server.connect() as conn:
        response = conn.request("GET", "/openapi.yaml", headers=[("Accept-Encoding", accept)])
    assert response.status == 200
    assert response.header("Content-Encoding") == "gzip"
    assert response.has_token("Vary", "Accept-Encoding")
    assert response.header("Content-Type").split(";")[0] == "application/yaml"
    assert int(response.header("Content-Length")) == len(response.body) < len(spec_bytes)
    assert gzip.decompress(response.body) == spec_bytes


@pytest.mark.parametrize("accept", [None, "gzip;q=0", "identity", "br"])
def test_spec_is_not_gzipped_otherwise(server, spec_bytes, accept):
    headers = [("Accept-Encoding", accept)] if accept is not None else []
    with server.connect() as conn:
        response = conn.request("GET", "/openapi.yaml", headers=headers)
    assert response.status == 200
    assert response.header("Content-Encoding") in (None, "identity")
    assert response.body == spec_bytes


def test_small_bodies_are_not_compressed(server):
    with server.connect() as conn:
        response = conn.request("GET", "/health", headers=[("Accept-Encoding", "gzip")])
    assert response.status == 200
    assert response.header("Content-Encoding") is None
    assert response.json() == {"status": "ok"}


def test_head_of_gzipped_spec_has_no_body(server):
    with server.connect() as conn:
        head = conn.request("HEAD", "/openapi.yaml", headers=[("Accept-Encoding", "gzip")])
        after = conn.request("GET", "/health")
    assert head.status == 200
    assert head.body == b""
    assert head.has_token("Vary", "Accept-Encoding")
    assert after.status == 200
