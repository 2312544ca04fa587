"""Small client for the live-cart tests: an admin key, products with stock, carts, inventory, events.

The servers under test get the admin key through `SHOPFLOOR_ADMIN_KEY` (see `ADMIN_ENV`). Each
`Api` holds one `requests.Session`; a thread that sends requests of its own makes its own `Api`
(`api.fork()`), since sessions are not meant to be shared between threads.
"""

from __future__ import annotations

import http.client
import itertools
import json
import secrets
import threading
import time

import requests

ADMIN_KEY = "sk_admin_test_" + secrets.token_hex(16)
ADMIN_ENV = {"SHOPFLOOR_ADMIN_KEY": ADMIN_KEY}
PROBLEM_TYPE = "application/problem+json"
OK_CARD = {"method": "test_card", "card_number": "4242424242424242"}
TIMEOUT = 30

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def unique(prefix: str) -> str:
    """A SKU or name that no other test on the same server uses."""
    with _counter_lock:
        n = next(_counter)
    return f"{prefix}-{secrets.token_hex(3)}-{n}"


def a_customer(api: "Api") -> str:
    """The id of a new customer of the server's (a cart's `customer_id` must name one)."""
    return api.ok("POST", "/v1/customers", {"email": f"{unique('buyer').lower()}@example.com"}, status=201)["id"]


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].split(";")[0].strip() == PROBLEM_TYPE, response.headers
    problem = response.json()
    assert {"type", "title", "status", "detail", "code"} <= problem.keys(), problem
    assert problem["status"] == status, problem
    assert problem["code"] == code, problem
    return problem


def money(amount: int, currency: str = "GBP") -> dict:
    return {"amount": amount, "currency": currency}


class Api:
    def __init__(self, server, key: str | None = ADMIN_KEY):
        self.server = server
        self.key = key
        self.session = requests.Session()

    def fork(self) -> "Api":
        return Api(self.server, self.key)

    # Raw calls -----------------------------------------------------------------------------------

    def call(self, method: str, path: str, json=None, key: str | None = "admin", **kwargs) -> requests.Response:
        """`key="admin"` sends this Api's key, `None` sends none, anything else is sent as is."""
        headers = dict(kwargs.pop("headers", {}) or {})
        use = self.key if key == "admin" else key
        if use:
            headers["Authorization"] = f"Bearer {use}"
        return self.session.request(method, self.server.url(path), json=json, headers=headers,
                                    timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)

    def public(self, method: str, path: str, json=None, **kwargs) -> requests.Response:
        return self.call(method, path, json=json, key=None, **kwargs)

    def ok(self, method: str, path: str, json=None, status: int = 200, key: str | None = "admin"):
        response = self.call(method, path, json=json, key=key)
        assert response.status_code == status, f"{method} {path} -> {response.status_code} {response.text}"
        return response.json() if response.content else None

    # Catalogue and stock -------------------------------------------------------------------------

    def product(self, skus: dict[str, int] | str, price: int = 1000, stock: int = 0, status: str = "active",
                currency: str = "GBP", location: str = "main") -> dict:
        """A product with one variant per SKU. `skus` maps SKU -> price, or is one SKU."""
        if isinstance(skus, str):
            skus = {skus: price}
        variants = [{"sku": sku, "title": f"V {sku}", "price": money(p, currency),
                     **({"initial_stock": {location: stock}} if stock else {})} for sku, p in skus.items()]
        return self.ok("POST", "/v1/products", {"title": unique("Product"), "status": status, "variants": variants}, status=201)

    def inventory(self, sku: str) -> dict:
        return self.ok("GET", f"/v1/inventory/{sku}")

    def adjust(self, sku: str, delta: int, location: str = "main", reason: str = "received") -> requests.Response:
        return self.call("POST", f"/v1/inventory/{sku}/adjustments", {"delta": delta, "reason": reason, "location": location})

    def api_key(self, role: str, location: str | None = None) -> str:
        body = {"role": role, "name": unique(role)}
        if location is not None:
            body["location"] = location
        return self.ok("POST", "/v1/api-keys", body, status=201)["key"]

    # Carts ---------------------------------------------------------------------------------------

    def new_cart(self, channel: str = "online", key: str | None = None, **extra) -> dict:
        return self.ok("POST", "/v1/carts", {"channel": channel, **extra}, status=201, key=key)

    def cart(self, cart_id: str) -> dict:
        return self.ok("GET", f"/v1/carts/{cart_id}", key=None)

    def add(self, cart_id: str, sku: str, quantity, customisation=None, **kwargs) -> requests.Response:
        body = {"sku": sku, "quantity": quantity}
        if customisation is not None:
            body["customisation"] = customisation
        return self.public("POST", f"/v1/carts/{cart_id}/lines", body, **kwargs)

    def patch_line(self, cart_id: str, line_id: str, body: dict) -> requests.Response:
        return self.public("PATCH", f"/v1/carts/{cart_id}/lines/{line_id}", body)

    def remove_line(self, cart_id: str, line_id: str) -> requests.Response:
        return self.public("DELETE", f"/v1/carts/{cart_id}/lines/{line_id}")

    def delete_cart(self, cart_id: str) -> requests.Response:
        return self.public("DELETE", f"/v1/carts/{cart_id}")

    def carts(self, status: str = "active") -> list[dict]:
        """Every cart with `status`, following cursors."""
        out, cursor = [], None
        while True:
            path = f"/v1/carts?status={status}&limit=200" + (f"&cursor={cursor}" if cursor else "")
            page = self.ok("GET", path)
            out += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return out

    def units_in_active_carts(self) -> dict[str, int]:
        """SKU -> sum of line quantities over every active cart."""
        totals: dict[str, int] = {}
        for cart in self.carts("active"):
            assert cart["status"] == "active", cart
            for line in cart["lines"]:
                totals[line["sku"]] = totals.get(line["sku"], 0) + line["quantity"]
        return totals

    # Events --------------------------------------------------------------------------------------

    def events(self, topics: str, since: int = 0) -> list[dict]:
        out = []
        while True:
            page = self.ok("GET", f"/v1/events?since={since}&topics={topics}&limit=200")
            out += page["items"]
            if not page["next_cursor"]:
                return out
            since = int(page["next_cursor"])


def line_of(cart: dict, sku: str) -> dict:
    lines = [line for line in cart["lines"] if line["sku"] == sku]
    assert len(lines) == 1, cart["lines"]
    return lines[0]


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Polls `predicate` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}")
        time.sleep(interval)


class Client:
    """One keep-alive HTTP/1.1 connection; replies are (status, parsed JSON or None)."""

    def __init__(self, server, key: str | None = None):
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        self.conn.connect()
        self.key = key

    def request(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)

    def close(self):
        self.conn.close()


def ready_cart(api: Api, prefix: str, price: int = 1000, quantity: int = 1, name: str = "Ada Lovelace",
               email: str | None = None, phone: str | None = None) -> dict:
    """An online cart with `quantity` of a new product at `price`, an email (a fresh one unless given)
    and a London shipping address (with `phone`, if any), ready to complete."""
    sku = unique(prefix)
    api.product(sku, price=price, stock=5)
    cart = api.new_cart()
    assert api.add(cart["id"], sku, quantity).status_code == 200
    address = {"name": name, "line1": "1 High St", "city": "London", "postal_code": "N1", "country": "GB"}
    if phone is not None:
        address["phone"] = phone
    response = api.public("PATCH", f"/v1/carts/{cart['id']}", {
        "email": email or f"{unique('ada').lower()}@example.com", "shipping_address": address})
    assert response.status_code == 200, response.text
    return response.json()


def complete(api: Api, cart: dict) -> dict:
    """Pays `cart` with the test card; the order."""
    response = api.public("POST", f"/v1/carts/{cart['id']}/complete", {"payment": OK_CARD})
    assert response.status_code == 201, response.text
    return response.json()
