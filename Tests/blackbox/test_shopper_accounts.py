"""Shopper accounts (issue 24; API.md, Shopper accounts): sign-in by a 6-digit code mailed through a real
SMTP server (`Tests/support/smtp_sink.py`, as in test_messages.py), sessions and signing out, the limits
on codes, the `me` routes reaching only the signed-in shopper's own data, carts made with a customer
token, the till pass, and merges and erasure of customers who signed in.

Each test runs a server of its own with the sink (`test_messages.mail_server`: test clock on, STARTTLS
and AUTH), so the hourly code limit and the clock are the test's alone. Codes are read from delivered
mail, matched to the outbox's `sign_in_code` messages by Message-ID.
"""

from __future__ import annotations

import json
from datetime import timedelta

from cart_api import assert_problem, unique
from customer_api import (
    address,
    advance,
    assert_field_error,
    catalogue_product,
    checkout_details,
    clock_now,
    consent_history,
    create_customer,
    customer_events,
    fill_cart,
    get_customer,
    lookup,
    new_code,
    online_order,
    other_code,
    pages,
    patch_customer,
    phone_number,
    request_code,
    set_consent,
    sign_in,
    sign_in_mails,
    start_session,
    when,
)
from test_messages import mail_server, sink_factory  # noqa: F401 - sink_factory is a fixture used by name


def fresh_email(prefix: str = "shopper") -> str:
    return f"{unique(prefix).lower()}@example.com"


def me(api, token: str):
    return api.call("GET", "/v1/me", key=token)


def test_a_shopper_signs_in_with_an_emailed_code_and_signs_out(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    local = unique("shopper").lower()
    email = f"{local}@example.com"

    code = new_code(api, sink, f"  {local.upper()}@Example.com ")
    mail = sign_in_mails(api, sink, email)[0]
    assert mail["To"] == email
    assert mail["List-Unsubscribe"] is None  # an account message, not marketing
    outbox = [m for m in pages(api, "/v1/messages", channel="email") if m["template"] == "sign_in_code"]
    assert [m["to"] for m in outbox] == [email]

    response = start_session(api, email.upper(), code)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["token"].startswith("cst_")
    assert when(session["expires_at"]) > clock_now(api) + timedelta(hours=1)
    customer = session["customer"]
    assert customer["id"].startswith("cus_") and customer["email"] == email and customer["has_account"] is True
    assert "note" not in customer
    token = session["token"]

    mine = me(api, token)
    assert mine.status_code == 200, mine.text
    assert {k: mine.json()[k] for k in ("id", "email", "has_account")} == {"id": customer["id"], "email": email, "has_account": True}
    assert "note" not in mine.json()
    assert [e["data"] for e in customer_events(api, customer["id"]) if e["type"] == "customer.created"] == [
        {"customer_id": customer["id"], "source": "sign_in"}]

    # Account messages need no consent: a shopper who opted out of marketing still gets a code.
    assert api.ok("PUT", "/v1/me/consent/email", {"state": "unsubscribed"}, key=token)["state"] == "unsubscribed"
    again = start_session(api, email, new_code(api, sink, email))
    assert again.status_code == 201, again.text
    second = again.json()["token"]
    assert second != token and again.json()["customer"]["id"] == customer["id"]  # the same customer, not a new one

    # A customer token is not a staff key.
    assert api.call("GET", "/v1/customers", key=token).status_code in (401, 403)

    # Signing out ends that token only.
    out = api.call("DELETE", "/v1/auth/session", key=token)
    assert out.status_code == 204 and not out.content
    assert_problem(me(api, token), 401, "unauthorized")
    assert_problem(api.call("DELETE", "/v1/auth/session", key=token), 401, "unauthorized")
    assert me(api, second).json()["id"] == customer["id"]
    assert_problem(me(api, None), 401, "unauthorized")
    assert_problem(me(api, "cst_" + "A" * 32), 401, "unauthorized")


def test_wrong_used_worn_out_replaced_and_expired_codes_are_refused(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)

    # Wrong, then right (a wrong try does not end the code), then used again.
    first = fresh_email()
    code = new_code(api, sink, first)
    assert_problem(start_session(api, first, other_code(code)), 401, "unauthorized")
    assert start_session(api, first, code).status_code == 201
    assert_problem(start_session(api, first, code), 401, "unauthorized")

    # Five wrong tries end the code: the right one is refused after them.
    worn = fresh_email()
    code = new_code(api, sink, worn)
    for _ in range(5):
        assert_problem(start_session(api, worn, other_code(code)), 401, "unauthorized")
    assert_problem(start_session(api, worn, code), 401, "unauthorized")

    # A new code replaces the last.
    replaced = fresh_email()
    old, new = new_code(api, sink, replaced), new_code(api, sink, replaced)
    if old != new:
        assert_problem(start_session(api, replaced, old), 401, "unauthorized")
    assert start_session(api, replaced, new).status_code == 201

    # Ten minutes is the life of a code.
    late = fresh_email()
    code = new_code(api, sink, late)
    advance(api, "11m")
    assert_problem(start_session(api, late, code), 401, "unauthorized")

    # No code was ever sent; a malformed address is refused before anything is sent.
    never = fresh_email()
    assert_problem(start_session(api, never, "123456"), 401, "unauthorized")
    assert_field_error(api.public("POST", "/v1/auth/code", {"email": "not-an-email"}), "email")
    assert_field_error(api.public("POST", "/v1/auth/code", {}), "email")

    # Refused sign-ins made nobody.
    for address_ in (worn, late, never):
        assert_problem(lookup(api, email=address_), 404, "not_found")
    sent = [m["to"] for m in pages(api, "/v1/messages", channel="email") if m["template"] == "sign_in_code"]
    assert sorted(sent) == sorted([first, worn, replaced, replaced, late])


def test_more_than_five_codes_an_hour_answer_the_same_but_send_no_mail(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    email = fresh_email()
    codes = [new_code(api, sink, email) for _ in range(5)]

    def queued() -> int:
        return len([m for m in pages(api, "/v1/messages", channel="email") if m["template"] == "sign_in_code" and m["to"] == email])

    request_code(api, email)  # the sixth: 202 {"sent": true} like any other
    assert queued() == 5
    assert len(sign_in_mails(api, sink, email)) == 5
    # The code that was mailed last is still the one that works.
    assert start_session(api, email, codes[-1]).status_code == 201

    advance(api, "61m")
    code = new_code(api, sink, email)
    assert queued() == 6
    assert start_session(api, email, code).status_code == 201


def test_me_routes_reach_only_the_signed_in_shoppers_own_data(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    pos = api.api_key("pos", "main")
    sku = unique("SKU")
    catalogue_product(api, None, {sku: (1500, {})})
    ada_email, bob_email = fresh_email("ada"), fresh_email("bob")
    ada_token, ada = sign_in(api, sink, ada_email)
    bob_token, bob = sign_in(api, sink, bob_email)

    # Carts made with a token belong to that shopper, and so do their orders.
    ada_order = online_order(api, {sku: 1}, email=ada_email, key=ada_token)
    bob_order = online_order(api, {sku: 2}, email=bob_email, name="Bob Byron", key=bob_token)
    assert (ada_order["customer_id"], bob_order["customer_id"]) == (ada["id"], bob["id"])
    ada_open = api.new_cart(key=ada_token)
    bob_open = api.new_cart(key=bob_token)
    assert (ada_open["customer_id"], bob_open["customer_id"]) == (ada["id"], bob["id"])
    fill_cart(api, ada_open, {sku: 1})
    fill_cart(api, bob_open, {sku: 1})
    # A code bound to Ada applies to the cart her own session made, not to Bob's.
    assert (ada_open["customer_verified"], bob_open["customer_verified"]) == (True, True)
    code = unique("ADA")
    api.ok("POST", "/v1/discounts", {"code": code, "kind": "percent", "value": 10, "customer_id": ada["id"]}, status=201)
    mine = api.ok("PATCH", f"/v1/carts/{ada_open['id']}", {"discount_codes": [code]}, key=ada_token)
    assert mine["totals"]["discount"] == {"amount": 150, "currency": "GBP"}
    theirs = assert_problem(api.call("PATCH", f"/v1/carts/{bob_open['id']}", {"discount_codes": [code]}, key=bob_token), 422, "invalid_request")
    assert theirs["reason"] == "wrong_customer"
    api.ok("PATCH", f"/v1/carts/{ada_open['id']}", {"discount_codes": []}, key=ada_token)

    assert [o["id"] for o in pages(api, "/v1/me/orders", key=ada_token)] == [ada_order["id"]]
    assert [o["id"] for o in pages(api, "/v1/me/orders", key=bob_token)] == [bob_order["id"]]
    own = api.ok("GET", f"/v1/me/orders/{ada_order['id']}", key=ada_token)
    assert own["id"] == ada_order["id"] and own["totals"] == ada_order["totals"]
    assert_problem(api.call("GET", f"/v1/me/orders/{bob_order['id']}", key=ada_token), 404, "not_found")
    assert_problem(api.call("GET", f"/v1/me/orders/{ada_order['id']}", key=bob_token), 404, "not_found")
    assert_problem(api.call("GET", "/v1/me/orders/ord_nope", key=ada_token), 404, "not_found")
    assert [c["id"] for c in pages(api, "/v1/me/carts", key=ada_token)] == [ada_open["id"]]
    assert [c["id"] for c in pages(api, "/v1/me/carts", key=bob_token)] == [bob_open["id"]]
    for path in ("/v1/me", "/v1/me/orders", "/v1/me/carts", "/v1/me/pass"):
        assert_problem(api.call("GET", path, key=None), 401, "unauthorized")

    # A shopper cannot hand their cart to someone else, or take another's identity with it.
    assert_problem(api.call("PATCH", f"/v1/carts/{ada_open['id']}", {"customer_id": bob["id"]}, key=ada_token), 403, "forbidden")
    assert api.cart(ada_open["id"])["customer_id"] == ada["id"]
    assert checkout_details(api, ada_open["id"], {"customer_id": ada["id"]}, key=ada_token)["customer_id"] == ada["id"]

    # /v1/me: the staff note never shows; the shopper changes what is theirs to change.
    secret = unique("staffnote")
    patch_customer(api, ada["id"], {"note": f"refund abuse {secret}"})
    mine = me(api, ada_token)
    assert "note" not in mine.json() and secret not in mine.text
    e164, typed = phone_number()
    changed = api.ok("PATCH", "/v1/me", {"first_name": "Ada", "last_name": "Lovelace", "phone": typed, "locale": "en-GB",
                                         "timezone": "Europe/London", "addresses": [address()]}, key=ada_token)
    assert (changed["first_name"], changed["last_name"], changed["phone"], changed["locale"], changed["timezone"]) == (
        "Ada", "Lovelace", e164, "en-GB", "Europe/London")
    assert len(changed["addresses"]) == 1 and "note" not in changed
    assert_field_error(api.call("PATCH", "/v1/me", {"email": fresh_email()}, key=ada_token), "email")
    assert_field_error(api.call("PATCH", "/v1/me", {"phone": "07700"}, key=ada_token), "phone")
    assert me(api, ada_token).json()["email"] == ada_email
    assert get_customer(api, ada["id"])["note"] == f"refund abuse {secret}"
    untouched = get_customer(api, bob["id"])
    assert (untouched["phone"], untouched["locale"], untouched["timezone"]) == (None, None, None)

    # Consent given in the account is recorded as such.
    given = api.ok("PUT", "/v1/me/consent/email", {"state": "subscribed"}, key=ada_token)
    assert (given["state"], given["level"], given["source"]) == ("subscribed", "single_opt_in", "account")
    assert [(h["channel"], h["state"], h["source"]) for h in consent_history(api, ada["id"])] == [("email", "subscribed", "account")]
    assert_field_error(api.call("PUT", "/v1/me/consent/fax", {"state": "subscribed"}, key=ada_token), "channel")
    assert consent_history(api, bob["id"]) == []

    # The till pass: the shopper shows it, the till finds them, for five minutes.
    issued = api.ok("GET", "/v1/me/pass", key=ada_token)
    assert issued["pass"].startswith("pas_")
    lifetime = when(issued["expires_at"]) - clock_now(api)
    assert timedelta(minutes=4) < lifetime <= timedelta(minutes=5, seconds=5)
    found = lookup(api, key=pos, **{"pass": issued["pass"]})
    assert found.status_code == 200, found.text
    assert found.json()["customer"]["id"] == ada["id"]
    assert [o["id"] for o in found.json()["recent_orders"]] == [ada_order["id"]]
    assert [c["id"] for c in found.json()["open_carts"]] == [ada_open["id"]]
    advance(api, "6m")
    assert_field_error(lookup(api, key=pos, **{"pass": issued["pass"]}), "pass")


def test_customers_who_both_signed_in_cannot_be_merged(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    ada_token, ada = sign_in(api, sink, fresh_email("ada"))
    bob_token, bob = sign_in(api, sink, fresh_email("bob"))

    problem = assert_problem(api.call("POST", f"/v1/customers/{ada['id']}/merge", {"from": bob["id"]}), 409, "conflict")
    assert problem["detail"]
    assert me(api, ada_token).json()["id"] == ada["id"] and me(api, bob_token).json()["id"] == bob["id"]
    assert get_customer(api, bob["id"])["email"] == bob["email"]
    assert not [e for e in customer_events(api, ada["id"]) if e["type"] == "customer.merged"]

    # One who signed in and one who did not merge; the account stays.
    walk_in = create_customer(api, phone=phone_number()[0])
    set_consent(api, walk_in["id"], "sms", "subscribed", source="pos")
    merged = api.ok("POST", f"/v1/customers/{ada['id']}/merge", {"from": walk_in["id"]})
    assert merged["id"] == ada["id"] and merged["has_account"] is True and merged["email"] == ada["email"]
    assert merged["consent"]["sms"]["state"] == "subscribed"
    assert_problem(api.call("GET", f"/v1/customers/{walk_in['id']}"), 404, "not_found")
    assert me(api, ada_token).json()["id"] == ada["id"]


def test_erasing_a_signed_in_customer_ends_their_sessions(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    email = fresh_email("gone")
    token, customer = sign_in(api, sink, email)
    assert me(api, token).status_code == 200
    assert api.call("DELETE", f"/v1/customers/{customer['id']}").status_code == 204
    assert_problem(me(api, token), 401, "unauthorized")
    erased = get_customer(api, customer["id"])
    assert erased["erased"] is True and erased["email"] is None
    # The sign-in mail is still accounted for in the outbox, without the address.
    outbox = pages(api, "/v1/messages")
    assert [m["template"] for m in outbox] == ["sign_in_code"]
    assert email not in json.dumps(outbox).lower()
