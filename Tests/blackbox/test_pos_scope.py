"""A till key belongs to its location (issue 29): a `pos` key sees and acts on its own location's
orders, over HTTP and on the event channel, and any other order is 404 to it; online orders only when
the shop's `pos_serves_online` setting lets tills serve them (refunds, cash for a web cart). Admin
keys see everything."""

from __future__ import annotations

import pytest

from cart_api import ADMIN_ENV, Api, OK_CARD, assert_problem, ready_cart, unique
from test_events_ws import Channel, async_test, http

MANUAL = {"method": "manual", "reference": "cash"}


@pytest.fixture(scope="module")
def api(session_launch) -> Api:
    return Api(session_launch({}, env=ADMIN_ENV))


@pytest.fixture(scope="module")
def tills(api: Api) -> dict:
    north = unique("north").lower()
    api.ok("POST", "/v1/locations", {"code": north, "name": "North", "kind": "store", "fulfils_online": False}, status=201)
    return {"main": api.api_key("pos", location="main"), "north": api.api_key("pos", location=north), "north_code": north}


def till_sale(api: Api, key: str, location: str) -> dict:
    sku = unique("TILL")
    api.product(sku, stock=3, location=location)
    cart = api.ok("POST", "/v1/carts", {"channel": "pos"}, status=201, key=key)
    assert api.add(cart["id"], sku, 1).status_code == 200
    response = api.call("POST", f"/v1/carts/{cart['id']}/complete", {"payment": MANUAL}, key=key)
    assert response.status_code == 201, response.text
    return response.json()


def web_order(api: Api) -> dict:
    cart = ready_cart(api, "WEB")
    response = api.public("POST", f"/v1/carts/{cart['id']}/complete", {"payment": OK_CARD})
    assert response.status_code == 201, response.text
    return response.json()


def serve_online(api: Api, on: bool) -> None:
    assert api.ok("PATCH", "/v1/settings", {"pos_serves_online": on})["pos_serves_online"] is on


def test_a_till_sees_its_own_locations_orders_and_nothing_else(api, tills):
    serve_online(api, False)
    mine = till_sale(api, tills["main"], "main")
    theirs = till_sale(api, tills["north"], tills["north_code"])
    web = web_order(api)
    main = tills["main"]

    listed = {o["id"] for o in api.ok("GET", "/v1/orders?limit=200", key=main)["items"]}
    assert mine["id"] in listed and theirs["id"] not in listed and web["id"] not in listed
    assert all(o["location"] == "main" and o["channel"] == "pos" for o in api.ok("GET", "/v1/orders?limit=200", key=main)["items"])
    # Asking for another location's orders by filter gives nothing either.
    assert api.ok("GET", f"/v1/orders?location={tills['north_code']}", key=main)["items"] == []
    for other in (theirs, web):
        assert_problem(api.call("GET", f"/v1/orders/{other['id']}", key=main), 404, "not_found")
        assert_problem(api.call("GET", f"/v1/orders/{other['id']}/receipt", key=main), 404, "not_found")
        assert_problem(api.call("POST", f"/v1/orders/{other['id']}/transitions", {"to": "refunded"}, key=main), 404, "not_found")
    assert api.ok("GET", f"/v1/orders/{mine['id']}", key=main)["id"] == mine["id"]
    assert api.call("GET", f"/v1/orders/{mine['id']}/receipt", key=main).status_code == 200
    # Nothing changed for the orders a till could not see; the admin sees all three.
    assert api.ok("GET", f"/v1/orders/{web['id']}")["status"] == web["status"]
    admin = {o["id"] for o in api.ok("GET", "/v1/orders?limit=200")["items"]}
    assert {mine["id"], theirs["id"], web["id"]} <= admin


def test_a_till_takes_cash_for_a_web_cart_only_when_the_shop_allows_it(api, tills):
    serve_online(api, False)
    cart = ready_cart(api, "CASH")
    body = assert_problem(api.call("POST", f"/v1/carts/{cart['id']}/complete", {"payment": MANUAL}, key=tills["main"]), 403, "forbidden")
    assert "pos_serves_online" in body["detail"]
    assert api.cart(cart["id"])["status"] == "active"
    serve_online(api, True)
    try:
        response = api.call("POST", f"/v1/carts/{cart['id']}/complete", {"payment": MANUAL}, key=tills["main"])
        assert response.status_code == 201, response.text
        order = response.json()
        # Serving online orders, the till sees and refunds them; another till's sales stay hidden.
        assert api.ok("GET", f"/v1/orders/{order['id']}", key=tills["main"])["channel"] == "online"
        refunded = api.call("POST", f"/v1/orders/{order['id']}/transitions", {"to": "refunded"}, key=tills["main"])
        assert refunded.status_code == 200 and refunded.json()["status"] == "refunded", refunded.text
        theirs = till_sale(api, tills["north"], tills["north_code"])
        assert_problem(api.call("GET", f"/v1/orders/{theirs['id']}", key=tills["main"]), 404, "not_found")
        listed = {o["id"] for o in api.ok("GET", "/v1/orders?limit=200", key=tills["main"])["items"]}
        assert order["id"] in listed and theirs["id"] not in listed
    finally:
        serve_online(api, False)


@async_test()
async def test_a_tills_order_topics_carry_only_the_orders_it_may_see(api, tills):
    await http(serve_online, api, False)
    async with await Channel.open(api.server) as till, await Channel.open(api.server) as admin:
        await till.send({"op": "auth", "key": tills["main"]})
        await till.reply("authenticated")
        await admin.send({"op": "auth", "key": api.key})
        await admin.reply("authenticated")
        _, subscribed = await till.subscribe(["orders"])
        await admin.subscribe(["orders"])
        web = await http(web_order, api)
        theirs = await http(till_sale, api, tills["north"], tills["north_code"])
        mine = await http(till_sale, api, tills["main"], "main")
        heard = await till.collect(quiet=0.7)
        assert {e["data"]["order_id"] for e in heard} == {mine["id"]}, heard
        assert all(e["data"]["location"] == "main" and e["data"]["channel"] == "pos" for e in heard)
        everything = {e["data"]["order_id"] for e in await admin.collect(quiet=0.5)}
        assert {web["id"], theirs["id"], mine["id"]} <= everything
    # A till resuming from before them replays the same narrowing; a specific other order's topic too.
    async with await Channel.open(api.server) as till:
        await till.send({"op": "auth", "key": tills["main"]})
        await till.reply("authenticated")
        replayed, _ = await till.subscribe(["orders", f"order:{web['id']}"], since=subscribed["seq"])
        assert {e["data"]["order_id"] for e in replayed} == {mine["id"]}, replayed
