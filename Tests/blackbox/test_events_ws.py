"""The live event channel, `GET /v1/events/ws` (API.md, Events), and the WebSocket transport under it.

Browsers and tills subscribe to topics and hear every change as it commits, with no polling; a
client that reconnects with `since` gets exactly what it missed, then live events, with no gap and
no duplicate even while events are being appended. Restricted topics need `auth`; a client that
does not read is cut off without slowing the others; SIGTERM closes every WebSocket with 1001.

Clients are `websockets` (asyncio) connections, except where a test needs to misbehave on the wire
(handshake refusals, a consumer that never reads, one that never answers pings): those speak raw
frames over a socket. Every wait has a deadline; each test runs in its own event loop under an
overall timeout.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import secrets
import signal
import socket
import struct
import threading
import time

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from cart_api import ADMIN_ENV, Api, assert_problem, unique, wait_for

EVENTS_PATH = "/v1/events/ws"
ECHO_PATH = "/v1/echo/ws"
WAIT = 5.0  # seconds: the longest any single expected message may take
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
EVENT_KEYS = {"seq", "type", "at", "topic", "data"}


# Servers ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ws_server(module_launch):
    """One server for the module's channel and protocol tests: known admin key, echo endpoints on."""
    return module_launch({"enable_echo": True}, env=ADMIN_ENV)


@pytest.fixture(scope="module")
def ttl_server(module_launch):
    """Carts expire 2 s after their last write."""
    return module_launch({"reservation_ttl": "2s"}, env=ADMIN_ENV)


@pytest.fixture
def api(ws_server) -> Api:
    return Api(ws_server)


# Test plumbing ---------------------------------------------------------------------------------

def async_test(timeout: float = 30.0):
    """Runs an `async def` test in a fresh event loop, failing it after `timeout` seconds."""

    def wrap(fn):
        @functools.wraps(fn)
        def runner(*args, **kwargs):
            async def main():
                async with asyncio.timeout(timeout):
                    return await fn(*args, **kwargs)

            return asyncio.run(main())

        return runner

    return wrap


def http(fn, *args, **kwargs):
    """An HTTP call off the event loop, so the WebSocket clients keep reading meanwhile."""
    return asyncio.to_thread(fn, *args, **kwargs)


def ws_url(server, path: str = EVENTS_PATH) -> str:
    return f"ws://{server.host}:{server.port}{path}"


class Channel:
    """One `websockets` client of the event channel, with JSON helpers that all have deadlines."""

    def __init__(self, conn):
        self.conn = conn

    @classmethod
    async def open(cls, server, path: str = EVENTS_PATH, compression: str | None = "deflate", **kwargs) -> "Channel":
        conn = await ws_connect(ws_url(server, path), open_timeout=WAIT, close_timeout=3, ping_interval=None,
                                max_size=None, compression=compression, **kwargs)
        return cls(conn)

    async def __aenter__(self) -> "Channel":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.conn.close()

    async def send(self, message) -> None:
        await self.conn.send(json.dumps(message) if isinstance(message, (dict, list)) else message)

    async def recv_raw(self, timeout: float = WAIT):
        try:
            return await asyncio.wait_for(self.conn.recv(), timeout)
        except TimeoutError:
            raise AssertionError(f"nothing received within {timeout:.1f} s") from None

    async def recv(self, timeout: float = WAIT) -> dict:
        raw = await self.recv_raw(timeout)
        assert isinstance(raw, str), f"the channel sends JSON text messages, got {raw!r:.100}"
        message = json.loads(raw)
        assert isinstance(message, dict), message
        return message

    async def reply(self, op: str, timeout: float = WAIT) -> dict:
        message = await self.recv(timeout)
        assert message.get("op") == op, f"expected op {op!r}, got {message}"
        return message

    async def error(self, code: str, timeout: float = WAIT) -> dict:
        message = await self.reply("error", timeout)
        assert message.get("code") == code, message
        assert isinstance(message.get("detail"), str) and message["detail"], message
        return message

    async def subscribe(self, topics: list[str], since: int | None = None, timeout: float = WAIT) -> tuple[list[dict], dict]:
        """Subscribes; returns the replayed events (those before the `subscribed` reply) and the reply."""
        body: dict = {"op": "subscribe", "topics": topics}
        if since is not None:
            body["since"] = since
        await self.send(body)
        events = []
        while True:
            message = await self.recv(timeout)
            if "op" in message:
                assert message["op"] == "subscribed", (message, events)
                return events, message
            events.append(message)

    async def event(self, timeout: float = WAIT) -> dict:
        message = await self.recv(timeout)
        assert set(message) == EVENT_KEYS, f"expected an event, got {message}"
        return message

    async def event_where(self, predicate, timeout: float = WAIT) -> tuple[dict, list[dict]]:
        """The first event matching `predicate` and every message before it."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if "op" not in message and predicate(message):
                return message, before
            before.append(message)

    async def collect(self, quiet: float, limit: float = 15.0) -> list[dict]:
        """Everything that arrives until `quiet` seconds pass in silence (at most `limit` seconds)."""
        out = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(self.conn.recv(), min(quiet, max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                return out
            out.append(json.loads(raw))
        return out

    async def silent(self, seconds: float, what: str) -> None:
        extra = await self.collect(quiet=seconds, limit=seconds * 2)
        assert extra == [], f"{what}: {extra}"

    async def usable(self) -> None:
        """The connection still answers ops."""
        await self.send({"op": "ping"})
        assert await self.recv() == {"op": "pong"}

    async def closed_with(self, timeout: float = WAIT) -> int | None:
        """Waits for the server to close; returns the close code it sent (None if it sent none)."""
        try:
            while True:
                await asyncio.wait_for(self.conn.recv(), timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            raise AssertionError(f"the server did not close within {timeout:.1f} s") from None


def stocked(api: Api, units: int, location: str = "main") -> str:
    sku = unique("WS")
    api.product(sku, stock=units, location=location)
    return sku


def last_seq(api: Api, topics: str) -> int:
    events = api.events(topics)
    return events[-1]["seq"] if events else 0


def seqs(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages if "op" not in m]


def stock_data(event: dict) -> dict:
    assert event["type"] == "stock.changed", event
    return event["data"]


# Raw WebSocket over a socket, for tests that misbehave on the wire ------------------------------

def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode()


def upgrade_headers(key: str | None = None, version: str = "13", upgrade: bool = True, extensions: str | None = None):
    headers = []
    if upgrade:
        headers += [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    if key is not None:
        headers.append(("Sec-WebSocket-Key", key))
    if version is not None:
        headers.append(("Sec-WebSocket-Version", version))
    if extensions is not None:
        headers.append(("Sec-WebSocket-Extensions", extensions))
    return headers


def client_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """A masked client frame (RFC 6455 §5.2)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 65536:
        head.append(0x80 | 126)
        head += struct.pack("!H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", n)
    mask = os.urandom(4)
    head += mask
    return bytes(head) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWebSocket:
    """A WebSocket client that does only what the test tells it: frames in and out by hand."""

    def __init__(self, server, path: str = EVENTS_PATH, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect, so the advertised window stays small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT)
        self.sock.connect((server.host, server.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.eof = False
        self.received_bytes = 0
        key = new_key()
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        deadline = time.monotonic() + WAIT
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(deadline), f"closed during the handshake: {bytes(self.buffer)!r}"
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer = bytearray(rest)
        assert head.startswith(b"HTTP/1.1 101"), head
        assert f"sec-websocket-accept: {accept_for(key)}".lower().encode() in head.lower(), head

    def close(self) -> None:
        self.sock.close()

    def send(self, opcode: int, payload: bytes) -> None:
        self.sock.sendall(client_frame(opcode, payload))

    def send_json(self, message: dict) -> None:
        self.send(0x1, json.dumps(message).encode())

    def _fill(self, deadline: float) -> bool:
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from the server before the deadline")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        except (socket.timeout, TimeoutError):
            raise TimeoutError("no data from the server before the deadline") from None
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.received_bytes += len(data)
        self.buffer += data
        return True

    def _take(self, count: int, deadline: float) -> bytes | None:
        while len(self.buffer) < count:
            if not self._fill(deadline):
                return None
        out = bytes(self.buffer[:count])
        del self.buffer[:count]
        return out

    def frame(self, timeout: float = WAIT) -> tuple[int, bytes] | None:
        """The next (opcode, payload) from the server, or None at end of stream."""
        deadline = time.monotonic() + timeout
        head = self._take(2, deadline)
        if head is None:
            return None
        assert head[1] & 0x80 == 0, "server frames must not be masked"
        assert head[0] & 0x80, "the channel does not fragment"  # FIN: the server sends whole messages
        opcode, n = head[0] & 0x0F, head[1] & 0x7F
        if n == 126:
            raw = self._take(2, deadline)
            n = struct.unpack("!H", raw)[0] if raw else None
        elif n == 127:
            raw = self._take(8, deadline)
            n = struct.unpack("!Q", raw)[0] if raw else None
        if n is None:
            return None
        payload = self._take(n, deadline)
        return None if payload is None else (opcode, payload)


# Live stock: the last unit, and a till beside the web shop --------------------------------------

@async_test()
async def test_the_last_unit_reaches_a_subscriber_without_polling(api):
    sku = stocked(api, 1)
    before = last_seq(api, f"stock:{sku}")
    async with await Channel.open(api.server) as b:
        replayed, subscribed = await b.subscribe([f"stock:{sku}"])
        assert replayed == []
        assert subscribed["seq"] >= before

        # Browser A carts the last unit over HTTP.
        cart = await http(api.new_cart)
        response = await http(api.add, cart["id"], sku, 1)
        assert response.status_code == 200, response.text
        started = time.monotonic()
        event = await b.event(timeout=3)
        assert time.monotonic() - started < 3
        assert event["topic"] == f"stock:{sku}" and event["seq"] > subscribed["seq"]
        assert stock_data(event) | {"location": None} == {"sku": sku, "available": 0, "on_hand": 1, "reserved": 1, "location": None}

        # The very event the log holds.
        logged = api.events(f"stock:{sku}", since=subscribed["seq"])
        assert logged == [event]

        # Nobody else gets it; a refusal moves nothing, so nothing more arrives.
        other = await http(api.new_cart)
        assert_problem(await http(api.add, other["id"], sku, 1), 409, "insufficient_stock")
        await b.silent(0.5, "a refused add sent events")


@async_test()
async def test_a_till_and_the_web_shop_see_each_others_stock(api):
    sku = stocked(api, 2)
    pos_key = api.api_key("pos", location="main")
    async with await Channel.open(api.server) as till, await Channel.open(api.server) as web:
        await till.send({"op": "auth", "key": pos_key})
        assert await till.reply("authenticated") == {"op": "authenticated", "role": "pos"}
        for channel in (till, web):
            await channel.subscribe([f"stock:{sku}"])

        # The till sells one at main (a pos cart at its location) ...
        till_cart = await http(api.new_cart, "pos", key=pos_key)
        assert till_cart["location"] == "main"
        assert (await http(api.add, till_cart["id"], sku, 1)).status_code == 200
        for channel in (web, till):
            assert stock_data(await channel.event())["available"] == 1

        # ... and the web shop takes the other; the till hears of it.
        web_cart = await http(api.new_cart)
        assert (await http(api.add, web_cart["id"], sku, 1)).status_code == 200
        for channel in (till, web):
            data = stock_data(await channel.event())
            assert (data["available"], data["on_hand"], data["reserved"]) == (0, 2, 2), data

        # Neither can take a third.
        assert_problem(await http(api.add, till_cart["id"], sku, 1), 409, "insufficient_stock")
        assert_problem(await http(api.add, web_cart["id"], sku, 1), 409, "insufficient_stock")

        # The till puts one back; the web shop sees it come back.
        line = [l for l in (await http(api.cart, till_cart["id"]))["lines"] if l["sku"] == sku][0]
        assert (await http(api.remove_line, till_cart["id"], line["id"])).status_code == 200
        for channel in (web, till):
            assert stock_data(await channel.event())["available"] == 1


# Ops: replies and errors -----------------------------------------------------------------------

@async_test()
async def test_subscribed_reply_ping_and_bad_ops_keep_the_connection(api):
    sku = stocked(api, 5)
    async with await Channel.open(api.server) as ch:
        await ch.send({"op": "ping"})
        assert await ch.recv() == {"op": "pong"}

        replayed, subscribed = await ch.subscribe([f"stock:{sku}", f"stock:{sku}", "products"])
        assert replayed == []
        assert set(subscribed) == {"op", "topics", "seq"}, subscribed
        assert subscribed["op"] == "subscribed" and isinstance(subscribed["seq"], int)
        assert subscribed["topics"] == [f"stock:{sku}", "products"], subscribed  # duplicates dropped
        assert subscribed["seq"] >= last_seq(api, f"stock:{sku}")

        bad = [
            "{not json",
            "",
            "[1, 2]",
            '"subscribe"',
            "null",
            {"op": "dance"},
            {"topics": ["stock"]},
            {"op": 7},
            {"op": "subscribe"},
            {"op": "subscribe", "topics": []},
            {"op": "subscribe", "topics": "stock"},
            {"op": "subscribe", "topics": ["nope"]},
            {"op": "subscribe", "topics": ["stock:"]},
            {"op": "subscribe", "topics": ["stock", "warehouse:main"]},
            {"op": "subscribe", "topics": [7]},
            {"op": "subscribe", "topics": ["x" * 5000]},
            {"op": "subscribe", "topics": ["stock"], "since": -1},
            {"op": "subscribe", "topics": ["stock"], "since": "ten"},
            {"op": "unsubscribe", "topics": ["nope"]},
            {"op": "subscribe", "topics": [f"stock:S{i}" for i in range(101)]},  # at most 100
        ]
        for message in bad:
            await ch.send(message)
            await ch.error("invalid_request")
            await ch.usable()
        await ch.conn.send(b'{"op":"ping"}')  # a binary message is not an op
        await ch.error("invalid_request")

        # Still subscribed, still live.
        await http(api.adjust, sku, 1)
        event = await ch.event()
        assert event["topic"] == f"stock:{sku}" and stock_data(event)["on_hand"] == 6


@async_test()
async def test_drafts_are_announced_to_admins_and_only_publishing_or_unpublishing_to_everyone(api):
    """A draft's or archived product's changes go to `draft:<id>` (admins); the public `products`
    topic hears a product only while it is in the shop, and the change that takes it out."""
    pos_key = api.api_key("pos", location="main")
    def product(status: str) -> dict:
        return api.ok("POST", "/v1/products", {"title": unique("Secret"), "status": status,
                                                "variants": [{"sku": unique("SEC"), "price": {"amount": 900, "currency": "GBP"}}]}, status=201)
    async with await Channel.open(api.server) as public, await Channel.open(api.server) as admin, \
            await Channel.open(api.server) as till:
        await public.subscribe(["products"])
        await admin.send({"op": "auth", "key": api.key})
        await admin.reply("authenticated")
        await admin.subscribe(["drafts", "products"])
        await till.send({"op": "auth", "key": pos_key})
        await till.reply("authenticated")
        await till.send({"op": "subscribe", "topics": ["drafts"]})
        assert (await till.error("forbidden"))["topics"] == ["drafts"]

        draft = await http(product, "draft")
        await http(api.ok, "PATCH", f"/v1/products/{draft['id']}", {"title": "Still secret"})
        published = await http(api.ok, "PATCH", f"/v1/products/{draft['id']}", {"status": "active"})
        await http(api.ok, "PATCH", f"/v1/products/{draft['id']}", {"status": "archived"})
        await http(api.ok, "PATCH", f"/v1/products/{draft['id']}", {"title": "Archived quietly"})
        await http(api.call, "DELETE", f"/v1/products/{draft['id']}")

        heard = [(e["type"], e["topic"], e["data"].get("status")) for e in await admin.collect(quiet=0.5)]
        draft_topic, shop_topic = f"draft:{draft['id']}", f"product:{draft['id']}"
        assert heard == [("product.created", draft_topic, "draft"), ("product.updated", draft_topic, "draft"),
                         ("product.updated", shop_topic, "active"), ("product.updated", shop_topic, "archived"),
                         ("product.updated", draft_topic, "archived"), ("product.deleted", draft_topic, None)], heard
        seen = [(e["type"], e["data"].get("status"), e["data"].get("title")) for e in await public.collect(quiet=0.3)]
        assert seen == [("product.updated", "active", published["title"]), ("product.updated", "archived", published["title"])], seen
        await till.silent(0.2, "a pos key heard drafts")


@async_test()
async def test_revoking_a_key_closes_its_connections_that_hold_restricted_topics(api):
    """A revoked key's connection holding a restricted topic ends with 1008 within a second; one on
    public topics only is left as it is (anyone may hold those)."""
    sku = stocked(api, 3)
    def issued(role: str, **extra) -> dict:
        return api.ok("POST", "/v1/api-keys", {"role": role, "name": unique(role), **extra}, status=201)
    till, storefront = issued("pos", location="main"), issued("storefront")
    async with await Channel.open(api.server) as staff, await Channel.open(api.server) as shop:
        for channel, key in ((staff, till), (shop, storefront)):
            await channel.send({"op": "auth", "key": key["key"]})
            await channel.reply("authenticated")
        await staff.subscribe(["orders", f"stock:{sku}"])
        await shop.subscribe([f"stock:{sku}"])
        for key in (till, storefront):
            await http(api.ok, "DELETE", f"/v1/api-keys/{key['id']}", status=204)
        started = time.monotonic()
        assert await staff.closed_with(timeout=3) == 1008
        assert time.monotonic() - started < 1.5, "the revoked key's connection lingered"
        await http(api.adjust, sku, 1)
        assert (await shop.event())["topic"] == f"stock:{sku}"
        await shop.send({"op": "subscribe", "topics": ["carts"]})
        await shop.error("forbidden")


@async_test()
async def test_restricted_topics_need_an_admin_or_pos_key(api):
    storefront_key = api.api_key("storefront")
    pos_key = api.api_key("pos", location="main")
    async with await Channel.open(api.server) as ch:
        for topics in (["carts"], ["orders"], ["locations"], ["order:ord_0123456789"], ["stock", "carts"]):
            await ch.send({"op": "subscribe", "topics": topics})
            refused = await ch.error("forbidden")
            assert refused["topics"] == [t for t in topics if t != "stock"], refused

        # A resume is refused the same way: nothing is replayed.
        await ch.send({"op": "subscribe", "topics": ["carts"], "since": 0})
        assert (await ch.error("forbidden"))["topics"] == ["carts"]
        await ch.silent(0.3, "a refused resume replayed events")

        await ch.send({"op": "auth", "key": "sk_not_a_key"})
        await ch.error("unauthorized")
        await ch.send({"op": "auth"})
        assert (await ch.recv())["op"] == "error"
        await ch.send({"op": "subscribe", "topics": ["carts"]})
        await ch.error("forbidden")

        await ch.send({"op": "auth", "key": storefront_key})
        assert await ch.reply("authenticated") == {"op": "authenticated", "role": "storefront"}
        await ch.send({"op": "subscribe", "topics": ["carts"]})
        await ch.error("forbidden")

        await ch.send({"op": "auth", "key": api.key})
        assert await ch.reply("authenticated") == {"op": "authenticated", "role": "admin"}
        _, subscribed = await ch.subscribe(["carts"])
        assert subscribed["topics"] == ["carts"]

        sku = stocked(api, 3)
        cart = await http(api.new_cart)
        assert (await http(api.add, cart["id"], sku, 2)).status_code == 200
        got = await ch.collect(quiet=0.7)
        assert [(e["type"], e["topic"]) for e in got] == [("cart.created", f"cart:{cart['id']}"),
                                                          ("cart.line_added", f"cart:{cart['id']}")], got
        assert got == api.events("carts", since=subscribed["seq"]), "the channel and the log differ"
        assert (got[1]["data"]["sku"], got[1]["data"]["quantity"]) == (sku, 2), got[1]

    async with await Channel.open(api.server) as till:
        await till.send({"op": "auth", "key": pos_key})
        assert (await till.reply("authenticated"))["role"] == "pos"
        _, subscribed = await till.subscribe(["carts", "orders", "locations"])
        assert subscribed["topics"] == ["carts", "orders", "locations"]

    # A key revoked after `auth` no longer opens restricted topics.
    issued = api.ok("POST", "/v1/api-keys", {"role": "pos", "name": unique("pos"), "location": "main"}, status=201)
    async with await Channel.open(api.server) as till:
        await till.send({"op": "auth", "key": issued["key"]})
        assert (await till.reply("authenticated"))["role"] == "pos"
        assert api.call("DELETE", f"/v1/api-keys/{issued['id']}").status_code in (200, 204)
        await till.send({"op": "subscribe", "topics": ["orders"]})
        await till.error("forbidden")
        await till.send({"op": "auth", "key": issued["key"]})
        await till.error("unauthorized")


@async_test()
async def test_a_cart_topic_is_public_by_capability(api):
    sku = stocked(api, 4)
    mine, theirs = api.new_cart(), api.new_cart()
    async with await Channel.open(api.server) as ch:
        _, subscribed = await ch.subscribe([f"cart:{mine['id']}"])
        assert (await http(api.add, theirs["id"], sku, 1)).status_code == 200
        assert (await http(api.add, mine["id"], sku, 2)).status_code == 200
        event = await ch.event()
        assert (event["type"], event["topic"]) == ("cart.line_added", f"cart:{mine['id']}"), event
        assert api.events(f"cart:{mine['id']}", since=subscribed["seq"]) == [event]
        await ch.silent(0.4, "events of another cart or of stock arrived")


@async_test(timeout=20)
async def test_an_expiring_cart_is_announced_and_its_stock_comes_back(ttl_server):
    api = Api(ttl_server)
    sku = stocked(api, 1)
    cart = api.new_cart()
    async with await Channel.open(ttl_server) as ch:
        await ch.subscribe([f"cart:{cart['id']}", f"stock:{sku}"])
        assert (await http(api.add, cart["id"], sku, 1)).status_code == 200
        types = [(e["type"], e["topic"]) for e in await ch.collect(quiet=0.5, limit=1.5)]
        assert sorted(types) == sorted([("cart.line_added", f"cart:{cart['id']}"), ("stock.changed", f"stock:{sku}")]), types
        expired, before = await ch.event_where(lambda e: e["type"] == "cart.expired", timeout=8)
        assert expired["topic"] == f"cart:{cart['id']}"
        rest = before + await ch.collect(quiet=0.7)
        back = [e for e in rest if e["type"] == "stock.changed"]
        assert back and back[-1]["data"]["available"] == 1, rest


# Resume ----------------------------------------------------------------------------------------

@async_test()
async def test_resume_overlapping_a_live_topic_repeats_nothing(api):
    sku = stocked(api, 10)
    async with await Channel.open(api.server) as ch:
        await ch.subscribe(["stock"])
        start = api.events(f"stock:{sku}")[-1]["seq"]
        await http(api.adjust, sku, 1)
        await http(api.adjust, sku, 2)
        live = [e["seq"] for e in await ch.collect(quiet=0.5, limit=2)]
        # Resuming the SKU's own topic from before: the two events already came through `stock`.
        replayed, subscribed = await ch.subscribe([f"stock:{sku}"], since=start)
        assert replayed == [] and subscribed["seq"] >= start, (replayed, subscribed)
        await http(api.adjust, sku, 3)
        after = [e["seq"] for e in await ch.collect(quiet=0.5, limit=2)]
        assert len(after) == 1 and after[0] > max(live), (live, after)


@async_test()
async def test_a_since_ahead_of_the_log_counts_from_its_end(api):
    sku = stocked(api, 10)
    head = api.events(f"stock:{sku}")[-1]["seq"]
    async with await Channel.open(api.server) as ch:
        replayed, subscribed = await ch.subscribe([f"stock:{sku}"], since=head + 1000)
        assert replayed == [] and subscribed["seq"] <= head + 5, subscribed
        await http(api.adjust, sku, 1)
        assert (await ch.event())["topic"] == f"stock:{sku}"



@async_test()
async def test_resume_gets_exactly_the_missed_events_then_live_ones(api):
    sku, other = stocked(api, 10), stocked(api, 10)
    cart = api.new_cart()
    topics = [f"stock:{sku}", f"cart:{cart['id']}"]
    async with await Channel.open(api.server) as first:
        await first.subscribe(topics)
        await http(api.adjust, sku, 1)
        seen = (await first.event())["seq"]

    # Offline: changes on the topics and beside them.
    api.adjust(sku, 2)
    api.adjust(other, 1)
    assert api.add(cart["id"], sku, 3).status_code == 200
    api.adjust(sku, -1, reason="damaged")
    api.adjust(other, 1)
    missed = api.events(",".join(topics), since=seen)
    assert len(missed) == 4, missed  # an adjustment, line_added and its stock.changed, another adjustment

    async with await Channel.open(api.server) as again:
        replayed, subscribed = await again.subscribe(topics, since=seen)
        assert replayed == missed
        assert subscribed == {"op": "subscribed", "topics": topics, "seq": missed[-1]["seq"]}
        await http(api.adjust, sku, 1)
        live = await again.event()
        assert live["seq"] > subscribed["seq"] and live["topic"] == f"stock:{sku}"
        await again.silent(0.4, "a duplicate or a stray event")

    # Nothing missed: an empty replay, and the reply carries `since` itself.
    head = last_seq(api, f"stock:{sku}")
    async with await Channel.open(api.server) as current:
        replayed, subscribed = await current.subscribe([f"stock:{sku}"], since=head)
        assert replayed == [] and subscribed["seq"] == head

    # A family resumes the same way as one topic.
    async with await Channel.open(api.server) as family:
        replayed, subscribed = await family.subscribe(["stock"], since=seen)
        expected = api.events("stock", since=seen)
        assert replayed == expected and subscribed["seq"] == expected[-1]["seq"]
        assert {e["topic"] for e in replayed} == {f"stock:{sku}", f"stock:{other}"}


@async_test(timeout=120)
async def test_resume_while_events_are_appended_has_no_gap_and_no_duplicate(api):
    """A writer keeps adjusting stock while clients subscribe with `since`, several replay pages behind
    or none, twelve times: every event once, in order, with no gap."""
    start = last_seq(api, "stock")
    # Several pages of history first: one import, one stock.changed per product.
    products = [{"title": unique("Bulk"), "status": "active",
                 "variants": [{"sku": unique("BULK"), "price": {"amount": 100, "currency": "GBP"}, "initial_stock": {"main": 1}}]}
                for _ in range(600)]
    api.ok("POST", "/v1/products/import", {"products": products}, status=201)
    sku = stocked(api, 1)

    # Many times over, from the start of the history (several pages) or from now, at points
    # through the writer's run.
    for round_, subscribe_after in enumerate((5, 40, 10, 25, 60, 80, 15, 35, 50, 70, 90, 100)):
        since = last_seq(api, "stock") if round_ % 2 else start
        writer_api = api.fork()
        done = threading.Event()
        written = []
        errors = []

        def write():
            try:
                for _ in range(120):
                    response = writer_api.adjust(sku, 1)
                    if response.status_code != 200:
                        errors.append(response.text)
                        return
                    written.append(1)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                done.set()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        while len(written) < subscribe_after and not done.is_set():
            await asyncio.sleep(0.005)
        async with await Channel.open(api.server) as ch:
            await ch.send({"op": "subscribe", "topics": ["stock"], "since": since})
            assert not done.is_set(), "the writer finished before the subscription: no race"
            messages = []
            while not done.is_set():
                try:
                    messages.append(json.loads(await asyncio.wait_for(ch.conn.recv(), 0.2)))
                except TimeoutError:
                    pass
            messages += await ch.collect(quiet=1.0, limit=15)
        writer.join(timeout=10)
        assert not errors, errors

        replies = [i for i, m in enumerate(messages) if m.get("op")]
        assert len(replies) == 1 and messages[replies[0]]["op"] == "subscribed", [m for m in messages if m.get("op")]
        reply = messages[replies[0]]
        got = seqs(messages)
        expected = [e["seq"] for e in api.events("stock", since=since)]
        assert len(got) == len(set(got)), f"duplicates: {sorted(s for s in set(got) if got.count(s) > 1)[:10]}"
        assert got == sorted(got), "events out of seq order"
        assert set(got) == set(expected), (f"missing {sorted(set(expected) - set(got))[:10]}, "
                                           f"unexpected {sorted(set(got) - set(expected))[:10]}")
        before, after = seqs(messages[:replies[0]]), seqs(messages[replies[0] + 1:])
        assert all(s <= reply["seq"] for s in before) and all(s > reply["seq"] for s in after), reply
        assert before and before[-1] == reply["seq"]
        print(f"resume race: {len(before)} replayed, {len(after)} live, {len(written)} writes")


# Delivery --------------------------------------------------------------------------------------

@async_test()
async def test_each_event_once_per_connection_and_unsubscribe_stops_it(api):
    sku = stocked(api, 5)
    async with await Channel.open(api.server) as ch:
        await ch.subscribe(["stock", f"stock:{sku}"])
        await ch.subscribe([f"stock:{sku}"])
        for _ in range(3):
            await http(api.adjust, sku, 1)
        got = await ch.collect(quiet=0.7)
        assert [stock_data(e)["on_hand"] for e in got] == [6, 7, 8], got
        assert len(set(seqs(got))) == 3

        await ch.send({"op": "unsubscribe", "topics": [f"stock:{sku}"]})
        assert await ch.recv() == {"op": "unsubscribed", "topics": [f"stock:{sku}"]}
        await http(api.adjust, sku, 1)
        got = await ch.collect(quiet=0.5)
        assert [stock_data(e)["on_hand"] for e in got] == [9], "the family still covers the SKU, once"

        await ch.send({"op": "unsubscribe", "topics": ["stock"]})
        assert await ch.recv() == {"op": "unsubscribed", "topics": ["stock"]}
        await http(api.adjust, sku, 1)
        await ch.silent(0.5, "events after unsubscribing")
        await ch.usable()

        # Unsubscribing a topic never subscribed is harmless.
        await ch.send({"op": "unsubscribe", "topics": ["products"]})
        assert await ch.recv() == {"op": "unsubscribed", "topics": ["products"]}


@async_test()
async def test_many_subscribers_each_get_every_event(api):
    sku = stocked(api, 5)
    channels = [await Channel.open(api.server, compression=None if i % 2 else "deflate") for i in range(20)]
    try:
        for ch in channels:
            await ch.subscribe([f"stock:{sku}"])
        for _ in range(5):
            await http(api.adjust, sku, 1)
        expected = api.events(f"stock:{sku}", since=api.events(f"stock:{sku}")[-6]["seq"])
        assert len(expected) == 5
        got = await asyncio.gather(*(ch.collect(quiet=0.5) for ch in channels))
        for received in got:
            assert received == expected
    finally:
        for ch in channels:
            await ch.conn.close()


# Resume too old (retention) ---------------------------------------------------------------------

def _restart(launch, data_dir, previous=None, **options):
    if previous is not None:
        previous.shutdown()
        assert previous.proc.returncode == 0, previous.log_tail()
    return launch({"data_dir": str(data_dir), **options}, env=ADMIN_ENV)


def _wait_pruned(server) -> None:
    wait_for(lambda: "pruned" in server.log_text(), timeout=5, what="the start-up prune")


@async_test(timeout=40)
async def test_resume_from_before_the_retained_log_is_refused(launch, tmp_path):
    """`--event-retention` is checked when the server starts (then hourly): events older than 1 s
    are gone after a restart 2 s later."""
    data = tmp_path / "data"
    server = _restart(launch, data)
    api = Api(server)
    sku = stocked(api, 1)
    old = last_seq(api, "stock")
    assert old >= 2
    await asyncio.sleep(2.2)

    server = _restart(launch, data, server, event_retention="1s")
    api = Api(server)
    _wait_pruned(server)
    assert api.events("stock") == []
    async with await Channel.open(server) as ch:
        for since in (0, old - 1):
            await ch.send({"op": "subscribe", "topics": ["stock"], "since": since})
            await ch.error("resume_too_old")
        await ch.usable()
        replayed, subscribed = await ch.subscribe(["stock"], since=old)  # nothing after `old` was lost
        assert replayed == [] and subscribed["seq"] == old

        api.adjust(sku, 1)
        live = await ch.event()
        assert live["seq"] > old

    async with await Channel.open(server) as ch:
        await ch.send({"op": "subscribe", "topics": ["stock"], "since": old - 1})
        await ch.error("resume_too_old")
        replayed, subscribed = await ch.subscribe([f"stock:{sku}"], since=old)
        assert replayed == [live] and subscribed["seq"] == live["seq"]


@async_test(timeout=40)
async def test_resume_too_old_after_a_restart_with_an_empty_log(launch, tmp_path):
    """Every event pruned, then a restart: the log is empty but its seqs went up to N; a client at
    N-1 missed event N and must hear resume_too_old, not a clean `subscribed`."""
    data = tmp_path / "data"
    server = _restart(launch, data)
    stocked(Api(server), 1)
    newest = last_seq(Api(server), "stock")
    await asyncio.sleep(2.2)
    server = _restart(launch, data, server, event_retention="1s")
    _wait_pruned(server)
    server = _restart(launch, data, server)  # starts with an empty log
    api = Api(server)
    assert api.events("stock") == []
    async with await Channel.open(server) as ch:
        await ch.send({"op": "subscribe", "topics": ["stock"], "since": newest - 1})
        reply = await ch.recv()
        assert reply.get("op") == "error" and reply.get("code") == "resume_too_old", (
            f"events after {newest - 1} were pruned (up to seq {newest}), yet the resume was accepted: {reply}")
    sku = stocked(api, 1)
    assert min(seqs(api.events(f"stock:{sku}"))) > newest, "seq went backwards after pruning"


# Handshake and transport -----------------------------------------------------------------------

def test_handshake_refusals(ws_server):
    with ws_server.connect() as conn:
        response = conn.request("GET", EVENTS_PATH, headers=upgrade_headers(key=None))
        assert response.status == 400, response
        response = conn.request("GET", EVENTS_PATH, headers=upgrade_headers(key="c2hvcnQ="))
        assert response.status == 400, response
    with ws_server.connect() as conn:
        response = conn.request("GET", EVENTS_PATH)
        assert response.status == 426, response
        assert response.has_token("Upgrade", "websocket"), response.headers
    with ws_server.connect() as conn:
        no_upgrade = [h for h in upgrade_headers(new_key()) if h[0] != "Upgrade"]
        response = conn.request("GET", EVENTS_PATH, headers=no_upgrade)
        assert response.status == 426, response
    for version in ("8", "14", ""):
        with ws_server.connect() as conn:
            response = conn.request("GET", EVENTS_PATH, headers=upgrade_headers(new_key(), version=version))
            assert response.status == 426, response
            assert response.header_values("Sec-WebSocket-Version") == ["13"], response.headers
    with ws_server.connect() as conn:
        response = conn.request("GET", EVENTS_PATH, headers=upgrade_headers(new_key()), version="HTTP/1.0")
        assert response.status in (400, 426), response


def test_handshake_accept_and_a_raw_exchange(ws_server):
    key = new_key()
    with ws_server.connect() as conn:
        conn.send(f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                  + "".join(f"{n}: {v}\r\n" for n, v in upgrade_headers(key)).encode() + b"\r\n")
        response = conn.read_response()
        assert response.status == 101, response
        assert response.header("Sec-WebSocket-Accept") == accept_for(key)
        assert response.has_token("Upgrade", "websocket") and response.has_token("Connection", "upgrade")
        assert response.header("Sec-WebSocket-Extensions") is None, "nothing was offered"
        conn.send(client_frame(0x1, b'{"op":"ping"}'))
        deadline = time.monotonic() + WAIT
        head = conn._read_exact(2, deadline)
        assert head[0] == 0x81 and head[1] & 0x80 == 0, head
        assert json.loads(conn._read_exact(head[1] & 0x7F, deadline)) == {"op": "pong"}
        conn.send(client_frame(0x9, b"hi"))  # ping -> pong with the same payload
        assert conn._read_exact(4, deadline) == b"\x8a\x02hi"
        conn.send(client_frame(0x8, struct.pack("!H", 1000)))  # close -> close echoed, then EOF
        close = conn._read_exact(4, deadline)
        assert close[0] == 0x88 and struct.unpack("!H", close[2:4])[0] == 1000, close
        conn.wait_closed(WAIT)


@async_test()
async def test_events_channel_negotiates_deflate_without_context_takeover(api):
    async with await Channel.open(api.server) as ch:
        offered = ch.conn.response.headers.get("Sec-WebSocket-Extensions", "")
        params = [p.strip() for p in offered.split(";")]
        assert params[0] == "permessage-deflate", offered
        assert "server_no_context_takeover" in params and "client_no_context_takeover" in params, offered
        sku = stocked(api, 1)
        await ch.subscribe([f"stock:{sku}"])
        for _ in range(3):  # several compressed messages in a row decode on their own
            await http(api.adjust, sku, 1)
        assert [stock_data(e)["on_hand"] for e in await ch.collect(quiet=0.5)] == [2, 3, 4]
        await ch.usable()


@async_test()
async def test_client_messages_over_64_kib_close_with_1009(api):
    # Exactly 64 KiB is still an op.
    async with await Channel.open(api.server, compression=None) as ch:
        padded = {"op": "ping", "pad": ""}
        padded["pad"] = "x" * (64 * 1024 - len(json.dumps(padded)))
        assert len(json.dumps(padded)) == 64 * 1024
        await ch.send(padded)
        assert await ch.recv() == {"op": "pong"}
    big = json.dumps({"op": "ping", "pad": "x" * (64 * 1024)})
    for compression in (None, "deflate"):  # compressed, it is small on the wire and too big inflated
        async with await Channel.open(api.server, compression=compression) as ch:
            await ch.send(big)
            assert await ch.closed_with() == 1009
    async with await Channel.open(api.server, compression=None) as ch:  # in fragments
        await ch.conn.send(iter(["x" * 16384] * 5))
        assert await ch.closed_with() == 1009


def test_echo_socket_needs_enable_echo(plain_server):
    with plain_server.connect() as conn:
        response = conn.request("GET", ECHO_PATH, headers=upgrade_headers(new_key()))
        assert response.status == 404, response


@async_test()
async def test_echo_socket_echoes_text_and_binary(ws_server):
    messages = ["héllo ✓", "", b"\x00\xff" * 1000, bytes(range(256)) * 400, "word " * 200_000]
    for compression in (None, "deflate"):
        async with await Channel.open(ws_server, ECHO_PATH, compression=compression) as ch:
            extensions = ch.conn.response.headers.get("Sec-WebSocket-Extensions")
            if compression is None:
                assert extensions is None
            else:
                assert extensions and extensions.split(";")[0].strip() == "permessage-deflate", extensions
                assert [e.name for e in ch.conn.protocol.extensions] == ["permessage-deflate"]
            for message in messages:
                await ch.conn.send(message)
                echoed = await ch.recv_raw(timeout=10)
                assert type(echoed) is type(message) and echoed == message, f"{compression}: {message!r:.40}"
            await ch.conn.send(iter([b"ab", b"cd", b"ef"]))  # fragments come back as one message
            assert await ch.recv_raw() == b"abcdef"


@async_test()
async def test_the_channel_over_tls(launch, tls_files):
    server = launch(env=ADMIN_ENV, tls=tls_files)
    api = Api(server)
    api.session.trust_env = False  # REQUESTS_CA_BUNDLE would win over the session's own CA
    api.session.verify = str(tls_files[0])
    sku = stocked(api, 2)
    url = f"wss://{server.host}:{server.port}{EVENTS_PATH}"
    for compression in (None, "deflate"):
        async with ws_connect(url, ssl=server.ssl_context, open_timeout=WAIT, close_timeout=3, ping_interval=None,
                              compression=compression) as conn:
            ch = Channel(conn)
            _, subscribed = await ch.subscribe([f"stock:{sku}"])
            await http(api.adjust, sku, 1)
            event = await ch.event()
            assert api.events(f"stock:{sku}", since=subscribed["seq"]) == [event]
            await ch.usable()


# A consumer that does not read ---------------------------------------------------------------

@async_test(timeout=40)
async def test_a_consumer_that_never_reads_is_cut_off_and_others_keep_up(launch):
    server = launch({"ws_send_queue": 32}, env=ADMIN_ENV)
    api = Api(server)
    sku = stocked(api, 1)
    slow = RawWebSocket(server, rcvbuf=4096)
    slow.send_json({"op": "subscribe", "topics": ["products"]})
    opcode, payload = slow.frame()
    assert opcode == 0x1 and json.loads(payload)["op"] == "subscribed", payload
    # From here `slow` reads nothing until the end.

    description = "d" * 9000
    produced = 0
    started = time.monotonic()
    async with await Channel.open(server) as fast:
        await fast.subscribe([f"stock:{sku}"])
        for round_ in range(12):
            batch = [{"title": unique("Big"), "status": "active", "description": description,
                      "variants": [{"sku": unique("BIG"), "price": {"amount": 100, "currency": "GBP"}}]} for _ in range(90)]
            await http(api.ok, "POST", "/v1/products/import", {"products": batch}, status=201)
            produced += len(batch)
            sent = time.monotonic()
            await http(api.adjust, sku, 1)
            event = await fast.event(timeout=3)
            assert stock_data(event)["on_hand"] == round_ + 2
            assert time.monotonic() - sent < 3, "a stalled consumer slowed another one down"
            if time.monotonic() - started > 20:
                break

    # Now read what the slow one was sent, twenty seconds on: it ends early, with the 1008 close frame
    # that waited for it behind what it had not read.
    received, close_code = 0, None
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        frame = slow.frame(timeout=max(0.1, deadline - time.monotonic()))
        if frame is None:
            break
        opcode, payload = frame
        if opcode == 0x8:
            close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            break
        if opcode == 0x1:
            assert json.loads(payload)["type"] == "product.created"
            received += 1
    else:
        raise AssertionError("the slow consumer was never closed")
    slow.close()
    print(f"slow consumer: {received} of {produced} events, close code {close_code}, {slow.received_bytes} bytes")
    assert close_code == 1008, close_code
    assert received < produced, f"the slow consumer got all {produced} events: it was never cut off"
    assert received > 0


def rss_anon_kib(pid: int) -> int:
    """The process's anonymous resident memory: its heap, not the database file it maps."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssAnon:"))


@async_test(timeout=90)
async def test_replays_that_are_never_read_hold_bounded_memory_and_end_with_1008(launch):
    """Sixteen connections ask for a long log from its start and read nothing: each replay waits once
    256 KiB are queued for its connection, so the server's heap grows by a few MiB, not the log, and each is
    closed with 1008 once its output has been stuck two ping intervals; a reader that comes back
    seconds later still finds the close frame after what it had been sent."""
    server = launch({"ws_ping_interval": "3s"}, env=ADMIN_ENV)
    api = Api(server)
    description = "r" * 9000
    for _ in range(10):
        batch = [{"title": unique("Long"), "status": "active", "description": description,
                  "variants": [{"sku": unique("LONG"), "price": {"amount": 100, "currency": "GBP"}}]} for _ in range(100)]
        await http(api.ok, "POST", "/v1/products/import", {"products": batch}, status=201)
    before = rss_anon_kib(server.proc.pid)
    stalled = [await asyncio.to_thread(RawWebSocket, server, EVENTS_PATH, 4096) for _ in range(16)]
    for socket_ in stalled:
        socket_.send_json({"op": "subscribe", "topics": ["products"], "since": 0})
    asked = time.monotonic()
    # The log is about 10 MB of events; the sixteen replays together would hold 160 MB unbounded.
    peak = before
    for _ in range(20):
        await asyncio.sleep(0.25)
        peak = max(peak, rss_anon_kib(server.proc.pid))
    grown = (peak - before) / 1024
    print(f"RssAnon {before / 1024:.1f} MiB before, grew {grown:.1f} MiB with 16 stalled replays")
    assert grown < 32, f"anonymous memory grew {grown:.1f} MiB for replays nobody reads"

    # The channel still serves others meanwhile.
    async with await Channel.open(server) as fresh:
        await fresh.subscribe(["products"])

    # Output stuck past two ping intervals (6 s) is cut off with 1008; the close frame waits two more
    # for its reader, who comes back in between.
    await asyncio.sleep(max(0.0, asked + 9 - time.monotonic()))
    for socket_ in stalled:
        received, close_code = 0, None
        while (frame := await asyncio.to_thread(socket_.frame, 10)) is not None:
            opcode, payload = frame
            if opcode == 0x8:
                close_code = struct.unpack("!H", payload[:2])[0]
                break
            received += 1
        socket_.close()
        assert close_code == 1008, (close_code, received)
        assert 0 < received < 1000, received


# Keep-alive pings ------------------------------------------------------------------------------

@async_test(timeout=30)
async def test_a_silent_peer_is_pinged_then_dropped(launch):
    server = launch({"ws_ping_interval": "1s"}, env=ADMIN_ENV)
    quiet = await asyncio.to_thread(RawWebSocket, server)
    async with await Channel.open(server) as polite:  # websockets answers pings by itself
        frame = await asyncio.to_thread(quiet.frame, 5)
        assert frame is not None and frame[0] == 0x9, frame
        started = time.monotonic()
        frame = await asyncio.to_thread(quiet.frame, 6)  # not answered: closed (1001) or dropped
        assert frame is None or frame[0] == 0x8, frame
        if frame is not None:
            assert struct.unpack("!H", frame[1][:2])[0] == 1001, frame
            assert await asyncio.to_thread(quiet.frame, 4) is None
        assert time.monotonic() - started < 6
        quiet.close()
        await asyncio.sleep(max(0.0, 3.5 - (time.monotonic() - started)))
        await polite.usable()


# Graceful stop ---------------------------------------------------------------------------------

@async_test(timeout=30)
async def test_sigterm_closes_every_websocket_with_1001(launch):
    server = launch({"enable_echo": True}, env=ADMIN_ENV)
    subscriber = await Channel.open(server)
    await subscriber.subscribe(["stock"])
    idle = await Channel.open(server, compression=None)
    echo = await Channel.open(server, ECHO_PATH)
    server.signal(signal.SIGTERM)
    for channel in (subscriber, idle, echo):
        assert await channel.closed_with(timeout=8) == 1001
    assert await asyncio.to_thread(server.wait_exit, 15) == 0, server.log_tail()
