"""Web Push (API.md, Messages): the server's VAPID key, subscriptions for a cart or by tracking token,
order news pushed encrypted (RFC 8291) and signed (RFC 8292) to a real local push service that decrypts
them as a browser would, and a gone subscription removed.
"""

from __future__ import annotations

import json

import pytest

from cart_api import ADMIN_ENV, Api, assert_problem, complete, ready_cart, wait_for
from receivers import PushService


@pytest.fixture
def push_service():
    made = PushService()
    yield made
    made.stop()


def push_server(launch):
    return Api(launch({"allow_private_webhooks": True, "shop_name": "Test Shop", "public_url": "https://shop.test.example"}, env=ADMIN_ENV))


def subscribe(api: Api, subscription: dict, **follows) -> dict:
    response = api.public("POST", "/v1/push/subscriptions", {**subscription, "visitor": "vis_test", **follows})
    assert response.status_code == 201, response.text
    return response.json()


def test_order_news_is_pushed_encrypted_and_signed(launch, push_service):
    api = push_server(launch)
    key = api.public("GET", "/v1/push/key").json()["public_key"]
    assert len(key) == 87 and key.startswith("B")
    browser = push_service.subscribe(key)
    cart = ready_cart(api, "PUSH", price=900)
    made = subscribe(api, {"endpoint": browser["endpoint"], "keys": browser["keys"]}, cart=cart["id"])
    assert made["id"].startswith("psub_") and made["cart"] == cart["id"]

    order = complete(api, cart)
    first = wait_for(lambda: push_service.messages(), timeout=15, what="the pushed confirmation")[0]
    notification = json.loads(first["plaintext"])
    link = f"https://shop.test.example/v1/track/{order['tracking_token']}"
    assert notification == {"title": f"Your order {order['number']} at Test Shop",
                            "body": f"Thank you for your order {order['number']} at Test Shop. Follow it: {link}", "url": link}
    assert first["ttl"] == 86400
    assert first["vapid"]["claims"]["aud"] == f"http://127.0.0.1:{push_service.port}"

    api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": "confirmed"})
    second = wait_for(lambda: push_service.messages()[1:], timeout=15, what="the pushed status change")[0]
    assert json.loads(second["plaintext"])["body"].startswith(f"Your order {order['number']} is confirmed.")
    sent = wait_for(lambda: [m for m in api.ok("GET", f"/v1/messages?channel=push&order={order['id']}")["items"] if m["status"] == "sent"]
                    if len([m for m in api.ok("GET", f"/v1/messages?channel=push&order={order['id']}")["items"] if m["status"] == "sent"]) == 2
                    else None, timeout=10, what="both sent")
    assert {m["to"] for m in sent} == {browser["endpoint"]}


def test_a_gone_subscription_is_removed(launch, push_service):
    api = push_server(launch)
    key = api.public("GET", "/v1/push/key").json()["public_key"]
    cart = ready_cart(api, "PUSH", price=900)
    order = complete(api, cart)
    browser = push_service.subscribe(key)
    subscribe(api, {"endpoint": browser["endpoint"], "keys": browser["keys"]}, tracking_token=order["tracking_token"])
    push_service.control(gone=[browser["id"]])
    api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": "confirmed"})
    failed = wait_for(lambda: [m for m in api.ok("GET", f"/v1/messages?channel=push&order={order['id']}")["items"] if m["status"] == "failed"],
                      timeout=15, what="the failed push")
    assert "410" in failed[0]["last_error"]
    # Removed: the next status change pushes nothing.
    api.ok("POST", f"/v1/orders/{order['id']}/transitions", {"to": "packed"})
    assert [m for m in api.ok("GET", f"/v1/messages?channel=push&order={order['id']}")["items"]] == failed
    assert push_service.messages() == []


def test_bad_subscriptions_are_refused_and_one_can_be_removed(launch, push_service):
    api = push_server(launch)
    key = api.public("GET", "/v1/push/key").json()["public_key"]
    browser = push_service.subscribe(key)
    good = {"endpoint": browser["endpoint"], "keys": browser["keys"]}
    bad_keys = {"endpoint": browser["endpoint"], "keys": {"p256dh": "short", "auth": "x"}}
    problem = assert_problem(api.public("POST", "/v1/push/subscriptions", bad_keys), 422, "invalid_request")
    assert {e["field"] for e in problem["errors"]} == {"keys.p256dh", "keys.auth"}
    assert_problem(api.public("POST", "/v1/push/subscriptions", {**good, "cart": "cart_nope"}), 422, "invalid_request")
    assert_problem(api.public("POST", "/v1/push/subscriptions", {**good, "endpoint": "javascript:alert(1)"}), 422, "invalid_request")
    assert_problem(api.public("POST", "/v1/push/subscriptions", {"keys": browser["keys"]}), 422, "invalid_request")
    made = subscribe(api, good)
    assert api.public("DELETE", f"/v1/push/subscriptions/{made['id']}").status_code == 204
    assert_problem(api.public("DELETE", f"/v1/push/subscriptions/{made['id']}"), 404, "not_found")
