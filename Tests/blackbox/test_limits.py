"""Limits against abuse (issue 29): token buckets per client address, per staff key and on the
sensitive routes, answered 429 `rate_limited` with `Retry-After` and the limit's name; the client's
address from a trusted proxy's `X-Forwarded-For`/`Forwarded` only; connections per address; and stock
hoarding: open carts per address, units of one SKU per online cart, a write that changes nothing does
not renew a cart, and a cart's hold has a longest lifetime.

Each test's server sets the limits it tests (the rest of the suite runs with them off, conftest.py)."""

from __future__ import annotations

import socket
from datetime import datetime

import pytest

from cart_api import ADMIN_ENV, Api, assert_problem, line_of, unique, wait_for


def launch_with(launch, **limits) -> Api:
    return Api(launch({"enable_test_clock": True, **limits}, env=ADMIN_ENV))


def advance(api: Api, duration: str) -> None:
    api.ok("POST", "/v1/test/clock", {"advance": duration})


def refused(response, limit: str) -> dict:
    body = assert_problem(response, 429, "rate_limited")
    assert body["limit"] == limit, body
    assert int(response.headers["Retry-After"]) >= 1
    return body


# Request rates ------------------------------------------------------------------------------------

def test_an_address_gets_its_burst_then_429_until_its_bucket_refills(launch):
    api = launch_with(launch, rate_limit="1/s:5")
    for _ in range(5):
        assert api.public("GET", "/v1/products").status_code == 200
    answer = api.public("GET", "/v1/products")
    refused(answer, "address")
    assert answer.headers["RateLimit-Policy"] == '"address";q=5;w=5'
    assert answer.headers["RateLimit"].startswith('"address";r=0;t=')
    # A storefront key is public, in every shopper's browser: it draws on the address's bucket too.
    storefront = api.api_key("storefront")
    refused(api.call("GET", "/v1/products", key=storefront), "address")
    # Staff keys have their own bucket (off here), so the shop's admin is not locked out with them.
    assert api.call("GET", "/v1/products").status_code == 200
    advance(api, "2s")
    assert api.public("GET", "/v1/products").status_code == 200
    assert api.public("GET", "/v1/products").status_code == 200
    refused(api.public("GET", "/v1/products"), "address")


def test_a_staff_key_has_a_bucket_of_its_own(launch):
    api = launch_with(launch, key_rate_limit="1/min:3", rate_limit="off")
    pos = api.api_key("pos", location="main")
    for _ in range(2):  # the admin's own bucket: one call made the key, two more fit
        assert api.call("GET", "/v1/products").status_code == 200
    refused(api.call("GET", "/v1/products"), "key")
    for _ in range(3):
        assert api.call("GET", "/v1/products", key=pos).status_code == 200
    body = refused(api.call("GET", "/v1/products", key=pos), "key")
    assert "key limit 1/min:3" in body["detail"]
    # Anonymous callers from the same address are not held back by the keys' buckets.
    assert api.public("GET", "/v1/products").status_code == 200


def test_sign_in_and_pin_routes_have_a_much_smaller_bucket(launch):
    api = launch_with(launch, sensitive_rate_limit="3/min:3")
    for _ in range(3):
        assert_problem(api.public("POST", "/v1/sessions", {"key": "sk_admin_wrong"}), 401, "unauthorized")
    refused(api.public("POST", "/v1/sessions", {"key": "sk_admin_wrong"}), "sensitive")
    # The same address's other sensitive routes share that bucket; ordinary routes do not.
    refused(api.public("POST", "/v1/auth/code", {"email": "ada@example.com"}), "sensitive")
    assert api.public("GET", "/v1/products").status_code == 200
    advance(api, "1m")
    assert api.public("POST", "/v1/sessions", {"key": "sk_admin_wrong"}).status_code == 401


# Who the client is --------------------------------------------------------------------------------

def test_a_trusted_proxy_names_the_client_and_a_client_cannot_name_itself(launch):
    api = launch_with(launch, rate_limit="1/h:2")  # loopback, where the test runs, is trusted by default

    def get(header: str, value: str):
        return api.public("GET", "/v1/products", headers={header: value})

    assert get("X-Forwarded-For", "203.0.113.5").status_code == 200
    assert get("X-Forwarded-For", "203.0.113.5").status_code == 200
    refused(get("X-Forwarded-For", "203.0.113.5"), "address")
    # What a client writes itself stands left of what the proxy added: it is not believed.
    refused(get("X-Forwarded-For", "198.51.100.77, 203.0.113.5"), "address")
    # Another client behind the proxy has a bucket of its own; so does one named by Forwarded.
    assert get("X-Forwarded-For", "203.0.113.6").status_code == 200
    assert get("Forwarded", 'for="[2001:db8::1]:4711";proto=https').status_code == 200
    assert get("Forwarded", 'for="[2001:db8::1]:4711"').status_code == 200
    refused(get("Forwarded", 'for="[2001:db8::1]"'), "address")
    assert get("Forwarded", "for=192.0.2.60;proto=http, for=192.0.2.61").status_code == 200


def test_without_trusted_proxies_forwarding_headers_are_ignored(launch):
    api = launch_with(launch, rate_limit="1/h:2", trusted_proxies="none")
    assert api.public("GET", "/v1/products", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert api.public("GET", "/v1/products", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    refused(api.public("GET", "/v1/products", headers={"X-Forwarded-For": "203.0.113.3"}), "address")


def test_connections_per_address_are_capped(launch):
    api = launch_with(launch, max_connections_per_address="3")
    host, port = api.server.url("/").split("//")[1].split("/")[0].split(":")
    held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(3)]
    try:
        extra = socket.create_connection((host, int(port)), timeout=5)
        answer = extra.recv(4096).decode()
        extra.close()
        assert answer.startswith("HTTP/1.1 429"), answer
        assert "rate_limited" in answer and "connections_per_address" in answer
        held.pop().close()
        # A place is free again once a connection closes (the server notices at once).
        for _ in range(50):
            again = socket.create_connection((host, int(port)), timeout=5)
            again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = again.recv(4096).decode()
            again.close()
            if reply.startswith("HTTP/1.1 200"):
                break
        else:
            pytest.fail(f"no place after a connection closed: {reply}")
    finally:
        for connection in held:
            connection.close()


# Stock hoarding -----------------------------------------------------------------------------------

def test_one_anonymous_client_cannot_take_every_unit_of_a_product(launch):
    api = launch_with(launch, max_open_carts_per_address="3", max_units_per_sku="10")
    sku = unique("HOARD")
    api.product(sku, stock=50)
    carts = []
    for _ in range(3):
        cart = api.new_cart()
        assert api.add(cart["id"], sku, 10).status_code == 200
        carts.append(cart)
    body = refused(api.public("POST", "/v1/carts", {"channel": "online"}), "open_carts_per_address")
    assert body["max"] == 3
    # More of the SKU in one cart is refused, saying which limit.
    body = assert_problem(api.add(carts[0]["id"], sku, 1), 409, "conflict")
    assert body["limit"] == "units_per_sku" and body["max"] == 10
    line = line_of(api.cart(carts[0]["id"]), sku)
    assert_problem(api.patch_line(carts[0]["id"], line["id"], {"quantity": 11}), 409, "conflict")
    assert api.inventory(sku)["available"] == 20
    # A closed cart frees its place; staff carts never take one, nor do till carts meet the unit cap.
    assert api.delete_cart(carts[0]["id"]).status_code == 204
    assert api.public("POST", "/v1/carts", {"channel": "online"}).status_code == 201
    refused(api.public("POST", "/v1/carts", {"channel": "online"}), "open_carts_per_address")
    till = api.new_cart(channel="pos", key="admin", location="main")
    assert api.add(till["id"], sku, 25).status_code == 200
    # Another client behind the trusted proxy has places of its own.
    other = api.public("POST", "/v1/carts", {"channel": "online"}, headers={"X-Forwarded-For": "203.0.113.9"})
    assert other.status_code == 201


def expires(cart: dict) -> datetime:
    return datetime.fromisoformat(cart["expires_at"].replace("Z", "+00:00"))


def test_a_write_that_changes_nothing_does_not_renew_the_hold(launch):
    api = launch_with(launch, reservation_ttl="15m")
    sku = unique("NOOP")
    api.product(sku, stock=5)
    cart = api.new_cart()
    added = api.add(cart["id"], sku, 2).json()
    line = line_of(added, sku)
    advance(api, "5m")
    same = api.patch_line(cart["id"], line["id"], {"quantity": 2})
    assert same.status_code == 200 and expires(same.json()) == expires(added)
    assert api.public("PATCH", f"/v1/carts/{cart['id']}", {}).status_code == 200
    assert expires(api.cart(cart["id"])) == expires(added)
    # A real change renews it, and the same change sent again does not.
    changed = api.public("PATCH", f"/v1/carts/{cart['id']}", {"email": "ada@example.com"}).json()
    assert expires(changed) > expires(added)
    advance(api, "1m")
    again = api.public("PATCH", f"/v1/carts/{cart['id']}", {"email": "ada@example.com"}).json()
    assert expires(again) == expires(changed)
    events = [e["type"] for e in api.events(f"cart:{cart['id']}")]
    assert events.count("cart.updated") == 1, events


def test_a_cart_holds_stock_no_longer_than_the_longest_hold(launch):
    api = launch_with(launch, reservation_ttl="15m", max_cart_hold="20m")
    sku = unique("HOLD")
    api.product(sku, stock=5)
    cart = api.new_cart()
    created = datetime.fromisoformat(cart["created_at"].replace("Z", "+00:00"))
    line = line_of(api.add(cart["id"], sku, 1).json(), sku)
    advance(api, "10m")
    renewed = api.patch_line(cart["id"], line["id"], {"quantity": 2}).json()
    assert (expires(renewed) - created).total_seconds() == pytest.approx(20 * 60, abs=1)
    advance(api, "11m")
    wait_for(lambda: api.cart(cart["id"])["status"] == "expired", timeout=10, what="the cart expiring at its longest hold")
    assert api.inventory(sku)["available"] == 5
    body = assert_problem(api.add(cart["id"], sku, 1), 409, "conflict")
    assert body["limit"] == "cart_hold"
    assert api.inventory(sku)["available"] == 5
    fresh = api.new_cart()
    assert api.add(fresh["id"], sku, 1).status_code == 200
