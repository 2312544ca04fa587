"""Integrator webhooks (API.md, Integrator webhooks): endpoints, Standard Webhooks signatures checked
by the reference library in a real receiver, retries on the test clock, 410, rotation, replay, the
private-address guard, and delivery after a kill -9.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import socket

import pytest

from cart_api import ADMIN_ENV, Api, assert_problem, complete, ready_cart, unique, wait_for
from receivers import WebhookReceiver


@pytest.fixture
def receiver():
    made = WebhookReceiver()
    yield made
    made.stop()


def hook_server(launch, **options):
    return Api(launch({"enable_test_clock": True, "allow_private_webhooks": True, **options}, env=ADMIN_ENV))


def place_order(api: Api) -> dict:
    return complete(api, ready_cart(api, "HOOK", price=1250))


def endpoint(api: Api, receiver: WebhookReceiver, events=("order.*",)) -> dict:
    made = api.ok("POST", "/v1/webhooks", {"url": receiver.url(), "events": list(events), "description": "ERP"}, status=201)
    receiver.control(secrets=[made["secret"]])
    return made


def of_type(receiver: WebhookReceiver, type_: str) -> list[dict]:
    return [r for r in receiver.received() if json.loads(r["body"])["type"] == type_]


def test_an_order_reaches_the_receiver_signed_as_standard_webhooks(launch, receiver):
    api = hook_server(launch)
    made = endpoint(api, receiver)
    assert made["secret"].startswith("whsec_") and made["status"] == "enabled" and made["events"] == ["order.*"]
    assert "secret" not in api.ok("GET", f"/v1/webhooks/{made['id']}")
    order = place_order(api)
    placed = wait_for(lambda: of_type(receiver, "order.placed"), timeout=15, what="order.placed at the receiver")
    request = placed[0]
    assert request["verified"] is True, request
    body = json.loads(request["body"])
    assert body["data"]["order_id"] == order["id"] and body["data"]["number"] == order["number"]
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["webhook-id"].startswith("whd_")
    # Events outside the filter are not sent: the order's product and stock events stayed home.
    assert all(json.loads(r["body"])["type"].startswith("order.") for r in receiver.received())

    deliveries = wait_for(lambda: [d for d in api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries")["items"]
                                   if d["status"] == "succeeded" and d["event_type"] == "order.placed"], timeout=10, what="succeeded")
    delivery = deliveries[0]
    assert delivery["id"] == request["headers"]["webhook-id"] and delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    detail = api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries/{delivery['id']}")
    assert detail["payload"] == body
    attempt = detail["delivery_attempts"][0]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == '{"ok": true}'
    assert attempt["request_headers"]["webhook-signature"] == request["headers"]["webhook-signature"]


def test_failures_are_retried_on_the_schedule_and_410_disables(launch, receiver):
    api = hook_server(launch)
    made = endpoint(api, receiver, events=["order.placed"])
    receiver.control(script=[503])
    place_order(api)
    first = wait_for(lambda: api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries")["items"], timeout=15, what="a delivery")[0]
    wait_for(lambda: api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries/{first['id']}")["attempts"] == 1, timeout=10, what="attempt 1")
    pending = api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries/{first['id']}")
    assert pending["status"] == "pending" and pending["last_status_code"] == 503 and pending["next_attempt_at"] is not None
    api.ok("POST", "/v1/test/clock", {"advance": "6s"})
    wait_for(lambda: api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries/{first['id']}")["status"] == "succeeded", timeout=10,
             what="the retry")
    ids = {r["headers"]["webhook-id"] for r in receiver.received()}
    assert ids == {first["id"]} and len(receiver.received()) == 2
    # The retried request's timestamp is the test clock's, so only the signature is checked.
    assert all(r["signature_valid"] for r in receiver.received())

    receiver.control(script=[410])
    place_order(api)
    wait_for(lambda: api.ok("GET", f"/v1/webhooks/{made['id']}")["status"] == "disabled", timeout=15, what="disabled after 410")
    assert api.ok("GET", f"/v1/webhooks/{made['id']}")["disabled_reason"] == "gone"
    failed = api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries?status=failed")["items"]
    assert [d["last_status_code"] for d in failed] == [410]

    # Replaying sends it again once the endpoint is enabled, with the same webhook-id.
    api.ok("PATCH", f"/v1/webhooks/{made['id']}", {"enabled": True})
    api.ok("POST", f"/v1/webhooks/{made['id']}/deliveries/{failed[0]['id']}/replay")
    wait_for(lambda: [r for r in receiver.received() if r["headers"]["webhook-id"] == failed[0]["id"] and r["status"] == 200],
             timeout=10, what="the replay")


def test_a_rotation_signs_with_both_secrets(launch, receiver):
    api = hook_server(launch)
    made = endpoint(api, receiver, events=["order.placed"])
    rotated = api.ok("POST", f"/v1/webhooks/{made['id']}/rotate-secret")
    assert rotated["secret"] != made["secret"]
    place_order(api)
    request = wait_for(lambda: receiver.received(), timeout=15, what="a delivery")[0]
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (made["secret"], rotated["secret"]):
        receiver.control(secrets=[secret])
        place_order(api)
    requests_ = wait_for(lambda: receiver.received() if len(receiver.received()) == 3 else None, timeout=15, what="three deliveries")
    assert requests_[1]["verified"] and requests_[2]["verified"]


def test_bad_endpoints_are_refused(launch, receiver):
    api = Api(launch(env=ADMIN_ENV))
    problem = assert_problem(api.call("POST", "/v1/webhooks", {"url": receiver.url(), "events": ["*"]}), 422, "invalid_request")
    assert problem["errors"][0]["field"] == "url"
    for body in ({"url": "ftp://x.example/", "events": ["*"]}, {"url": "https://x.example/", "events": []},
                 {"url": "https://x.example/", "events": ["Order.Placed"]}, {"events": ["*"]}):
        assert_problem(api.call("POST", "/v1/webhooks", body), 422, "invalid_request")
    assert_problem(api.call("POST", "/v1/webhooks", {"url": "https://x.example/", "events": ["*"]}, key=api.api_key("pos", "main")), 403,
                   "forbidden")
    assert_problem(api.call("GET", "/v1/webhooks/whk_nope"), 404, "not_found")
    assert api.ok("GET", "/v1/webhooks")["items"] == []


def test_a_name_that_resolves_to_loopback_is_refused_at_connect(launch, receiver):
    """A name is let through when the endpoint is made; the connection checks what it resolves to.
    This machine's host name resolves to loopback on test machines (skipped where it does not)."""
    host = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, receiver.port, proto=socket.IPPROTO_TCP)}
    except socket.gaierror:
        pytest.skip(f"{host} does not resolve")
    if not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        pytest.skip(f"{host} resolves to {addresses}, not only loopback")
    api = Api(launch({"enable_test_clock": True}, env=ADMIN_ENV))
    made = api.ok("POST", "/v1/webhooks", {"url": f"http://{host}:{receiver.port}/hooks", "events": ["order.placed"]}, status=201)
    place_order(api)
    failed = wait_for(lambda: api.ok("GET", f"/v1/webhooks/{made['id']}/deliveries?status=failed")["items"], timeout=15, what="refused")
    assert "refuses" in failed[0]["last_error"]
    assert receiver.received() == []


def test_deliveries_survive_a_kill_and_arrive_at_least_once(launch, receiver):
    """1,000 stock changes due for a slow receiver, the server killed mid-way: after the restart each
    arrives at least once, and a duplicate carries the same webhook-id."""
    api = hook_server(launch)
    server = api.server
    sku = unique("CRASH")
    api.product(sku, price=100, stock=0)
    endpoint(api, receiver, events=["stock.changed"])
    receiver.control(delay=0.3)
    for _ in range(1000):
        assert api.adjust(sku, 1).status_code == 200
    wait_for(lambda: len(receiver.received()) >= 20, timeout=30, what="deliveries under way")
    server.signal(signal.SIGKILL)
    server.wait_exit(10)
    assert len({r["headers"]["webhook-id"] for r in receiver.received()}) < 1000, "everything arrived before the kill"
    restarted = launch({"enable_test_clock": True, "allow_private_webhooks": True, "data_dir": str(server.data_dir)}, env=ADMIN_ENV)
    api = Api(restarted)
    receiver.control(delay=0)

    def arrived():
        seen = {}
        for r in receiver.received():
            seen.setdefault(json.loads(r["body"])["data"]["on_hand"], set()).add(r["headers"]["webhook-id"])
        return seen if set(seen) == set(range(1, 1001)) else None

    seen = wait_for(arrived, timeout=60, what="every stock change after the restart")
    assert all(len(ids) == 1 for ids in seen.values()), "a duplicate carried another webhook-id"
    assert all(r["verified"] for r in receiver.received())
