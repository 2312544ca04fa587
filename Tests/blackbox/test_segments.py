"""Segments (issue 24; API.md, Segments): every condition of the filter grammar, and all/any/not over
them, proven against sets worked out by hand on seeded data; segment CRUD, the filter's validation,
and the streamed CSV export.

The module's server holds exactly the customers the `world` fixture seeds through the API, so each
expected set is exact. Time moves with the test clock while seeding (day 0, day 20, day 35, then 20
minutes), and only the last test of the module moves it again:

  A  online, email     day 0: 1 x SHOE-M (50.00); day 20: 2 x SHOE-L (100.00)  -> 2 orders, 150.00; consent email
  B  online, email     day 0: 1 x HAT (20.00)                                 -> 1 order, 20.00; tag "vip", phone, consent sms
  C  till (till), email day 20: 3 x MUG (30.00); day 35: 1 x SHOE-M (50.00)     -> 2 orders, 80.00
  D  till (main), phone only, day 35: 1 x HAT (20.00)                          -> 1 order, 20.00
  E  made by hand, tags "VIP","early", consent email
  F  made by hand, tag "wholesale", a cart with a line left to expire on day 35
  G  made by hand, email consent given then withdrawn
  H  made by hand, a cart with a line left to expire on day 0
  I  made by hand, an empty cart

SHOE-M and SHOE-L are one product in category "shoes"; HAT is "hats", MUG is "mugs". Online orders
ship from `main` (the only location that fulfils online); `till` is a store of its own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from cart_api import Api, assert_problem, unique
from customer_api import (
    CSV_HEADER,
    advance,
    assert_field_error,
    assert_filter_error,
    assert_subset,
    catalogue_product,
    clock_now,
    create_customer,
    create_segment,
    crm_server,
    customer_ids,
    email_address,
    fill_cart,
    get_customer,
    gbp,
    new_location,
    online_order,
    pages,
    patch_customer,
    phone_number,
    pos_sale,
    rfc3339,
    set_consent,
    wait_expired,
    when,
)

LETTERS = "ABCDEFGHI"


@dataclass
class World:
    api: Api
    t0: datetime
    till: str
    skus: dict[str, str]
    products: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)

    def members(self, letters: str) -> set[str]:
        return {self.ids[letter] for letter in letters}

    def everyone(self) -> set[str]:
        return set(self.ids.values())

    def at(self, days: int) -> str:
        """Day `days` of the seeding, as an RFC 3339 time."""
        return rfc3339(self.t0 + timedelta(days=days))


@pytest.fixture(scope="module")
def world(module_launch) -> World:
    api = Api(crm_server(module_launch))
    till = new_location(api)
    pos_main, pos_till = api.api_key("pos", "main"), api.api_key("pos", till)
    skus = {name: unique(name) for name in ("SHOE-M", "SHOE-L", "HAT", "MUG")}
    here = ("main", till)
    shoes = catalogue_product(api, "shoes", {skus["SHOE-M"]: (5000, {"size": "M"}), skus["SHOE-L"]: (5000, {"size": "L"})}, locations=here)
    hats = catalogue_product(api, "hats", {skus["HAT"]: (2000, {})}, locations=here)
    mugs = catalogue_product(api, "mugs", {skus["MUG"]: (1000, {})}, locations=here)
    w = World(api, clock_now(api), till, skus, {"shoes": shoes["id"], "hats": hats["id"], "mugs": mugs["id"]})
    w.emails = {letter: email_address(f"seg{letter.lower()}") for letter in LETTERS}
    same = lambda order, letter: order["customer_id"] == w.ids[letter] or pytest.fail(f"{letter}'s order went to another customer")  # noqa: E731

    # Day 0.
    w.ids["A"] = online_order(api, {skus["SHOE-M"]: 1}, email=w.emails["A"])["customer_id"]
    w.ids["B"] = online_order(api, {skus["HAT"]: 1}, email=w.emails["B"])["customer_id"]
    w.ids["H"] = create_customer(api, email=w.emails["H"])["id"]
    old_cart = api.new_cart(customer_id=w.ids["H"])
    fill_cart(api, old_cart, {skus["MUG"]: 1})
    advance(api, "20d")
    wait_expired(api, old_cart["id"])

    # Day 20.
    same(online_order(api, {skus["SHOE-L"]: 2}, email=w.emails["A"]), "A")
    w.ids["C"] = pos_sale(api, pos_till, {skus["MUG"]: 3}, email=w.emails["C"])["customer_id"]
    advance(api, "15d")

    # Day 35.
    same(pos_sale(api, pos_till, {skus["SHOE-M"]: 1}, email=w.emails["C"]), "C")
    w.phones["D"], typed = phone_number()
    w.ids["D"] = pos_sale(api, pos_main, {skus["HAT"]: 1}, phone=typed)["customer_id"]
    w.ids["E"] = create_customer(api, email=w.emails["E"], first_name="Erin", last_name="O'Brien, Jr", tags=["VIP", "early"])["id"]
    set_consent(api, w.ids["E"], "email", "subscribed", source="checkout")
    w.ids["F"] = create_customer(api, email=w.emails["F"], tags=["wholesale"])["id"]
    left = api.new_cart(customer_id=w.ids["F"])
    fill_cart(api, left, {skus["MUG"]: 1})
    w.ids["G"] = create_customer(api, email=w.emails["G"])["id"]
    set_consent(api, w.ids["G"], "email", "subscribed", source="checkout")
    set_consent(api, w.ids["G"], "email", "unsubscribed", source="admin")
    w.ids["I"] = create_customer(api, email=w.emails["I"])["id"]
    api.new_cart(customer_id=w.ids["I"])
    w.phones["B"] = phone_number()[0]
    patch_customer(api, w.ids["B"], {"tags": ["vip"], "phone": w.phones["B"]})
    set_consent(api, w.ids["B"], "sms", "subscribed", source="pos")
    set_consent(api, w.ids["A"], "email", "subscribed", source="checkout")
    advance(api, "20m")
    wait_expired(api, left["id"])

    # The seeding is what the module docstring says, else every set below is wrong for another reason.
    assert len(w.everyone()) == len(LETTERS)
    assert set(customer_ids(api)) == w.everyone()
    expected = {"A": (2, 15000), "B": (1, 2000), "C": (2, 8000), "D": (1, 2000)}
    for letter in LETTERS:
        stats = get_customer(api, w.ids[letter])["stats"]
        assert (stats["orders_count"], stats["total_spent"]) == (expected.get(letter, (0, 0))[0], gbp(expected.get(letter, (0, 0))[1])), letter
    return w


def nots(depth: int, inner: dict) -> dict:
    for _ in range(depth):
        inner = {"not": inner}
    return inner


# (name, filter made from the world, the customers it holds)
CASES = [
    ("bought-sku", lambda w: {"bought": {"sku": w.skus["SHOE-M"]}}, "AC"),
    ("bought-sku-since-relative", lambda w: {"bought": {"sku": w.skus["SHOE-M"], "since": "-30d"}}, "C"),
    ("bought-sku-since-time", lambda w: {"bought": {"sku": w.skus["SHOE-M"], "since": w.at(10)}}, "C"),
    ("bought-product", lambda w: {"bought": {"product_id": w.products["shoes"]}}, "AC"),
    ("bought-product-in-two-orders", lambda w: {"bought": {"product_id": w.products["shoes"], "min_times": 2}}, "A"),
    ("bought-product-in-two-orders-lately", lambda w: {"bought": {"product_id": w.products["shoes"], "min_times": 2, "since": "-30d"}}, ""),
    ("bought-category", lambda w: {"bought": {"category": "hats"}}, "BD"),
    ("bought-category-lately", lambda w: {"bought": {"category": "shoes", "since": "-10d"}}, "C"),
    ("bought-category-once", lambda w: {"bought": {"category": "mugs", "min_times": 1}}, "C"),
    ("units-are-not-times", lambda w: {"bought": {"category": "mugs", "min_times": 2}}, ""),
    ("bought-unknown-sku", lambda w: {"bought": {"sku": "NOPE-" + w.skus["MUG"]}}, ""),
    ("spent-at-least", lambda w: {"total_spent": {"gte": gbp(8000)}}, "AC"),
    ("spent-at-most", lambda w: {"total_spent": {"lte": gbp(2000)}}, "BDEFGHI"),
    ("spent-between", lambda w: {"total_spent": {"gte": gbp(2000), "lte": gbp(8000)}}, "BCD"),
    ("orders-at-least-two", lambda w: {"orders_count": {"gte": 2}}, "AC"),
    ("no-orders", lambda w: {"orders_count": {"lte": 0}}, "EFGHI"),
    ("exactly-one-order", lambda w: {"orders_count": {"gte": 1, "lte": 1}}, "BD"),
    ("ordered-in-30-days", lambda w: {"last_order_at": {"after": "-30d"}}, "ACD"),
    ("last-ordered-over-30-days-ago", lambda w: {"last_order_at": {"before": "-30d"}}, "B"),
    ("ordered-in-2-weeks", lambda w: {"last_order_at": {"after": "-2w"}}, "CD"),
    ("ordered-in-12-hours", lambda w: {"last_order_at": {"after": "-12h"}}, "CD"),
    ("ordered-in-15-minutes", lambda w: {"last_order_at": {"after": "-15m"}}, ""),
    ("last-order-between-two-times", lambda w: {"last_order_at": {"after": w.at(10), "before": w.at(30)}}, "A"),
    ("tag", lambda w: {"tag": "vip"}, "BE"),
    ("tag-in-another-case", lambda w: {"tag": "VIP"}, "BE"),
    ("tag-wholesale", lambda w: {"tag": "wholesale"}, "F"),
    ("tag-nobody-has", lambda w: {"tag": "nobody-has-this"}, ""),
    ("consent-email", lambda w: {"consent": "email"}, "AE"),
    ("consent-sms", lambda w: {"consent": "sms"}, "B"),
    ("consent-push", lambda w: {"consent": "push"}, ""),
    ("bought-at-the-till", lambda w: {"bought_at_location": w.till}, "C"),
    ("bought-at-main-online-or-at-its-till", lambda w: {"bought_at_location": "main"}, "ABD"),
    ("bought-at-an-unknown-location", lambda w: {"bought_at_location": "nowhere"}, ""),
    ("abandoned-this-week", lambda w: {"abandoned_cart": {"since": "-7d"}}, "F"),
    ("abandoned-in-60-days", lambda w: {"abandoned_cart": {"since": "-60d"}}, "FH"),
    ("abandoned-since-a-time", lambda w: {"abandoned_cart": {"since": w.at(30)}}, "F"),
    ("all", lambda w: {"all": [{"tag": "vip"}, {"consent": "email"}]}, "E"),
    ("any", lambda w: {"any": [{"bought_at_location": w.till}, {"tag": "vip"}]}, "BCE"),
    ("not", lambda w: {"not": {"orders_count": {"gte": 1}}}, "EFGHI"),
    ("not-ordered-lately-includes-who-never-ordered", lambda w: {"not": {"last_order_at": {"after": "-30d"}}}, "BEFGHI"),
    ("all-with-not", lambda w: {"all": [{"bought": {"category": "shoes"}}, {"not": {"bought_at_location": w.till}}]}, "A"),
    ("nested", lambda w: {"any": [{"all": [{"tag": "vip"}, {"not": {"consent": "email"}}]}, {"orders_count": {"gte": 2}}]}, "ABC"),
    ("ten-nots", lambda w: nots(10, {"tag": "vip"}), "BE"),
    ("eleven-nots", lambda w: nots(11, {"tag": "vip"}), "ACDFGHI"),
    ("viewed-nobody-browsed", lambda w: {"viewed": {"product_id": w.products["shoes"]}}, ""),
    ("stage-nobody-is-live", lambda w: {"stage": "browsing"}, ""),
]


@pytest.mark.parametrize(("name", "make", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_filter_selects_exactly_the_customers_worked_out_by_hand(world, name, make, expected):
    api = world.api
    want = world.members(expected)
    made = create_segment(api, make(world), name=name)
    assert made["id"].startswith("seg_")
    assert (made["name"], made["filter"]) == (name, make(world))
    assert made["count"] == len(want), f"{name}: count {made['count']}, expected {sorted(expected)}"
    assert api.ok("POST", "/v1/segments/preview", {"filter": make(world)}) == {"count": len(want)}
    listed = customer_ids(api, segment=made["id"], limit=3)
    named = {v: k for k, v in world.ids.items()}
    assert set(listed) == want, f"{name}: got {sorted(named.get(i, i) for i in listed)}, expected {sorted(expected)}"
    assert api.ok("GET", f"/v1/segments/{made['id']}")["count"] == len(want)


def test_segments_are_made_listed_renamed_refiltered_and_deleted(world):
    api = world.api
    made = create_segment(api, {"tag": "vip"}, name="VIPs")
    assert made["count"] == 2 and when(made["created_at"]) <= when(made["updated_at"])
    assert api.ok("GET", f"/v1/segments/{made['id']}") == made
    listed = pages(api, "/v1/segments", limit=1)
    assert len({s["id"] for s in listed}) == len(listed)
    assert [s for s in listed if s["id"] == made["id"]] == [made]
    assert all(isinstance(s["count"], int) for s in listed)

    renamed = api.ok("PATCH", f"/v1/segments/{made['id']}", {"name": "Very important"})
    assert_subset(renamed, {"id": made["id"], "name": "Very important", "filter": {"tag": "vip"}, "count": 2, "created_at": made["created_at"]})
    refiltered = api.ok("PATCH", f"/v1/segments/{made['id']}", {"filter": {"tag": "wholesale"}})
    assert_subset(refiltered, {"name": "Very important", "filter": {"tag": "wholesale"}, "count": 1})
    assert when(refiltered["updated_at"]) >= when(made["updated_at"])
    assert customer_ids(api, segment=made["id"]) == [world.ids["F"]]

    assert_filter_error(api.call("PATCH", f"/v1/segments/{made['id']}", {"filter": {"spent_a_lot": True}}))
    assert_field_error(api.call("PATCH", f"/v1/segments/{made['id']}", {"name": ""}), "name")
    assert api.ok("GET", f"/v1/segments/{made['id']}") == refiltered

    response = api.call("DELETE", f"/v1/segments/{made['id']}")
    assert response.status_code == 204 and not response.content
    for method, path in (("GET", f"/v1/segments/{made['id']}"), ("DELETE", f"/v1/segments/{made['id']}"),
                         ("GET", f"/v1/customers?segment={made['id']}"), ("GET", f"/v1/customers/export?segment={made['id']}")):
        assert_problem(api.call(method, path), 404, "not_found")
    assert_problem(api.call("PATCH", f"/v1/segments/{made['id']}", {"name": "x"}), 404, "not_found")
    assert made["id"] not in {s["id"] for s in pages(api, "/v1/segments")}

    pos = api.api_key("pos", "main")
    for method, path, body in (("GET", "/v1/segments", None), ("POST", "/v1/segments", {"name": "x", "filter": {"tag": "vip"}}),
                               ("POST", "/v1/segments/preview", {"filter": {"tag": "vip"}}), ("GET", "/v1/customers/export", None)):
        assert_problem(api.call(method, path, body, key=pos), 403, "forbidden")


BAD_FILTERS = [
    ("unknown-condition", {"spent_a_lot": True}, "filter"),
    ("unknown-condition-inside-all", {"all": [{"tag": "vip"}, {"consent": "email"}, {"favourite_colour": "red"}]}, "filter.all[2]"),
    ("tag-not-text", {"tag": 5}, "filter"),
    ("all-not-a-list", {"all": {"tag": "vip"}}, "filter"),
    ("orders-count-in-words", {"orders_count": {"gte": "two"}}, "filter"),
    ("total-spent-not-money", {"total_spent": {"gte": 5000}}, "filter"),
    ("bought-without-what", {"bought": {"since": "-30d"}}, "filter"),
    ("bought-zero-times", {"bought": {"sku": "X", "min_times": 0}}, "filter"),
    ("unknown-time-unit", {"last_order_at": {"after": "-30x"}}, "filter"),
    ("time-in-words", {"last_order_at": {"before": "yesterday"}}, "filter"),
    ("consent-by-fax", {"consent": "fax"}, "filter"),
    ("abandoned-without-since", {"abandoned_cart": {}}, "filter"),
    ("a-list", ["tag", "vip"], "filter"),
    ("no-condition", {}, "filter"),
]


@pytest.mark.parametrize(("name", "bad", "path"), BAD_FILTERS, ids=[case[0] for case in BAD_FILTERS])
def test_a_bad_filter_is_422_naming_where_and_saves_nothing(world, name, bad, path):
    api = world.api
    before = pages(api, "/v1/segments")
    assert_filter_error(api.call("POST", "/v1/segments", {"name": name, "filter": bad}), path)
    assert_filter_error(api.call("POST", "/v1/segments/preview", {"filter": bad}), path)
    assert pages(api, "/v1/segments") == before


def test_a_filter_nested_1000_deep_is_422_and_the_server_lives(world):
    api = world.api
    before = pages(api, "/v1/segments")
    for depth in (40, 1000):
        body = '{"name":"deep","filter":' + '{"not":' * depth + '{"tag":"vip"}' + "}" * depth + "}"
        response = api.call("POST", "/v1/segments", data=body.encode(), headers={"Content-Type": "application/json"})
        assert_filter_error(response)
    assert pages(api, "/v1/segments") == before
    assert_field_error(api.call("POST", "/v1/segments", {"filter": {"tag": "vip"}}), "name")
    assert_field_error(api.call("POST", "/v1/segments/preview", {"name": "no filter"}), "filter")
    assert api.ok("GET", "/v1/customers?limit=1")["items"]


# CSV export -----------------------------------------------------------------------------------------


def export(api: Api, **params) -> tuple[list[list[str]], dict]:
    response = api.call("GET", "/v1/customers/export", params=params, stream=True)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].replace(" ", "").lower() == "text/csv;charset=utf-8", response.headers
    text = b"".join(response.iter_content(chunk_size=None)).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""))), response.headers


def test_a_segment_exports_as_csv_one_row_per_member(world):
    api = world.api
    buyers = create_segment(api, {"orders_count": {"gte": 1}})
    assert buyers["count"] == 4
    rows, _ = export(api, segment=buyers["id"])
    assert rows[0] == CSV_HEADER
    assert len(rows) - 1 == buyers["count"]
    by_id = {row[0]: dict(zip(CSV_HEADER, row)) for row in rows[1:]}
    assert set(by_id) == world.members("ABCD")
    a = by_id[world.ids["A"]]
    customer = get_customer(api, world.ids["A"])
    assert_subset(a, {"email": world.emails["A"], "phone": "", "tags": "", "orders_count": "2", "total_spent": "15000", "currency": "GBP"})
    assert when(a["last_order_at"]) == when(customer["stats"]["last_order_at"])
    assert when(a["created_at"]) == when(customer["created_at"])
    assert_subset(by_id[world.ids["B"]], {"email": world.emails["B"], "phone": world.phones["B"], "tags": "vip", "orders_count": "1",
                                          "total_spent": "2000"})
    assert_subset(by_id[world.ids["D"]], {"email": "", "phone": world.phones["D"], "total_spent": "2000"})


def test_the_export_of_every_customer_quotes_what_needs_quoting(world):
    api = world.api
    rows, _ = export(api)
    assert rows[0] == CSV_HEADER
    by_id = {row[0]: dict(zip(CSV_HEADER, row)) for row in rows[1:]}
    assert set(by_id) == world.everyone() and len(rows) - 1 == len(LETTERS)
    assert_subset(by_id[world.ids["E"]], {"email": world.emails["E"], "first_name": "Erin", "last_name": "O'Brien, Jr", "tags": "VIP;early",
                                          "orders_count": "0", "total_spent": "0", "currency": "GBP", "last_order_at": ""})


def test_an_empty_segment_exports_just_the_header(world):
    api = world.api
    empty = create_segment(api, {"tag": unique("nobody")})
    assert empty["count"] == 0
    rows, _ = export(api, segment=empty["id"])
    assert rows == [CSV_HEADER]
    assert_problem(api.call("GET", "/v1/customers/export?segment=seg_nope"), 404, "not_found")


# Last: moves the clock, which every relative condition above depends on ------------------------------


def test_relative_times_are_resolved_whenever_a_segment_is_read(world):
    api = world.api
    recent = create_segment(api, {"last_order_at": {"after": "-2w"}})
    fixed = create_segment(api, {"last_order_at": {"after": world.at(30)}})
    assert recent["count"] == 2 and fixed["count"] == 2
    advance(api, "15d")
    assert api.ok("GET", f"/v1/segments/{recent['id']}")["count"] == 0
    assert customer_ids(api, segment=recent["id"]) == []
    assert set(customer_ids(api, segment=fixed["id"])) == world.members("CD")
