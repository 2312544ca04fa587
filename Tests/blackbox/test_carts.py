"""The live cart (API.md, Carts): create, lines, reservations, totals, expiry, bad input and events.

Two servers: `carts` with the default 15-minute reservation TTL, and `ttl` with `--reservation-ttl 2s`
for the expiry tests. Every test uses SKUs of its own, so the stock numbers it asserts are exact.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
import requests

from cart_api import ADMIN_ENV, Api, a_customer, assert_problem, line_of, unique, wait_for

TTL = 2.0
DEFAULT_TTL = 15 * 60


@pytest.fixture(scope="module")
def cart_server(session_launch):
    return session_launch({"currency": "GBP"}, env=ADMIN_ENV)


@pytest.fixture(scope="module")
def ttl_server(session_launch):
    return session_launch({"currency": "GBP", "reservation_ttl": "2s"}, env=ADMIN_ENV)


@pytest.fixture
def api(cart_server) -> Api:
    return Api(cart_server)


@pytest.fixture
def ttl_api(ttl_server) -> Api:
    return Api(ttl_server)


def stocked(api: Api, units: int, price: int = 1000, status: str = "active") -> str:
    sku = unique("SKU")
    api.product(sku, price=price, stock=units, status=status)
    return sku


def levels(api: Api, sku: str) -> tuple[int, int, int]:
    level = api.inventory(sku)
    assert level["available"] == level["on_hand"] - level["reserved"], level
    return level["on_hand"], level["reserved"], level["available"]


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def assert_totals(cart: dict, currency: str = "GBP") -> int:
    subtotal = 0
    for line in cart["lines"]:
        assert line["unit_price"]["currency"] == currency
        assert line["line_total"] == {"amount": line["unit_price"]["amount"] * line["quantity"], "currency": currency}, line
        subtotal += line["line_total"]["amount"]
    totals = cart["totals"]
    assert totals["subtotal"] == {"amount": subtotal, "currency": currency}
    assert totals["total"] == {"amount": subtotal, "currency": currency}
    for name in ("discount", "shipping", "tax"):
        assert totals[name] == {"amount": 0, "currency": currency}
    return subtotal


def added(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


# Create -------------------------------------------------------------------------------------------


def test_create_online_cart(api):
    before = time.time()
    response = api.public("POST", "/v1/carts", {"channel": "online"})
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    cart = response.json()
    assert cart["id"].startswith("cart_") and len(cart["id"]) >= len("cart_") + 26  # ≥ 128 random bits
    assert cart["channel"] == "online"
    assert cart["status"] == "active"
    assert cart["lines"] == []
    assert cart["currency"] == "GBP"  # --currency GBP
    assert_totals(cart)
    assert before + DEFAULT_TTL - 2 <= epoch(cart["expires_at"]) <= time.time() + DEFAULT_TTL + 1
    assert api.cart(cart["id"]) == cart
    # Two carts never share an id.
    assert api.new_cart()["id"] != cart["id"]


def test_create_cart_with_currency_and_customer(api):
    customer = a_customer(api)
    cart = api.new_cart(currency="EUR", customer_id=customer)
    assert cart["currency"] == "EUR"
    assert cart["customer_id"] == customer
    assert cart["totals"]["total"] == {"amount": 0, "currency": "EUR"}


def test_pos_cart_needs_a_pos_or_admin_key(api):
    pos_key = api.api_key("pos", location="main")
    storefront_key = api.api_key("storefront")

    assert_problem(api.public("POST", "/v1/carts", {"channel": "pos"}), 401, "unauthorized")
    assert_problem(api.call("POST", "/v1/carts", {"channel": "pos"}, key=storefront_key), 403, "forbidden")
    assert_problem(api.call("POST", "/v1/carts", {"channel": "pos"}, key="not-a-key"), 401, "unauthorized")

    for body in ({"channel": "pos"}, {"channel": "pos", "location": "main"}):
        response = api.call("POST", "/v1/carts", body, key=pos_key)
        assert response.status_code == 201, response.text
        cart = response.json()
        assert cart["channel"] == "pos" and cart["location"] == "main" and cart["status"] == "active"

    # Admins name the location; there is no default for them.
    assert api.ok("POST", "/v1/carts", {"channel": "pos", "location": "main"}, status=201)["location"] == "main"
    assert_problem(api.call("POST", "/v1/carts", {"channel": "pos"}), 422, "invalid_request")
    assert_problem(api.call("POST", "/v1/carts", {"channel": "pos", "location": "nowhere"}), 404, "not_found")


def test_pos_key_cannot_open_a_cart_at_another_location(api):
    other = unique("store").lower()
    api.ok("POST", "/v1/locations", {"code": other, "name": "Other", "kind": "store", "fulfils_online": False}, status=201)
    pos_key = api.api_key("pos", location="main")
    before = len(api.carts("active"))
    assert_problem(api.call("POST", "/v1/carts", {"channel": "pos", "location": other}, key=pos_key), 403, "forbidden")
    assert len(api.carts("active")) == before


def test_pos_cart_reserves_at_its_location_online_cart_only_where_online(api):
    store = unique("till").lower()
    api.ok("POST", "/v1/locations", {"code": store, "name": "Till", "kind": "store", "fulfils_online": False}, status=201)
    sku = unique("SKU")
    api.product(sku, price=700, stock=3, location=store)  # nothing online

    online = api.new_cart()
    problem = assert_problem(api.add(online["id"], sku, 1), 409, "insufficient_stock")
    assert problem["available"] == 0

    pos_key = api.api_key("pos", location=store)
    till = api.new_cart("pos", key=pos_key)
    assert till["location"] == store
    cart = added(api.add(till["id"], sku, 2))
    assert line_of(cart, sku)["quantity"] == 2
    level = api.inventory(sku)
    at = {entry["location"]: entry for entry in level["locations"]}
    assert at[store]["reserved"] == 2 and at[store]["on_hand"] == 3 and at[store]["available"] == 1
    assert at["main"]["reserved"] == 0
    assert level["reserved"] == 2 and level["on_hand"] == 3
    problem = assert_problem(api.add(till["id"], sku, 2), 409, "insufficient_stock")
    assert problem["available"] == 1


def test_online_cart_reserves_over_every_online_location(api):
    depot = unique("depot").lower()
    api.ok("POST", "/v1/locations", {"code": depot, "name": "Depot", "kind": "warehouse", "fulfils_online": True}, status=201)
    sku = unique("SKU")
    api.ok("POST", "/v1/products", {"title": unique("Product"), "variants": [
        {"sku": sku, "price": {"amount": 100, "currency": "GBP"}, "initial_stock": {"main": 3, depot: 4}}]}, status=201)
    assert levels(api, sku) == (7, 0, 7)

    def at():
        return {entry["location"]: (entry["on_hand"], entry["reserved"]) for entry in api.inventory(sku)["locations"]}

    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 6)), sku)
    assert levels(api, sku) == (7, 6, 1)
    split = at()
    assert split["main"][1] + split[depot][1] == 6
    assert all(0 <= reserved <= on_hand for on_hand, reserved in split.values())
    problem = assert_problem(api.add(api.new_cart()["id"], sku, 2), 409, "insufficient_stock")
    assert problem["available"] == 1

    added(api.patch_line(cart["id"], line["id"], {"quantity": 2}))
    assert levels(api, sku) == (7, 2, 5)
    assert all(0 <= reserved <= on_hand for on_hand, reserved in at().values())
    added(api.remove_line(cart["id"], line["id"]))
    assert at()["main"] == (3, 0) and at()[depot] == (4, 0)

    # A till at main sells from main only.
    pos_key = api.api_key("pos", location="main")
    till = api.new_cart("pos", key=pos_key)
    problem = assert_problem(api.add(till["id"], sku, 4), 409, "insufficient_stock")
    assert problem["available"] == 3
    added(api.add(till["id"], sku, 3))
    assert at()["main"] == (3, 3) and at()[depot] == (4, 0)


def test_a_line_id_only_works_in_its_own_cart(api):
    sku = stocked(api, 5)
    mine, theirs = api.new_cart(), api.new_cart()
    their_line = line_of(added(api.add(theirs["id"], sku, 2)), sku)
    added(api.add(mine["id"], sku, 1))
    assert_problem(api.patch_line(mine["id"], their_line["id"], {"quantity": 1}), 404, "not_found")
    assert_problem(api.remove_line(mine["id"], their_line["id"]), 404, "not_found")
    assert line_of(api.cart(theirs["id"]), sku)["quantity"] == 2
    assert line_of(api.cart(mine["id"]), sku)["quantity"] == 1
    assert levels(api, sku) == (5, 3, 2)


# Lines and reservations ---------------------------------------------------------------------------


def test_add_line_reserves_and_same_sku_adds_to_the_line(api):
    sku = stocked(api, 10, price=1299)
    cart = api.new_cart()

    first = added(api.add(cart["id"], sku, 2))
    line = line_of(first, sku)
    assert line["id"].startswith("line_")
    assert line["quantity"] == 2
    assert line["unit_price"] == {"amount": 1299, "currency": "GBP"}
    assert line["title"]
    assert first["status"] == "active"
    assert levels(api, sku) == (10, 2, 8)

    second = added(api.add(cart["id"], sku, 3))
    assert len(second["lines"]) == 1
    assert line_of(second, sku)["id"] == line["id"]
    assert line_of(second, sku)["quantity"] == 5
    assert assert_totals(second) == 5 * 1299
    assert levels(api, sku) == (10, 5, 5)
    assert api.cart(cart["id"]) == second


def test_insufficient_stock_reports_available_and_changes_nothing(api):
    sku = stocked(api, 3)
    cart = api.new_cart()
    problem = assert_problem(api.add(cart["id"], sku, 4), 409, "insufficient_stock")
    assert problem["available"] == 3
    assert api.cart(cart["id"])["lines"] == []
    assert levels(api, sku) == (3, 0, 3)

    added(api.add(cart["id"], sku, 2))
    problem = assert_problem(api.add(cart["id"], sku, 2), 409, "insufficient_stock")
    assert problem["available"] == 1
    assert line_of(api.cart(cart["id"]), sku)["quantity"] == 2
    assert levels(api, sku) == (3, 2, 1)
    # The product response's `available` agrees.
    assert api.inventory(sku)["available"] == 1


def test_product_available_follows_reservations(api):
    sku = unique("SKU")
    product = api.product(sku, stock=6)
    path = f"/v1/products/{product['id']}"

    def available():
        variants = api.public("GET", path).json()["variants"]
        return next(v["available"] for v in variants if v["sku"] == sku)

    assert available() == 6 and available() == 6  # the second read may come from the cache
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 4)), sku)
    assert available() == 2
    added(api.patch_line(cart["id"], line["id"], {"quantity": 1}))
    assert available() == 5
    added(api.remove_line(cart["id"], line["id"]))
    assert available() == 6
    added(api.add(cart["id"], sku, 6))
    assert available() == 0
    assert api.delete_cart(cart["id"]).status_code == 204
    assert available() == 6


def test_patch_quantity_reserves_and_releases_the_difference(api):
    sku = stocked(api, 10, price=250)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 2)), sku)

    up = added(api.patch_line(cart["id"], line["id"], {"quantity": 7}))
    assert line_of(up, sku)["quantity"] == 7 and line_of(up, sku)["id"] == line["id"]
    assert assert_totals(up) == 7 * 250
    assert levels(api, sku) == (10, 7, 3)

    down = added(api.patch_line(cart["id"], line["id"], {"quantity": 1}))
    assert line_of(down, sku)["quantity"] == 1
    assert assert_totals(down) == 250
    assert levels(api, sku) == (10, 1, 9)

    same = added(api.patch_line(cart["id"], line["id"], {"quantity": 1}))
    assert line_of(same, sku)["quantity"] == 1
    assert levels(api, sku) == (10, 1, 9)

    problem = assert_problem(api.patch_line(cart["id"], line["id"], {"quantity": 11}), 409, "insufficient_stock")
    assert problem["available"] == 9
    assert line_of(api.cart(cart["id"]), sku)["quantity"] == 1
    assert levels(api, sku) == (10, 1, 9)

    full = added(api.patch_line(cart["id"], line["id"], {"quantity": 10}))
    assert line_of(full, sku)["quantity"] == 10
    assert levels(api, sku) == (10, 10, 0)


CUSTOMISATION = {
    "engravingText": "For Ada — ♥",
    "fontSize": 12,
    "giftWrap": True,
    "ratio": 0.75,
    "note": None,
    "guestList": [{"firstName": "Ada", "plusOne": False}, {"firstName": "Grace", "plusOne": True}],
    "HTMLColour": "#FFCC00",
    "nested": {"deeperStill": {"levelThree": [1, 2, 3]}},
}


def test_patch_customisation_only_keeps_quantity_and_json_verbatim(api):
    sku = stocked(api, 5)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 2)), sku)
    assert line.get("customisation") is None

    patched = added(api.patch_line(cart["id"], line["id"], {"customisation": CUSTOMISATION}))
    patched_line = line_of(patched, sku)
    assert patched_line["quantity"] == 2
    assert patched_line["customisation"] == CUSTOMISATION
    assert levels(api, sku) == (5, 2, 3)
    assert line_of(api.cart(cart["id"]), sku)["customisation"] == CUSTOMISATION

    # A quantity change, or more of the SKU without customisation, keeps it.
    kept = added(api.patch_line(cart["id"], line["id"], {"quantity": 3}))
    assert line_of(kept, sku)["customisation"] == CUSTOMISATION
    kept = added(api.add(cart["id"], sku, 1))
    assert line_of(kept, sku)["customisation"] == CUSTOMISATION
    assert line_of(kept, sku)["quantity"] == 4
    # The admin listing shows it as well.
    listed = next(c for c in api.carts("active") if c["id"] == cart["id"])
    assert line_of(listed, sku)["customisation"] == CUSTOMISATION


def test_customisation_given_when_adding_is_kept(api):
    sku = stocked(api, 5)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 1, customisation={"monogramText": "AL"})), sku)
    assert line["customisation"] == {"monogramText": "AL"}
    replaced = added(api.add(cart["id"], sku, 1, customisation={"monogramText": "GH"}))
    assert line_of(replaced, sku)["customisation"] == {"monogramText": "GH"}
    assert line_of(replaced, sku)["quantity"] == 2


def test_customisation_snake_case_keys_are_kept_verbatim(api):
    sku = stocked(api, 5)
    cart = api.new_cart()
    custom = {"gift_note": "hi", "wrap_style": {"paper_colour": "red"}, "_private": 1, "a_b_c": [{"x_y": 1}]}
    line = line_of(added(api.add(cart["id"], sku, 1, customisation=custom)), sku)
    assert line["customisation"] == custom
    line = line_of(added(api.patch_line(cart["id"], line["id"], {"customisation": custom})), sku)
    assert line["customisation"] == custom


def test_delete_line_releases_its_units(api):
    a, b = stocked(api, 6, price=100), stocked(api, 6, price=300)
    cart = api.new_cart()
    added(api.add(cart["id"], a, 2))
    both = added(api.add(cart["id"], b, 4))
    assert [line["sku"] for line in both["lines"]] == [a, b]
    assert assert_totals(both) == 2 * 100 + 4 * 300

    response = api.remove_line(cart["id"], line_of(both, a)["id"])
    after = added(response)
    assert [line["sku"] for line in after["lines"]] == [b]
    assert after["status"] == "active"
    assert assert_totals(after) == 4 * 300
    assert levels(api, a) == (6, 0, 6)
    assert levels(api, b) == (6, 4, 2)

    # The line is gone: removing or changing it again is 404.
    assert_problem(api.remove_line(cart["id"], line_of(both, a)["id"]), 404, "not_found")
    assert_problem(api.patch_line(cart["id"], line_of(both, a)["id"], {"quantity": 1}), 404, "not_found")
    # Adding the SKU again makes a new line.
    again = added(api.add(cart["id"], a, 1))
    assert line_of(again, a)["id"] != line_of(both, a)["id"]
    assert levels(api, a) == (6, 1, 5)


def test_delete_cart_releases_everything_then_refuses_writes(api):
    a, b = stocked(api, 5), stocked(api, 5)
    cart = api.new_cart()
    added(api.add(cart["id"], a, 3))
    full = added(api.add(cart["id"], b, 5))
    line_b = line_of(full, b)["id"]
    assert levels(api, b) == (5, 5, 0)

    response = api.delete_cart(cart["id"])
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert levels(api, a) == (5, 0, 5)
    assert levels(api, b) == (5, 0, 5)
    assert cart["id"] not in {c["id"] for c in api.carts("active")}
    assert api.cart(cart["id"])["status"] == "deleted"
    assert cart["id"] in {c["id"] for c in api.carts("deleted")}

    assert_problem(api.add(cart["id"], a, 1), 409, "conflict")
    assert_problem(api.patch_line(cart["id"], line_b, {"quantity": 1}), 409, "conflict")
    assert_problem(api.patch_line(cart["id"], line_b, {"customisation": {"x": 1}}), 409, "conflict")
    assert_problem(api.remove_line(cart["id"], line_b), 409, "conflict")
    assert_problem(api.delete_cart(cart["id"]), 409, "conflict")
    assert levels(api, a) == (5, 0, 5)
    assert levels(api, b) == (5, 0, 5)
    # The units are free for others.
    other = api.new_cart()
    added(api.add(other["id"], b, 5))
    assert levels(api, b) == (5, 5, 0)


def test_totals_over_several_lines(api):
    prices = {unique("SKU"): 1299, unique("SKU"): 5, unique("SKU"): 100_000}
    api.product(prices, stock=50)
    cart = api.new_cart()
    quantities = {sku: q for sku, q in zip(prices, (3, 17, 2))}
    for sku, quantity in quantities.items():
        cart = added(api.add(cart["id"], sku, quantity))
    assert assert_totals(cart) == sum(prices[s] * q for s, q in quantities.items()) == 3 * 1299 + 17 * 5 + 200_000
    assert [line["sku"] for line in cart["lines"]] == list(prices)
    for sku, quantity in quantities.items():
        assert line_of(cart, sku)["unit_price"] == {"amount": prices[sku], "currency": "GBP"}
        assert levels(api, sku) == (50, quantity, 50 - quantity)


def test_active_listing_is_for_admins_and_matches_reservations(api):
    sku = stocked(api, 9)
    carts = [api.new_cart() for _ in range(3)]
    for quantity, cart in enumerate(carts, start=1):
        added(api.add(cart["id"], sku, quantity))
    assert api.units_in_active_carts()[sku] == 6 == api.inventory(sku)["reserved"]
    listed = {c["id"]: c for c in api.carts("active")}
    for cart in carts:
        assert listed[cart["id"]]["status"] == "active"
        assert "checkout_step" in listed[cart["id"]]

    pos_key = api.api_key("pos", location="main")
    assert_problem(api.public("GET", "/v1/carts?status=active"), 401, "unauthorized")
    assert_problem(api.call("GET", "/v1/carts?status=active", key=pos_key), 403, "forbidden")
    assert_problem(api.call("GET", "/v1/carts?status=gone"), 400, "invalid_request")
    assert_problem(api.call("GET", "/v1/carts?status=active&limit=0"), 400, "invalid_request")
    assert_problem(api.call("GET", "/v1/carts?status=active&cursor=nonsense"), 400, "invalid_request")

    # Pages of one follow their cursors without gaps or repeats.
    seen, cursor = [], None
    for _ in range(10_000):
        page = api.ok("GET", "/v1/carts?status=active&limit=1" + (f"&cursor={cursor}" if cursor else ""))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert {c["id"] for c in carts} <= set(seen)


def recreate_after_cart_use(api: Api) -> str:
    """A SKU with 2 units that a cart used (so its stock actor is live), whose product is then deleted
    and created again with `initial_stock` 3."""
    sku = unique("SKU")
    product = api.product(sku, stock=2)
    cart = api.new_cart()
    added(api.add(cart["id"], sku, 1))
    assert api.delete_cart(cart["id"]).status_code == 204
    assert api.call("DELETE", f"/v1/products/{product['id']}").status_code == 204
    api.product(sku, stock=3)
    return sku


def test_recreated_sku_starts_from_its_initial_stock(api):
    sku = recreate_after_cart_use(api)
    assert levels(api, sku) == (3, 0, 3)


def test_carts_see_the_stock_of_a_recreated_sku(api):
    sku = recreate_after_cart_use(api)
    free = api.inventory(sku)["available"]
    response = api.add(api.new_cart()["id"], sku, free)
    assert response.status_code == 200, f"inventory says {free} available; cart add -> {response.status_code} {response.text}"
    assert api.inventory(sku)["available"] == 0


# Bad input ----------------------------------------------------------------------------------------


BAD_QUANTITIES = [0, -1, 10001, 1.5, "2", None, True, [1], {"n": 1}]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES, ids=repr)
def test_add_bad_quantity_is_422_and_changes_nothing(api, quantity):
    sku = stocked(api, 20_000)
    cart = api.new_cart()
    added(api.add(cart["id"], sku, 1))
    before = api.cart(cart["id"])
    problem = assert_problem(api.add(cart["id"], sku, quantity), 422, "invalid_request")
    if not isinstance(quantity, float):  # floats: see test_fractional_quantity_problem_names_the_field
        assert [error["field"] for error in problem["errors"]] == ["quantity"], problem
    assert api.cart(cart["id"]) == before
    assert levels(api, sku) == (20_000, 1, 19_999)


@pytest.mark.parametrize("quantity", [1.5, 1e20])
def test_fractional_quantity_problem_names_the_field(api, quantity):
    sku = stocked(api, 5)
    cart = api.new_cart()
    problem = assert_problem(api.add(cart["id"], sku, quantity), 422, "invalid_request")
    assert [error["field"] for error in problem["errors"]] == ["quantity"], problem


@pytest.mark.parametrize("quantity", BAD_QUANTITIES, ids=repr)
def test_patch_bad_quantity_is_422_and_changes_nothing(api, quantity):
    sku = stocked(api, 20_000)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 3)), sku)
    before = api.cart(cart["id"])
    assert_problem(api.patch_line(cart["id"], line["id"], {"quantity": quantity}), 422, "invalid_request")
    assert api.cart(cart["id"]) == before
    assert levels(api, sku) == (20_000, 3, 19_997)


def test_a_line_holds_at_most_10000_units(api):
    sku = stocked(api, 20_000)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 10_000)), sku)
    assert line["quantity"] == 10_000
    assert_problem(api.add(cart["id"], sku, 1), 422, "invalid_request")
    assert_problem(api.patch_line(cart["id"], line["id"], {"quantity": 10_001}), 422, "invalid_request")
    assert levels(api, sku) == (20_000, 10_000, 10_000)


def test_unknown_sku_is_404(api):
    cart = api.new_cart()
    assert_problem(api.add(cart["id"], unique("NOPE"), 1), 404, "not_found")
    assert api.cart(cart["id"])["lines"] == []


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_sku_of_a_product_not_for_sale_is_422(api, status):
    sku = stocked(api, 5, status=status)
    cart = api.new_cart()
    problem = assert_problem(api.add(cart["id"], sku, 1), 422, "invalid_request")
    assert any(error["field"] == "sku" for error in problem.get("errors", [])), problem
    assert api.cart(cart["id"])["lines"] == []
    assert levels(api, sku) == (5, 0, 5)


def test_sku_priced_in_another_currency_is_422(api):
    sku = stocked(api, 5)  # GBP
    cart = api.new_cart(currency="USD")
    assert_problem(api.add(cart["id"], sku, 1), 422, "invalid_request")
    assert levels(api, sku) == (5, 0, 5)


def test_unknown_cart_and_line_are_404(api):
    sku = stocked(api, 5)
    ghost = "cart_" + "0" * 26
    assert_problem(api.public("GET", f"/v1/carts/{ghost}"), 404, "not_found")
    assert_problem(api.add(ghost, sku, 1), 404, "not_found")
    assert_problem(api.patch_line(ghost, "line_x", {"quantity": 1}), 404, "not_found")
    assert_problem(api.remove_line(ghost, "line_x"), 404, "not_found")
    assert_problem(api.delete_cart(ghost), 404, "not_found")
    cart = api.new_cart()
    assert_problem(api.patch_line(cart["id"], "line_nope", {"quantity": 1}), 404, "not_found")
    assert_problem(api.remove_line(cart["id"], "line_nope"), 404, "not_found")
    assert levels(api, sku) == (5, 0, 5)


@pytest.mark.parametrize("body", [b'{"sku": "X", "quantity": 1', b"not json", b"", b'{"sku": "X", "quantity": 1}}',
                                  b'{"sku": "X", "quantity": 01}', b"\xff\xfe"], ids=repr)
def test_invalid_json_is_400(api, body):
    sku = stocked(api, 5)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 1)), sku)
    before = api.cart(cart["id"])
    headers = {"Content-Type": "application/json"}
    for method, path in (("POST", f"/v1/carts/{cart['id']}/lines"), ("PATCH", f"/v1/carts/{cart['id']}/lines/{line['id']}"),
                         ("POST", "/v1/carts")):
        response = requests.request(method, api.server.url(path), data=body, headers=headers, timeout=10)
        assert_problem(response, 400, "invalid_request")
    assert api.cart(cart["id"]) == before
    assert levels(api, sku) == (5, 1, 4)


def test_other_malformed_bodies(api):
    sku = stocked(api, 5)
    cart = api.new_cart()
    line = line_of(added(api.add(cart["id"], sku, 1)), sku)
    path = f"/v1/carts/{cart['id']}/lines"
    # Not JSON at all by type.
    response = requests.post(api.server.url(path), data=json.dumps({"sku": sku, "quantity": 1}),
                             headers={"Content-Type": "text/plain"}, timeout=10)
    assert_problem(response, 415, "invalid_request")
    # Fields missing or of the wrong type.
    for body in ({"quantity": 1}, {"sku": sku}, {"sku": 7, "quantity": 1}, [], {"sku": None, "quantity": 1}):
        assert_problem(api.public("POST", path, body), 422, "invalid_request")
    # A PATCH that changes nothing, or customisation beyond 16 KiB.
    assert_problem(api.patch_line(cart["id"], line["id"], {}), 422, "invalid_request")
    assert_problem(api.patch_line(cart["id"], line["id"], {"customisation": {"text": "x" * 17_000}}), 422, "invalid_request")
    assert_problem(api.add(cart["id"], sku, 1, customisation={"text": "x" * 17_000}), 422, "invalid_request")
    # Bad carts.
    for body in ({}, {"channel": "web"}, {"channel": "online", "currency": "pounds"}, {"channel": "online", "customer_id": 5}):
        assert_problem(api.public("POST", "/v1/carts", body), 422, "invalid_request")
    assert line_of(api.cart(cart["id"]), sku)["quantity"] == 1
    assert line_of(api.cart(cart["id"]), sku).get("customisation") is None
    assert levels(api, sku) == (5, 1, 4)


# Events -------------------------------------------------------------------------------------------


def test_cart_and_stock_events(api):
    a, b = stocked(api, 10), stocked(api, 10)
    cart = api.new_cart()
    topic = f"cart:{cart['id']}"
    line_a = line_of(added(api.add(cart["id"], a, 2)), a)["id"]
    added(api.add(cart["id"], a, 1))  # same SKU: cart.line_updated
    line_b = line_of(added(api.add(cart["id"], b, 4)), b)["id"]
    added(api.patch_line(cart["id"], line_b, {"quantity": 1}))
    added(api.patch_line(cart["id"], line_b, {"customisation": {"giftWrap": True}}))
    added(api.remove_line(cart["id"], line_a))
    assert api.delete_cart(cart["id"]).status_code == 204

    events = api.events(topic)
    assert [e["type"] for e in events] == [
        "cart.created", "cart.line_added", "cart.line_updated", "cart.line_added", "cart.line_updated",
        "cart.line_updated", "cart.line_removed", "cart.deleted"]
    assert all(e["topic"] == topic for e in events)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert events[0]["data"]["id"] == cart["id"]
    lines = [(e["data"]["sku"], e["data"]["quantity"], e["data"]["line_id"]) for e in events[1:7]]
    assert lines == [(a, 2, line_a), (a, 3, line_a), (b, 4, line_b), (b, 1, line_b), (b, 1, line_b), (a, 0, line_a)]
    assert events[-1]["data"]["status"] == "deleted"
    # The family topic carries them too.
    family = [e for e in api.events("carts", since=seqs[0] - 1) if e["topic"] == topic]
    assert [e["seq"] for e in family] == seqs

    # stock.changed: one per reservation or release, each with the numbers after it.
    for sku, reserved_after in ((a, [0, 2, 3, 0]), (b, [0, 4, 1, 0])):
        changes = api.events(f"stock:{sku}")
        assert all(e["type"] in ("stock.changed", "stock.low") for e in changes)
        stock_changed = [e["data"] for e in changes if e["type"] == "stock.changed"]
        assert [d["reserved"] for d in stock_changed] == reserved_after, stock_changed
        for data in stock_changed:
            assert data["sku"] == sku and data["on_hand"] == 10 and data["available"] == 10 - data["reserved"]
        family = [e["seq"] for e in api.events("stock", since=changes[0]["seq"] - 1) if e["topic"] == f"stock:{sku}"]
        assert family == [e["seq"] for e in changes]
    assert levels(api, a) == levels(api, b) == (10, 0, 10)


def test_failed_writes_emit_no_events(api):
    sku = stocked(api, 1)
    cart = api.new_cart()
    assert_problem(api.add(cart["id"], sku, 2), 409, "insufficient_stock")
    assert_problem(api.add(cart["id"], sku, 0), 422, "invalid_request")
    assert [e["type"] for e in api.events(f"cart:{cart['id']}")] == ["cart.created"]
    assert [e["data"]["reserved"] for e in api.events(f"stock:{sku}")] == [0]


# Expiry (--reservation-ttl 2s) --------------------------------------------------------------------


def wait_status(api: Api, cart_id: str, status: str, timeout: float = TTL + 4) -> dict:
    return wait_for(lambda: (c := api.cart(cart_id))["status"] == status and c, timeout, what=f"{cart_id} {status}")


def test_expiry_returns_units_and_emits_events(ttl_api):
    api = ttl_api
    a, b = stocked(api, 4), stocked(api, 4)
    cart = api.new_cart()
    added(api.add(cart["id"], a, 3))
    full = added(api.add(cart["id"], b, 4))
    assert levels(api, a) == (4, 3, 1) and levels(api, b) == (4, 4, 0)
    deadline = epoch(full["expires_at"])

    expired = wait_status(api, cart["id"], "expired")
    assert time.time() >= deadline - 0.01
    assert [(line["sku"], line["quantity"]) for line in expired["lines"]] == [(a, 3), (b, 4)]  # lines stay, units go
    assert levels(api, a) == (4, 0, 4) and levels(api, b) == (4, 0, 4)
    assert cart["id"] not in {c["id"] for c in api.carts("active")}
    assert cart["id"] in {c["id"] for c in api.carts("expired")}

    events = api.events(f"cart:{cart['id']}")
    assert [e["type"] for e in events] == ["cart.created", "cart.line_added", "cart.line_added", "cart.expired"]
    assert events[-1]["data"]["status"] == "expired"
    for sku, units in ((a, 3), (b, 4)):
        changes = [e for e in api.events(f"stock:{sku}") if e["type"] == "stock.changed"]
        assert [e["data"]["reserved"] for e in changes] == [0, units, 0]
        assert changes[-1]["seq"] > events[-2]["seq"]  # released after the last write
        assert changes[-1]["data"]["available"] == 4


def test_writes_move_expires_at_forward(ttl_api):
    """Each write sets expires_at to now + TTL, so a cart written more often than its TTL stays live
    well past its first deadline. Writes are a second apart: expires_at has whole seconds."""
    api = ttl_api
    a, b = stocked(api, 10), stocked(api, 10)
    cart = api.new_cart()
    created = time.time()
    stamps = [epoch(cart["expires_at"])]
    line_b = None

    def write(step):
        nonlocal line_b
        if step == 0:
            return api.add(cart["id"], a, 1)
        if step == 1:
            return api.add(cart["id"], a, 1)
        if step == 2:
            response = api.add(cart["id"], b, 2)
            line_b = line_of(response.json(), b)["id"] if response.status_code == 200 else None
            return response
        if step == 3:
            return api.patch_line(cart["id"], line_b, {"quantity": 3})
        if step == 4:
            return api.patch_line(cart["id"], line_b, {"customisation": {"giftWrap": True}})
        return api.remove_line(cart["id"], line_b)

    last = time.monotonic()
    for step in range(6):
        time.sleep(max(0.0, 1.0 - (time.monotonic() - last)))
        last = time.monotonic()
        before = time.time()
        current = added(write(step))
        assert current["status"] == "active"
        stamp = epoch(current["expires_at"])
        assert stamp > stamps[-1], (step, current["expires_at"], stamps)
        assert before + TTL - 1 <= stamp <= time.time() + TTL + 1
        stamps.append(stamp)
    assert time.time() - created > 2 * TTL  # long past the first deadline, still live
    final = api.cart(cart["id"])
    assert final["status"] == "active"
    assert [(line["sku"], line["quantity"]) for line in final["lines"]] == [(a, 2)]
    assert levels(api, a) == (10, 2, 8) and levels(api, b) == (10, 0, 10)


def test_adding_to_an_expired_cart_reactivates_it_when_stock_is_there(ttl_api):
    api = ttl_api
    a, b, c = stocked(api, 5), stocked(api, 5), stocked(api, 5)
    cart = api.new_cart()
    added(api.add(cart["id"], a, 2))
    added(api.add(cart["id"], b, 1))
    wait_status(api, cart["id"], "expired")
    assert levels(api, a) == (5, 0, 5) and levels(api, b) == (5, 0, 5)

    revived = added(api.add(cart["id"], c, 1))
    assert revived["status"] == "active"
    assert [(line["sku"], line["quantity"]) for line in revived["lines"]] == [(a, 2), (b, 1), (c, 1)]
    assert epoch(revived["expires_at"]) > time.time()
    # Every line is reserved again, not only the new one.
    assert levels(api, a) == (5, 2, 3) and levels(api, b) == (5, 1, 4) and levels(api, c) == (5, 1, 4)
    units = api.units_in_active_carts()
    assert (units.get(a), units.get(b), units.get(c)) == (2, 1, 1)
    types = [e["type"] for e in api.events(f"cart:{cart['id']}")]
    assert types[:4] == ["cart.created", "cart.line_added", "cart.line_added", "cart.expired"]
    assert types[4] == "cart.line_added"

    # And it expires again, releasing all three.
    wait_status(api, cart["id"], "expired")
    assert levels(api, a) == (5, 0, 5) and levels(api, b) == (5, 0, 5) and levels(api, c) == (5, 0, 5)
    assert [e["type"] for e in api.events(f"cart:{cart['id']}")].count("cart.expired") == 2


def test_adding_to_an_expired_cart_whose_units_were_taken_is_409(ttl_api):
    api = ttl_api
    a, b = stocked(api, 2), stocked(api, 5)
    cart = api.new_cart()
    added(api.add(cart["id"], a, 2))
    wait_status(api, cart["id"], "expired")

    thief = api.new_cart()
    added(api.add(thief["id"], a, 2))
    problem = assert_problem(api.add(cart["id"], b, 1), 409, "insufficient_stock")
    assert problem["available"] == 0
    after = api.cart(cart["id"])
    assert after["status"] == "expired"
    assert [(line["sku"], line["quantity"]) for line in after["lines"]] == [(a, 2)]
    assert levels(api, a) == (2, 2, 0)  # the thief's only
    assert levels(api, b) == (5, 0, 5)  # nothing held for the refused add
    assert cart["id"] not in {c["id"] for c in api.carts("active")}

    # The same for more of a SKU it already has.
    assert_problem(api.add(cart["id"], a, 1), 409, "insufficient_stock")
    assert api.cart(cart["id"])["status"] == "expired"
    assert levels(api, a) == (2, 2, 0)

    # Once the thief's cart lapses too, the units are there again and the add revives the cart.
    wait_status(api, thief["id"], "expired")
    revived = added(api.add(cart["id"], b, 1))
    assert revived["status"] == "active"
    assert levels(api, a) == (2, 2, 0) and levels(api, b) == (5, 1, 4)


def test_changing_or_deleting_an_expired_cart(ttl_api):
    api = ttl_api
    a, b = stocked(api, 5), stocked(api, 5)
    first, second = api.new_cart(), api.new_cart()
    line_a = line_of(added(api.add(first["id"], a, 2)), a)["id"]
    line_b = line_of(added(api.add(first["id"], b, 1)), b)["id"]
    added(api.add(second["id"], a, 1))
    wait_status(api, first["id"], "expired")
    wait_status(api, second["id"], "expired")

    # Removing a line leaves the cart expired and holds nothing.
    after = added(api.remove_line(first["id"], line_b))
    assert after["status"] == "expired" and [line["sku"] for line in after["lines"]] == [a]
    assert levels(api, a) == (5, 0, 5) and levels(api, b) == (5, 0, 5)
    # A quantity change reserves the whole cart again at the new quantity.
    revived = added(api.patch_line(first["id"], line_a, {"quantity": 4}))
    assert revived["status"] == "active" and line_of(revived, a)["quantity"] == 4
    assert levels(api, a) == (5, 4, 1)
    # Deleting an expired cart is fine and frees nothing more.
    assert api.delete_cart(second["id"]).status_code == 204
    assert api.cart(second["id"])["status"] == "deleted"
    assert levels(api, a) == (5, 4, 1)
    assert api.delete_cart(first["id"]).status_code == 204
    assert levels(api, a) == (5, 0, 5)
