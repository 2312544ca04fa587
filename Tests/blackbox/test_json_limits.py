"""The JSON parser's limits (issue 29): a body past one (a number no double holds among them) is 413
`payload_too_large` naming the limit in `limit` and its value in `max`, never "not valid JSON";
malformed JSON stays 400. Nothing is written."""

from __future__ import annotations

import pytest

from cart_api import ADMIN_ENV, Api, assert_problem


@pytest.fixture(scope="module")
def api(session_launch) -> Api:
    return Api(session_launch({}, env=ADMIN_ENV))


def post(api: Api, body: str):
    return api.public("POST", "/v1/carts", data=body.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("name, body, limit, max_", [
    ("depth", '{"channel":"online","x":' + "[" * 40 + "]" * 40 + "}", "json_depth", 32),
    ("string", '{"channel":"online","x":"' + "a" * (70 * 1024) + '"}', "json_string_bytes", 64 * 1024),
    ("members", '{"channel":"online","x":[' + ",".join(["0"] * 200_001) + "]}", "json_members", 200_000),
    ("number", '{"channel":"online","x":' + "9" * 70 + "}", "json_number_length", 64),
])
def test_a_body_past_a_limit_is_413_naming_it(api, name, body, limit, max_):
    before = api.ok("GET", "/v1/carts?limit=1")["items"]
    problem = assert_problem(post(api, body), 413, "payload_too_large")
    assert (problem["limit"], problem["max"]) == (limit, max_), problem
    assert "not valid JSON" not in problem["detail"]
    assert api.ok("GET", "/v1/carts?limit=1")["items"] == before


def test_a_number_no_double_holds_is_413_and_malformed_json_400(api):
    problem = assert_problem(post(api, '{"channel":"online","x":1e400}'), 413, "payload_too_large")
    assert problem["limit"] == "json_number_range"
    problem = assert_problem(post(api, '{"channel":"online",}'), 400, "invalid_request")
    assert "not valid JSON" in problem["detail"] and "limit" not in problem
    # Within every limit the same shapes are fine.
    ok = '{"channel":"online","x":' + "[" * 30 + "]" * 30 + ',"y":"' + "a" * 1000 + '","z":' + "9" * 64 + "}"
    assert post(api, ok).status_code == 201
