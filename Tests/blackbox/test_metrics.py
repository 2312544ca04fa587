"""Metrics and logs for operators (issue 29): `GET /metrics` in Prometheus text (an admin key on the
API's address, no key on `--metrics-listen`), counting requests by route pattern and status with their
latency, the writer's batches, rate-limit refusals, open connections and the units carts hold; and
`--log-format json`, one JSON object per line with the request id."""

from __future__ import annotations

import json
import re
import socket

import pytest
import requests

from cart_api import ADMIN_ENV, Api, assert_problem, unique, wait_for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value, for every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def value(text: str, name: str, **labels) -> float:
    """The sample `name` whose labels include `labels` (0 when there is none)."""
    found = 0.0
    for key, number in samples(text).items():
        base, _, rest = key.partition("{")
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if base == name and all(pairs.get(k) == v for k, v in labels.items()):
            found += number
    return found


@pytest.fixture(scope="module")
def shop(session_launch):
    port = free_port()
    server = session_launch({"metrics_listen": f"127.0.0.1:{port}", "rate_limit": "1/h:1", "trusted_proxies": "127.0.0.1"},
                            env=ADMIN_ENV)
    return Api(server), f"http://127.0.0.1:{port}"


def scrape(api: Api) -> str:
    response = api.call("GET", "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.text


def test_requests_are_counted_by_route_pattern_and_status(shop):
    api, _ = shop
    sku = unique("MET")
    api.product(sku, stock=5)
    before = scrape(api)
    for _ in range(3):
        assert api.call("GET", "/v1/products").status_code == 200
    cart = api.new_cart(key="admin")
    assert api.call("POST", f"/v1/carts/{cart['id']}/lines", {"sku": sku, "quantity": 3}).status_code == 200
    assert api.call("GET", "/v1/nothing-here").status_code == 404
    text = scrape(api)
    assert value(text, "shopfloor_http_requests_total", method="GET", route="/v1/products", status="200") \
        - value(before, "shopfloor_http_requests_total", method="GET", route="/v1/products", status="200") == 3
    assert value(text, "shopfloor_http_requests_total", method="POST", route="/v1/carts/{id}/lines", status="200") >= 1
    assert value(text, "shopfloor_http_requests_total", route="unmatched", status="404") >= 1
    assert value(text, "shopfloor_http_request_duration_seconds_count", method="GET", route="/v1/products") >= 3
    assert 'shopfloor_http_request_duration_seconds_bucket{' in text
    # The writer's batches, the connections and the units held, read as they are.
    assert value(text, "shopfloor_writer_batch_jobs_count") >= 2 and value(text, "shopfloor_writer_commit_seconds_count") >= 2
    assert value(text, "shopfloor_open_connections") >= 1
    assert value(text, "shopfloor_reserved_units") == 3 and value(text, "shopfloor_reserving_carts") == 1
    assert value(text, "shopfloor_wal_bytes") > 0
    assert api.delete_cart(cart["id"]).status_code == 204
    assert value(scrape(api), "shopfloor_reserved_units") == 0
    # No label comes from what a client sends: an unknown method is `other`, an unknown path `unmatched`.
    assert not re.search(r'route="/v1/nothing-here"', text)


def test_metrics_need_an_admin_key_here_and_none_on_their_own_address(shop):
    api, metrics_url = shop
    assert_problem(api.public("GET", "/metrics", headers={"X-Forwarded-For": "203.0.113.50"}), 401, "unauthorized")
    assert_problem(api.call("GET", "/metrics", key=api.api_key("storefront"), headers={"X-Forwarded-For": "203.0.113.51"}),
                   403, "forbidden")
    open_scrape = requests.get(metrics_url + "/metrics", timeout=10)
    assert open_scrape.status_code == 200 and "shopfloor_http_requests_total" in open_scrape.text
    assert requests.get(metrics_url + "/v1/products", timeout=10).status_code == 404


def test_rate_limit_refusals_are_counted_by_limit(shop):
    api, _ = shop
    client = {"X-Forwarded-For": "203.0.113.77"}
    assert api.public("GET", "/v1/products", headers=client).status_code == 200
    assert api.public("GET", "/v1/products", headers=client).status_code == 429
    assert value(scrape(api), "shopfloor_rate_limited_total", limit="address") >= 1


def test_json_logs_carry_the_request_id_on_every_line_of_a_request(launch):
    server = launch({"log_format": "json"}, env=ADMIN_ENV)
    api = Api(server)
    assert api.call("GET", "/v1/products", headers={"X-Request-Id": "trace-me-123"}).status_code == 200

    def logged():
        lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("request_id") == "trace-me-123"]

    wait_for(lambda: logged(), timeout=5, what="the request's log line")
    line = logged()[0]
    assert line["level"] == "info" and line["label"] == "shopfloor" and "GET /v1/products 200" in line["message"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]), line
    # Every line of the log is one JSON object.
    for raw in server.log_path.read_text().splitlines():
        if raw.strip():
            json.loads(raw)
