"""Live shoppers and the back office (issue 25; API.md, Live shoppers and the back office): storefront
sockets that say `hello` and `track`, one presence per visitor however many tabs it has open, the
`shoppers` topic and its snapshot, leaving after a grace, messages and offers to one shopper, live
stats, identified shoppers and what their browsing feeds, consent and the tracking switch,
`POST /v1/activity`, bad input on the socket and over HTTP, and an admin watching a checkout.

Every test runs a server of its own (test clock on, GBP, no tax rates or shipping methods, so a
cart's total is the sum of its lines), so the live list, the stats and the conversations it asserts
are exactly what the test made. Time-driven changes (the 10 s grace, `hesitating_after`, offer
expiry) are reached by moving the test clock; the server's once-a-second sweep then finds them, so
those waits are short real-time deadlines, never sleeps standing in for time. Clients are
`websockets` connections through `test_events_ws.Channel`; HTTP calls run off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from datetime import timedelta

import pytest
from websockets.exceptions import ConnectionClosed

from cart_api import ADMIN_KEY, Api, assert_problem, complete, money, unique
from customer_api import (
    address,
    advance,
    checkout_details,
    create_customer,
    clock_now,
    create_segment,
    crm_server,
    customer_ids,
    email_address,
    get_customer,
    pages,
    sign_in,
    when,
)
from test_events_ws import Channel, async_test, http
from test_messages import mail_server, sink_factory  # noqa: F401 - sink_factory is a fixture used by name

WAIT = 5.0  # seconds: the longest any one expected message may take
SWEEP = 4.0  # seconds: long enough for the once-a-second sweep to have run after the clock moved
EVENT_KEYS = {"seq", "type", "at", "topic", "data"}
ENTRY_KEYS = {"visitor", "customer", "since", "last_active_at", "page", "product", "hidden", "cart", "checkout_step", "stage",
              "sockets"}
STAGES = {"browsing", "considering", "hesitating"}
SHOPPER_EVENTS = {"shopper.joined", "shopper.updated", "shopper.viewed", "shopper.left"}
STATS_KEYS = {"visitors_now", "carts_active", "checkouts_in_progress", "orders_today", "revenue_today", "funnel", "top_viewed",
              "top_carted", "offers"}
NO_FUNNEL = {"viewed": 0, "carted": 0, "checkout": 0, "paid": 0}
NO_OFFERS = {"sent": 0, "accepted": 0, "redeemed": 0}


# Servers ----------------------------------------------------------------------------------------


@pytest.fixture
def shop(launch) -> Api:
    """A server of the test's own: test clock on, the admin key of `cart_api`, GBP, no pricing rules."""
    return Api(crm_server(launch))


# Test plumbing ----------------------------------------------------------------------------------


def assert_subset(got: dict, expected: dict) -> None:
    assert {k: got.get(k) for k in expected} == expected, (got, expected)


def catalogue(api: Api, price: int = 2000, stock: int = 20) -> tuple[str, dict]:
    """A new active product with one variant in stock at `main`: (sku, product)."""
    sku = unique("LIVE")
    return sku, api.product(sku, price=price, stock=stock)


def unknown_visitor() -> str:
    return "vis_" + secrets.token_hex(16)


def check_entry(entry: dict) -> dict:
    """One live shopper as the snapshot and the `shoppers` events carry it."""
    assert ENTRY_KEYS <= set(entry), entry
    assert entry["visitor"].startswith("vis_"), entry
    assert entry["stage"] in STAGES, entry
    assert isinstance(entry["hidden"], bool) and isinstance(entry["sockets"], int) and entry["sockets"] >= 0, entry
    when(entry["since"])
    when(entry["last_active_at"])
    if entry["customer"] is not None:
        assert {"id", "name", "email"} <= set(entry["customer"]), entry
    if entry["cart"] is not None:
        assert {"id", "lines", "total"} <= set(entry["cart"]), entry
    # No IP address anywhere.
    assert "ip" not in {k.lower() for k in entry} and "127.0.0.1" not in json.dumps(entry), entry
    return entry


def snapshot(api: Api) -> dict:
    body = api.ok("GET", "/v1/shoppers/live")
    assert {"items", "seq"} <= set(body) and isinstance(body["seq"], int), body
    for entry in body["items"]:
        check_entry(entry)
    visitors = [e["visitor"] for e in body["items"]]
    assert len(visitors) == len(set(visitors)), f"a visitor listed twice: {visitors}"
    return body


def live_entries(api: Api) -> dict[str, dict]:
    return {e["visitor"]: e for e in snapshot(api)["items"]}


def live_stats(api: Api) -> dict:
    body = api.ok("GET", "/v1/stats/live")
    assert STATS_KEYS <= set(body), body
    assert set(body["funnel"]) >= set(NO_FUNNEL) and set(body["offers"]) >= set(NO_OFFERS), body
    return body


def stable(entry: dict) -> dict:
    """An entry without `last_active_at`, which any activity moves."""
    return {k: v for k, v in entry.items() if k != "last_active_at"}


def rebuild(state: dict[str, dict], events: list[dict]) -> dict[str, dict]:
    """The live list a client keeps by applying `shoppers` events to a snapshot, checking each makes sense."""
    state = dict(state)
    for event in events:
        visitor = event["data"]["visitor"]
        if event["type"] == "shopper.joined":
            assert visitor not in state, f"joined twice: {event}"
            state[visitor] = event["data"]
        elif event["type"] in ("shopper.updated", "shopper.viewed"):
            assert visitor in state, f"an update of a shopper never joined: {event}"
            state[visitor] = event["data"]
        elif event["type"] == "shopper.left":
            assert state.pop(visitor, None) is not None, f"a shopper left who was not there: {event}"
    return state


def same_shoppers(state: dict[str, dict], items: list[dict]) -> None:
    built = {v: stable(e) for v, e in state.items()}
    taken = {e["visitor"]: stable(e) for e in items}
    assert built == taken, f"events built {built}\nsnapshot has {taken}"


async def eventually(fetch, check, what: str, timeout: float = WAIT, interval: float = 0.05):
    """Calls `fetch` (HTTP, off the loop) until `check` holds for its value; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(fetch)
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}; last: {value}")
        await asyncio.sleep(interval)


def is_(type_: str, visitor: str, where=lambda entry: True):
    """A predicate on events: `type_` about `visitor`, whose data satisfies `where`."""
    return lambda e: e.get("type") == type_ and e["data"].get("visitor") == visitor and where(e["data"])


def product_is(product_id: str):
    return lambda entry: (entry.get("product") or {}).get("id") == product_id


def page_is(path: str):
    return lambda entry: (entry.get("page") or {}).get("path") == path


class Tab:
    """One browser tab of a storefront: a socket that says hello, tracks, and hears from the shop."""

    def __init__(self, channel: Channel):
        self.ch = channel
        self.visitor: str | None = None

    @classmethod
    async def open(cls, server, compression: str | None = "deflate") -> "Tab":
        return cls(await Channel.open(server, compression=compression))

    async def hello(self, visitor: str | None = None, **fields) -> str:
        body = {"op": "hello", **fields}
        if visitor is not None:
            body["visitor"] = visitor
        await self.ch.send(body)
        welcome = await self.ch.reply("welcome")
        assert isinstance(welcome.get("visitor"), str) and welcome["visitor"].startswith("vis_"), welcome
        self.visitor = welcome["visitor"]
        return self.visitor

    async def track(self, type_: str, data: dict | None = None, **extra) -> None:
        await self.ch.send({"op": "track", "type": type_, "data": {} if data is None else data, **extra})

    async def reply_past(self, op: str, tolerated: set[str]) -> dict:
        """The next `op`, past any messages whose op is in `tolerated` (such as an `offer_accepted`
        that may reach every tab of the visitor, not only the one that accepted)."""
        while True:
            message = await self.ch.recv()
            if message.get("op") not in tolerated:
                assert message.get("op") == op, f"expected op {op!r}, got {message}"
                return message

    async def tracked(self, type_: str, data: dict | None = None, **extra) -> None:
        """Tracks, then pings: the pong coming next shows the track was taken without an error."""
        await self.track(type_, data, **extra)
        await self.ch.usable()

    async def close(self) -> None:
        await self.ch.conn.close()


class Desk:
    """An admin's socket in the back office, subscribed to some topics; every event it got, in order."""

    def __init__(self, channel: Channel):
        self.ch = channel
        self.events: list[dict] = []
        self.replayed: list[dict] = []
        self.subscribed: dict = {}
        self.cursor = 0  # events before it were looked at by `next`

    @classmethod
    async def open(cls, server, topics: list[str], since: int | None = None) -> "Desk":
        channel = await Channel.open(server)
        await channel.send({"op": "auth", "key": ADMIN_KEY})
        assert (await channel.reply("authenticated"))["role"] == "admin"
        desk = cls(channel)
        desk.replayed, desk.subscribed = await channel.subscribe(topics, since=since)
        for event in desk.replayed:
            desk._check(event)
        desk.events += desk.replayed
        return desk

    @property
    def last_seq(self) -> int:
        return max([self.subscribed["seq"]] + [e["seq"] for e in self.events])

    def _check(self, event: dict) -> None:
        assert "op" not in event, f"an op on a subscriber's socket: {event}"
        assert set(event) == EVENT_KEYS, f"expected an event, got {event}"
        if event["type"] in SHOPPER_EVENTS:
            assert event["topic"] == "shoppers", event
            if event["type"] == "shopper.left":
                assert {"visitor"} <= set(event["data"]) and "127.0.0.1" not in json.dumps(event), event
            else:
                check_entry(event["data"])

    async def _receive(self, timeout: float) -> dict | None:
        try:
            raw = await asyncio.wait_for(self.ch.conn.recv(), timeout)
        except TimeoutError:
            return None
        message = json.loads(raw)
        self._check(message)
        self.events.append(message)
        return message

    async def next(self, predicate, what: str, timeout: float = WAIT) -> dict:
        """The first event after the last one `next` returned that matches (already received or not)."""
        while self.cursor < len(self.events):
            event = self.events[self.cursor]
            self.cursor += 1
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            message = await self._receive(remaining) if remaining > 0 else None
            if message is None:
                recent = [(e["type"], e["data"]) for e in self.events[-8:]]
                raise AssertionError(f"no {what} within {timeout:.1f} s; the last events: {recent}")
            self.cursor = len(self.events)
            if predicate(message):
                return message

    async def drain(self, quiet: float = 0.5, limit: float = 10.0) -> list[dict]:
        """Whatever arrives until `quiet` seconds pass in silence."""
        got = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            message = await self._receive(min(quiet, max(0.01, deadline - time.monotonic())))
            if message is None:
                break
            got.append(message)
        return got

    def of(self, type_: str, visitor: str | None = None) -> list[dict]:
        return [e for e in self.events if e["type"] == type_ and (visitor is None or e["data"].get("visitor") == visitor)]

    async def close(self) -> None:
        await self.ch.conn.close()


async def closing(*things) -> None:
    for thing in things:
        if thing is not None:
            await thing.close()


def post(api: Api, path: str, body, key: str | None = "admin"):
    return api.call("POST", path, body, key=key)


# One shopper, two tabs: presence, views, hiding, carting, checkout, hesitating ------------------


@async_test(timeout=60)
async def test_two_tabs_are_one_shopper_followed_from_browsing_to_hesitating(shop):
    api = shop
    sku, product = await http(catalogue, api, 2500)
    desk = await Desk.open(api.server, ["shoppers"])
    first = second = None
    try:
        first = await Tab.open(api.server)
        visitor = await first.hello()
        joined = await desk.next(is_("shopper.joined", visitor), "shopper.joined")
        assert_subset(joined["data"], {"visitor": visitor, "customer": None, "page": None, "product": None, "hidden": False,
                                       "cart": None, "stage": "browsing", "sockets": 1})

        # A second tab of the same browser: the same visitor, one entry with two sockets.
        second = await Tab.open(api.server)
        assert await second.hello(visitor) == visitor
        entries = await eventually(lambda: live_entries(api), lambda e: e.get(visitor, {}).get("sockets") == 2,
                                   "one entry with two sockets")
        assert list(entries) == [visitor]

        # A product view in one tab is a shopper.viewed naming the product.
        await first.tracked("product.viewed", {"product_id": product["id"]})
        viewed = await desk.next(is_("shopper.viewed", visitor, product_is(product["id"])), "shopper.viewed of the product")
        assert viewed["data"]["product"] == {"id": product["id"], "title": product["title"]}
        assert viewed["data"]["sockets"] == 2

        # A page view in the other is a shopper.updated with the page.
        await second.tracked("page.viewed", {"path": "/shop/basket", "title": "Your basket"})
        paged = await desk.next(is_("shopper.updated", visitor, page_is("/shop/basket")), "shopper.updated with the page")
        assert paged["data"]["page"] == {"path": "/shop/basket", "title": "Your basket"}

        # Hidden only once every tab is.
        await first.tracked("page.hidden")
        await desk.drain(quiet=0.7)
        assert not [e for e in desk.events if e["data"].get("visitor") == visitor and e["data"].get("hidden")], desk.events
        assert live_entries(api)[visitor]["hidden"] is False
        await second.tracked("page.hidden")
        await desk.next(is_("shopper.updated", visitor, lambda e: e["hidden"] is True), "hidden once both tabs are")
        assert live_entries(api)[visitor]["hidden"] is True
        await first.tracked("page.visible")
        await desk.next(is_("shopper.updated", visitor, lambda e: e["hidden"] is False), "visible again")

        # A cart made later is told with a second hello; a line makes the shopper considering.
        cart = await http(api.new_cart)
        assert await first.hello(visitor, cart=cart["id"]) == visitor
        added = await http(api.add, cart["id"], sku, 1)
        assert added.status_code == 200, added.text
        carted = await desk.next(is_("shopper.updated", visitor, lambda e: (e["cart"] or {}).get("lines") == 1), "a cart with one line")
        assert_subset(carted["data"]["cart"], {"id": cart["id"], "lines": 1, "total": added.json()["totals"]["total"]})
        assert carted["data"]["stage"] == "considering"

        # The storefront moves the checkout on.
        await http(checkout_details, api, cart["id"], {"checkout_step": "details"})
        stepped = await desk.next(is_("shopper.updated", visitor, lambda e: e["checkout_step"] == "details"), "checkout_step details")
        assert stepped["data"]["stage"] == "considering"

        # 100 s without activity is not yet hesitating; past 120 s it is.
        await http(advance, api, "100s")
        await desk.drain(quiet=2.0)
        assert not [e for e in desk.events if e["data"].get("stage") == "hesitating"], desk.events
        assert live_entries(api)[visitor]["stage"] == "considering"
        await http(advance, api, "21s")
        hesitating = await desk.next(is_("shopper.updated", visitor, lambda e: e["stage"] == "hesitating"), "stage hesitating",
                                     timeout=SWEEP + WAIT)
        assert_subset(hesitating["data"], {"checkout_step": "details", "hidden": False, "sockets": 2})
        assert hesitating["data"]["cart"]["lines"] == 1

        # One join, no leave; events in seq order, the very ones the log holds; the snapshot agrees.
        await desk.drain(quiet=0.5)
        seqs = [e["seq"] for e in desk.events]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs
        assert all(s > desk.subscribed["seq"] for s in seqs)
        assert len(desk.of("shopper.joined", visitor)) == 1 and desk.of("shopper.left") == []
        assert desk.events == await http(api.events, "shoppers", desk.subscribed["seq"])
        now = await http(snapshot, api)
        assert now["seq"] >= seqs[-1]
        same_shoppers(rebuild({}, desk.events), now["items"])
    finally:
        await closing(first, second, desk)


@async_test(timeout=60)
async def test_hidden_with_a_cart_hesitates_after_a_minute_and_hesitating_after_is_a_setting(shop):
    api = shop
    sku, _ = await http(catalogue, api)
    desk = await Desk.open(api.server, ["shoppers"])
    hider, payer = await Tab.open(api.server), await Tab.open(api.server)
    try:
        # A cart with a line, the tab in the background: hesitating after hidden_hesitating_after (60 s).
        cart = await http(api.new_cart)
        visitor = await hider.hello(cart=cart["id"])
        assert (await http(api.add, cart["id"], sku, 1)).status_code == 200
        await desk.next(is_("shopper.updated", visitor, lambda e: e["stage"] == "considering"), "considering")
        await hider.tracked("page.hidden")
        await desk.next(is_("shopper.updated", visitor, lambda e: e["hidden"] is True), "hidden")
        await http(advance, api, "50s")
        await desk.drain(quiet=2.0)
        assert live_entries(api)[visitor]["stage"] == "considering"
        await http(advance, api, "11s")
        await desk.next(is_("shopper.updated", visitor, lambda e: e["stage"] == "hesitating"), "hesitating while hidden",
                        timeout=SWEEP + WAIT)
        # Back in front: no longer hidden, so no longer hesitating (no checkout was started).
        await hider.tracked("page.visible")
        back = await desk.next(is_("shopper.updated", visitor, lambda e: e["hidden"] is False), "visible again")
        assert back["data"]["stage"] == "considering", back

        # hesitating_after set to 30 s: a started checkout hesitates after 30 s, not 120 s.
        settings = await http(api.ok, "PATCH", "/v1/settings", {"hesitating_after": 30})
        assert settings["hesitating_after"] == 30 and settings["hidden_hesitating_after"] == 60, settings
        other = await http(api.new_cart)
        paying = await payer.hello(cart=other["id"])
        assert (await http(api.add, other["id"], sku, 1)).status_code == 200
        await http(checkout_details, api, other["id"], {"checkout_step": "shipping"})
        await desk.next(is_("shopper.updated", paying, lambda e: e["checkout_step"] == "shipping"), "checkout_step shipping")
        await http(advance, api, "31s")
        hesitating = await desk.next(is_("shopper.updated", paying, lambda e: e["stage"] == "hesitating"), "hesitating at checkout",
                                     timeout=SWEEP + WAIT)
        assert hesitating["data"]["hidden"] is False
    finally:
        await closing(hider, payer, desk)


# Snapshot, then events since its seq --------------------------------------------------------------


@async_test(timeout=60)
async def test_a_snapshot_and_the_events_after_its_seq_agree_across_a_reconnect(shop):
    api = shop
    _, shoes = await http(catalogue, api)
    _, hat = await http(catalogue, api)
    ada, bob, cy, dee, desk, again = await Tab.open(api.server), await Tab.open(api.server), None, None, None, None
    try:
        a, b = await ada.hello(), await bob.hello()
        await ada.tracked("product.viewed", {"product_id": shoes["id"]})
        taken = await eventually(lambda: snapshot(api),
                                 lambda s: {e["visitor"]: (e["product"] or {}).get("id") for e in s["items"]} == {a: shoes["id"], b: None},
                                 "ada and bob in the snapshot, ada on the shoes")
        state = {e["visitor"]: e for e in taken["items"]}

        # Changes after the snapshot, some before the admin subscribes, some after.
        cy = await Tab.open(api.server)
        c = await cy.hello()
        await ada.tracked("page.viewed", {"path": "/shop/shoes", "title": "Shoes"})
        desk = await Desk.open(api.server, ["shoppers"], since=taken["seq"])
        await bob.tracked("page.hidden")
        await desk.next(is_("shopper.joined", c), "cy joining")
        await desk.next(is_("shopper.updated", a, page_is("/shop/shoes")), "ada's page view")
        await desk.next(is_("shopper.updated", b, lambda e: e["hidden"] is True), "bob hiding")
        await desk.drain(quiet=0.5)

        # Only what came after the snapshot: no second join for ada or bob, not ada's earlier view.
        assert all(e["seq"] > taken["seq"] for e in desk.events), (taken["seq"], desk.events)
        assert not [e for e in desk.events if e["type"] == "shopper.joined" and e["data"]["visitor"] in (a, b)]
        assert not desk.of("shopper.viewed", a)
        assert desk.replayed == (await http(api.events, "shoppers", taken["seq"]))[:len(desk.replayed)]
        state = rebuild(state, desk.events)
        now = await http(snapshot, api)
        assert now["seq"] >= desk.last_seq
        same_shoppers(state, now["items"])

        # The admin goes away; meanwhile ada views another product, bob leaves and dee arrives.
        last = desk.last_seq
        await desk.close()
        await ada.tracked("product.viewed", {"product_id": hat["id"]})
        await bob.close()
        await http(advance, api, "11s")
        await eventually(lambda: live_entries(api), lambda e: b not in e, "bob to leave", timeout=SWEEP + WAIT)
        dee = await Tab.open(api.server)
        d = await dee.hello()

        # Back: exactly what was missed, then the snapshot agrees with what the events built.
        again = await Desk.open(api.server, ["shoppers"], since=last)
        await again.next(is_("shopper.joined", d), "dee joining")
        await again.drain(quiet=0.5)
        assert again.events == await http(api.events, "shoppers", last)
        assert again.of("shopper.viewed", a) and again.of("shopper.left", b) and len(again.of("shopper.joined")) == 1
        assert all(e["seq"] > last for e in again.events)
        state = rebuild(state, again.events)
        now = await http(snapshot, api)
        assert set(state) == {a, c, d}
        assert state[a]["product"] == {"id": hat["id"], "title": hat["title"]}
        same_shoppers(state, now["items"])
    finally:
        await closing(ada, bob, cy, dee, desk, again)


# Leaving ------------------------------------------------------------------------------------------


@async_test(timeout=60)
async def test_a_shopper_leaves_after_the_grace_and_a_reload_is_no_leave(shop):
    api = shop
    desk = await Desk.open(api.server, ["shoppers"])
    one, two, reloaded = await Tab.open(api.server), await Tab.open(api.server), None
    try:
        visitor = await one.hello()
        assert await two.hello(visitor) == visitor
        await desk.next(is_("shopper.joined", visitor), "shopper.joined")

        # Both tabs closed: still there during the grace, even when the clock moves 5 s.
        await one.close()
        await two.close()
        await http(advance, api, "5s")
        await desk.drain(quiet=2.0)
        assert desk.of("shopper.left") == [], desk.events
        assert visitor in live_entries(api)

        # Past 10 s: gone.
        await http(advance, api, "6s")
        left = await desk.next(is_("shopper.left", visitor), "shopper.left", timeout=SWEEP + WAIT)
        assert left["data"]["visitor"] == visitor
        await eventually(lambda: snapshot(api), lambda s: s["items"] == [], "an empty live list")
        assert len(desk.of("shopper.left", visitor)) == 1

        # A reload: the tab closes and the page opens again within the grace.
        page = await Tab.open(api.server)
        other = await page.hello()
        await desk.next(is_("shopper.joined", other), "the next shopper joining")
        mark = len(desk.events)
        await page.close()
        await desk.drain(quiet=0.3)
        reloaded = await Tab.open(api.server)
        assert await reloaded.hello(other) == other
        await reloaded.tracked("page.viewed", {"path": "/shop/", "title": "Home"})
        await desk.next(is_("shopper.updated", other, page_is("/shop/")), "the reloaded page's view")
        await http(advance, api, "11s")
        await desk.drain(quiet=2.0)
        after = desk.events[mark:]
        assert {e["type"] for e in after} <= {"shopper.updated"}, after
        entries = live_entries(api)
        assert list(entries) == [other] and entries[other]["sockets"] == 1
        assert len(desk.of("shopper.joined", other)) == 1 and not desk.of("shopper.left", other)
    finally:
        await closing(one, two, reloaded, desk)


# Messages -----------------------------------------------------------------------------------------


@async_test(timeout=60)
async def test_the_shop_and_a_shopper_talk_in_one_conversation(shop):
    api = shop
    family = await Desk.open(api.server, ["conversations"])
    one, two, thread = await Tab.open(api.server), await Tab.open(api.server), None
    try:
        visitor = await one.hello()
        assert await two.hello(visitor) == visitor
        hello = "Hello! Can I help you find a size?"
        sent = await http(api.ok, "POST", f"/v1/shoppers/{visitor}/messages", {"text": hello}, 201)
        conversation = sent["conversation"]
        assert conversation.startswith("cnv_"), sent
        assert_subset(sent["message"], {"from": "shop", "text": hello})
        assert {"author", "at"} <= set(sent["message"]), sent
        for tab in (one, two):
            got = await tab.ch.reply("message")
            assert_subset(got, {"conversation": conversation, "from": "shop", "text": hello})
            when(got["at"])
        first = await family.next(lambda e: e["type"] == "conversation.message" and e["data"]["from"] == "shop", "the shop's message")
        assert first["topic"] == f"conversation:{conversation}", first
        assert_subset(first["data"], {"conversation": conversation, "visitor": visitor, "customer_id": None, "from": "shop", "text": hello})

        # The shopper answers from one tab: both tabs and both admins hear it.
        thread = await Desk.open(api.server, [f"conversation:{conversation}"])
        answer = "Yes please, a 38 in blue"
        await one.ch.send({"op": "message", "text": answer})
        for tab in (one, two):
            echoed = await tab.ch.reply("message")
            assert_subset(echoed, {"conversation": conversation, "from": "shopper", "text": answer})
        heard = []
        for desk in (thread, family):
            event = await desk.next(lambda e: e["type"] == "conversation.message" and e["data"]["from"] == "shopper", "the answer")
            assert_subset(event["data"], {"conversation": conversation, "visitor": visitor, "customer_id": None, "from": "shopper",
                                          "text": answer})
            heard.append(event)
        assert heard[0] == heard[1], "two subscribers got different events"

        # A second message from the shop goes to the same conversation.
        more = "We have it: shall I hold one for you?"
        again = await http(api.ok, "POST", f"/v1/shoppers/{visitor}/messages", {"text": more}, 201)
        assert again["conversation"] == conversation
        for tab in (one, two):
            assert_subset(await tab.ch.reply("message"), {"conversation": conversation, "from": "shop", "text": more})

        # Stored, in order.
        listed = await http(pages, api, "/v1/conversations")
        assert [c["id"] for c in listed] == [conversation], listed
        assert_subset(listed[0], {"id": conversation, "visitor": visitor, "customer_id": None})
        last = listed[0]["last_message"]
        assert (last.get("text") if isinstance(last, dict) else last) == more, listed[0]
        full = await http(api.ok, "GET", f"/v1/conversations/{conversation}")
        assert_subset(full, {"id": conversation, "visitor": visitor, "customer_id": None})
        assert [(m["from"], m["text"]) for m in full["messages"]] == [("shop", hello), ("shopper", answer), ("shop", more)]
        stamps = [when(m["at"]) for m in full["messages"]]
        assert stamps == sorted(stamps)
        logged = await http(api.events, f"conversation:{conversation}")
        assert [(e["data"]["from"], e["data"]["text"]) for e in logged if e["type"] == "conversation.message"] == [
            ("shop", hello), ("shopper", answer), ("shop", more)]
        assert_problem(await http(api.call, "GET", "/v1/conversations/cnv_nope"), 404, "not_found")
    finally:
        await closing(one, two, thread, family)


# Offers -------------------------------------------------------------------------------------------


@async_test(timeout=60)
async def test_an_offer_reaches_every_tab_applies_to_the_cart_once_and_expires(shop):
    api = shop
    sku, product = await http(catalogue, api, 2000)
    family = await Desk.open(api.server, ["conversations"])
    one, two = await Tab.open(api.server), await Tab.open(api.server)
    try:
        visitor = await one.hello()
        assert await two.hello(visitor) == visitor
        cart = await http(api.new_cart)
        assert await one.hello(visitor, cart=cart["id"]) == visitor
        assert (await http(api.add, cart["id"], sku, 1)).status_code == 200
        before = (await http(api.cart, cart["id"]))["totals"]
        assert before["total"] == money(2000)

        made = await http(api.ok, "POST", f"/v1/shoppers/{visitor}/offers", {"kind": "percent", "value": 10, "expires_in": "30m"}, 201)
        assert_subset(made, {"kind": "percent", "value": 10, "customer_id": None, "cart_id": cart["id"]})
        code, conversation = made["code"], made["conversation"]
        assert isinstance(code, str) and code and conversation.startswith("cnv_"), made
        lifetime = when(made["expires_at"]) - await http(clock_now, api)
        assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30, seconds=5), lifetime
        for tab in (one, two):
            offer = await tab.ch.reply("offer")
            assert_subset(offer, {"conversation": conversation, "code": code, "kind": "percent", "value": 10,
                                  "expires_at": made["expires_at"]})
        event = await family.next(lambda e: e["type"] == "conversation.offer", "conversation.offer")
        assert_subset(event["data"], {"conversation": conversation, "visitor": visitor, "code": code, "kind": "percent", "value": 10})
        await eventually(lambda: live_stats(api), lambda s: s["offers"] == {"sent": 1, "accepted": 0, "redeemed": 0}, "one offer sent")

        # Accepted from a tab: on the cart, 10 % off.
        await one.ch.send({"op": "accept_offer", "code": code})
        assert_subset(await one.ch.reply("offer_accepted"), {"code": code, "cart": cart["id"]})
        discounted = await http(api.cart, cart["id"])
        assert [c.lower() for c in discounted["discount_codes"]] == [code.lower()], discounted
        assert discounted["totals"]["discount"] == money(200)
        assert discounted["totals"]["total"] == money(1800) and discounted["totals"]["total"]["amount"] < before["total"]["amount"]
        event = await family.next(lambda e: e["type"] == "offer.accepted", "offer.accepted")
        assert_subset(event["data"], {"conversation": conversation, "visitor": visitor, "code": code, "cart_id": cart["id"]})
        await eventually(lambda: live_stats(api), lambda s: s["offers"] == {"sent": 1, "accepted": 1, "redeemed": 0}, "one accepted")

        # Paid: redeemed.
        await http(checkout_details, api, cart["id"], {"email": email_address(), "shipping_address": address()})
        order = await http(complete, api, cart)
        assert order["totals"]["discount"] == money(200) and order["totals"]["total"] == money(1800)
        await eventually(lambda: live_stats(api), lambda s: s["offers"] == {"sent": 1, "accepted": 1, "redeemed": 1}, "one redeemed")

        # Single use: neither another cart nor the shopper's next one takes it again.
        other = await http(api.new_cart)
        assert (await http(api.add, other["id"], sku, 1)).status_code == 200
        problem = assert_problem(await http(api.public, "PATCH", f"/v1/carts/{other['id']}", {"discount_codes": [code]}),
                                 422, "invalid_request")
        assert any(e["field"] == "discount_codes" for e in problem.get("errors", [])), problem
        assert await one.hello(visitor, cart=other["id"]) == visitor
        await one.ch.send({"op": "accept_offer", "code": code})
        await one.ch.error("offer_rejected")
        assert (await http(api.cart, other["id"]))["totals"]["discount"] == money(0)

        # An offer past its expiry is refused, on the socket and on the cart.
        short = await http(api.ok, "POST", f"/v1/shoppers/{visitor}/offers",
                           {"kind": "fixed", "value": money(300), "expires_in": "1m"}, 201)
        # Bound to the cart the shopper has now, though the order made them a customer.
        assert_subset(short, {"conversation": conversation, "kind": "fixed", "value": money(300), "cart_id": other["id"], "customer_id": None})
        for tab in (one, two):
            assert_subset(await tab.reply_past("offer", {"offer_accepted"}), {"code": short["code"], "kind": "fixed", "value": money(300)})
        await http(advance, api, "2m")
        await one.ch.send({"op": "accept_offer", "code": short["code"]})
        await one.ch.error("offer_rejected")
        assert_problem(await http(api.public, "PATCH", f"/v1/carts/{other['id']}", {"discount_codes": [short["code"]]}),
                       422, "invalid_request")
        await one.ch.send({"op": "accept_offer", "code": unique("NOPE")})
        await one.ch.error("offer_rejected")
        assert (await http(api.cart, other["id"]))["totals"]["discount"] == money(0)
        await one.ch.usable()

        stats = await eventually(lambda: live_stats(api), lambda s: s["offers"]["sent"] == 2, "two offers sent")
        assert stats["offers"] == {"sent": 2, "accepted": 1, "redeemed": 1}
        full = await http(api.ok, "GET", f"/v1/conversations/{conversation}")
        offers = [m["offer"] for m in full["messages"] if m.get("offer")]
        assert [o["code"] for o in offers] == [code, short["code"]], full
        assert offers[0]["accepted_at"] is not None and offers[0]["redeemed"] is True, offers
        assert offers[1]["accepted_at"] is None and offers[1]["redeemed"] is False, offers
    finally:
        await closing(one, two, family)


# Stats --------------------------------------------------------------------------------------------


class Board:
    """An admin's socket subscribed to `stats`, read all along by a task of its own so that each
    `stats.live` message is stamped when it arrives."""

    def __init__(self, channel: Channel):
        self.ch = channel
        self.got: list[tuple[float, dict]] = []  # (arrival, message)
        self.cursor = 0
        self.reader: asyncio.Task | None = None

    @staticmethod
    def _check(message: dict) -> dict:
        assert set(message) == {"topic", "type", "at", "data"}, f"expected a stats message (no seq), got {message}"
        assert (message["topic"], message["type"]) == ("stats", "stats.live"), message
        assert STATS_KEYS <= set(message["data"]), message
        return message

    @classmethod
    async def open(cls, server) -> "Board":
        channel = await Channel.open(server)
        await channel.send({"op": "auth", "key": ADMIN_KEY})
        assert (await channel.reply("authenticated"))["role"] == "admin"
        board = cls(channel)
        subscribed_at = time.monotonic()
        early, subscribed = await channel.subscribe(["stats"])  # the first message may come before the reply
        assert subscribed["topics"] == ["stats"], subscribed
        board.got += [(subscribed_at, cls._check(m)) for m in early]
        board.reader = asyncio.create_task(board._read())
        return board

    async def _read(self) -> None:
        while True:
            raw = await self.ch.conn.recv()
            self.got.append((time.monotonic(), self._check(json.loads(raw))))

    async def next(self, check, what: str, timeout: float = WAIT) -> dict:
        """The data of the first message after the last one `next` returned whose data satisfies `check`."""
        deadline = time.monotonic() + timeout
        while True:
            while self.cursor < len(self.got):
                data = self.got[self.cursor][1]["data"]
                self.cursor += 1
                if check(data):
                    return data
            if self.reader.done():
                self.reader.result()  # raises what stopped it
                raise AssertionError("the stats socket closed")
            if time.monotonic() > deadline:
                raise AssertionError(f"no stats.live with {what} within {timeout:.1f} s; got {[m['data'] for _, m in self.got[-3:]]}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.ch.conn.close()


@async_test(timeout=60)
async def test_live_stats_follow_visitors_views_carts_and_a_paid_order(shop):
    api = shop
    sku, shoes = await http(catalogue, api, 3000)
    _, hat = await http(catalogue, api, 1500)
    start = await http(live_stats, api)
    assert_subset(start, {"visitors_now": 0, "carts_active": 0, "checkouts_in_progress": 0, "orders_today": 0,
                          "revenue_today": money(0), "funnel": NO_FUNNEL, "top_viewed": [], "top_carted": [], "offers": NO_OFFERS})

    board = await Board.open(api.server)
    tabs: list[Tab] = []
    try:
        first = await board.next(lambda d: True, "the message sent at subscribe")
        assert_subset(first, {"visitors_now": 0, "funnel": NO_FUNNEL, "top_viewed": []})

        ada1, ada2, bob = await Tab.open(api.server), await Tab.open(api.server), await Tab.open(api.server)
        tabs += [ada1, ada2, bob]
        a = await ada1.hello()
        assert await ada2.hello(a) == a
        b = await bob.hello()
        await eventually(lambda: live_stats(api), lambda s: s["visitors_now"] == 2, "two visitors (three sockets)")

        # Views: the shoes three times by two shoppers, the hat once.
        await ada1.tracked("product.viewed", {"product_id": shoes["id"]})
        await ada2.tracked("product.viewed", {"product_id": shoes["id"]})
        await bob.tracked("product.viewed", {"product_id": shoes["id"]})
        await bob.tracked("product.viewed", {"product_id": hat["id"]})
        stats = await eventually(lambda: live_stats(api), lambda s: len(s["top_viewed"]) == 2 and s["top_viewed"][0]["views"] == 3,
                                 "the shoes and the hat in top_viewed")
        assert stats["top_viewed"] == [{"product_id": shoes["id"], "title": shoes["title"], "views": 3},
                                       {"product_id": hat["id"], "title": hat["title"], "views": 1}]
        assert stats["funnel"] == {"viewed": 2, "carted": 0, "checkout": 0, "paid": 0}

        # Ada carts the shoes, goes to checkout and pays.
        cart = await http(api.new_cart)
        assert await ada1.hello(a, cart=cart["id"]) == a
        assert (await http(api.add, cart["id"], sku, 1)).status_code == 200
        stats = await eventually(lambda: live_stats(api), lambda s: s["funnel"]["carted"] == 1, "a carted shopper")
        # Carted by variant: the line's SKU and title.
        assert [(c["sku"], c["adds"]) for c in stats["top_carted"]] == [(sku, 1)]
        assert stats["top_carted"][0]["title"].startswith(shoes["title"])
        assert stats["carts_active"] == 1 and stats["funnel"] == {"viewed": 2, "carted": 1, "checkout": 0, "paid": 0}
        await http(checkout_details, api, cart["id"], {"email": email_address(), "shipping_address": address(), "checkout_step": "payment"})
        stats = await eventually(lambda: live_stats(api), lambda s: s["funnel"]["checkout"] == 1, "a shopper at checkout")
        assert stats["checkouts_in_progress"] == 1
        order = await http(complete, api, cart)
        stats = await eventually(lambda: live_stats(api), lambda s: s["funnel"]["paid"] == 1, "a paying shopper")
        assert stats["funnel"] == {"viewed": 2, "carted": 1, "checkout": 1, "paid": 1}
        assert_subset(stats, {"orders_today": 1, "revenue_today": order["totals"]["total"], "checkouts_in_progress": 0,
                              "carts_active": 0, "visitors_now": 2})
        assert order["totals"]["total"] == money(3000)

        # The board heard it all as it changed, at most once a second after the message at subscribe.
        paid = await board.next(lambda d: d["funnel"]["paid"] == 1 and d["orders_today"] == 1, "the paid order")
        assert paid["revenue_today"] == money(3000) and paid["funnel"] == {"viewed": 2, "carted": 1, "checkout": 1, "paid": 1}
        arrivals = [t for t, _ in board.got[1:]]
        gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
        assert all(gap >= 0.75 for gap in gaps), f"stats.live more often than once a second: {gaps}"

        # Bob leaves: one visitor now.
        await bob.close()
        await http(advance, api, "11s")
        await eventually(lambda: live_stats(api), lambda s: s["visitors_now"] == 1, "bob gone from visitors_now", timeout=SWEEP + WAIT)
        await board.next(lambda d: d["visitors_now"] == 1, "one visitor now", timeout=SWEEP + WAIT)
    finally:
        await closing(*tabs, board)


# Who the shopper is -------------------------------------------------------------------------------


@async_test(timeout=120)
async def test_signed_in_shoppers_are_named_and_their_views_feed_preferences_and_segments(launch, tls_files, sink_factory):
    sink = sink_factory()
    api = mail_server(launch, tls_files, sink)
    _, shoes = await http(catalogue, api)
    _, hat = await http(catalogue, api)
    ada_email, cy_email = email_address("ada"), email_address("cy")
    ada_token, ada = await http(sign_in, api, sink, ada_email)
    cy_token, cy = await http(sign_in, api, sink, cy_email)

    desk = await Desk.open(api.server, ["shoppers"])
    signed, anonymous, guest = await Tab.open(api.server), await Tab.open(api.server), None
    try:
        # Signed in from the first hello: named, with the email.
        a = await signed.hello(customer_token=ada_token)
        joined = await desk.next(is_("shopper.joined", a), "ada joining")
        assert_subset(joined["data"]["customer"], {"id": ada["id"], "email": ada_email})
        c = await anonymous.hello()
        joined = await desk.next(is_("shopper.joined", c), "an anonymous shopper joining")
        assert joined["data"]["customer"] is None

        await signed.tracked("product.viewed", {"product_id": hat["id"]})
        await anonymous.tracked("product.viewed", {"product_id": shoes["id"]})
        await desk.next(is_("shopper.viewed", c, product_is(shoes["id"])), "the anonymous view")
        assert live_entries(api)[c]["customer"] is None

        # The anonymous shopper signs in on that tab: named from now on, and the views before are theirs.
        assert await anonymous.hello(c, customer_token=cy_token) == c
        named = await desk.next(is_("shopper.updated", c, lambda e: (e["customer"] or {}).get("id") == cy["id"]), "cy named")
        assert named["data"]["customer"]["email"] == cy_email
        assert live_entries(api)[c]["customer"]["email"] == cy_email

        def viewed_by(customer_id: str) -> list[str]:
            return [v["product_id"] for v in get_customer(api, customer_id)["preferences"]["last_viewed"]]

        await eventually(lambda: viewed_by(cy["id"]), lambda v: v == [shoes["id"]], "cy's last_viewed")
        await eventually(lambda: viewed_by(ada["id"]), lambda v: v == [hat["id"]], "ada's last_viewed")
        for product, who in ((shoes, cy), (hat, ada)):
            segment = await http(create_segment, api, {"viewed": {"product_id": product["id"]}})
            assert segment["count"] == 1, segment
            assert await http(customer_ids, api, segment=segment["id"]) == [who["id"]]

        # A guest whose cart carries a known customer's email is named too.
        guest = await Tab.open(api.server)
        g = await guest.hello()
        await desk.next(is_("shopper.joined", g), "a guest joining")
        cart = await http(api.new_cart)
        assert await guest.hello(g, cart=cart["id"]) == g
        await http(checkout_details, api, cart["id"], {"email": ada_email})
        named = await desk.next(is_("shopper.updated", g, lambda e: (e["customer"] or {}).get("id") == ada["id"]), "the guest named")
        assert named["data"]["customer"]["email"] == ada_email
    finally:
        await closing(signed, anonymous, guest, desk)


# Privacy ------------------------------------------------------------------------------------------


@async_test(timeout=60)
async def test_tracking_without_consent_or_with_tracking_off_is_dropped(shop):
    api = shop
    _, shoes = await http(catalogue, api)
    desk = await Desk.open(api.server, ["shoppers"])
    shy, tab = await Tab.open(api.server), await Tab.open(api.server)
    try:
        # A hello without consent gets no answer and makes no presence.
        await shy.ch.send({"op": "hello", "consent": False})
        await shy.ch.usable()  # the pong is the next message: no welcome came
        await desk.drain(quiet=0.5)
        assert desk.events == [] and (await http(snapshot, api))["items"] == []

        visitor = await tab.hello()
        await desk.next(is_("shopper.joined", visitor), "shopper.joined")
        mark = len(desk.events)
        await tab.tracked("product.viewed", {"product_id": shoes["id"]}, consent=False)
        await tab.tracked("page.viewed", {"path": "/shop/private"}, consent=False)
        response = await http(api.public, "POST", "/v1/activity", {
            "visitor": visitor, "events": [{"type": "product.viewed", "data": {"product_id": shoes["id"]}}], "consent": False})
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 0}
        await desk.drain(quiet=0.7)
        assert desk.events[mark:] == []
        assert_subset(live_entries(api)[visitor], {"product": None, "page": None})
        stats = await http(live_stats, api)
        assert stats["top_viewed"] == [] and stats["funnel"]["viewed"] == 0

        # Tracking switched off for the shop.
        settings = await http(api.ok, "PATCH", "/v1/settings", {"activity_tracking": False})
        assert settings["activity_tracking"] is False
        assert (await http(api.ok, "GET", "/v1/settings"))["activity_tracking"] is False
        await tab.tracked("product.viewed", {"product_id": shoes["id"]})
        response = await http(api.public, "POST", "/v1/activity", {
            "visitor": visitor, "events": [{"type": "page.viewed", "data": {"path": "/shop/off"}}]})
        assert response.status_code == 202, response.text
        await desk.drain(quiet=0.7)
        assert not [e for e in desk.events[mark:] if e["type"] in ("shopper.viewed", "shopper.updated")
                    and (e["data"]["product"] or e["data"]["page"])], desk.events[mark:]
        assert_subset(live_entries(api)[visitor], {"product": None, "page": None})
        assert (await http(live_stats, api))["top_viewed"] == []

        # And on again.
        await http(api.ok, "PATCH", "/v1/settings", {"activity_tracking": True})
        await tab.tracked("product.viewed", {"product_id": shoes["id"]})
        await desk.next(is_("shopper.viewed", visitor, product_is(shoes["id"])), "a view once tracking is back on")
    finally:
        await closing(shy, tab, desk)


# POST /v1/activity --------------------------------------------------------------------------------


@async_test(timeout=60)
async def test_activity_posted_without_a_socket_is_tracked_and_checked(shop):
    api = shop
    _, shoes = await http(catalogue, api)
    desk = await Desk.open(api.server, ["shoppers"])
    tab = await Tab.open(api.server)
    try:
        visitor = await tab.hello()
        await desk.next(is_("shopper.joined", visitor), "shopper.joined")

        response = await http(api.public, "POST", "/v1/activity", {"visitor": visitor, "events": [
            {"type": "page.viewed", "data": {"path": "/shop/shoes", "title": "Shoes"}},
            {"type": "search", "data": {"query": "blue shoes"}},
            {"type": "product.viewed", "data": {"product_id": shoes["id"]}},
        ]})
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": 3}
        await desk.next(is_("shopper.updated", visitor, page_is("/shop/shoes")), "the posted page view")
        viewed = await desk.next(is_("shopper.viewed", visitor, product_is(shoes["id"])), "the posted product view")
        assert viewed["data"]["product"] == {"id": shoes["id"], "title": shoes["title"]}
        stats = await eventually(lambda: live_stats(api), lambda s: s["funnel"]["viewed"] == 1, "the posted view counted")
        assert stats["top_viewed"] == [{"product_id": shoes["id"], "title": shoes["title"], "views": 1}]

        # An unknown visitor: 404.
        assert_problem(await http(api.public, "POST", "/v1/activity", {
            "visitor": unknown_visitor(), "events": [{"type": "page.viewed", "data": {"path": "/"}}]}), 404, "not_found")

        # Bad batches: 422, and nothing of them is stored (not even their good events).
        page = live_entries(api)[visitor]["page"]
        mark = len(desk.events)
        good = {"type": "page.viewed", "data": {"path": "/shop/never"}}
        for events in ([{"type": "page.scrolled", "data": {}}],
                       [good, {"type": "page.scrolled", "data": {}}],
                       [good, {"type": "product.viewed", "data": {}}],
                       [{"type": "page.viewed", "data": {"path": 7}}],
                       [{"type": "search", "data": {"query": "q" * 3000}}],  # data over 2 KiB
                       [],
                       [good] * 51):
            assert_problem(await http(api.public, "POST", "/v1/activity", {"visitor": visitor, "events": events}),
                           422, "invalid_request")
        assert_problem(await http(api.public, "POST", "/v1/activity", {"events": [good]}), 422, "invalid_request")
        await desk.drain(quiet=0.7)
        assert desk.events[mark:] == []
        assert live_entries(api)[visitor]["page"] == page
        assert (await http(live_stats, api))["top_viewed"][0]["views"] == 1
    finally:
        await closing(tab, desk)


# Bad input on the socket --------------------------------------------------------------------------


@async_test(timeout=90)
async def test_bad_ops_are_refused_and_the_socket_stays_open(shop):
    api = shop
    tab = await Tab.open(api.server)
    others: list[Tab] = []
    try:
        # Nothing before hello.
        for op in ({"op": "track", "type": "page.viewed", "data": {"path": "/"}}, {"op": "message", "text": "hi"}):
            await tab.ch.send(op)
            await tab.ch.error("invalid_request")
            await tab.ch.usable()
        visitor = await tab.hello()

        # An unknown visitor id gets a new one; another visitor on a socket that said hello is refused.
        stranger = await Tab.open(api.server)
        others.append(stranger)
        given = unknown_visitor()
        fresh = await stranger.hello(given)
        assert fresh != given and fresh != visitor
        await tab.ch.send({"op": "hello", "visitor": fresh})
        await tab.ch.error("invalid_request")
        await tab.ch.usable()

        cases = [
            ({"op": "dance"}, "invalid_request"),
            ({"op": "track", "type": "page.scrolled", "data": {}}, "invalid_request"),
            ({"op": "track", "type": 7, "data": {}}, "invalid_request"),
            ({"op": "track", "type": "page.viewed"}, "invalid_request"),
            ({"op": "track", "type": "page.viewed", "data": {}}, "invalid_request"),
            ({"op": "track", "type": "page.viewed", "data": {"path": 7}}, "invalid_request"),
            ({"op": "track", "type": "product.viewed", "data": {}}, "invalid_request"),
            ({"op": "track", "type": "search", "data": {}}, "invalid_request"),
            ({"op": "track", "type": "checkout.step", "data": {}}, "invalid_request"),
            ({"op": "track", "type": "search", "data": {"query": "q" * 3000}}, "invalid_request"),  # data over 2 KiB
            ({"op": "track", "type": "product.viewed", "data": {"product_id": "prod_nope"}}, "not_found"),
            ({"op": "message"}, "invalid_request"),
            ({"op": "message", "text": ""}, "invalid_request"),
            ({"op": "message", "text": "x" * 2001}, "invalid_request"),
        ]
        for message, code in cases:
            await tab.ch.send(message)
            await tab.ch.error(code)
            await tab.ch.usable()
        await tab.tracked("page.viewed", {"path": "/shop/ok"})

        # A 1 MB message is over the channel's 64 KiB message limit (WebSocketOptions.maxMessageSize):
        # that socket is closed with 1009; the visitor's other socket and new ones go on.
        big = await Tab.open(api.server, compression=None)
        others.append(big)
        assert await big.hello(visitor) == visitor
        try:
            await big.ch.send({"op": "track", "type": "page.viewed", "data": {"path": "/", "pad": "x" * (1 << 20)}})
        except ConnectionClosed:
            pass  # closed while the rest was still going out; the close code is read below
        assert await big.ch.closed_with() == 1009
        await tab.ch.usable()
        again = await Tab.open(api.server)
        others.append(again)
        assert await again.hello(visitor) == visitor
        await again.ch.usable()

        # A flood of tracks: the extra ones are refused with rate_limited, the socket stays open.
        count = 1000
        replies: list[dict] = []

        async def read_until_pong():
            while True:
                message = await tab.ch.recv(timeout=20)
                if message == {"op": "pong"}:
                    return
                replies.append(message)

        reader = asyncio.create_task(read_until_pong())
        started = time.monotonic()
        for i in range(count):
            await tab.track("page.viewed", {"path": f"/shop/p/{i}"})
        await tab.ch.send({"op": "ping"})
        await reader
        elapsed = time.monotonic() - started
        refused = [m for m in replies if m.get("op") == "error" and m.get("code") == "rate_limited"]
        assert refused == replies, [m for m in replies if m not in refused][:5]
        assert all(isinstance(m.get("detail"), str) and m["detail"] for m in refused)
        taken = count - len(refused)
        print(f"flood: {taken} of {count} tracks taken, {len(refused)} rate_limited in {elapsed:.2f} s")
        assert refused, "no track was rate limited"
        assert 1 <= taken <= 20 * (int(elapsed) + 2), (taken, elapsed)
        await tab.ch.usable()
        entries = await eventually(lambda: live_entries(api), lambda e: e[visitor]["page"]["path"].startswith("/shop/p/"),
                                   "a flooded page view in the entry")
        assert entries[visitor]["sockets"] == 2
    finally:
        await closing(tab, *others)


# Bad input over HTTP, and who may watch -----------------------------------------------------------


@async_test(timeout=60)
async def test_reaching_shoppers_is_for_admins_and_live_visitors_only(shop):
    api = shop
    pos = await http(api.api_key, "pos", "main")
    storefront = await http(api.api_key, "storefront")
    for path in ("/v1/shoppers/live", "/v1/stats/live", "/v1/conversations"):
        for key in (pos, storefront):
            assert_problem(await http(api.call, "GET", path, key=key), 403, "forbidden")
        assert_problem(await http(api.call, "GET", path, key=None), 401, "unauthorized")

    # Restricted topics on the socket: refused without an admin key.
    async with await Channel.open(api.server) as ch:
        for topics in (["shoppers"], ["stats"], ["conversations"], ["conversation:cnv_0123456789"]):
            await ch.send({"op": "subscribe", "topics": topics})
            assert (await ch.error("forbidden"))["topics"] == topics
        await ch.send({"op": "subscribe", "topics": ["shoppers"], "since": 0})
        assert (await ch.error("forbidden"))["topics"] == ["shoppers"]
        await ch.send({"op": "auth", "key": pos})
        assert (await ch.reply("authenticated"))["role"] == "pos"
        await ch.send({"op": "subscribe", "topics": ["shoppers"]})
        await ch.error("forbidden")
        await ch.usable()

    tab = await Tab.open(api.server)
    try:
        visitor = await tab.hello()
        messages, offers = f"/v1/shoppers/{visitor}/messages", f"/v1/shoppers/{visitor}/offers"
        offer = {"kind": "percent", "value": 10, "expires_in": "30m"}

        # Unknown visitors.
        nobody = unknown_visitor()
        assert_problem(await http(post, api, f"/v1/shoppers/{nobody}/messages", {"text": "hi"}), 404, "not_found")
        assert_problem(await http(post, api, f"/v1/shoppers/{nobody}/offers", offer), 404, "not_found")

        # Admins only.
        for key in (pos, storefront, None):
            response = await http(post, api, messages, {"text": "hi"}, key)
            assert response.status_code == (401 if key is None else 403), response.text
            response = await http(post, api, offers, offer, key)
            assert response.status_code == (401 if key is None else 403), response.text

        # Bad bodies: 422, nothing sent.
        for body in ({}, {"text": ""}, {"text": "x" * 2001}, {"text": 7}):
            assert_problem(await http(post, api, messages, body), 422, "invalid_request")
        for body in ({**offer, "value": -10}, {**offer, "value": 0}, {**offer, "kind": "bogus"},
                     {**offer, "expires_in": "31d"}, {**offer, "expires_in": "soon"}, {**offer, "expires_in": "-5m"},
                     {"kind": "fixed", "value": money(-100), "expires_in": "1h"}, {"kind": "fixed", "value": money(0), "expires_in": "1h"},
                     {"kind": "percent", "expires_in": "1h"}):
            assert_problem(await http(post, api, offers, body), 422, "invalid_request")
        await tab.ch.usable()  # the next message is the pong: nothing reached the shopper
        assert await http(pages, api, "/v1/conversations") == []
        assert (await http(live_stats, api))["offers"]["sent"] == 0

        # An offer to a shopper with no cart cannot be accepted yet.
        made = await http(api.ok, "POST", offers, offer, 201)
        assert made["cart_id"] is None and made["customer_id"] is None
        assert (await tab.ch.reply("offer"))["code"] == made["code"]
        await tab.ch.send({"op": "accept_offer", "code": made["code"]})
        await tab.ch.error("conflict")

        # Known but gone: 409 with live false.
        await tab.close()
        await http(advance, api, "11s")
        await eventually(lambda: live_entries(api), lambda e: visitor not in e, "the visitor to leave", timeout=SWEEP + WAIT)
        for path, body in ((messages, {"text": "Still there?"}), (offers, offer)):
            problem = assert_problem(await http(post, api, path, body), 409, "conflict")
            assert problem["live"] is False, problem
    finally:
        await tab.close()


# Watching a checkout ------------------------------------------------------------------------------


@async_test(timeout=40)
async def test_an_admin_watching_a_cart_sees_each_customisation_as_it_is_typed(shop):
    api = shop
    sku, _ = await http(catalogue, api, 4500)
    cart = await http(api.new_cart)
    added = await http(api.add, cart["id"], sku, 1, {"engraving": "", "font": "serif"})
    assert added.status_code == 200, added.text
    line = added.json()["lines"][0]
    desk = await Desk.open(api.server, [f"cart:{cart['id']}"])
    try:
        typed = [{"engraving": text, "font": "serif"} for text in ("A", "Ad", "Ada", "Ada ", "Ada L")]
        for customisation in typed:
            response = await http(api.patch_line, cart["id"], line["id"], {"customisation": customisation})
            assert response.status_code == 200, response.text
            assert response.json()["lines"][0]["customisation"] == customisation

        def updated_to(value):
            return lambda e: e["type"] == "cart.line_updated" and e["data"].get("customisation") == value

        await desk.next(updated_to(typed[-1]), "the last customisation")
        await desk.drain(quiet=1.0)
        updates = [e for e in desk.events if e["type"] == "cart.line_updated"]
        for event in updates:
            assert event["topic"] == f"cart:{cart['id']}"
            assert_subset(event["data"], {"cart_id": cart["id"], "line_id": line["id"], "sku": sku, "quantity": 1})
            assert event["data"]["customisation"] in typed, event
        # Each one a value the shopper set, in the order set (debouncing may leave some out), the last one last.
        order = [typed.index(e["data"]["customisation"]) for e in updates]
        assert order == sorted(set(order)) and order[-1] == len(typed) - 1, order
        assert updates[-1]["data"]["customisation"] == typed[-1]

        # Once the typing stops, the next change is heard on its own.
        final = {"engraving": "Ada L.", "font": "script"}
        assert (await http(api.patch_line, cart["id"], line["id"], {"customisation": final})).status_code == 200
        await desk.next(updated_to(final), "the final customisation")
        assert (await http(api.cart, cart["id"]))["lines"][0]["customisation"] == final
        seqs = [e["seq"] for e in desk.events]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    finally:
        await desk.close()


@async_test(timeout=60)
async def test_a_shopper_known_by_email_takes_an_offer_and_a_tracked_step_stands(shop):
    """An offer to a shopper the cart's email identified goes on the cart they have (not a customer
    the cart does not name); a step the storefront tracked is not undone by the next cart event."""
    api = shop
    sku, _ = await http(catalogue, api, 2000)
    email = email_address()
    known = await http(create_customer, api, email=email)
    tab = await Tab.open(api.server)
    desk = await Desk.open(api.server, ["shoppers", "customers"])
    try:
        visitor = await tab.hello()
        cart = await http(api.new_cart)
        assert await tab.hello(visitor, cart=cart["id"]) == visitor
        assert (await http(api.add, cart["id"], sku, 1)).status_code == 200
        await http(checkout_details, api, cart["id"], {"email": email})
        await desk.next(is_("shopper.updated", visitor, lambda e: (e["customer"] or {}).get("id") == known["id"]), "the shopper named")

        await tab.tracked("checkout.step", {"step": "shipping"})
        await desk.next(is_("shopper.updated", visitor, lambda e: e["checkout_step"] == "shipping"), "the tracked step")
        made = await http(api.ok, "POST", f"/v1/shoppers/{visitor}/offers", {"kind": "percent", "value": 10, "expires_in": "30m"}, 201)
        assert_subset(made, {"cart_id": cart["id"], "customer_id": None})
        assert (await tab.ch.reply("offer"))["code"] == made["code"]
        await tab.ch.send({"op": "accept_offer", "code": made["code"]})
        assert_subset(await tab.ch.reply("offer_accepted"), {"code": made["code"], "cart": cart["id"]})
        assert (await http(api.cart, cart["id"]))["totals"]["discount"] == money(200)
        # The cart events of the acceptance refresh the entry; the tracked step is still there.
        refreshed = await desk.next(is_("shopper.updated", visitor, lambda e: (e["cart"] or {}).get("total") == money(1800)),
                                    "the discounted cart")
        assert refreshed["data"]["checkout_step"] == "shipping"
    finally:
        await closing(tab, desk)


@async_test(timeout=60)
async def test_a_server_that_stopped_with_shoppers_live_says_they_left_when_it_starts(launch):
    """No socket outlives the process: visitors live when a server died get their `shopper.left` when it
    starts again, so an admin resuming `shoppers` with `since` does not keep them forever."""
    server = crm_server(launch)
    api = Api(server)
    tab = await Tab.open(server)
    visitor = await tab.hello()
    seq = (await http(snapshot, api))["seq"]
    server.signal(signal.SIGKILL)
    assert server.wait_exit(10) == -signal.SIGKILL
    revived = crm_server(launch, data_dir=server.data_dir)
    desk = await Desk.open(revived, ["shoppers"], since=seq)
    try:
        left = await desk.next(is_("shopper.left", visitor), "the stranded visitor leaving")
        assert left["data"] == {"visitor": visitor}
        assert (await http(snapshot, Api(revived)))["items"] == []
    finally:
        await closing(desk)
