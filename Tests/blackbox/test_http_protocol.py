"""HTTP/1.1 framing over raw sockets (RFC 9112): persistence, pipelining, chunked bodies,
100-continue and other expectations, the absolute form, bare line feeds, size limits and malformed
input."""

from __future__ import annotations

import json
import time

import pytest

from shopfloor_http import build_request, chunked, http_date_ok

PROBLEM_TYPE = "application/problem+json"
BODY_LIMIT = 1024


@pytest.fixture
def small_server(session_launch):
    """Echo on, bodies limited to 1 KiB so limit tests send little."""
    return session_launch.shared("small-body", {"enable_echo": True, "max_body_size": BODY_LIMIT})


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status == status, (response.status, response.body[:300])
    assert response.header("Content-Type").split(";")[0].strip() == PROBLEM_TYPE
    problem = json.loads(response.body)
    assert {"type", "title", "status", "detail", "code"} <= problem.keys(), problem
    assert problem["status"] == status
    if code is not None:
        assert problem["code"] == code
    assert response.header("Server") == "shopfloor"
    assert http_date_ok(response.header("Date"))
    assert response.header("X-Request-Id"), "every response carries X-Request-Id, errors too"
    return problem


def assert_closed(conn, timeout: float = 3.0) -> None:
    conn.wait_closed(timeout)
    assert not conn.buffer, f"unexpected bytes after the response: {bytes(conn.buffer[:200])!r}"


# Persistence -------------------------------------------------------------------------------------


def test_http11_keeps_the_connection_alive(server):
    with server.connect() as conn:
        first = conn.request("GET", "/health")
        second = conn.request("GET", "/ready")
        third = conn.request("GET", "/no/such/path")  # an error response keeps the connection too
        fourth = conn.request("POST", "/v1/echo", body=b"still here")
    assert [first.status, second.status, third.status, fourth.status] == [200, 200, 404, 200]
    assert fourth.body == b"still here"
    for response in (first, second, third, fourth):
        assert not response.has_token("Connection", "close")


def test_connection_close_is_honoured(server):
    with server.connect() as conn:
        response = conn.request("GET", "/health", headers=[("Connection", "close")])
        assert response.status == 200
        assert response.json() == {"status": "ok"}
        assert response.has_token("Connection", "close")
        assert_closed(conn)


def test_http10_closes_by_default(server):
    with server.connect() as conn:
        response = conn.request("GET", "/health", version="HTTP/1.0", host=None)
        assert response.status == 200
        assert response.json() == {"status": "ok"}
        assert not response.has_token("Connection", "keep-alive")
        assert_closed(conn)


def test_http10_keep_alive_on_request(server):
    with server.connect() as conn:
        first = conn.request("GET", "/health", version="HTTP/1.0", host=None, headers=[("Connection", "keep-alive")])
        assert first.status == 200
        assert first.has_token("Connection", "keep-alive")
        second = conn.request("GET", "/ready", version="HTTP/1.0", host=None, headers=[("Connection", "keep-alive")])
        assert second.status == 200
        assert second.json() == {"status": "ready"}


# Pipelining --------------------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order(server):
    requests_ = (
        build_request("POST", "/v1/echo?delay_ms=400", [("X-Request-Id", "p-1")], b"first")
        + build_request("POST", "/v1/echo", [("X-Request-Id", "p-2")], b"second")
        + build_request("GET", "/health", [("X-Request-Id", "p-3")])
    )
    with server.connect() as conn:
        conn.send(requests_)  # one write
        responses = [conn.read_final_response() for _ in range(3)]
    assert [r.status for r in responses] == [200, 200, 200]
    assert [r.header("X-Request-Id") for r in responses] == ["p-1", "p-2", "p-3"]
    assert responses[0].body == b"first"
    assert responses[1].body == b"second"
    assert responses[2].json() == {"status": "ok"}


def test_deep_pipeline_is_answered_completely(server):
    count = 40  # more than the server parses ahead at once, so it must apply backpressure
    batch = b"".join(build_request("GET", "/health", [("X-Request-Id", f"deep-{i}")]) for i in range(count))
    with server.connect(timeout=10) as conn:
        conn.send(batch)
        ids = [conn.read_final_response().header("X-Request-Id") for _ in range(count)]
    assert ids == [f"deep-{i}" for i in range(count)]


def test_pipelined_request_after_connection_close_is_not_answered(server):
    batch = build_request("GET", "/health", [("Connection", "close")]) + build_request("GET", "/ready")
    with server.connect() as conn:
        conn.send(batch)
        response = conn.read_final_response()
        assert response.status == 200 and response.json() == {"status": "ok"}
        assert_closed(conn)


# Chunked request bodies and 100-continue ---------------------------------------------------------


def test_chunked_body_with_extensions_and_trailers(server):
    body = chunked(b"Hello, ", b"chunked ", b"world", extensions={0: ";name=value", 2: ';quoted="a b"'},
                   trailers=[("X-Trailer", "yes"), ("X-Other", "1")])
    with server.connect() as conn:
        response = conn.request("POST", "/v1/echo", [("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")], body)
        assert response.status == 200
        assert response.body == b"Hello, chunked world"
        assert response.header("Content-Type") == "text/plain"
        # The connection is still usable: the trailer section was consumed exactly.
        assert conn.request("GET", "/health").status == 200


def test_chunked_body_split_across_writes(server):
    payload = bytes(range(256)) * 20
    wire = build_request("POST", "/v1/echo", [("Transfer-Encoding", "chunked")], chunked(payload[:3000], payload[3000:]))
    with server.connect() as conn:
        for start in range(0, len(wire), 97):
            conn.send(wire[start:start + 97])
        response = conn.read_final_response()
    assert response.status == 200
    assert response.body == payload


def test_expect_100_continue(server):
    body = b"x" * 500
    head = build_request("POST", "/v1/echo", [("Expect", "100-continue"), ("Content-Length", str(len(body)))])
    with server.connect() as conn:
        conn.send(head)
        interim = conn.read_response(timeout=3)
        assert interim.version == "HTTP/1.1"
        assert interim.status == 100
        conn.send(body)
        final = conn.read_response()
        assert final.status == 200
        assert final.body == body


def test_an_expectation_other_than_100_continue_is_417(server):
    with server.connect() as conn:
        conn.send(build_request("POST", "/v1/echo", [("Expect", "202-accepted"), ("Content-Length", "2")], b"hi"))
        response = conn.read_response(timeout=3)
        assert_problem(response, 417, "invalid_request")


def test_the_absolute_form_is_routed_like_the_origin_form(server):
    """RFC 9112 §3.2.2: a server must accept the absolute form; its authority stands for Host."""
    with server.connect() as conn:
        conn.send(f"GET http://{server.host}:{server.port}/health?x=1 HTTP/1.1\r\nHost: elsewhere\r\n\r\n".encode())
        response = conn.read_response(timeout=3)
        assert response.status == 200, response.body


@pytest.mark.parametrize("head", [b"GET /health HTTP/1.1\nHost: x\n\n", b"GET /health HTTP/1.1\r\nHost: x\n\n"])
def test_bare_line_feeds_are_refused_at_once_not_waited_on(session_launch, head):
    """The header timeout is long here: an answer within a second shows nothing was waited for."""
    server = session_launch.shared("patient-head", {"header_timeout": "30s"})
    with server.connect() as conn:
        conn.send(head)
        started = time.monotonic()
        response = conn.read_response(timeout=3)
        assert time.monotonic() - started < 1.0
        assert_problem(response, 400, "invalid_request")


def test_the_header_size_limit_is_a_setting(session_launch):
    server = session_launch.shared("small-head", {"max_header_size": 4096})
    with server.connect() as conn:
        assert conn.request("GET", "/health", [("X-Fits", "v" * 3000)]).status == 200
        conn.send(build_request("GET", "/health", [("X-Too-Big", "v" * 5000)]))
        response = conn.read_response(timeout=3)
        assert_problem(response, 431)
        assert "4096" in response.json()["detail"]


def test_expect_100_continue_over_limit_gets_413_without_100(small_server):
    head = build_request("POST", "/v1/echo", [("Expect", "100-continue"), ("Content-Length", str(BODY_LIMIT + 1))])
    with small_server.connect() as conn:
        conn.send(head)
        response = conn.read_response(timeout=3)
        assert_problem(response, 413, "payload_too_large")


# Limits ------------------------------------------------------------------------------------------


def test_body_at_limit_is_accepted(small_server):
    body = b"b" * BODY_LIMIT
    with small_server.connect() as conn:
        assert conn.request("POST", "/v1/echo", body=body).body == body
        response = conn.request("POST", "/v1/echo", [("Transfer-Encoding", "chunked")], chunked(body[:1000], body[1000:]))
        assert response.status == 200 and response.body == body


def test_content_length_over_limit_is_413(small_server):
    with small_server.connect() as conn:
        # Only the head is sent: the limit is enforced before any body is read.
        conn.send(build_request("POST", "/v1/echo", [("Content-Length", str(BODY_LIMIT + 1))]))
        response = conn.read_response(timeout=3)
        assert_problem(response, 413, "payload_too_large")
        assert_closed(conn)


def test_chunked_body_over_limit_is_413(small_server):
    body = chunked(b"c" * 1000, b"c" * (BODY_LIMIT - 1000 + 1))
    with small_server.connect() as conn:
        conn.send(build_request("POST", "/v1/echo", [("Transfer-Encoding", "chunked")], body))
        response = conn.read_response(timeout=3)
        assert_problem(response, 413, "payload_too_large")
        assert_closed(conn)


def test_request_line_over_8k_is_414(server):
    with server.connect() as conn:
        conn.send(build_request("GET", "/" + "a" * 9000))
        response = conn.read_response(timeout=3)
        assert_problem(response, 414)
        assert_closed(conn)


def test_long_request_line_under_8k_is_routed(server):
    with server.connect() as conn:
        response = conn.request("GET", "/" + "a" * 8000)
    assert_problem(response, 404, "not_found")


def test_header_section_over_64k_is_431(server):
    headers = [(f"X-Big-{i}", "v" * 2000) for i in range(40)]  # ~80 KB in 41 fields
    with server.connect() as conn:
        conn.send(build_request("GET", "/health", headers))
        response = conn.read_response(timeout=3)
        assert_problem(response, 431)
        assert_closed(conn)


def test_header_section_under_64k_is_accepted(server):
    headers = [(f"X-Big-{i}", "v" * 2000) for i in range(30)]  # ~60 KB
    with server.connect() as conn:
        response = conn.request("GET", "/health", headers)
    assert response.status == 200


def test_more_than_100_header_fields_is_431(server):
    headers = [(f"X-Field-{i}", "v") for i in range(101)]  # plus Host: 102 fields
    with server.connect() as conn:
        conn.send(build_request("GET", "/health", headers))
        response = conn.read_response(timeout=3)
        assert_problem(response, 431)
        assert_closed(conn)


def test_exactly_100_header_fields_is_accepted(server):
    headers = [(f"X-Field-{i}", "v") for i in range(99)]  # plus Host: 100 fields
    with server.connect() as conn:
        response = conn.request("GET", "/health", headers)
    assert response.status == 200


# Malformed input ---------------------------------------------------------------------------------

MALFORMED = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "missing target": b"GET HTTP/1.1\r\nHost: x\r\n\r\n",
    "header without colon": b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "space before colon": b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n",
    "obs-fold": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
    "missing host": b"GET /health HTTP/1.1\r\n\r\n",
    "two hosts": b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "bad content-length": b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "negative content-length": b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "conflicting content-lengths": b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "content-length and transfer-encoding": (
        b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"),
    "invalid chunk size": b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk data without crlf": b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
}


@pytest.mark.parametrize("wire", list(MALFORMED.values()), ids=list(MALFORMED.keys()))
def test_malformed_request_is_400_then_close(server, wire):
    with server.connect() as conn:
        conn.send(wire)
        response = conn.read_response(timeout=3)
        assert_problem(response, 400, "invalid_request")
        assert response.has_token("Connection", "close")
        assert_closed(conn)
    # And the server is fine afterwards.
    with server.connect() as conn:
        assert conn.request("GET", "/health").status == 200


def test_malformed_request_after_a_good_one_answers_both(server):
    with server.connect() as conn:
        conn.send(build_request("GET", "/health") + b"NOT HTTP AT ALL\r\n\r\n")
        good = conn.read_response()
        bad = conn.read_response(timeout=3)
        assert good.status == 200 and good.json() == {"status": "ok"}
        assert_problem(bad, 400, "invalid_request")
        assert_closed(conn)


def test_unsupported_http_version_is_505(server):
    with server.connect() as conn:
        conn.send(b"GET /health HTTP/3.0\r\nHost: x\r\n\r\n")
        response = conn.read_response(timeout=3)
        assert_problem(response, 505)
        assert_closed(conn)


def test_unknown_transfer_coding_is_501(server):
    with server.connect() as conn:
        conn.send(b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        response = conn.read_response(timeout=3)
        assert_problem(response, 501)
        assert_closed(conn)


def test_client_closing_mid_request_leaves_server_serving(server):
    for partial in (b"GET /hea", b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
                    b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab"):
        conn = server.connect()
        conn.send(partial)
        conn.close()
    with server.connect() as conn:
        response = conn.request("GET", "/health")
    assert response.status == 200
