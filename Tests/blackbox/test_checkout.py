"""Checkout, payments and orders (API.md, Checkout and orders): totals and their rounding rule,
discounts, taxes, shipping, completion and its payments, idempotency and races, expired carts, the
order workflow, tracking, events, the payment webhook and the POS PIN hand-over.

Three servers, each started for this module:
- `shop`: GB VAT at 20 %, three shipping methods (Standard GB 4.95 free over 50.00, Europe FR/DE
  15.00, Collect in store at `main`), prices excluding tax, and a webhook secret. Every online cart
  there needs a shipping method, since methods exist.
- `incl`: the same tax rate but `prices_include_tax` on.
- `ttl`: `--reservation-ttl 2s`, no pricing rules and no webhook secret, for expired carts.

Every test uses SKUs, emails, codes and customers of its own, so the numbers it asserts are exact.
The expected totals are worked out by hand from the documented rule: per line, half to even; a
percentage is taken from each line; tax on each discounted line and on shipping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from cart_api import ADMIN_ENV, Api, a_customer, assert_problem, money, unique, wait_for

SECRET = "whsec_" + secrets.token_hex(16)
OK_CARD = {"method": "test_card", "card_number": "4242424242424242"}
DECLINED_CARD = {"method": "test_card", "card_number": "4000000000000002"}
NO_FUNDS_CARD = {"method": "test_card", "card_number": "4000000000009995"}
MANUAL = {"method": "manual", "reference": "cash"}

# The transition table of API.md: placed → paid → confirmed → packed → dispatched → delivered, with
# cancelled before dispatch and refunded once paid.
ALLOWED = {
    "placed": {"paid", "cancelled"},
    "paid": {"confirmed", "cancelled", "refunded"},
    "confirmed": {"packed", "cancelled", "refunded"},
    "packed": {"dispatched", "cancelled", "refunded"},
    "dispatched": {"delivered", "refunded"},
    "delivered": {"refunded"},
    "cancelled": set(),
    "refunded": set(),
}
STATUSES = list(ALLOWED)


# Servers ------------------------------------------------------------------------------------------


class Shop:
    def __init__(self, api: Api, standard: dict, europe: dict, collect: dict):
        self.api = api
        self.standard = standard
        self.europe = europe
        self.collect = collect


@pytest.fixture(scope="module")
def shop(module_launch) -> Shop:
    server = module_launch({"currency": "GBP"}, env={**ADMIN_ENV, "SHOPFLOOR_WEBHOOK_SECRET": SECRET})
    api = Api(server)
    rate = api.ok("POST", "/v1/tax-rates", {"country": "GB", "rate_bp": 2000, "name": "VAT"}, status=201)
    assert rate["id"] and rate["rate_bp"] == 2000
    standard = api.ok("POST", "/v1/shipping-methods", {"name": "Standard", "price": money(495), "countries": ["GB"],
                                                        "free_over": money(5000)}, status=201)
    europe = api.ok("POST", "/v1/shipping-methods", {"name": "Europe", "price": money(1500), "countries": ["FR", "DE"]}, status=201)
    collect = api.ok("POST", "/v1/shipping-methods", {"name": "Collect", "price": money(0), "collect_in_store": "main"}, status=201)
    return Shop(api, standard, europe, collect)


@pytest.fixture
def api(shop) -> Api:
    return shop.api


@pytest.fixture(scope="module")
def incl(module_launch) -> Api:
    api = Api(module_launch({"currency": "GBP"}, env=ADMIN_ENV))
    api.ok("POST", "/v1/tax-rates", {"country": "GB", "rate_bp": 2000}, status=201)
    return api


@pytest.fixture(scope="module")
def ttl(module_launch) -> Api:
    return Api(module_launch({"currency": "GBP", "reservation_ttl": "2s"}, env=ADMIN_ENV))


# Helpers ------------------------------------------------------------------------------------------


def stocked(api: Api, units: int, price: int = 1000, location: str = "main") -> str:
    sku = unique("SKU")
    api.product(sku, price=price, stock=units, location=location)
    return sku


def levels(api: Api, sku: str) -> tuple[int, int]:
    level = api.inventory(sku)
    assert level["available"] == level["on_hand"] - level["reserved"], level
    return level["on_hand"], level["reserved"]


def email() -> str:
    return f"{unique('shopper')}@example.com"


def address(country: str = "GB", name: str = "Ada Lovelace", region: str | None = None) -> dict:
    body = {"name": name, "line1": "12 Analytical Row", "city": "London", "postal_code": "SW1A 1AA", "country": country,
            "phone": "+44 20 7946 0000"}
    if region:
        body["region"] = region
    return body


def gbp(amount: int) -> dict:
    return money(amount, "GBP")


def totals(subtotal: int, discount: int, shipping: int, tax: int, total: int) -> dict:
    return {"subtotal": gbp(subtotal), "discount": gbp(discount), "shipping": gbp(shipping), "tax": gbp(tax), "total": gbp(total)}


def cart_with(api: Api, lines: dict[str, int], channel: str = "online", key: str | None = None, **create) -> dict:
    cart = api.new_cart(channel, key=key, **create)
    for sku, quantity in lines.items():
        response = api.add(cart["id"], sku, quantity)
        assert response.status_code == 200, response.text
    return api.cart(cart["id"])


def patch(api: Api, cart_id: str, body: dict, status: int = 200):
    response = api.public("PATCH", f"/v1/carts/{cart_id}", body)
    assert response.status_code == status, f"PATCH {body} -> {response.status_code} {response.text}"
    return response.json()


def ready(shop: Shop, lines: dict[str, int], method: str = "standard", **details) -> dict:
    """An online cart with `lines`, an email and a shipping method (with a GB address unless collected)."""
    cart = cart_with(shop.api, lines)
    body = {"email": email(), "shipping_method": getattr(shop, method)["id"]}
    if method != "collect":
        body["shipping_address"] = address()
    body.update(details)
    return patch(shop.api, cart["id"], body)


def complete(api: Api, cart_id: str, payment: dict = OK_CARD, key: str | None = None, idempotency: str | None = None):
    headers = {"Idempotency-Key": idempotency} if idempotency else {}
    return api.call("POST", f"/v1/carts/{cart_id}/complete", {"payment": payment}, key=key, headers=headers)


def placed(api: Api, cart_id: str, payment: dict = OK_CARD, key: str | None = None) -> dict:
    response = complete(api, cart_id, payment, key=key)
    assert response.status_code == 201, response.text
    return response.json()


def discount(api: Api, kind: str, value=None, **extra) -> dict:
    body = {"kind": kind, **extra}
    if value is not None:
        body["value"] = value
    return api.ok("POST", "/v1/discounts", body, status=201)


def discount_uses(api: Api, discount_id: str) -> int:
    listed = [d for d in api.ok("GET", "/v1/discounts")["items"] if d["id"] == discount_id]
    assert len(listed) == 1, listed
    return listed[0]["uses"]


def orders(api: Api, key: str | None = "admin", **params) -> list[dict]:
    """Every order matching `params`, following next_cursor."""
    out, cursor = [], None
    for _ in range(1000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = api.call("GET", "/v1/orders", key=key, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("order pages never ended")


def order(api: Api, order_id: str) -> dict:
    return api.ok("GET", f"/v1/orders/{order_id}")


def move(api: Api, order_id: str, to: str, key: str | None = "admin", **extra):
    return api.call("POST", f"/v1/orders/{order_id}/transitions", {"to": to, **extra}, key=key)


def moved(api: Api, order_id: str, to: str, **extra) -> dict:
    response = move(api, order_id, to, **extra)
    assert response.status_code == 200, f"{to}: {response.status_code} {response.text}"
    body = response.json()
    assert body["status"] == to
    return body


def statuses(order_body: dict) -> list[str]:
    return [entry["status"] for entry in order_body["history"]]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_status(api: Api, cart_id: str, status: str, timeout: float = 8.0) -> dict:
    return wait_for(lambda: (c := api.cart(cart_id))["status"] == status and c, timeout, 0.1, f"cart {status}")


def signed(body: bytes, at: int | None = None, secret: str = SECRET) -> str:
    at = int(time.time()) if at is None else at
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def webhook(api: Api, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Shopfloor-Signature"] = signature
    return api.session.post(api.server.url("/v1/payments/webhook"), data=body, headers=headers, timeout=10)


def notice(payment_id: str, kind: str = "payment.succeeded", notice_id: str | None = None) -> bytes:
    return json.dumps({"id": notice_id or unique("evt"), "type": kind, "payment_id": payment_id}).encode()


# Full online checkout -----------------------------------------------------------------------------


def test_full_online_checkout_with_tax_free_shipping_and_a_percent_code(shop):
    api = shop.api
    a, b = stocked(api, 10, price=1999), stocked(api, 5, price=1230)
    code = unique("PCT")
    promo = discount(api, "percent", 15, code=code)
    assert promo["uses"] == 0 and promo["code"] == code

    cart = cart_with(api, {a: 3, b: 1})
    assert levels(api, a) == (10, 3) and levels(api, b) == (5, 1)
    shopper = email()
    cart = patch(api, cart["id"], {"email": shopper, "shipping_address": address(), "shipping_method": shop.standard["id"],
                                   "discount_codes": [code], "checkout_step": "payment"})
    # 5997 × 15 % = 899.55 → 900; 1230 × 15 % = 184.5 → 184 (half to even); 7227 − 1084 = 6143 ≥ 5000, so
    # shipping is free; tax 5097 × 20 % = 1019.4 → 1019 and 1046 × 20 % = 209.2 → 209.
    expected = totals(7227, 1084, 0, 1228, 7371)
    assert cart["totals"] == expected
    assert cart["email"] == shopper and cart["discount_codes"] == [code] and cart["checkout_step"] == "payment"
    assert cart["shipping_method"] == shop.standard["id"]
    assert discount_uses(api, promo["id"]) == 0  # applied, not yet used

    before = orders(api)
    response = complete(api, cart["id"], idempotency=unique("idem"))
    assert response.status_code == 201, response.text
    placed_order = response.json()
    assert placed_order["id"].startswith("ord_")
    numbers = [int(o["number"][1:]) for o in before]
    assert placed_order["number"] == f"#{max(numbers, default=1000) + 1}"
    assert re.fullmatch(r"#\d{4,}", placed_order["number"])
    assert placed_order["status"] == "paid"
    assert placed_order["channel"] == "online"
    assert placed_order["email"] == shopper
    assert placed_order["totals"] == expected
    assert [(l["sku"], l["quantity"], l["unit_price"], l["line_total"]) for l in placed_order["lines"]] == [
        (a, 3, gbp(1999), gbp(5997)), (b, 1, gbp(1230), gbp(1230))]
    assert [(p["method"], p["status"], p["amount"]) for p in placed_order["payments"]] == [("test_card", "succeeded", gbp(7371))]
    assert statuses(placed_order) == ["placed", "paid"]
    assert all(entry["at"] and entry["actor"] for entry in placed_order["history"])
    assert re.fullmatch(r"trk_[0-9a-f]{32,}", placed_order["tracking_token"])
    assert placed_order["shipping_address"] == address()
    assert placed_order["discount_codes"] == [code]
    assert placed_order.get("handover_pin") is None

    # The reservations became the sale: on_hand and reserved both down by exactly the quantity.
    assert levels(api, a) == (7, 0) and levels(api, b) == (4, 0)
    assert api.cart(cart["id"])["status"] == "completed"
    assert discount_uses(api, promo["id"]) == 1
    assert order(api, placed_order["id"]) == placed_order

    # The next order takes the next number.
    second = placed(api, ready(shop, {stocked(api, 1): 1})["id"])
    assert second["number"] == f"#{int(placed_order['number'][1:]) + 1}"
    assert second["tracking_token"] != placed_order["tracking_token"]


def test_shipping_is_charged_and_taxed_below_free_over(shop):
    api = shop.api
    code = unique("PCT")
    discount(api, "percent", 15, code=code)
    cart = ready(shop, {stocked(api, 2, price=1999): 1}, discount_codes=[code])
    # 1999 × 15 % = 299.85 → 300; 1699 < 5000 so shipping 495; tax 1699 → 339.8 → 340, shipping 99.
    assert cart["totals"] == totals(1999, 300, 495, 439, 2633)
    # free_over compares the discounted subtotal: exactly 50.00 ships free, 49.99 does not.
    assert ready(shop, {stocked(api, 1, price=5000): 1})["totals"] == totals(5000, 0, 0, 1000, 6000)
    assert ready(shop, {stocked(api, 1, price=4999): 1})["totals"] == totals(4999, 0, 495, 1099, 6593)


# Discounts ----------------------------------------------------------------------------------------


def test_fixed_discount_is_spread_over_the_lines_and_capped_at_the_subtotal(shop):
    api = shop.api
    code = unique("FIX")
    discount(api, "fixed", money(500), code=code)
    cart = ready(shop, {stocked(api, 1, price=1001): 1, stocked(api, 1, price=2002): 1}, discount_codes=[code])
    # 500 over 1001 and 2002: 167 and 333 (largest remainder); tax 834 → 166.8 → 167, 1669 → 333.8 → 334, shipping 99.
    assert cart["totals"] == totals(3003, 500, 495, 600, 3598)
    done = placed(api, cart["id"])
    assert done["totals"] == totals(3003, 500, 495, 600, 3598)

    big = unique("FIX")
    discount(api, "fixed", money(5000), code=big)
    cart = ready(shop, {stocked(api, 1, price=1000): 1}, discount_codes=[big])
    assert cart["totals"] == totals(1000, 1000, 495, 99, 594)


def test_free_shipping_discount(shop):
    api = shop.api
    code = unique("SHIP")
    promo = discount(api, "free_shipping", code=code)
    assert promo["kind"] == "free_shipping"
    cart = ready(shop, {stocked(api, 1, price=2000): 1})
    assert cart["totals"] == totals(2000, 0, 495, 499, 2994)
    cart = patch(api, cart["id"], {"discount_codes": [code]})
    assert cart["totals"] == totals(2000, 0, 0, 400, 2400)
    assert placed(api, cart["id"])["totals"] == totals(2000, 0, 0, 400, 2400)
    assert discount_uses(api, promo["id"]) == 1


def test_automatic_discount_applies_without_a_code(shop):
    api = shop.api
    customer = a_customer(api)
    auto = discount(api, "percent", 10, customer_id=customer)  # code-less: applies to this customer's carts
    assert auto.get("code") is None
    # Named by anyone holding the cart's id it does not apply; named by staff it does.
    mine = ready(shop, {stocked(api, 1, price=2000): 1}, customer_id=customer)
    assert mine["totals"] == totals(2000, 0, 495, 499, 2994)
    mine = api.ok("PATCH", f"/v1/carts/{mine['id']}", {"customer_id": customer})
    assert mine["totals"] == totals(2000, 200, 495, 459, 2754)
    other = ready(shop, {stocked(api, 1, price=2000): 1})
    other = api.ok("PATCH", f"/v1/carts/{other['id']}", {"customer_id": a_customer(api)})
    assert other["totals"] == totals(2000, 0, 495, 499, 2994)
    done = placed(api, mine["id"])
    assert done["totals"] == totals(2000, 200, 495, 459, 2754)
    assert discount_uses(api, auto["id"]) == 1


def test_discount_rejections_name_the_reason(shop):
    api = shop.api
    cart = ready(shop, {stocked(api, 5, price=1000): 1})
    customer = a_customer(api)
    past = rfc3339(datetime.now(timezone.utc) - timedelta(days=1))
    future = rfc3339(datetime.now(timezone.utc) + timedelta(days=30))
    cases = {
        "ended": dict(code=unique("END"), ends_at=past),
        "not_started": dict(code=unique("SOON"), starts_at=future),
        "wrong_customer": dict(code=unique("VIP"), customer_id=customer),
        "min_subtotal": dict(code=unique("MIN"), min_subtotal=money(10000)),
        "disabled": dict(code=unique("OFF")),
    }
    made = {reason: discount(api, "percent", 10, **extra) for reason, extra in cases.items()}
    disabled = api.ok("POST", f"/v1/discounts/{made['disabled']['id']}/disable")
    assert disabled["disabled"] is True
    unknown = unique("NOPE")
    for reason, code in [("unknown_code", unknown)] + [(r, d["code"]) for r, d in made.items()]:
        problem = assert_problem(api.public("PATCH", f"/v1/carts/{cart['id']}", {"discount_codes": [code]}), 422, "invalid_request")
        assert problem["reason"] == reason, problem
        assert code in problem["detail"]
        assert any(e["field"] == "discount_codes" for e in problem["errors"]), problem
    # Nothing was kept.
    after = api.cart(cart["id"])
    assert after["discount_codes"] == [] and after["totals"]["discount"] == gbp(0)
    # The restricted code works for its customer once staff named them on the cart, and the minimum
    # once the cart reaches it.
    vip = ready(shop, {stocked(api, 1, price=1000): 1})
    assert api.ok("PATCH", f"/v1/carts/{vip['id']}", {"customer_id": customer})["customer_verified"] is True
    vip = patch(api, vip["id"], {"discount_codes": [made["wrong_customer"]["code"]]})
    assert vip["totals"]["discount"] == gbp(100)
    rich = ready(shop, {stocked(api, 10, price=1000): 10}, discount_codes=[made["min_subtotal"]["code"]])
    assert rich["totals"]["discount"] == gbp(1000)
    for d in made.values():
        assert discount_uses(api, d["id"]) == 0


def test_a_code_bound_to_a_customer_is_not_claimed_by_naming_them_on_a_cart(shop):
    """Anyone holding a cart's id may write its `customer_id`: a code bound to a customer applies
    only where an admin or pos key (or the customer's own session, test_shopper_accounts.py) named
    them, and naming someone else anonymously takes that back."""
    api = shop.api
    customer, other = a_customer(api), a_customer(api)
    code = discount(api, "percent", 10, code=unique("VIP"), customer_id=customer)["code"]
    sku = stocked(api, 5, price=1000)

    guessed = ready(shop, {sku: 1}, customer_id=customer)
    assert guessed["customer_id"] == customer and guessed["customer_verified"] is False
    refused = assert_problem(api.public("PATCH", f"/v1/carts/{guessed['id']}", {"discount_codes": [code]}), 422, "invalid_request")
    assert refused["reason"] == "wrong_customer", refused
    assert api.cart(guessed["id"])["discount_codes"] == []
    storefront = api.api_key("storefront")
    made = cart_with(api, {sku: 1}, key=storefront, customer_id=customer)
    assert made["customer_verified"] is False, "a storefront key is anyone's"
    assert api.cart(made["id"])["customer_verified"] is False

    # Staff vouch: the same cart, named by an admin, takes the code; naming them again anonymously
    # keeps it; naming another customer anonymously ends it, and naming the first back does not
    # bring it back.
    vouched = api.ok("PATCH", f"/v1/carts/{guessed['id']}", {"customer_id": customer})
    assert vouched["customer_verified"] is True
    applied = patch(api, guessed["id"], {"discount_codes": [code]})
    assert applied["totals"]["discount"] == gbp(100)
    assert patch(api, guessed["id"], {"customer_id": customer})["customer_verified"] is True
    moved = patch(api, guessed["id"], {"customer_id": other})
    assert moved["customer_verified"] is False and moved["totals"]["discount"] == gbp(0)
    back = patch(api, guessed["id"], {"customer_id": customer})
    assert back["customer_verified"] is False and back["totals"]["discount"] == gbp(0)
    problem = assert_problem(api.public("PATCH", f"/v1/carts/{guessed['id']}", {"discount_codes": [code]}), 422, "invalid_request")
    assert problem["reason"] == "wrong_customer"

    # A till names the customer with its pos key: the code applies and the order is theirs.
    pos = api.api_key("pos", location="main")
    till = cart_with(api, {sku: 1}, channel="pos", key=pos, customer_id=customer)
    assert till["customer_verified"] is True
    priced = api.ok("PATCH", f"/v1/carts/{till['id']}", {"discount_codes": [code]}, key=pos)
    assert priced["totals"]["discount"]["amount"] > 0
    assert discount_uses(api, discount_id_of(api, code)) == 0


def discount_id_of(api: Api, code: str) -> str:
    return next(d["id"] for d in api.ok("GET", "/v1/discounts?limit=100")["items"] if d.get("code") == code)


def test_exhausted_code_and_usage_counted_only_when_an_order_is_placed(shop):
    api = shop.api
    code = unique("ONCE")
    once = discount(api, "percent", 10, code=code, max_uses=1)
    first = ready(shop, {stocked(api, 2, price=1000): 1}, discount_codes=[code])
    waiting = ready(shop, {stocked(api, 2, price=1000): 1}, discount_codes=[code])  # applied while still free
    assert first["totals"]["discount"] == gbp(100) and waiting["totals"]["discount"] == gbp(100)

    # A declined payment counts no use.
    assert_problem(complete(api, first["id"], DECLINED_CARD), 402, "payment_declined")
    assert discount_uses(api, once["id"]) == 0
    placed(api, first["id"])
    assert discount_uses(api, once["id"]) == 1

    late = ready(shop, {stocked(api, 2, price=1000): 1})
    problem = assert_problem(api.public("PATCH", f"/v1/carts/{late['id']}", {"discount_codes": [code]}), 422, "invalid_request")
    assert problem["reason"] == "exhausted"
    # The cart that held it before it ran out cannot complete with it, and stays as it was.
    sku = waiting["lines"][0]["sku"]
    problem = assert_problem(complete(api, waiting["id"]), 422, "invalid_request")
    assert problem["reason"] == "exhausted"
    assert api.cart(waiting["id"])["status"] == "active"
    assert levels(api, sku) == (2, 1)
    assert discount_uses(api, once["id"]) == 1


def test_disabling_a_code_after_it_was_applied_stops_completion(shop):
    api = shop.api
    code = unique("GONE")
    promo = discount(api, "fixed", money(100), code=code)
    cart = ready(shop, {stocked(api, 1, price=1000): 1}, discount_codes=[code])
    assert cart["totals"]["discount"] == gbp(100)
    api.ok("POST", f"/v1/discounts/{promo['id']}/disable")
    # The cart's sums leave it out now, and completing names the reason.
    assert api.cart(cart["id"])["totals"]["discount"] == gbp(0)
    assert assert_problem(complete(api, cart["id"]), 422, "invalid_request")["reason"] == "disabled"
    assert discount_uses(api, promo["id"]) == 0
    assert_problem(api.call("POST", "/v1/discounts/disc_nope/disable"), 404, "not_found")


def test_pricing_setup_needs_an_admin_key(shop):
    api = shop.api
    storefront = api.api_key("storefront")
    for path, body in [("/v1/discounts", {"kind": "percent", "value": 5}), ("/v1/tax-rates", {"country": "DE", "rate_bp": 1900}),
                       ("/v1/shipping-methods", {"name": "X", "price": money(1), "countries": ["GB"]})]:
        assert_problem(api.public("POST", path, body), 401, "unauthorized")
        assert_problem(api.call("POST", path, body, key=storefront), 403, "forbidden")
    assert_problem(api.public("GET", "/v1/discounts"), 401, "unauthorized")
    assert_problem(api.public("PATCH", "/v1/settings", {"prices_include_tax": True}), 401, "unauthorized")


# Prices including tax -----------------------------------------------------------------------------


def test_prices_including_tax(incl):
    api = incl
    settings = api.ok("PATCH", "/v1/settings", {"prices_include_tax": True})
    assert settings["prices_include_tax"] is True and settings["shipping_taxable"] is True
    assert api.ok("GET", "/v1/settings")["prices_include_tax"] is True
    method = api.ok("POST", "/v1/shipping-methods", {"name": "Post", "price": money(500), "countries": ["GB"]}, status=201)
    code = unique("PCT")
    discount(api, "percent", 10, code=code)
    sku = stocked(api, 3, price=1200)
    cart = cart_with(api, {sku: 1})
    cart = patch(api, cart["id"], {"email": email(), "shipping_address": address(), "shipping_method": method["id"],
                                   "discount_codes": [code]})
    # Tax is the part inside the prices: 1080 × 2000 / 12000 = 180, 500 × 2000 / 12000 = 83.3 → 83; the
    # total adds nothing on top.
    assert cart["totals"] == totals(1200, 120, 500, 263, 1580)
    api.ok("PATCH", "/v1/settings", {"shipping_taxable": False})
    assert api.cart(cart["id"])["totals"] == totals(1200, 120, 500, 180, 1580)
    done = placed(api, cart["id"])
    assert done["totals"] == totals(1200, 120, 500, 180, 1580)
    assert done["payments"][0]["amount"] == gbp(1580)
    assert done["number"] == "#1001"  # the first order of this server


# Shipping -----------------------------------------------------------------------------------------


def method_ids(api: Api, cart_id: str) -> set[str]:
    page = api.ok("GET", f"/v1/carts/{cart_id}/shipping-methods", key=None)
    return {m["id"] for m in page["items"]}


def test_shipping_methods_follow_the_address(shop):
    api = shop.api
    euro = api.ok("POST", "/v1/shipping-methods", {"name": "Euro priced", "price": money(900, "EUR"), "countries": ["GB", "FR"]}, status=201)
    cart = cart_with(api, {stocked(api, 1, price=1000): 1})
    std, eu, col = shop.standard["id"], shop.europe["id"], shop.collect["id"]

    ids = method_ids(api, cart["id"])
    assert col in ids and std not in ids and eu not in ids and euro["id"] not in ids
    patch(api, cart["id"], {"shipping_address": address("GB")})
    ids = method_ids(api, cart["id"])
    assert {std, col} <= ids and eu not in ids and euro["id"] not in ids
    patch(api, cart["id"], {"shipping_address": address("FR")})
    ids = method_ids(api, cart["id"])
    assert {eu, col} <= ids and std not in ids

    # A method for another country, or in another currency, or unknown: 422, nothing kept.
    for method in (std, euro["id"], "ship_nope"):
        problem = assert_problem(api.public("PATCH", f"/v1/carts/{cart['id']}", {"shipping_method": method}), 422, "invalid_request")
        assert any(e["field"] == "shipping_method" for e in problem["errors"]), problem
    assert api.cart(cart["id"]).get("shipping_method") is None
    cart = patch(api, cart["id"], {"shipping_method": eu})
    assert cart["totals"] == totals(1000, 0, 1500, 0, 2500)  # no FR tax rate here
    # Moving the address out of the method's countries is refused too.
    assert_problem(api.public("PATCH", f"/v1/carts/{cart['id']}", {"shipping_address": address("GB")}), 422, "invalid_request")
    assert api.cart(cart["id"])["shipping_address"]["country"] == "FR"
    assert_problem(api.public("GET", "/v1/carts/cart_nope/shipping-methods"), 404, "not_found")


def test_collect_in_store_needs_no_address(shop):
    api = shop.api
    sku = stocked(api, 2, price=1500)
    cart = ready(shop, {sku: 2}, method="collect")
    assert cart.get("shipping_address") is None
    assert cart["totals"] == totals(3000, 0, 0, 600, 3600)  # taxed where the shop is
    done = placed(api, cart["id"])
    assert done["totals"] == totals(3000, 0, 0, 600, 3600)
    assert done.get("shipping_address") is None
    assert done["shipping_method"]["id"] == shop.collect["id"]
    assert done["shipping_method"]["collect_in_store"] == "main"
    assert levels(api, sku) == (0, 0)


# Completion ---------------------------------------------------------------------------------------


def test_incomplete_online_cart_is_422_with_what_is_missing(shop):
    api = shop.api
    sku = stocked(api, 3)
    cart = cart_with(api, {sku: 1})
    problem = assert_problem(complete(api, cart["id"]), 422, "invalid_request")
    assert {e["field"] for e in problem["errors"]} >= {"email", "shipping_method"}, problem
    patch(api, cart["id"], {"email": email(), "shipping_method": shop.standard["id"]})
    problem = assert_problem(complete(api, cart["id"]), 422, "invalid_request")
    assert {e["field"] for e in problem["errors"]} == {"shipping_address"}, problem
    empty = api.new_cart()
    patch(api, empty["id"], {"email": email(), "shipping_method": shop.collect["id"]})
    problem = assert_problem(complete(api, empty["id"]), 422, "invalid_request")
    assert "lines" in {e["field"] for e in problem["errors"]}
    # Nothing changed: no order, stock still held by the cart.
    assert api.cart(cart["id"])["status"] == "active"
    assert levels(api, sku) == (3, 1)
    assert_problem(complete(api, "cart_nope"), 404, "not_found")


def test_declined_cards_leave_the_cart_and_its_reservations_intact(shop):
    api = shop.api
    sku = stocked(api, 5, price=1000)
    cart = ready(shop, {sku: 2})
    for card, reason in [(DECLINED_CARD, "card_declined"), (NO_FUNDS_CARD, "insufficient_funds")]:
        problem = assert_problem(complete(api, cart["id"], card), 402, "payment_declined")
        assert problem["reason"] == reason
        after = api.cart(cart["id"])
        assert after["status"] == "active"
        assert after["lines"] == cart["lines"] and after["totals"] == cart["totals"]
        assert levels(api, sku) == (5, 2)
    problem = assert_problem(complete(api, cart["id"], {"method": "test_card", "card_number": "4111111111111111"}), 422, "invalid_request")
    assert any(e["field"] == "payment.card_number" for e in problem["errors"]), problem
    assert_problem(complete(api, cart["id"], {"method": "bitcoin"}), 422, "invalid_request")
    assert orders(api, email=cart["email"]) == []
    # The same cart then completes with a good card.
    done = placed(api, cart["id"])
    assert done["status"] == "paid" and done["totals"] == cart["totals"]
    assert levels(api, sku) == (3, 0)


def test_manual_payment_needs_a_pos_or_admin_key(shop):
    api = shop.api
    storefront = api.api_key("storefront")
    pos = api.api_key("pos", location="main")
    sku = stocked(api, 4)
    cart = ready(shop, {sku: 1})
    assert_problem(complete(api, cart["id"], MANUAL), 403, "forbidden")
    assert_problem(complete(api, cart["id"], MANUAL, key=storefront), 403, "forbidden")
    assert api.cart(cart["id"])["status"] == "active" and levels(api, sku) == (4, 1)
    # A till takes cash for a web cart only where the shop lets tills serve online orders (test_pos_scope.py).
    assert_problem(complete(api, cart["id"], MANUAL, key=pos), 403, "forbidden")
    api.ok("PATCH", "/v1/settings", {"pos_serves_online": True})
    try:
        done = placed(api, cart["id"], MANUAL, key=pos)
    finally:
        api.ok("PATCH", "/v1/settings", {"pos_serves_online": False})
    assert done["status"] == "paid"  # an online order: paid, not handed over
    assert [(p["method"], p["status"], p["reference"]) for p in done["payments"]] == [("manual", "succeeded", "cash")]
    other = ready(shop, {sku: 1})
    assert placed(api, other["id"], MANUAL, key="admin")["status"] == "paid"
    assert levels(api, sku) == (2, 0)


def test_per_customer_limit_counts_by_email_or_customer(shop):
    api = shop.api
    code = unique("PER")
    promo = discount(api, "percent", 10, code=code, max_uses_per_customer=1)
    shopper = email()
    placed(api, ready(shop, {stocked(api, 1): 1}, email=shopper, discount_codes=[code])["id"])
    again = ready(shop, {stocked(api, 1): 1}, email=shopper.upper())
    problem = assert_problem(api.public("PATCH", f"/v1/carts/{again['id']}", {"discount_codes": [code]}), 422, "invalid_request")
    assert problem["reason"] == "customer_limit"
    other = ready(shop, {stocked(api, 1): 1}, discount_codes=[code])  # another shopper still may
    assert other["totals"]["discount"] == gbp(100)
    assert discount_uses(api, promo["id"]) == 1


def test_completed_cart_refuses_checkout_changes(shop):
    api = shop.api
    cart = ready(shop, {stocked(api, 1): 1})
    placed(api, cart["id"])
    response = api.public("PATCH", f"/v1/carts/{cart['id']}", {"checkout_step": "payment"})
    assert response.status_code == 409, response.text
    assert api.cart(cart["id"])["checkout_step"] == "cart"


# Idempotency and races ----------------------------------------------------------------------------


def test_same_idempotency_key_returns_the_same_order(shop):
    api = shop.api
    sku = stocked(api, 3, price=700)
    cart = ready(shop, {sku: 2})
    key = unique("idem")
    first = complete(api, cart["id"], idempotency=key)
    assert first.status_code == 201, first.text
    again = complete(api, cart["id"], idempotency=key)
    assert again.status_code in (200, 201), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == first.json()["number"]
    assert [o["id"] for o in orders(api, email=cart["email"])] == [first.json()["id"]]
    assert levels(api, sku) == (1, 0)
    # Without the key, completing again is a conflict naming the order.
    problem = assert_problem(complete(api, cart["id"]), 409, "conflict")
    assert problem["order_id"] == first.json()["id"]
    assert levels(api, sku) == (1, 0)


def test_same_idempotency_key_with_another_body_is_refused(shop):
    api = shop.api
    sku = stocked(api, 3, price=700)
    cart = ready(shop, {sku: 1})
    key = unique("idem")
    first = complete(api, cart["id"], idempotency=key)
    assert first.status_code == 201, first.text
    other = complete(api, cart["id"], {"method": "manual", "reference": "till 2"}, idempotency=key)
    problem = assert_problem(other, 422, "invalid_request")
    assert "Idempotency-Key" in problem["detail"]
    assert [o["id"] for o in orders(api, email=cart["email"])] == [first.json()["id"]]
    assert levels(api, sku) == (2, 0)


def test_concurrent_retries_with_one_key_get_one_order(shop):
    api = shop.api
    sku = stocked(api, 5, price=900)
    cart = ready(shop, {sku: 2})
    key = unique("idem")
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: complete(api, cart["id"], idempotency=key), range(4)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(orders(api, email=cart["email"])) == 1
    assert levels(api, sku) == (3, 0)


def test_two_concurrent_completions_make_one_order(shop):
    api = shop.api
    for _ in range(4):
        sku = stocked(api, 5, price=900)
        cart = ready(shop, {sku: 3})
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def run(index: int, client: Api):
            barrier.wait()
            results[index] = complete(client, cart["id"])

        threads = [threading.Thread(target=run, args=(i, api.fork())) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        codes = sorted(r.status_code for r in results)
        assert codes == [201, 409], [r.text for r in results]
        won = next(r for r in results if r.status_code == 201).json()
        lost = assert_problem(next(r for r in results if r.status_code == 409), 409, "conflict")
        assert lost["order_id"] == won["id"]
        assert [o["id"] for o in orders(api, email=cart["email"])] == [won["id"]]
        assert levels(api, sku) == (2, 0)  # sold exactly once


def in_parallel(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_a_code_with_one_use_left_is_used_once_by_two_concurrent_orders(shop):
    api = shop.api
    code = unique("LAST")
    promo = discount(api, "percent", 10, code=code, max_uses=1)
    sku = stocked(api, 2)
    carts = [ready(shop, {sku: 1}, discount_codes=[code]) for _ in range(2)]
    results = in_parallel([lambda c=c, client=api.fork(): complete(client, c["id"]) for c in carts])
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 422], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 422)
    assert assert_problem(loser, 422, "invalid_request")["reason"] == "exhausted"
    assert discount_uses(api, promo["id"]) == 1
    assert levels(api, sku) == (1, 1)  # one sold, the loser's unit still held by its cart


def test_concurrent_orders_get_distinct_sequential_numbers(shop):
    api = shop.api
    carts = [ready(shop, {stocked(api, 1): 1}) for _ in range(6)]
    results = in_parallel([lambda c=c, client=api.fork(): complete(client, c["id"]) for c in carts])
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results]
    numbers = sorted(int(r.json()["number"][1:]) for r in results)
    assert numbers == list(range(numbers[0], numbers[0] + 6))


# Expired carts ------------------------------------------------------------------------------------


def test_expired_cart_whose_stock_was_taken_is_409_with_what_is_missing(ttl):
    api = ttl
    sku, spare = stocked(api, 1, price=800), stocked(api, 4, price=100)
    cart = cart_with(api, {sku: 1, spare: 2})
    patch(api, cart["id"], {"email": email()})
    wait_status(api, cart["id"], "expired")
    assert levels(api, sku) == (1, 0)
    thief = cart_with(api, {sku: 1})
    problem = assert_problem(complete(api, cart["id"]), 409, "insufficient_stock")
    assert problem["missing"] == [{"sku": sku, "requested": 1, "available": 0}], problem
    # Nothing was taken from the other cart, and the expired cart holds nothing.
    assert api.cart(cart["id"])["status"] == "expired"
    assert levels(api, sku) == (1, 1)
    assert levels(api, spare) == (4, 0)
    assert api.cart(thief["id"])["status"] == "active"


def test_expired_cart_whose_stock_is_still_there_completes(ttl):
    api = ttl
    sku = stocked(api, 3, price=800)
    cart = cart_with(api, {sku: 2})
    patch(api, cart["id"], {"email": email()})
    wait_status(api, cart["id"], "expired")
    assert levels(api, sku) == (3, 0)
    done = placed(api, cart["id"])
    assert done["status"] == "paid" and done["totals"]["total"] == gbp(1600)
    assert levels(api, sku) == (1, 0)
    assert api.cart(cart["id"])["status"] == "completed"


def test_declined_payment_on_an_expired_cart_leaves_no_stray_reservation(ttl):
    api = ttl
    sku = stocked(api, 3, price=800)
    cart = cart_with(api, {sku: 1})
    patch(api, cart["id"], {"email": email()})
    wait_status(api, cart["id"], "expired")
    seen = []
    for _ in range(2):
        assert_problem(complete(api, cart["id"], DECLINED_CARD), 402, "payment_declined")
        seen.append((api.cart(cart["id"])["status"], levels(api, sku)))
    done = placed(api, cart["id"])
    sold = (done["lines"][0]["quantity"], done["lines"][0]["allocations"], levels(api, sku))
    # Either the cart came back to life holding its unit, or it stayed expired holding nothing; and
    # completing it then sells exactly its one unit.
    for status, (on_hand, reserved) in seen:
        assert (status, on_hand, reserved) in {("active", 3, 1), ("expired", 3, 0)}, (seen, sold)
    assert sold == (1, [{"location": "main", "quantity": 1}], (2, 0)), (seen, sold)


def test_webhook_payments_are_off_without_a_secret(ttl):
    api = ttl
    cart = cart_with(api, {stocked(api, 1): 1})
    patch(api, cart["id"], {"email": email()})
    assert_problem(complete(api, cart["id"], {"method": "webhook"}), 422, "invalid_request")
    body = notice("pay_x")
    assert_problem(webhook(api, body, signed(body)), 404, "not_found")


# Orders -------------------------------------------------------------------------------------------


def test_order_list_filters_and_pagination(shop):
    api = shop.api
    pos = api.api_key("pos", location="main")
    started = rfc3339(datetime.now(timezone.utc) - timedelta(seconds=5))
    shopper = email()
    made = []
    for _ in range(3):
        cart = ready(shop, {stocked(api, 1): 1}, email=shopper)
        made.append(placed(api, cart["id"]))
    till = cart_with(api, {stocked(api, 1): 1}, channel="pos", key=pos)
    patch(api, till["id"], {"email": shopper})
    made.append(placed(api, till["id"], MANUAL, key=pos))
    assert made[-1]["channel"] == "pos" and made[-1]["location"] == "main"
    moved(api, made[0]["id"], "confirmed")
    ids = [o["id"] for o in made]

    # Newest first, a page at a time, each order once.
    first = api.ok("GET", f"/v1/orders?email={shopper}&limit=3")
    assert [o["id"] for o in first["items"]] == ids[::-1][:3] and first["next_cursor"]
    second = api.ok("GET", f"/v1/orders?email={shopper}&limit=3&cursor={first['next_cursor']}")
    assert [o["id"] for o in second["items"]] == ids[:1] and second["next_cursor"] is None
    assert [o["id"] for o in orders(api, email=shopper, limit=1)] == ids[::-1]
    everything = orders(api, limit=2)
    assert len({o["id"] for o in everything}) == len(everything) and set(ids) <= {o["id"] for o in everything}
    numbers = [int(o["number"][1:]) for o in everything]
    assert numbers == sorted(numbers, reverse=True)

    assert [o["id"] for o in orders(api, email=shopper.upper())] == ids[::-1]
    assert [o["id"] for o in orders(api, email=shopper, status="confirmed")] == [ids[0]]
    assert [o["id"] for o in orders(api, email=shopper, status="paid")] == ids[1:3][::-1]
    assert [o["id"] for o in orders(api, email=shopper, status="delivered")] == [ids[3]]
    assert [o["id"] for o in orders(api, email=shopper, channel="pos")] == [ids[3]]
    assert [o["id"] for o in orders(api, email=shopper, channel="online")] == ids[:3][::-1]
    assert [o["id"] for o in orders(api, email=shopper, location="main")] == [ids[3]]
    assert [o["id"] for o in orders(api, email=shopper, created_after=started)] == ids[::-1]
    later = rfc3339(datetime.now(timezone.utc) + timedelta(hours=1))
    assert orders(api, email=shopper, created_after=later) == []
    assert [o["id"] for o in orders(api, email=shopper, created_before=later)] == ids[::-1]
    assert orders(api, email=shopper, created_before=started) == []
    assert orders(api, email="nobody@example.com") == []
    for bad in ({"status": "shipped"}, {"channel": "phone"}, {"created_after": "yesterday"}, {"cursor": "abc"}):
        response = api.call("GET", "/v1/orders", params=bad)
        assert response.status_code in (400, 422), (bad, response.status_code, response.text)

    # One order with its parts.
    got = order(api, ids[1])
    assert got["id"] == ids[1] and got["email"] == shopper
    assert {"lines", "totals", "payments", "history", "tracking_token", "shipping_address", "number", "status"} <= got.keys()
    assert_problem(api.call("GET", "/v1/orders/ord_nope"), 404, "not_found")


def test_orders_need_an_admin_or_pos_key(shop):
    api = shop.api
    done = placed(api, ready(shop, {stocked(api, 1): 1})["id"])
    storefront = api.api_key("storefront")
    pos = api.api_key("pos", location="main")
    for path in ("/v1/orders", f"/v1/orders/{done['id']}"):
        assert_problem(api.public("GET", path), 401, "unauthorized")
        assert_problem(api.call("GET", path, key=storefront), 403, "forbidden")
    assert api.call("GET", "/v1/orders", key=pos).status_code == 200
    # An online order is not a till's unless the shop lets tills serve them (test_pos_scope.py).
    assert_problem(api.call("GET", f"/v1/orders/{done['id']}", key=pos), 404, "not_found")
    assert_problem(move(api, done["id"], "confirmed", key=None), 401, "unauthorized")
    assert_problem(move(api, done["id"], "confirmed", key=storefront), 403, "forbidden")
    assert order(api, done["id"])["status"] == "paid"
    assert move(api, done["id"], "confirmed", key="admin").status_code == 200


# Transitions --------------------------------------------------------------------------------------


def assert_invalid_moves(api: Api, order_id: str, status: str):
    for target in STATUSES:
        if target in ALLOWED[status]:
            continue
        problem = assert_problem(move(api, order_id, target), 409, "invalid_transition")
        assert status in problem["detail"] and target in problem["detail"]
    current = order(api, order_id)
    assert current["status"] == status


def test_walk_the_workflow_with_notes_and_tracking_number(shop):
    api = shop.api
    sku = stocked(api, 2, price=2500)
    cart = ready(shop, {sku: 1}, shipping_address=address(name="Grace Brewster Hopper"))
    done = placed(api, cart["id"])
    assert_invalid_moves(api, done["id"], "paid")
    moved(api, done["id"], "confirmed", note="checked by Sam")
    assert_invalid_moves(api, done["id"], "confirmed")
    moved(api, done["id"], "packed")
    assert_invalid_moves(api, done["id"], "packed")
    moved(api, done["id"], "dispatched", note="Royal Mail", tracking_number="RM123456789GB")
    assert_invalid_moves(api, done["id"], "dispatched")
    final = moved(api, done["id"], "delivered")
    assert_invalid_moves(api, done["id"], "delivered")

    assert statuses(final) == ["placed", "paid", "confirmed", "packed", "dispatched", "delivered"]
    history = {entry["status"]: entry for entry in final["history"]}
    assert history["confirmed"]["note"] == "checked by Sam"
    assert history["dispatched"]["note"] == "Royal Mail" and history["dispatched"]["tracking_number"] == "RM123456789GB"
    assert history["placed"]["actor"] == "customer"
    assert all(history[s]["actor"] and history[s]["actor"] != "customer" for s in ("confirmed", "packed", "dispatched", "delivered"))
    times = [entry["at"] for entry in final["history"]]
    assert times == sorted(times)
    assert final["tracking_number"] == "RM123456789GB"
    assert levels(api, sku) == (1, 0)  # delivery moves no stock

    tracking = api.ok("GET", f"/v1/track/{done['tracking_token']}", key=None)
    assert tracking["number"] == done["number"] and tracking["status"] == "delivered"
    assert tracking["tracking_number"] == "RM123456789GB"
    assert [step["status"] for step in tracking["history"]] == statuses(final)
    assert tracking["first_name"] == "Grace"
    assert tracking["items"] == [{"title": done["lines"][0]["title"], "quantity": 1}]
    text = json.dumps(tracking)
    for private in (cart["email"], "Hopper", "Brewster", "Analytical", "SW1A", "London", "+44", "customer", done["id"]):
        assert private not in text, private
    assert set(tracking) <= {"number", "status", "first_name", "tracking_number", "items", "history"}, tracking

    # A refund after dispatch takes nothing back into stock; then nothing more is allowed.
    refunded = moved(api, done["id"], "refunded", note="damaged in post")
    assert levels(api, sku) == (1, 0)
    assert refunded["payments"][0]["status"] == "refunded"
    assert_invalid_moves(api, done["id"], "refunded")


def test_odd_transition_requests(shop):
    api = shop.api
    done = placed(api, ready(shop, {stocked(api, 1): 1})["id"])
    assert_problem(move(api, "ord_nope", "confirmed"), 404, "not_found")
    for body in ({"to": "shipped"}, {}, {"to": "confirmed", "note": "x" * 501}):
        response = api.call("POST", f"/v1/orders/{done['id']}/transitions", body)
        assert response.status_code in (400, 422), (body, response.status_code, response.text)
    assert statuses(order(api, done["id"])) == ["placed", "paid"]


def test_cancel_before_dispatch_returns_the_units(shop):
    api = shop.api
    sku = stocked(api, 5, price=1000)
    for stop in ("paid", "confirmed", "packed"):
        done = placed(api, ready(shop, {sku: 2})["id"])
        assert levels(api, sku) == (3, 0)
        for step in ("confirmed", "packed"):
            if order(api, done["id"])["status"] == stop:
                break
            moved(api, done["id"], step)
        cancelled = moved(api, done["id"], "cancelled", note="changed my mind")
        assert levels(api, sku) == (5, 0)
        assert statuses(cancelled)[-1] == "cancelled"
        assert_invalid_moves(api, done["id"], "cancelled")
        assert levels(api, sku) == (5, 0)


def test_refund_before_dispatch_returns_the_units_after_does_not(shop):
    api = shop.api
    sku = stocked(api, 4, price=1000)
    early = placed(api, ready(shop, {sku: 1})["id"])
    moved(api, early["id"], "confirmed")
    assert levels(api, sku) == (3, 0)
    refunded = moved(api, early["id"], "refunded")
    assert refunded["payments"][0]["status"] == "refunded"
    assert levels(api, sku) == (4, 0)

    late = placed(api, ready(shop, {sku: 2})["id"])
    for step in ("confirmed", "packed", "dispatched"):
        moved(api, late["id"], step)
    moved(api, late["id"], "refunded")
    assert levels(api, sku) == (2, 0)
    assert_problem(move(api, late["id"], "cancelled"), 409, "invalid_transition")


def test_tracking_unknown_token_is_404(shop):
    assert_problem(shop.api.public("GET", "/v1/track/trk_" + secrets.token_hex(16)), 404, "not_found")


# Events -------------------------------------------------------------------------------------------


def test_checkout_and_order_events_once_each(shop):
    api = shop.api
    sku = stocked(api, 3)
    cart = cart_with(api, {sku: 1})
    cart_id = cart["id"]
    assert cart["checkout_step"] == "cart"
    patch(api, cart_id, {"checkout_step": "details"})
    patch(api, cart_id, {"checkout_step": "details", "email": email()})  # same step: no event
    patch(api, cart_id, {"checkout_step": "personalise", "shipping_method": shop.collect["id"]})
    done = placed(api, cart_id)
    moved(api, done["id"], "confirmed")

    events = api.events("orders,carts")
    mine = [e for e in events if e["data"].get("cart_id") == cart_id or e["data"].get("order_id") == done["id"]]
    steps = [(e["data"]["from"], e["data"]["to"]) for e in mine if e["type"] == "checkout.step_changed"]
    assert steps == [("cart", "details"), ("details", "personalise")]
    completed = [e for e in mine if e["type"] == "cart.completed"]
    assert len(completed) == 1 and completed[0]["data"]["order_id"] == done["id"] and completed[0]["topic"] == f"cart:{cart_id}"
    placed_events = [e for e in mine if e["type"] == "order.placed"]
    assert len(placed_events) == 1 and placed_events[0]["topic"] == f"order:{done['id']}"
    changed = [e["data"]["status"] for e in mine if e["type"] == "order.status_changed"]
    assert changed == ["paid", "confirmed"]
    seqs = [e["seq"] for e in mine]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # No event about a topic outside the two families.
    assert all(e["topic"].startswith(("cart:", "order:")) or e["topic"] in ("carts", "orders") for e in events)

    sold = [e for e in api.events(f"stock:{sku}") if e["type"] == "stock.changed"]
    assert sold and sold[-1]["data"]["on_hand"] == 2 and sold[-1]["data"]["reserved"] == 0


# Webhook payments ---------------------------------------------------------------------------------


def test_webhook_payment_is_confirmed_by_a_signed_notice(shop):
    api = shop.api
    sku = stocked(api, 2, price=1000)
    cart = ready(shop, {sku: 1}, method="collect")
    done = placed(api, cart["id"], {"method": "webhook"})
    assert done["status"] == "placed" and statuses(done) == ["placed"]
    assert [(p["method"], p["status"], p["amount"]) for p in done["payments"]] == [("webhook", "pending", gbp(1200))]
    assert levels(api, sku) == (1, 0)  # the units are the order's already
    payment = done["payments"][0]["id"]

    body = notice(payment)
    assert_problem(webhook(api, body, None), 401, "unauthorized")
    assert_problem(webhook(api, body, signed(body).replace("v1=", "v1=0")), 401, "unauthorized")
    assert_problem(webhook(api, body, signed(body, secret="whsec_wrong")), 401, "unauthorized")
    assert_problem(webhook(api, body.replace(b"succeeded", b"failed"), signed(body)), 401, "unauthorized")
    assert_problem(webhook(api, body, signed(body, at=int(time.time()) - 1000)), 400, "invalid_request")
    assert_problem(webhook(api, body, signed(body, at=int(time.time()) + 1000)), 400, "invalid_request")
    unknown = notice("pay_" + secrets.token_hex(8))
    assert_problem(webhook(api, unknown, signed(unknown)), 404, "not_found")
    junk = b'{"hello": "world"}'
    assert_problem(webhook(api, junk, signed(junk)), 400, "invalid_request")
    assert order(api, done["id"])["status"] == "placed"

    response = webhook(api, body, signed(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "order_id": done["id"], "status": "paid"}
    paid = order(api, done["id"])
    assert paid["status"] == "paid" and statuses(paid) == ["placed", "paid"]
    assert paid["history"][-1]["actor"] == "webhook"
    assert paid["payments"][0]["status"] == "succeeded"

    # The same notice again, even freshly signed, and another notice for the settled payment: no change.
    for repeat in (body, notice(payment)):
        again = webhook(api, repeat, signed(repeat))
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "paid"
    assert order(api, done["id"]) == paid
    changed = [e for e in api.events(f"order:{done['id']}") if e["type"] == "order.status_changed"]
    assert [e["data"]["status"] for e in changed] == ["paid"]


def test_webhook_payment_failed_leaves_the_order_placed(shop):
    api = shop.api
    done = placed(api, ready(shop, {stocked(api, 1): 1}, method="collect")["id"], {"method": "webhook"})
    body = notice(done["payments"][0]["id"], "payment.failed")
    response = webhook(api, body, signed(body))
    assert response.status_code == 200, response.text
    failed = order(api, done["id"])
    assert failed["status"] == "placed" and failed["payments"][0]["status"] == "failed"
    # A later success notice does not revive a failed payment.
    late = notice(done["payments"][0]["id"])
    assert webhook(api, late, signed(late)).status_code == 200
    assert order(api, done["id"])["status"] == "placed"


# POS hand-over ------------------------------------------------------------------------------------


def other_pin(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def test_pos_cart_paid_on_a_phone_is_handed_over_by_pin(shop):
    api = shop.api
    pos = api.api_key("pos", location="main")
    sku = stocked(api, 3, price=1250)
    cart = cart_with(api, {sku: 1}, channel="pos", key=pos)
    assert cart["location"] == "main"
    key = unique("idem")
    response = complete(api, cart["id"], OK_CARD, idempotency=key)  # the customer's phone: no key
    assert response.status_code == 201, response.text
    done = response.json()
    pin = done["handover_pin"]
    assert re.fullmatch(r"\d{6}", pin), done
    assert done["status"] == "paid" and done["channel"] == "pos"
    assert done["totals"] == totals(1250, 0, 0, 250, 1500)  # till sales are taxed where the shop is
    assert levels(api, sku) == (2, 0)
    # The PIN is never shown again: not in the order, not in an idempotent retry.
    assert order(api, done["id"]).get("handover_pin") is None
    retry = complete(api, cart["id"], OK_CARD, idempotency=key)
    assert retry.json()["id"] == done["id"] and retry.json().get("handover_pin") is None

    handover = lambda body, k=pos: api.call("POST", "/v1/pos/handover", body, key=k)  # noqa: E731
    assert_problem(handover({"pin": other_pin(pin), "cart_id": cart["id"]}), 409, "conflict")
    assert_problem(handover({"pin": pin}, None), 401, "unauthorized")
    assert_problem(handover({"pin": pin}, "admin"), 403, "forbidden")
    elsewhere = unique("shop").lower()
    api.ok("POST", "/v1/locations", {"code": elsewhere, "name": "Elsewhere", "kind": "store", "fulfils_online": False}, status=201)
    assert_problem(handover({"pin": pin}, api.api_key("pos", location=elsewhere)), 409, "conflict")
    assert order(api, done["id"])["status"] == "paid"

    response = handover({"pin": pin})
    assert response.status_code == 200, response.text
    delivered = response.json()
    assert delivered["id"] == done["id"] and delivered["status"] == "delivered"
    assert statuses(delivered) == ["placed", "paid", "delivered"]
    assert_problem(handover({"pin": pin}), 409, "conflict")  # used
    assert order(api, done["id"])["status"] == "delivered"


def test_pin_is_refused_after_five_wrong_tries(shop):
    api = shop.api
    pos = api.api_key("pos", location="main")
    cart = cart_with(api, {stocked(api, 1): 1}, channel="pos", key=pos)
    done = placed(api, cart["id"])
    pin = done["handover_pin"]
    wrong = other_pin(pin)
    for _ in range(5):
        assert_problem(api.call("POST", "/v1/pos/handover", {"pin": wrong, "cart_id": cart["id"]}, key=pos), 409, "conflict")
    # That till now waits; the hand-over it aimed at is locked for every till.
    throttled = api.call("POST", "/v1/pos/handover", {"pin": pin, "cart_id": cart["id"]}, key=pos)
    assert_problem(throttled, 429, "rate_limited")
    assert 0 < int(throttled.headers["Retry-After"]) <= 600
    other_till = api.api_key("pos", location="main")
    assert_problem(api.call("POST", "/v1/pos/handover", {"pin": pin, "cart_id": cart["id"]}, key=other_till), 409, "conflict")
    assert_problem(api.call("POST", "/v1/pos/handover", {"pin": pin}, key=other_till), 409, "conflict")
    assert order(api, done["id"])["status"] == "paid"


def test_wrong_pins_without_a_cart_slow_their_till_and_lock_no_one_elses_hand_over(shop):
    api = shop.api
    guesser, till = api.api_key("pos", location="main"), api.api_key("pos", location="main")
    cart = cart_with(api, {stocked(api, 1): 1}, channel="pos", key=till)
    done = placed(api, cart["id"])
    pin = done["handover_pin"]
    for _ in range(5):
        assert_problem(api.call("POST", "/v1/pos/handover", {"pin": other_pin(pin)}, key=guesser), 409, "conflict")
    assert_problem(api.call("POST", "/v1/pos/handover", {"pin": pin}, key=guesser), 429, "rate_limited")
    handed = api.call("POST", "/v1/pos/handover", {"pin": pin}, key=till)
    assert handed.status_code == 200, handed.text
    assert handed.json()["id"] == done["id"] and handed.json()["status"] == "delivered"


def test_a_sale_and_a_cancellation_are_movements_the_spec_names(shop):
    """Every stock movement reason and actor the server writes is one openapi.yaml documents."""
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    reasons = set(spec["components"]["schemas"]["StockMovement"]["properties"]["reason"]["enum"])
    api = shop.api
    sku = stocked(api, 3, price=1000)
    done = placed(api, ready(shop, {sku: 2})["id"])
    api.ok("POST", f"/v1/orders/{done['id']}/transitions", {"to": "cancelled"})
    movements = api.ok("GET", f"/v1/inventory/{sku}/movements")["items"]
    assert [(m["reason"], m["delta"], m["actor"]) for m in movements[:2]] == [
        ("returned", 2, f"order:{done['id']}"), ("sold", -2, f"order:{done['id']}")]
    assert {m["reason"] for m in movements} <= reasons, reasons


def test_till_sale_is_delivered_at_once_without_a_pin(shop):
    api = shop.api
    pos = api.api_key("pos", location="main")
    sku = stocked(api, 2, price=999)
    cart = cart_with(api, {sku: 2}, channel="pos", key=pos)
    done = placed(api, cart["id"], MANUAL, key=pos)
    assert done["status"] == "delivered"
    assert statuses(done) == ["placed", "paid", "delivered"]
    assert done.get("handover_pin") is None
    assert done["location"] == "main"
    assert done["lines"][0]["allocations"] == [{"location": "main", "quantity": 2}]
    assert levels(api, sku) == (0, 0)


# Receipts -----------------------------------------------------------------------------------------


def test_receipt_as_json_and_as_a_printable_page(shop):
    api = shop.api
    sku = unique("SKU")
    api.ok("POST", "/v1/products", {"title": "<script>alert(1)</script> & mug", "variants": [
        {"sku": sku, "price": gbp(1250), "initial_stock": {"main": 5}}]}, status=201)
    done = placed(api, ready(shop, {sku: 2})["id"])
    receipt = api.ok("GET", f"/v1/orders/{done['id']}/receipt")
    assert receipt["number"] == done["number"] and receipt["order_id"] == done["id"]
    assert [(line["sku"], line["quantity"], line["line_total"]["amount"]) for line in receipt["lines"]] == [(sku, 2, 2500)]
    assert receipt["totals"] == done["totals"]
    assert [p["amount"]["amount"] for p in receipt["payments"]] == [done["totals"]["total"]["amount"]]
    page = api.call("GET", f"/v1/orders/{done['id']}/receipt", headers={"Accept": "text/html"})
    assert "accept" in [v.strip().lower() for v in page.headers["Vary"].split(",")], "negotiated by Accept"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert done["number"] in page.text and "25.00 GBP" in page.text
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; mug" in page.text
    assert api.call("GET", f"/v1/orders/{done['id']}/receipt?format=html").headers["Content-Type"].startswith("text/html")
    assert api.public("GET", f"/v1/orders/{done['id']}/receipt").status_code == 401
    assert api.call("GET", "/v1/orders/ord_missing/receipt").status_code == 404
