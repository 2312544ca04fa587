"""Helpers for the customer, segment and shopper-account tests (issue 24; API.md, Customers, Segments,
Shopper accounts): customers and orders made through the API, segment members, the test clock,
sign-in codes read from the real SMTP sink, and one-click unsubscribe tokens.

Orders here are built from given SKUs (`online_order`, `pos_sale`) rather than `cart_api.ready_cart`,
which makes a product of its own: stats and preferences are asserted from the products' categories and
variant attributes. Servers for these tests run without tax rates or shipping methods, so an order's
total is the sum of its lines.

An unsubscribe token is made the way the server makes it (commit 6507293, `UnsubscribeLinks`, and the
Swift `UnsubscribeTests` that obtain one the same way): base64url("<channel>:<address>") "." base64url of
the first 16 bytes of HMAC-SHA256 under HKDF-SHA256(secrets.key, salt empty, info "shopfloor unsubscribe
links", 32 bytes). Marketing email (flows, campaigns) cannot be triggered through the API yet; once it
can, a test should read the token from a delivered mail's `List-Unsubscribe` header instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from cart_api import ADMIN_ENV, Api, assert_problem, complete, money, unique, wait_for
from test_checkout import MANUAL

CUSTOMER_FIELDS = {"id", "email", "phone", "first_name", "last_name", "tags", "locale", "timezone", "addresses", "has_account",
                   "consent", "stats", "preferences", "created_at", "updated_at"}
CONSENT_CHANNELS = ("email", "sms", "push")
NEVER_ASKED = {"state": "not_subscribed", "level": None, "source": None, "updated_at": None}
CSV_HEADER = ["id", "email", "phone", "first_name", "last_name", "tags", "orders_count", "total_spent", "currency", "last_order_at", "created_at"]
# What customer events may carry (design: no email, phone or name in any of them).
EVENT_DATA_KEYS = {"customer_id", "source", "fields", "from", "channel", "state"}


# Servers ----------------------------------------------------------------------------------------


def crm_server(launcher, **options):
    """A server with the test clock on, the admin key of `cart_api`, GBP, no tax rates or shipping methods."""
    return launcher({"enable_test_clock": True, "currency": "GBP", **options}, env=ADMIN_ENV)


@pytest.fixture(scope="module")
def crm(module_launch) -> Api:
    """One server per test module, for tests that make customers of their own."""
    return Api(crm_server(module_launch))


# Values -----------------------------------------------------------------------------------------


def email_address(prefix: str = "shopper") -> str:
    """A fresh, lower-case address no other test uses."""
    return f"{unique(prefix).lower()}@example.com"


def phone_number() -> tuple[str, str]:
    """A fresh UK mobile number: (E.164, as a person types it with spaces and a dash)."""
    digits = f"{secrets.randbelow(10**6):06d}"
    e164 = f"+447700{digits}"
    return e164, f"+44 7700 {digits[:3]}-{digits[3:]}"


def address(name: str = "Ada Lovelace", phone: str | None = None, line1: str = "1 High St") -> dict:
    body = {"name": name, "line1": line1, "city": "London", "postal_code": "N1 9GU", "country": "GB"}
    if phone is not None:
        body["phone"] = phone
    return body


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def gbp(amount: int) -> dict:
    return money(amount, "GBP")


# Test clock -------------------------------------------------------------------------------------


def clock_now(api: Api) -> datetime:
    return when(api.ok("GET", "/v1/test/clock")["now"])


def advance(api: Api, duration: str) -> datetime:
    return when(api.ok("POST", "/v1/test/clock", {"advance": duration})["now"])


def wait_expired(api: Api, cart_id: str) -> dict:
    """The expiry loop finds a cart past its TTL at its next tick, after the clock moved."""
    return wait_for(lambda: (c := api.cart(cart_id))["status"] == "expired" and c, timeout=10, what=f"cart {cart_id} to expire")


# Catalogue --------------------------------------------------------------------------------------


def catalogue_product(api: Api, category: str | None, variants: dict[str, tuple[int, dict]], stock: int = 50,
                      locations: tuple[str, ...] = ("main",)) -> dict:
    """An active product in `category` with one variant per SKU: sku -> (price, attributes), with
    `stock` units at each of `locations`."""
    body = {"title": unique("Product"), "status": "active", "variants": [
        {"sku": sku, "title": f"V {sku}", "price": gbp(price), "attributes": attributes, "initial_stock": {locations[0]: stock}}
        for sku, (price, attributes) in variants.items()]}
    if category is not None:
        body["category"] = category
    product = api.ok("POST", "/v1/products", body, status=201)
    for location in locations[1:]:
        for sku in variants:
            response = api.adjust(sku, stock, location=location)
            assert response.status_code == 200, response.text
    return product


def new_location(api: Api) -> str:
    code = unique("till").lower()
    api.ok("POST", "/v1/locations", {"code": code, "name": f"Till {code}", "kind": "store", "fulfils_online": False}, status=201)
    return code


# Orders -----------------------------------------------------------------------------------------


def fill_cart(api: Api, cart: dict, lines: dict[str, int]) -> dict:
    for sku, quantity in lines.items():
        response = api.add(cart["id"], sku, quantity)
        assert response.status_code == 200, response.text
    return api.cart(cart["id"])


def checkout_details(api: Api, cart_id: str, body: dict, key: str | None = None) -> dict:
    response = api.call("PATCH", f"/v1/carts/{cart_id}", body, key=key)
    assert response.status_code == 200, f"PATCH {body} -> {response.status_code} {response.text}"
    return response.json()


def online_order(api: Api, lines: dict[str, int], email: str, name: str = "Ada Lovelace", address_phone: str | None = None,
                 customer_id: str | None = None, key: str | None = None) -> dict:
    """An online cart with `lines`, `email` and a London address, paid with the test card; the order.
    `key` (a customer token) is sent when the cart is made and its details given."""
    cart = api.new_cart(key=key, **({"customer_id": customer_id} if customer_id else {}))
    fill_cart(api, cart, lines)
    checkout_details(api, cart["id"], {"email": email, "shipping_address": address(name, phone=address_phone)}, key=key)
    return complete(api, cart)


def pos_sale(api: Api, pos_key: str, lines: dict[str, int], **details) -> dict:
    """A till sale paid in cash (`manual`) with `details` (email, phone, customer_id) given; the order."""
    cart = api.new_cart("pos", key=pos_key)
    fill_cart(api, cart, lines)
    if details:
        checkout_details(api, cart["id"], details)
    response = api.call("POST", f"/v1/carts/{cart['id']}/complete", {"payment": MANUAL}, key=pos_key)
    assert response.status_code == 201, response.text
    return response.json()


def total_of(order: dict) -> int:
    return order["totals"]["total"]["amount"]


# Customers --------------------------------------------------------------------------------------


def create_customer(api: Api, key: str | None = "admin", **fields) -> dict:
    response = api.call("POST", "/v1/customers", fields, key=key)
    assert response.status_code == 201, f"POST /v1/customers {fields} -> {response.status_code} {response.text}"
    return response.json()


def get_customer(api: Api, customer_id: str, key: str | None = "admin") -> dict:
    return api.ok("GET", f"/v1/customers/{customer_id}", key=key)


def patch_customer(api: Api, customer_id: str, body: dict) -> dict:
    return api.ok("PATCH", f"/v1/customers/{customer_id}", body)


def set_consent(api: Api, customer_id: str, channel: str, state: str, key: str | None = "admin", **extra) -> dict:
    return api.ok("PUT", f"/v1/customers/{customer_id}/consent/{channel}", {"state": state, **extra}, key=key)


def pages(api: Api, path: str, key: str | None = "admin", limit: int = 200, **params) -> list[dict]:
    """Every item of a `{"items","next_cursor"}` listing, following cursors; each page within `limit`."""
    out, cursor = [], None
    for _ in range(10_000):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = api.call("GET", path, key=key, params=query)
        assert response.status_code == 200, f"GET {path} {query} -> {response.status_code} {response.text}"
        page = response.json()
        assert set(page) >= {"items", "next_cursor"}, page
        assert len(page["items"]) <= limit, (limit, len(page["items"]))
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError(f"{path} pages never ended")


def customer_ids(api: Api, key: str | None = "admin", limit: int = 200, **params) -> list[str]:
    """Ids from `GET /v1/customers` with `params` (q, segment), every page; each customer once."""
    ids = [c["id"] for c in pages(api, "/v1/customers", key=key, limit=limit, **params)]
    assert len(ids) == len(set(ids)), f"a customer listed twice: {ids}"
    return ids


def lookup(api: Api, key: str | None = "admin", **params) -> requests.Response:
    return api.call("GET", "/v1/customers/lookup", key=key, params=params)


def consent_history(api: Api, customer_id: str, **params) -> list[dict]:
    return pages(api, f"/v1/customers/{customer_id}/consent/history", **params)


def timeline(api: Api, customer_id: str, **params) -> list[dict]:
    return pages(api, f"/v1/customers/{customer_id}/timeline", **params)


def customer_events(api: Api, customer_id: str) -> list[dict]:
    return [e for e in api.events("customers") if e["data"].get("customer_id") == customer_id]


def assert_subset(got: dict, expected: dict) -> None:
    """`got` has every member of `expected`, with that value (the design may grow a member or two)."""
    assert {k: got.get(k) for k in expected} == expected, (got, expected)


def assert_field_error(response: requests.Response, field: str) -> dict:
    """A 422 `invalid_request` naming `field` in `errors[].field`."""
    problem = assert_problem(response, 422, "invalid_request")
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, problem
    assert all(isinstance(e.get("field"), str) and isinstance(e.get("detail"), str) for e in errors), problem
    assert field in {e["field"] for e in errors}, f"{field!r} not named: {problem}"
    return problem


def assert_filter_error(response: requests.Response, path: str | None = None) -> dict:
    """A 422 for a segment filter: an error whose field is `filter` (or a path inside it, `filter.…`),
    naming `path` (such as `filter.all[2]`) in its field or detail when given."""
    problem = assert_problem(response, 422, "invalid_request")
    errors = problem.get("errors") or []
    mine = [e for e in errors if e.get("field") == "filter" or str(e.get("field", "")).startswith(("filter.", "filter["))]
    assert mine, f"no error on the filter: {problem}"
    if path is not None:
        assert any(path in e["field"] or path in e.get("detail", "") for e in mine), f"{path!r} not named: {problem}"
    return problem


# Segments ---------------------------------------------------------------------------------------


def create_segment(api: Api, filter_: dict, name: str | None = None) -> dict:
    return api.ok("POST", "/v1/segments", {"name": name or unique("Segment"), "filter": filter_}, status=201)


# Shopper sign-in through the SMTP sink ------------------------------------------------------------

CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def request_code(api: Api, email: str) -> None:
    response = api.public("POST", "/v1/auth/code", {"email": email})
    assert response.status_code == 202, response.text
    assert response.json() == {"sent": True}


def sign_in_mails(api: Api, sink, address: str) -> list:
    """Mails of template `sign_in_code` the sink received for `address`, in arrival order. A mail is
    matched to the outbox by its Message-ID (`<msg_…@domain>`), so order emails to the same address
    never pass for codes."""
    ids = {m["id"] for m in pages(api, "/v1/messages", channel="email") if m["template"] == "sign_in_code"}
    return [mail for mail, envelope in sink.messages()
            if envelope["rcpt_tos"] == [address] and mail["Message-ID"].strip("<>").split("@")[0] in ids]


def code_in(mail) -> str:
    part = mail.get_body(("plain",)) or mail
    found = CODE.findall(part.get_content())
    assert len(set(found)) == 1, f"expected one 6-digit code in: {part.get_content()!r}"
    return found[0]


def new_code(api: Api, sink, email: str) -> str:
    """Asks for a code for `email` and returns the one the next mail to it carries."""
    address = email.strip().lower()
    before = len(sign_in_mails(api, sink, address))
    request_code(api, email)
    mails = wait_for(lambda: len(m := sign_in_mails(api, sink, address)) > before and m, timeout=15,
                     interval=0.1, what=f"a sign-in code for {address}")
    assert len(mails) == before + 1, "one request, one mail"
    return code_in(mails[-1])


def start_session(api: Api, email: str, code: str) -> requests.Response:
    return api.public("POST", "/v1/auth/session", {"email": email, "code": code})


def sign_in(api: Api, sink, email: str) -> tuple[str, dict]:
    """A session for `email` through the emailed code: (token, customer)."""
    response = start_session(api, email, new_code(api, sink, email))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("cst_"), body
    return body["token"], body["customer"]


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# One-click unsubscribe --------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hkdf_sha256(key_material: bytes, info: bytes, length: int = 32) -> bytes:
    prk = hmac.new(b"\x00" * 32, key_material, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def unsubscribe_token(server, address: str, channel: str = "email") -> str:
    """The token of `server`'s List-Unsubscribe link for `address` (see the module docstring)."""
    secret = (Path(server.data_dir) / "secrets.key").read_bytes()
    key = _hkdf_sha256(secret, b"shopfloor unsubscribe links")
    subject = f"{channel}:{address}".encode()
    return _b64url(subject) + "." + _b64url(hmac.new(key, subject, hashlib.sha256).digest()[:16])


class FormReader(HTMLParser):
    """The first `<form>` of a page: its method, action and the inputs a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (attributes.get("method") or "get").lower(), "action": attributes.get("action"), "inputs": {}})
        elif tag in ("input", "button") and self.forms and attributes.get("name"):
            if tag == "input" and (attributes.get("type") or "text").lower() in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.forms[-1]["inputs"][attributes["name"]] = attributes.get("value") or ""


def first_form(html: str) -> dict:
    reader = FormReader()
    reader.feed(html)
    assert reader.forms, f"no form in the page: {html[:500]!r}"
    return reader.forms[0]
