"""Customers (issue 24; API.md, Customers): made by hand and by orders, one per person across the web
shop and the till, with stats and preferences to the penny; validation, conflicts, search, linking,
merging, erasure, the per-customer export, the timeline, in-store lookup, consent and its ledger, and
one-click unsubscribe.

One server for the module (`crm`: test clock on, GBP, no tax rates or shipping methods, so an order's
total is the sum of its lines); erasure gets a server of its own so that every response of it can be
searched for the person. Every test uses emails, phones and words of its own, so the sets it asserts
are exact even though earlier tests left customers behind. Time moves with the test clock only.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from cart_api import ADMIN_KEY, Api, assert_problem, complete, ready_cart, unique
from catalogue_api import Api as KeyedApi
from catalogue_api import word
from customer_api import (
    CONSENT_CHANNELS,
    CUSTOMER_FIELDS,
    EVENT_DATA_KEYS,
    NEVER_ASKED,
    address,
    advance,
    assert_subset,
    assert_field_error,
    catalogue_product,
    checkout_details,
    consent_history,
    create_customer,
    crm,  # noqa: F401 - the module's server fixture
    crm_server,
    customer_events,
    customer_ids,
    email_address,
    fill_cart,
    first_form,
    gbp,
    get_customer,
    lookup,
    online_order,
    pages,
    patch_customer,
    phone_number,
    pos_sale,
    set_consent,
    timeline,
    total_of,
    unsubscribe_token,
    when,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ONE_CLICK = "List-Unsubscribe=One-Click"


def assert_address(got: dict, given: dict) -> None:
    assert {k: got.get(k) for k in given} == given, (got, given)


def no_personal_data(event: dict, *needles: str) -> None:
    assert set(event["data"]) <= EVENT_DATA_KEYS, event
    text = json.dumps(event["data"]).lower()
    for needle in needles:
        assert needle.lower() not in text, (needle, event)


# Made, read, changed --------------------------------------------------------------------------------


def test_a_customer_is_made_normalised_read_changed_and_cleared(crm):
    api = crm
    e164, typed = phone_number()
    local = unique("alice").lower()
    home = address("Alice Smith", phone=typed)
    made = create_customer(api, email=f"  {local.upper()}@Example.COM ", phone=typed, first_name="Alice", last_name="Smith",
                           tags=["VIP", "Newsletter"], note="Likes green", locale="en-GB", timezone="Europe/London", addresses=[home])
    assert made["id"].startswith("cus_") and CUSTOMER_FIELDS <= made.keys()
    assert made["email"] == f"{local}@example.com"
    assert made["phone"] == e164
    assert (made["first_name"], made["last_name"], made["note"], made["locale"], made["timezone"]) == (
        "Alice", "Smith", "Likes green", "en-GB", "Europe/London")
    assert made["tags"] == ["VIP", "Newsletter"]  # kept as given
    assert len(made["addresses"]) == 1
    assert_address(made["addresses"][0], {k: v for k, v in home.items() if k != "phone"})
    assert made["has_account"] is False
    assert made["consent"] == {channel: NEVER_ASKED for channel in CONSENT_CHANNELS}
    assert made["stats"] == {"orders_count": 0, "total_spent": gbp(0), "average_order_value": gbp(0), "first_order_at": None,
                             "last_order_at": None, "average_days_between_orders": None}
    assert made["preferences"] == {"categories": [], "attributes": {}, "last_viewed": []}
    assert when(made["created_at"]) <= when(made["updated_at"])
    assert get_customer(api, made["id"]) == made

    changed = patch_customer(api, made["id"], {"first_name": "Alicia", "note": None, "tags": ["vip"], "locale": None})
    assert (changed["first_name"], changed["note"], changed["tags"], changed["locale"]) == ("Alicia", None, ["vip"], None)
    for kept in ("email", "phone", "last_name", "timezone", "addresses", "consent", "stats", "created_at"):
        assert changed[kept] == made[kept], kept
    assert when(changed["updated_at"]) >= when(made["updated_at"])
    assert get_customer(api, made["id"]) == changed

    # The phone can go while the email stays; both cannot.
    assert patch_customer(api, made["id"], {"phone": None})["phone"] is None
    assert_field_error(api.call("PATCH", f"/v1/customers/{made['id']}", {"email": None}), "email")
    assert get_customer(api, made["id"])["email"] == f"{local}@example.com"

    # Events name the customer and the fields, never the person.
    events = customer_events(api, made["id"])
    assert [e["type"] for e in events] == ["customer.created", "customer.updated", "customer.updated"]
    assert all(e["topic"] == "customers" for e in events)
    assert events[0]["data"] == {"customer_id": made["id"], "source": "admin"}
    assert set(events[1]["data"]["fields"]) == {"first_name", "note", "tags", "locale"}
    assert events[2]["data"]["fields"] == ["phone"]
    for event in events:
        no_personal_data(event, local, "Alice", "Smith", e164[1:], "Likes green")


def test_a_till_works_with_customers_but_never_sees_the_staff_note(crm):
    api = crm
    pos = api.api_key("pos", "main")
    secret = word()
    email = email_address("till")
    made = create_customer(api, email=email, first_name="Pat", note=f"owes us {secret}")

    seen = get_customer(api, made["id"], key=pos)
    assert "note" not in seen
    assert seen == {k: v for k, v in made.items() if k != "note"}
    assert secret not in api.call("GET", f"/v1/customers/{made['id']}", key=pos).text
    listed = pages(api, "/v1/customers", key=pos, q=email)
    assert [c["id"] for c in listed] == [made["id"]] and "note" not in listed[0]
    found = lookup(api, key=pos, email=email)
    assert found.status_code == 200 and "note" not in found.json()["customer"] and secret not in found.text

    # A till changes what it may and makes customers of its own (customer.created says so).
    assert api.ok("PATCH", f"/v1/customers/{made['id']}", {"first_name": "Patricia"}, key=pos)["first_name"] == "Patricia"
    assert get_customer(api, made["id"])["note"] == f"owes us {secret}"
    walk_in = create_customer(api, key=pos, phone=phone_number()[1])
    assert customer_events(api, walk_in["id"])[0]["data"] == {"customer_id": walk_in["id"], "source": "pos"}

    # Admin only: erasure, merge, timeline, exports, segments.
    other = create_customer(api, email=email_address())
    for method, path, body in (
        ("DELETE", f"/v1/customers/{made['id']}", None),
        ("POST", f"/v1/customers/{made['id']}/merge", {"from": other["id"]}),
        ("GET", f"/v1/customers/{made['id']}/timeline", None),
        ("GET", f"/v1/customers/{made['id']}/export", None),
        ("GET", "/v1/customers/export", None),
        ("POST", "/v1/segments", {"name": "x", "filter": {"tag": "vip"}}),
    ):
        assert_problem(api.call(method, path, body, key=pos), 403, "forbidden")
    assert get_customer(api, made["id"])["first_name"] == "Patricia"
    assert get_customer(api, other["id"])["id"] == other["id"]

    storefront = api.api_key("storefront")
    assert_problem(api.call("GET", "/v1/customers", key=storefront), 403, "forbidden")
    assert_problem(api.call("GET", f"/v1/customers/{made['id']}", key=None), 401, "unauthorized")
    assert_problem(api.call("POST", "/v1/customers", {"email": email_address()}, key=None), 401, "unauthorized")


# Validation and conflicts ---------------------------------------------------------------------------

BAD_EMAILS = ["not-an-email", "alice@", "@example.com", "alice@@example.com", "alice smith@example.com", "alice@exa mple.com",
              "alice@example..com", "", "ali\u0001ce@example.com", "alice\u007f@example.com", "ali\u0085ce@example.com"]
BAD_PHONES = ["07700 900123", "+44", "+1234567", "+1234567890123456", "+44 7700 9OO123", "+44 7700 900123 ext 5", "++447700900123"]


@pytest.mark.parametrize("bad", BAD_EMAILS)
def test_a_malformed_email_is_refused_naming_the_field(crm, bad):
    api = crm
    marker = word()
    assert_field_error(api.call("POST", "/v1/customers", {"email": bad, "first_name": marker}), "email")
    assert customer_ids(api, q=marker) == []
    known = create_customer(api, email=email_address(), last_name=marker)
    assert_field_error(api.call("PATCH", f"/v1/customers/{known['id']}", {"email": bad}), "email")
    assert get_customer(api, known["id"]) == known
    cart = api.new_cart()
    assert_field_error(api.public("PATCH", f"/v1/carts/{cart['id']}", {"email": bad}), "email")
    assert api.cart(cart["id"]).get("email") is None


@pytest.mark.parametrize("bad", BAD_PHONES)
def test_a_malformed_phone_is_refused_naming_the_field(crm, bad):
    api = crm
    marker = word()
    assert_field_error(api.call("POST", "/v1/customers", {"phone": bad, "first_name": marker}), "phone")
    assert_field_error(api.call("POST", "/v1/customers", {"email": email_address(), "phone": bad, "first_name": marker}), "phone")
    assert customer_ids(api, q=marker) == []
    known = create_customer(api, email=email_address(), last_name=marker)
    assert_field_error(api.call("PATCH", f"/v1/customers/{known['id']}", {"phone": bad}), "phone")
    assert get_customer(api, known["id"]) == known
    cart = api.new_cart()
    assert_field_error(api.public("PATCH", f"/v1/carts/{cart['id']}", {"phone": bad}), "phone")
    assert api.cart(cart["id"]).get("phone") is None


def test_a_customer_needs_an_email_or_a_phone_and_stays_within_limits(crm):
    api = crm
    marker = word()
    for body in ({}, {"first_name": marker}, {"first_name": marker, "email": None, "phone": None}):
        assert_field_error(api.call("POST", "/v1/customers", body), "email")
    assert customer_ids(api, q=marker) == []

    def refused(body: dict, prefix: str) -> None:
        problem = assert_problem(api.call("POST", "/v1/customers", {"email": email_address(), "last_name": marker, **body}), 422,
                                 "invalid_request")
        assert any(e["field"].startswith(prefix) for e in problem["errors"]), problem

    refused({"tags": [f"t{i}" for i in range(51)]}, "tags")
    refused({"tags": ["x" * 65]}, "tags")
    refused({"tags": [""]}, "tags")
    refused({"addresses": [address(line1=f"{i} High St") for i in range(11)]}, "addresses")
    assert customer_ids(api, q=marker) == []
    # The limits themselves are fine.
    most = create_customer(api, email=email_address(), tags=[f"t{i}" for i in range(49)] + ["x" * 64],
                           addresses=[address(line1=f"{i} High St") for i in range(10)])
    assert len(most["tags"]) == 50 and len(most["addresses"]) == 10


def test_the_same_email_or_phone_twice_is_a_conflict_naming_the_customer(crm):
    api = crm
    email = email_address()
    e164, typed = phone_number()
    first = create_customer(api, email=email, phone=e164)
    fresh = email_address()
    for body in ({"email": email.upper()}, {"email": f"  {email} "}, {"phone": typed}, {"email": fresh, "phone": e164}):
        problem = assert_problem(api.call("POST", "/v1/customers", body), 409, "conflict")
        assert problem["customer_id"] == first["id"], problem
    assert lookup(api, email=fresh).status_code == 404  # the refused one was not made
    assert lookup(api, email=email.upper()).json()["customer"]["id"] == first["id"]

    other = create_customer(api, email=email_address())
    for body in ({"email": email.upper()}, {"phone": typed}):
        problem = assert_problem(api.call("PATCH", f"/v1/customers/{other['id']}", body), 409, "conflict")
        assert problem["customer_id"] == first["id"], problem
    assert get_customer(api, other["id"]) == other
    # Changing to one's own email is no conflict.
    assert patch_customer(api, first["id"], {"email": email.upper()})["email"] == email


def test_unknown_customers_are_404(crm):
    api = crm
    known = create_customer(api, email=email_address())
    for method, path, body in (
        ("GET", "/v1/customers/cus_nope", None),
        ("PATCH", "/v1/customers/cus_nope", {"first_name": "X"}),
        ("DELETE", "/v1/customers/cus_nope", None),
        ("GET", "/v1/customers/cus_nope/timeline", None),
        ("GET", "/v1/customers/cus_nope/export", None),
        ("PUT", "/v1/customers/cus_nope/consent/email", {"state": "subscribed"}),
        ("GET", "/v1/customers/cus_nope/consent/history", None),
        ("POST", "/v1/customers/cus_nope/merge", {"from": known["id"]}),
    ):
        assert_problem(api.call(method, path, body), 404, "not_found")
    assert get_customer(api, known["id"]) == known
    assert_problem(api.call("GET", "/v1/customers?segment=seg_nope"), 404, "not_found")


# Search ---------------------------------------------------------------------------------------------


def test_search_matches_word_prefixes_of_name_email_phone_tags_and_note_all_words_needed(crm):
    api = crm
    s = word()
    e164, typed = phone_number()
    c1 = create_customer(api, email=email_address(), first_name=f"{s}alpha", last_name="Lovelace", note="prefers morning calls")
    c2 = create_customer(api, phone=typed, first_name=f"{s}beta", last_name="Byron", tags=[f"{s}tag", "gold"])
    c3 = create_customer(api, email=f"{s}gamma@example.org", first_name="Charles", last_name="Babbage", note=f"met at the {s}fair")
    create_customer(api, email=email_address(), first_name="Other", last_name="Person")

    def found(q: str) -> set[str]:
        return set(customer_ids(api, q=q))

    assert found(s) == {c1["id"], c2["id"], c3["id"]}
    assert found(s.upper()) == {c1["id"], c2["id"], c3["id"]}  # case does not matter
    assert found(f"{s}al") == {c1["id"]}  # first name
    assert found(f"{s}alpha lov") == {c1["id"]}  # both words match the same customer
    assert found(f"lov {s}alpha") == {c1["id"]}
    assert found(f"{s}alpha byron") == set()  # each word matches someone, not the same one
    assert found(f"{s} byr") == {c2["id"]}
    assert found(f"{s}ta") == {c2["id"]}  # a tag
    assert found(f"{s} gold") == {c2["id"]}
    assert found(f"{s}fa") == {c3["id"]}  # the note
    assert found(f"{s}gam") == {c3["id"]}  # the email
    assert found(f"{s}gamma@example.org") == {c3["id"]}  # a whole address
    assert found(f"{s}GAMMA@exa") == {c3["id"]}  # the start of one
    assert found(f" {s}gamma@example.org ") == {c3["id"]}
    assert found(f"{s}gamma@example.com") == set()
    assert found(f"{s} morn") == {c1["id"]}
    assert found(f"{s} {e164[:11]}") == {c2["id"]}  # a prefix of the phone's digits, with the +
    assert found(f"{s} {e164[1:12]}") == {c2["id"]}  # and without
    assert c2["id"] in found(e164)
    assert found(s[2:]) == set()  # the middle of a word is no prefix
    assert found(f"{s} nobodyhere") == set()
    # Page by page, each once.
    assert set(customer_ids(api, q=s, limit=1)) == {c1["id"], c2["id"], c3["id"]}


# Orders make customers ------------------------------------------------------------------------------


def test_an_online_guest_order_and_a_later_till_sale_make_one_customer_with_stats_to_the_penny(crm):
    api = crm
    pos = api.api_key("pos", "main")
    shoes, hats = unique("shoes").lower(), unique("hats").lower()
    m, l, hat = unique("SHOE-M"), unique("SHOE-L"), unique("HAT")
    shoe = catalogue_product(api, shoes, {m: (4999, {"size": "M", "colour": "red"}), l: (5499, {"size": "L", "colour": "red"})})
    catalogue_product(api, hats, {hat: (1999, {"colour": "blue"})})
    local = unique("ada").lower()
    email = f"{local}@example.com"

    online = online_order(api, {m: 2, hat: 1}, email=f"{local.upper()}@Example.com")
    assert total_of(online) == 2 * 4999 + 1999 == 11997
    customer_id = online["customer_id"]
    assert customer_id and customer_id.startswith("cus_")
    advance(api, "3d")
    till = pos_sale(api, pos, {l: 1}, email=email)
    assert total_of(till) == 5499
    assert till["customer_id"] == customer_id and till["channel"] == "pos"

    found = lookup(api, email=email.upper())
    assert found.status_code == 200, found.text
    customer = found.json()["customer"]
    assert customer["id"] == customer_id and customer["email"] == email
    assert get_customer(api, customer_id) == customer
    stats = customer["stats"]
    assert stats["orders_count"] == 2
    assert stats["total_spent"] == gbp(11997 + 5499) == gbp(17496)
    assert stats["average_order_value"] == gbp(17496 // 2)
    assert when(stats["first_order_at"]) == when(online["created_at"])
    assert when(stats["last_order_at"]) == when(till["created_at"])
    assert stats["average_days_between_orders"] == pytest.approx(3.0, abs=0.01)
    # Units bought: shoes 3 (2 M, 1 L), hats 1; size M 2, L 1; colour red 3, blue 1.
    assert customer["preferences"]["categories"] == [shoes, hats]
    assert customer["preferences"]["attributes"] == {"size": ["M", "L"], "colour": ["red", "blue"]}
    assert customer["preferences"]["last_viewed"] == []

    # One customer, made once, by the order.
    created = [e for e in customer_events(api, customer_id) if e["type"] == "customer.created"]
    assert [e["data"] for e in created] == [{"customer_id": customer_id, "source": "order"}]
    assert [o["customer_id"] for o in (api.ok("GET", f"/v1/orders/{online['id']}"), api.ok("GET", f"/v1/orders/{till['id']}"))] == [
        customer_id, customer_id]
    assert [o["id"] for o in found.json()["recent_orders"]] == [till["id"], online["id"]]
    assert shoe["id"] and customer_ids(api, q=local) == [customer_id]


def test_preferences_keep_names_with_quotes_dots_and_spaces(crm):
    api = crm
    odd, plain = f'{unique("cat").lower()} "best" v1.2', unique("plain").lower()
    quoted, sized = unique("SKU"), unique("SKU")
    catalogue_product(api, odd, {quoted: (500, {"fit": 'slim "x"', "size.eu": "42"})})
    catalogue_product(api, plain, {sized: (700, {"size.eu": "44"})})
    email = email_address()
    first = online_order(api, {quoted: 1, sized: 1}, email=email)
    online_order(api, {quoted: 2}, email=email)
    customer = get_customer(api, first["customer_id"])
    # Units: odd 3, plain 1; fit 'slim "x"' 3; size.eu 42 3, 44 1.
    assert customer["preferences"]["categories"] == [odd, plain]
    assert customer["preferences"]["attributes"] == {"fit": ['slim "x"'], "size.eu": ["42", "44"]}
    assert customer["stats"]["orders_count"] == 2 and customer["stats"]["total_spent"] == gbp(500 + 700 + 1000)


def test_cancelled_and_refunded_orders_leave_total_spent_and_purchases_but_still_count(crm):
    api = crm
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (1000, {})})
    email = email_address()
    orders = [online_order(api, {sku: n}, email=email) for n in (1, 2, 4)]
    assert [total_of(o) for o in orders] == [1000, 2000, 4000]
    customer_id = orders[0]["customer_id"]
    assert {o["customer_id"] for o in orders} == {customer_id}
    assert get_customer(api, customer_id)["stats"]["total_spent"] == gbp(7000)

    api.ok("POST", f"/v1/orders/{orders[0]['id']}/transitions", {"to": "cancelled"})
    api.ok("POST", f"/v1/orders/{orders[1]['id']}/transitions", {"to": "refunded"})
    stats = get_customer(api, customer_id)["stats"]
    assert stats["orders_count"] == 3
    assert stats["total_spent"] == gbp(4000)
    assert stats["average_order_value"] == gbp(4000 // 3) == gbp(1333)

    # Their lines are no purchase (segments, replenishment intervals): a SKU bought only in a cancelled order is not "bought".
    other = unique("SKU")
    catalogue_product(api, None, {other: (500, {})})
    gone = online_order(api, {other: 1}, email=email)
    segment = api.ok("POST", "/v1/segments", {"name": unique("seg"), "filter": {"bought": {"sku": other}}}, status=201)
    assert api.ok("GET", f"/v1/segments/{segment['id']}")["count"] == 1
    api.ok("POST", f"/v1/orders/{gone['id']}/transitions", {"to": "cancelled"})
    assert api.ok("GET", f"/v1/segments/{segment['id']}")["count"] == 0


def test_orders_link_to_the_cart_customer_else_the_email_else_the_phone(crm):
    api = crm
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (1500, {})})

    # A guest order with a known email (typed differently) attaches to that customer.
    email = email_address()
    known = create_customer(api, email=email, first_name="Known")
    by_email = online_order(api, {sku: 1}, email=email.upper())
    assert by_email["customer_id"] == known["id"]

    # No email match: the shipping address phone, in E.164, finds the customer.
    e164, typed = phone_number()
    by_phone_customer = create_customer(api, phone=e164)
    by_phone = online_order(api, {sku: 1}, email=email_address(), address_phone=typed)
    assert by_phone["customer_id"] == by_phone_customer["id"]

    # The cart's customer wins over another customer's email.
    chosen = create_customer(api, email=email_address())
    cart = api.new_cart(customer_id=chosen["id"])
    assert cart["customer_id"] == chosen["id"]
    fill_cart(api, cart, {sku: 2})
    checkout_details(api, cart["id"], {"email": email, "shipping_address": address()})
    by_cart = complete(api, cart)
    assert by_cart["customer_id"] == chosen["id"]

    assert get_customer(api, known["id"])["stats"]["total_spent"] == gbp(1500)
    assert get_customer(api, by_phone_customer["id"])["stats"]["orders_count"] == 1
    assert get_customer(api, chosen["id"])["stats"]["total_spent"] == gbp(3000)
    for customer in (known, by_phone_customer, chosen):
        assert [e["data"]["source"] for e in customer_events(api, customer["id"]) if e["type"] == "customer.created"] == ["admin"]

    # A brand-new email makes a brand-new customer, from the order.
    fresh = email_address()
    made = complete(api, ready_cart(api, "LINK", email=fresh))
    assert made["customer_id"] not in {known["id"], by_phone_customer["id"], chosen["id"]}
    assert get_customer(api, made["customer_id"])["email"] == fresh
    assert [e["data"]["source"] for e in customer_events(api, made["customer_id"]) if e["type"] == "customer.created"] == ["order"]


def test_a_cart_customer_must_exist(crm):
    api = crm
    assert_field_error(api.public("POST", "/v1/carts", {"channel": "online", "customer_id": "cus_nope"}), "customer_id")
    cart = api.new_cart()
    assert_field_error(api.public("PATCH", f"/v1/carts/{cart['id']}", {"customer_id": "cus_nope"}), "customer_id")
    assert api.cart(cart["id"]).get("customer_id") is None
    real = create_customer(api, email=email_address())
    assert checkout_details(api, cart["id"], {"customer_id": real["id"]})["customer_id"] == real["id"]
    assert_field_error(api.public("PATCH", f"/v1/carts/{cart['id']}", {"customer_id": "cus_nope"}), "customer_id")
    assert api.cart(cart["id"])["customer_id"] == real["id"]
    # A cart's phone is kept in E.164.
    e164, typed = phone_number()
    assert checkout_details(api, cart["id"], {"phone": typed})["phone"] == e164


# Merge ----------------------------------------------------------------------------------------------


def test_a_phone_only_till_customer_is_found_by_email_after_a_merge(crm):
    api = crm
    pos = api.api_key("pos", "main")
    sku = unique("SKU")
    catalogue_product(api, unique("cat").lower(), {sku: (2500, {})})
    e164, typed = phone_number()

    till = pos_sale(api, pos, {sku: 2}, phone=typed)
    assert till["phone"] == e164 and till.get("email") is None
    walk_in = get_customer(api, till["customer_id"])
    assert (walk_in["phone"], walk_in["email"], walk_in["stats"]["orders_count"]) == (e164, None, 1)
    assert [e["data"]["source"] for e in customer_events(api, walk_in["id"]) if e["type"] == "customer.created"] == ["order"]
    by_phone = lookup(api, key=pos, phone=typed)
    assert by_phone.status_code == 200 and by_phone.json()["customer"]["id"] == walk_in["id"]
    assert [o["id"] for o in by_phone.json()["recent_orders"]] == [till["id"]]
    set_consent(api, walk_in["id"], "sms", "subscribed", source="pos")

    advance(api, "2d")
    email = email_address()
    assert lookup(api, email=email).status_code == 404
    online = online_order(api, {sku: 1}, email=email)  # no phone given online
    shopper_id = online["customer_id"]
    assert shopper_id != walk_in["id"]
    open_cart = api.new_cart(customer_id=walk_in["id"])
    fill_cart(api, open_cart, {sku: 1})

    merged = api.ok("POST", f"/v1/customers/{shopper_id}/merge", {"from": walk_in["id"]})
    assert merged["id"] == shopper_id and merged["email"] == email and merged["phone"] == e164
    assert merged["stats"]["orders_count"] == 2
    assert merged["stats"]["total_spent"] == gbp(5000 + 2500)
    assert merged["stats"]["average_order_value"] == gbp(3750)
    assert when(merged["stats"]["first_order_at"]) == when(till["created_at"])
    assert when(merged["stats"]["last_order_at"]) == when(online["created_at"])
    assert merged["stats"]["average_days_between_orders"] == pytest.approx(2.0, abs=0.01)
    assert merged["consent"]["sms"]["state"] == "subscribed"
    assert get_customer(api, shopper_id) == merged
    assert_problem(api.call("GET", f"/v1/customers/{walk_in['id']}"), 404, "not_found")

    # Found by email (and still by phone) with both orders; the orders and the open cart moved.
    for params in ({"email": email}, {"phone": e164}):
        found = lookup(api, key=pos, **params)
        assert found.status_code == 200, found.text
        assert found.json()["customer"]["id"] == shopper_id
        assert [o["id"] for o in found.json()["recent_orders"]] == [online["id"], till["id"]]
        assert [c["id"] for c in found.json()["open_carts"]] == [open_cart["id"]]
    assert api.ok("GET", f"/v1/orders/{till['id']}")["customer_id"] == shopper_id
    assert api.cart(open_cart["id"])["customer_id"] == shopper_id
    assert [e["data"] for e in customer_events(api, shopper_id) if e["type"] == "customer.merged"] == [
        {"customer_id": shopper_id, "from": walk_in["id"]}]

    # A later till sale by that phone lands on the kept customer.
    again = pos_sale(api, pos, {sku: 1}, phone=e164)
    assert again["customer_id"] == shopper_id
    assert get_customer(api, shopper_id)["stats"]["orders_count"] == 3


def test_merge_refuses_itself_and_unknown_customers(crm):
    api = crm
    kept = create_customer(api, email=email_address())
    gone = create_customer(api, email=email_address())
    assert_field_error(api.call("POST", f"/v1/customers/{kept['id']}/merge", {"from": kept["id"]}), "from")
    assert_field_error(api.call("POST", f"/v1/customers/{kept['id']}/merge", {"from": "cus_nope"}), "from")
    assert_field_error(api.call("POST", f"/v1/customers/{kept['id']}/merge", {}), "from")
    assert_problem(api.call("POST", "/v1/customers/cus_nope/merge", {"from": gone["id"]}), 404, "not_found")
    assert get_customer(api, kept["id"]) == kept and get_customer(api, gone["id"]) == gone
    api.ok("POST", f"/v1/customers/{kept['id']}/merge", {"from": gone["id"]})
    assert_field_error(api.call("POST", f"/v1/customers/{kept['id']}/merge", {"from": gone["id"]}), "from")  # gone now


# Timeline, export, lookup ---------------------------------------------------------------------------


def test_the_timeline_lists_consent_orders_messages_and_carts_newest_first(crm):
    api = crm
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (1200, {})})
    email = email_address()
    customer = create_customer(api, email=email)
    set_consent(api, customer["id"], "email", "subscribed", source="admin")
    advance(api, "1m")

    paid_cart = api.new_cart(customer_id=customer["id"])
    fill_cart(api, paid_cart, {sku: 1})
    checkout_details(api, paid_cart["id"], {"email": email, "shipping_address": address()})
    order = complete(api, paid_cart)
    assert order["customer_id"] == customer["id"]
    advance(api, "1m")
    open_cart = api.new_cart(customer_id=customer["id"])
    fill_cart(api, open_cart, {sku: 1})

    items = timeline(api, customer["id"])
    times = [when(item["at"]) for item in items]
    assert times == sorted(times, reverse=True), "newest first"
    assert_subset(items[0], {"type": "cart", "cart_id": open_cart["id"], "status": "active", "channel": "online"})
    assert_subset(items[-1], {"type": "consent", "channel": "email", "state": "subscribed", "source": "admin"})

    orders = [i for i in items if i["type"] == "order"]
    assert len(orders) == 1
    assert_subset(orders[0], {"type": "order", "order_id": order["id"], "number": order["number"], "channel": "online", "status": "paid",
                              "total": gbp(1200)})
    carts = {i["cart_id"]: i for i in items if i["type"] == "cart"}
    assert carts[paid_cart["id"]]["status"] == "completed"
    sent = pages(api, "/v1/messages", customer=customer["id"])
    assert [m["template"] for m in sent] == ["order_confirmation"]
    messages = [i for i in items if i["type"] == "message"]
    assert [(m["message_id"], m["channel"], m["template"], m["status"]) for m in messages] == [
        (sent[0]["id"], "email", "order_confirmation", sent[0]["status"])]
    assert {i["type"] for i in items} == {"consent", "cart", "order", "message"}
    assert when(items[-1]["at"]) < when(orders[0]["at"]) < when(items[0]["at"])

    # One at a time, the same entries in the same order.
    assert timeline(api, customer["id"], limit=1) == items


def test_the_customer_export_holds_everything_kept_about_them(crm):
    api = crm
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (800, {})})
    email = email_address()
    first = online_order(api, {sku: 1}, email=email)
    second = online_order(api, {sku: 3}, email=email)
    customer_id = first["customer_id"]
    set_consent(api, customer_id, "email", "subscribed", source="checkout")
    set_consent(api, customer_id, "email", "unsubscribed", source="admin")
    open_cart = api.new_cart(customer_id=customer_id)

    export = api.ok("GET", f"/v1/customers/{customer_id}/export")
    assert set(export) >= {"customer", "orders", "carts", "messages", "consent_history", "timeline"}
    assert export["customer"] == get_customer(api, customer_id)
    assert {o["id"] for o in export["orders"]} == {first["id"], second["id"]}
    assert {o["id"]: total_of(o) for o in export["orders"]} == {first["id"]: 800, second["id"]: 2400}
    assert open_cart["id"] in {c["id"] for c in export["carts"]}
    assert sorted(m["template"] for m in export["messages"]) == ["order_confirmation", "order_confirmation"]
    assert all(m["to"] == email for m in export["messages"])
    assert [(h["channel"], h["state"], h["source"]) for h in export["consent_history"]] == [
        ("email", "unsubscribed", "admin"), ("email", "subscribed", "checkout")]
    assert export["timeline"] == timeline(api, customer_id)


def test_lookup_finds_the_customer_with_recent_orders_and_open_carts(crm):
    api = crm
    pos = api.api_key("pos", "main")
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (300, {})})
    email = email_address()
    e164, typed = phone_number()
    sales = [pos_sale(api, pos, {sku: 1 + i % 2}, email=email, phone=typed) for i in range(11)]
    customer_id = sales[0]["customer_id"]
    assert {s["customer_id"] for s in sales} == {customer_id}
    open_cart = api.new_cart("pos", key=pos, customer_id=customer_id)

    for params in ({"email": email}, {"email": email.upper()}, {"phone": e164}, {"phone": typed}):
        response = lookup(api, key=pos, **params)
        assert response.status_code == 200, (params, response.text)
        body = response.json()
        assert body["customer"]["id"] == customer_id and "note" not in body["customer"]
        recent = body["recent_orders"]
        assert [o["id"] for o in recent] == [s["id"] for s in reversed(sales)][:10]
        newest = sales[-1]
        assert {k: recent[0][k] for k in ("id", "number", "channel", "status", "total")} == {
            "id": newest["id"], "number": newest["number"], "channel": "pos", "status": newest["status"], "total": newest["totals"]["total"]}
        assert when(recent[0]["created_at"]) == when(newest["created_at"])
        assert [(line["sku"], line["quantity"]) for line in recent[0]["lines"]] == [(sku, 1)]
        assert all(isinstance(line["title"], str) and line["title"] for line in recent[0]["lines"])
        assert body["recently_viewed"] == []
        assert [c["id"] for c in body["open_carts"]] == [open_cart["id"]]

    assert_problem(lookup(api, key=pos, email=email_address()), 404, "not_found")
    assert_problem(lookup(api, key=pos, phone=phone_number()[0]), 404, "not_found")
    assert_problem(lookup(api, key=pos), 422, "invalid_request")
    assert_field_error(lookup(api, key=pos, **{"pass": "pas_forged.nope"}), "pass")
    assert_problem(lookup(api, key=api.api_key("storefront"), email=email), 403, "forbidden")
    assert_problem(lookup(api, key=None, email=email), 401, "unauthorized")


# Consent ----------------------------------------------------------------------------------------------


def test_consent_per_channel_and_its_ledger(crm):
    api = crm
    customer = create_customer(api, email=email_address(), phone=phone_number()[0])
    cid = customer["id"]
    subscribed = set_consent(api, cid, "email", "subscribed", source="checkout")
    assert {k: subscribed[k] for k in ("channel", "state", "level", "source")} == {
        "channel": "email", "state": "subscribed", "level": "single_opt_in", "source": "checkout"}
    assert when(subscribed["updated_at"])
    confirmed = set_consent(api, cid, "sms", "subscribed", source="pos", level="confirmed_opt_in")
    assert (confirmed["channel"], confirmed["level"]) == ("sms", "confirmed_opt_in")
    advance(api, "1m")
    withdrawn = set_consent(api, cid, "email", "unsubscribed", source="admin")
    assert (withdrawn["state"], withdrawn["level"], withdrawn["source"]) == ("unsubscribed", None, "admin")

    consent = get_customer(api, cid)["consent"]
    assert {k: consent["email"][k] for k in ("state", "level", "source")} == {"state": "unsubscribed", "level": None, "source": "admin"}
    assert when(consent["email"]["updated_at"]) == when(withdrawn["updated_at"])
    assert {k: consent["sms"][k] for k in ("state", "level", "source")} == {"state": "subscribed", "level": "confirmed_opt_in", "source": "pos"}
    assert consent["push"] == NEVER_ASKED

    history = consent_history(api, cid)
    assert [(h["channel"], h["state"], h["level"], h["source"]) for h in history] == [
        ("email", "unsubscribed", None, "admin"), ("sms", "subscribed", "confirmed_opt_in", "pos"),
        ("email", "subscribed", "single_opt_in", "checkout")]
    assert when(history[0]["at"]) >= when(history[1]["at"]) + timedelta(seconds=59)
    assert consent_history(api, cid, limit=1) == history

    # Refused changes leave the ledger alone.
    assert_field_error(api.call("PUT", f"/v1/customers/{cid}/consent/fax", {"state": "subscribed"}), "channel")
    assert_field_error(api.call("PUT", f"/v1/customers/{cid}/consent/email", {"state": "maybe"}), "state")
    assert_field_error(api.call("PUT", f"/v1/customers/{cid}/consent/email", {}), "state")
    assert consent_history(api, cid) == history
    assert get_customer(api, cid)["consent"] == consent

    events = [e for e in customer_events(api, cid) if e["type"] == "consent.changed"]
    assert [e["data"] for e in events] == [
        {"customer_id": cid, "channel": "email", "state": "subscribed", "source": "checkout"},
        {"customer_id": cid, "channel": "sms", "state": "subscribed", "source": "pos"},
        {"customer_id": cid, "channel": "email", "state": "unsubscribed", "source": "admin"}]


def test_unsubscribe_by_link_and_by_one_click_post_is_idempotent_and_in_the_ledger(crm):
    api = crm
    by_link = create_customer(api, email=email_address("link"))
    by_click = create_customer(api, email=email_address("click"))
    bystander = create_customer(api, email=email_address("other"))
    for customer in (by_link, by_click, bystander):
        set_consent(api, customer["id"], "email", "subscribed", source="checkout")

    def state(customer: dict) -> dict:
        return get_customer(api, customer["id"])["consent"]["email"]

    def suppressed() -> set[str]:
        return {s["address"] for s in api.ok("GET", "/v1/suppressions")["items"]}

    # The link: a GET (a mail scanner following it) shows a form and changes nothing.
    token = unsubscribe_token(api.server, by_link["email"])
    for _ in range(2):
        page = api.public("GET", f"/v1/unsubscribe/{token}")
        assert page.status_code == 200, page.text
        assert page.headers["Content-Type"].split(";")[0].strip() == "text/html"
        form = first_form(page.text)
        assert form["method"] == "post"
    assert state(by_link)["state"] == "subscribed" and len(consent_history(api, by_link["id"])) == 1
    assert by_link["email"] not in suppressed()

    # The shopper presses the button: the browser posts the form where it points.
    target = urlsplit(form["action"]).path if form["action"] else f"/v1/unsubscribe/{token}"
    for _ in range(2):
        posted = api.session.post(api.server.url(target), data=form["inputs"], headers=FORM, timeout=10)
        assert posted.status_code == 200, posted.text
        now = state(by_link)
        assert (now["state"], now["level"], now["source"]) == ("unsubscribed", None, "unsubscribe_link")
    history = consent_history(api, by_link["id"])
    assert [(h["state"], h["source"]) for h in history] == [("unsubscribed", "unsubscribe_link"), ("subscribed", "checkout")]
    assert by_link["email"] in suppressed()

    # RFC 8058: the mail client's POST, twice.
    token = unsubscribe_token(api.server, by_click["email"])
    for _ in range(2):
        clicked = api.public("POST", f"/v1/unsubscribe/{token}", data=ONE_CLICK, headers=FORM)
        assert clicked.status_code == 200, clicked.text
        assert clicked.json() == {"address": by_click["email"], "channel": "email", "unsubscribed": True}
    assert [(h["channel"], h["state"], h["source"]) for h in consent_history(api, by_click["id"])] == [
        ("email", "unsubscribed", "unsubscribe_link"), ("email", "subscribed", "checkout")]
    changes = [e["data"] for e in customer_events(api, by_click["id"]) if e["type"] == "consent.changed"]
    assert changes[-1] == {"customer_id": by_click["id"], "channel": "email", "state": "unsubscribed", "source": "unsubscribe_link"}
    assert len(changes) == 2

    # A forged or mangled token does nothing.
    forged = unsubscribe_token(api.server, bystander["email"])[:-2] + "AA"
    for bad in (forged, token + "x", "nonsense"):
        assert_problem(api.public("POST", f"/v1/unsubscribe/{bad}", data=ONE_CLICK, headers=FORM), 404, "not_found")
    assert state(bystander)["state"] == "subscribed" and bystander["email"] not in suppressed()


# Erasure --------------------------------------------------------------------------------------------


def test_erasure_keeps_the_books_and_forgets_the_person(launch):
    api = Api(crm_server(launch))
    pos = api.api_key("pos", "main")
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (1999, {})})
    email = email_address("erase")
    e164, typed = phone_number()
    first, last, note, street = word().capitalize(), word().capitalize(), word(), word().capitalize()
    customer = create_customer(api, email=email, phone=e164, first_name=first, last_name=last, note=f"remember {note}",
                               addresses=[address(f"{first} {last}", phone=typed, line1=f"7 {street} Road")])
    cid = customer["id"]
    set_consent(api, cid, "email", "subscribed", source="checkout")
    paid_cart = api.new_cart()
    fill_cart(api, paid_cart, {sku: 2})
    checkout_details(api, paid_cart["id"], {"email": email, "shipping_address": address(f"{first} {last}", phone=typed, line1=f"7 {street} Road")})
    online = complete(api, paid_cart)
    till = pos_sale(api, pos, {sku: 1}, email=email, phone=typed)
    assert online["customer_id"] == cid and till["customer_id"] == cid
    open_cart = api.new_cart(customer_id=cid)
    fill_cart(api, open_cart, {sku: 1})
    checkout_details(api, open_cart["id"], {"email": email, "phone": typed,
                                            "shipping_address": address(f"{first} {last}", phone=typed, line1=f"7 {street} Road")})
    someone_else = online_order(api, {sku: 1}, email=email_address())

    def books() -> tuple[int, int, dict]:
        orders = pages(api, "/v1/orders")
        return len(orders), sum(total_of(o) for o in orders), {o["id"]: o["totals"] for o in orders}

    before = books()
    assert before[0] == 3 and before[1] == 2 * 1999 + 1999 + 1999
    assert email in api.call("GET", f"/v1/orders/{online['id']}").text  # there to be erased

    response = api.call("DELETE", f"/v1/customers/{cid}")
    assert response.status_code == 204 and not response.content
    erased = get_customer(api, cid)
    assert erased["erased"] is True
    assert (erased["email"], erased["phone"], erased["first_name"], erased["last_name"], erased.get("note"), erased["addresses"]) == (
        None, None, None, None, None, [])

    # The books balance: every order and total as it was.
    assert books() == before
    for order in (online, till):
        kept = api.ok("GET", f"/v1/orders/{order['id']}")
        assert kept["totals"] == order["totals"] and kept["number"] == order["number"] and kept["status"] == order["status"]
        assert kept.get("email") is None and kept.get("phone") is None
        assert kept.get("shipping_address") is None and kept.get("billing_address") is None
    assert api.ok("GET", f"/v1/orders/{someone_else['id']}")["email"] == someone_else["email"]  # others untouched

    # The person is in no answer.
    personal = [email, e164, e164[1:], last, note, street]
    answers = {
        "customer": api.call("GET", f"/v1/customers/{cid}"),
        "online order": api.call("GET", f"/v1/orders/{online['id']}"),
        "till order": api.call("GET", f"/v1/orders/{till['id']}"),
        "orders": api.call("GET", "/v1/orders?limit=200"),
        "orders by email": api.call("GET", "/v1/orders", params={"email": email}),
        "open cart": api.public("GET", f"/v1/carts/{open_cart['id']}"),
        "paid cart": api.public("GET", f"/v1/carts/{paid_cart['id']}"),
        "active carts": api.call("GET", "/v1/carts?status=active&limit=200"),
        "customers": api.call("GET", "/v1/customers?limit=200"),
        "timeline": api.call("GET", f"/v1/customers/{cid}/timeline"),
        "export": api.call("GET", f"/v1/customers/{cid}/export"),
        "consent history": api.call("GET", f"/v1/customers/{cid}/consent/history"),
        "tracking": api.public("GET", f"/v1/track/{online['tracking_token']}"),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, (name, answer.status_code, answer.text)
        for needle in personal:
            assert needle.lower() not in answer.text.lower(), f"{needle!r} still in {name}: {answer.text[:800]}"
    assert pages(api, "/v1/orders", email=email) == []
    messages = pages(api, "/v1/messages")
    assert len(messages) >= 2  # the two order confirmations are still accounted for
    assert email not in json.dumps(messages).lower()
    assert email not in json.dumps(pages(api, "/v1/messages", customer=cid)).lower()
    events = KeyedApi(api.server, ADMIN_KEY).events(0)
    assert events and email not in json.dumps(events).lower()
    assert [e["data"] for e in events if e["type"] == "customer.erased"] == [{"customer_id": cid}]
    assert_problem(lookup(api, email=email), 404, "not_found")
    assert_problem(lookup(api, phone=e164), 404, "not_found")
    assert customer_ids(api, q=last) == []
