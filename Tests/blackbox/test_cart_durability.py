"""Reservations survive a crash (API.md, Carts: "Reservations survive a restart").

A carting load runs against a server that is killed with SIGKILL mid-way and started again on the same
data directory. Afterwards every SKU's `reserved` is the sum of its lines over active carts, with
`0 ≤ reserved ≤ on_hand`, and every write a client saw acknowledged is there. The one request each
client had in flight at the kill may or may not have committed, but it is all or nothing.
"""

from __future__ import annotations

import http.client
import random
import signal
import threading
import time
from datetime import datetime

from cart_api import ADMIN_ENV, Api, Client, unique, wait_for

STOCK = 30


def datetime_epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def restart(launch, server, options: dict | None = None):
    """Starts a new server on `server`'s data directory."""
    return launch({"data_dir": server.data_dir, **(options or {})}, env=ADMIN_ENV)


def kill_9(server) -> None:
    server.signal(signal.SIGKILL)
    assert server.wait_exit(10) == -signal.SIGKILL


class Shopper(threading.Thread):
    """Works on carts of its own until `stop` or until the server goes away, remembering for each cart
    the last state the server acknowledged and the one request (if any) left without an answer."""

    def __init__(self, server, skus: list[str], seed: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.server, self.skus, self.rng, self.stop = server, skus, random.Random(seed), stop
        self.carts: dict[str, dict] = {}  # id -> {"status", "lines": {sku: qty}, "line_ids": {sku: id}}
        self.pending: tuple[str, tuple] | None = None  # (cart id, operation) sent but not answered
        self.acknowledged = 0
        self.error: str | None = None

    def run(self):
        try:
            client = Client(self.server)
        except OSError as error:
            self.error = repr(error)
            return
        try:
            cart_id = None
            while not self.stop.is_set():
                if cart_id is None or self.carts[cart_id]["status"] != "active":
                    self.pending = (None, ("create",))
                    status, body = client.request("POST", "/v1/carts", {"channel": "online"})
                    assert status == 201, (status, body)
                    cart_id = body["id"]
                    self.carts[cart_id] = {"status": "active", "lines": {}, "line_ids": {}}
                    self.pending = None
                    continue
                self.step(client, cart_id)
        except (OSError, http.client.HTTPException):
            pass  # the kill: `pending` says what was in flight
        except AssertionError as error:
            self.error = repr(error)
            self.pending = None
        finally:
            client.close()

    def step(self, client: Client, cart_id: str):
        cart = self.carts[cart_id]
        roll = self.rng.random()
        if roll < 0.5 or not cart["lines"]:
            sku, quantity = self.rng.choice(self.skus), self.rng.randint(1, 3)
            operation = ("add", sku, quantity)
            request = ("POST", f"/v1/carts/{cart_id}/lines", {"sku": sku, "quantity": quantity})
        elif roll < 0.7:
            sku = self.rng.choice(sorted(cart["lines"]))
            quantity = self.rng.randint(1, 4)
            operation = ("set", sku, quantity)
            request = ("PATCH", f"/v1/carts/{cart_id}/lines/{cart['line_ids'][sku]}", {"quantity": quantity})
        elif roll < 0.95:
            sku = self.rng.choice(sorted(cart["lines"]))
            operation = ("remove", sku)
            request = ("DELETE", f"/v1/carts/{cart_id}/lines/{cart['line_ids'][sku]}", None)
        else:
            operation = ("delete",)
            request = ("DELETE", f"/v1/carts/{cart_id}", None)
        self.pending = (cart_id, operation)
        status, body = client.request(*request)
        if status == 200:
            cart["lines"] = {line["sku"]: line["quantity"] for line in body["lines"]}
            cart["line_ids"] = {line["sku"]: line["id"] for line in body["lines"]}
            assert body["status"] == "active"
        elif status == 204:
            assert operation == ("delete",)
            cart["status"] = "deleted"
        else:
            assert status == 409 and body["code"] == "insufficient_stock", (status, body)
        self.acknowledged += 1
        self.pending = None


def apply(operation: tuple, status: str, lines: dict[str, int]) -> tuple[str, dict[str, int]]:
    lines = dict(lines)
    kind = operation[0]
    if kind == "add":
        lines[operation[1]] = lines.get(operation[1], 0) + operation[2]
    elif kind == "set":
        lines[operation[1]] = operation[2]
    elif kind == "remove":
        del lines[operation[1]]
    elif kind == "delete":
        status = "deleted"
    return status, lines


def snapshot(api: Api, skus: list[str]) -> dict:
    return {sku: api.inventory(sku) for sku in skus}


def assert_books(api: Api, skus: list[str], on_hand: int) -> dict[str, int]:
    units = api.units_in_active_carts()
    for sku in skus:
        level = api.inventory(sku)
        assert level["on_hand"] == on_hand, level
        assert 0 <= level["reserved"] <= level["on_hand"], level
        assert level["reserved"] == units.get(sku, 0), (sku, level, units.get(sku, 0))
        assert level["available"] == level["on_hand"] - level["reserved"]
    return units


def test_kill_9_mid_load_keeps_every_acknowledged_write(launch):
    server = launch({"currency": "GBP"}, env=ADMIN_ENV)
    api = Api(server)
    skus = [unique("DUR") for _ in range(6)]
    api.product({sku: 250 for sku in skus}, stock=STOCK)

    stop = threading.Event()
    shoppers = [Shopper(server, skus, seed, stop) for seed in range(8)]
    for shopper in shoppers:
        shopper.start()
    # The load would run for 2 s; kill the server in the middle of it.
    timer = threading.Timer(2.0, stop.set)
    timer.start()
    started = time.monotonic()
    wait_for(lambda: time.monotonic() - started > 1.0, 10, interval=0.01, what="load")
    kill_9(server)
    timer.cancel()
    for shopper in shoppers:
        shopper.join(timeout=30)
    stop.set()
    assert not [s.error for s in shoppers if s.error], [s.error for s in shoppers if s.error]
    acknowledged = sum(s.acknowledged for s in shoppers)
    assert acknowledged >= 50, f"only {acknowledged} writes before the kill"

    revived = restart(launch, server, {"currency": "GBP"})
    api = Api(revived)
    units = assert_books(api, skus, STOCK)
    assert sum(units.get(sku, 0) for sku in skus) > 0, "nothing was reserved at the kill: the test proves little"

    held = 0
    for shopper in shoppers:
        for cart_id, known in shopper.carts.items():
            cart = api.cart(cart_id)
            got = (cart["status"], {line["sku"]: line["quantity"] for line in cart["lines"]})
            allowed = [(known["status"], known["lines"])]
            if shopper.pending and shopper.pending[0] == cart_id:
                allowed.append(apply(shopper.pending[1], known["status"], known["lines"]))
            assert got in allowed, (cart_id, got, allowed, shopper.pending)
            if cart["status"] == "active":
                held += sum(got[1].values())
    assert held == sum(units.get(sku, 0) for sku in skus)
    print("kill-9:", acknowledged, "acknowledged;", sum(len(s.carts) for s in shoppers), "carts;",
          sum(1 for s in shoppers if s.pending), "in flight; reserved", {s[-3:]: units.get(s, 0) for s in skus})

    # The recovered server goes on taking writes with the right numbers.
    before = snapshot(api, skus)
    cart = api.new_cart()
    sku = max(skus, key=lambda s: before[s]["available"])
    free = before[sku]["available"]
    if free:  # exactly what the recovered numbers say is free can be had, and no more
        assert api.add(cart["id"], sku, free).status_code == 200
        assert api.inventory(sku)["reserved"] == before[sku]["reserved"] + free == STOCK
    problem = api.add(api.new_cart()["id"], sku, 1)
    assert problem.status_code == 409 and problem.json()["available"] == 0

    # A graceful restart changes nothing either.
    after = snapshot(api, skus)
    carts = {c["id"]: c["lines"] for c in api.carts("active")}
    revived.shutdown()
    again = Api(restart(launch, revived, {"currency": "GBP"}))
    assert snapshot(again, skus) == after
    assert {c["id"]: c["lines"] for c in again.carts("active")} == carts
    assert_books(again, skus, STOCK)


def test_writes_answered_before_a_kill_are_all_there(launch):
    """Sequential writes, each answered, then an immediate SIGKILL: nothing answered is lost."""
    server = launch({"currency": "GBP"}, env=ADMIN_ENV)
    api = Api(server)
    a, b, c = unique("DUR"), unique("DUR"), unique("DUR")
    api.product({a: 100, b: 200, c: 300}, stock=10)
    keep = api.new_cart()
    gone = api.new_cart()
    emptied = api.new_cart()
    line_a = next(l for l in api.add(keep["id"], a, 3).json()["lines"] if l["sku"] == a)
    api.add(keep["id"], b, 2)
    assert api.patch_line(keep["id"], line_a["id"], {"quantity": 5, "customisation": {"engraving": "AL"}}).status_code == 200
    api.add(gone["id"], a, 4)
    assert api.delete_cart(gone["id"]).status_code == 204
    line_c = api.add(emptied["id"], c, 7).json()["lines"][0]
    assert api.remove_line(emptied["id"], line_c["id"]).status_code == 200
    last = api.add(keep["id"], c, 1)
    assert last.status_code == 200
    expected = last.json()
    kill_9(server)

    api = Api(restart(launch, server, {"currency": "GBP"}))
    assert api.cart(keep["id"]) == expected
    assert api.cart(gone["id"])["status"] == "deleted"
    assert api.cart(emptied["id"])["lines"] == [] and api.cart(emptied["id"])["status"] == "active"
    for sku, reserved in ((a, 5), (b, 2), (c, 1)):
        level = api.inventory(sku)
        assert (level["on_hand"], level["reserved"], level["available"]) == (10, reserved, 10 - reserved)
    assert_books(api, [a, b, c], 10)


def test_cart_whose_ttl_passed_while_down_is_expired_right_after_restart(launch):
    server = launch({"currency": "GBP", "reservation_ttl": "2s"}, env=ADMIN_ENV)
    api = Api(server)
    a, b = unique("DUR"), unique("DUR")
    api.product({a: 100, b: 100}, stock=5)
    cart = api.new_cart()
    api.add(cart["id"], a, 3)
    last = api.add(cart["id"], b, 5)
    assert last.status_code == 200
    deadline = datetime_epoch(last.json()["expires_at"])
    kill_9(server)

    # Stay down until the deadline has passed (expires_at has whole seconds: allow for the fraction).
    wait_for(lambda: time.time() > deadline + 1.0, 10, what="the cart's deadline")
    revived = restart(launch, server, {"currency": "GBP"})  # default 15 min TTL now: the stored deadline rules
    ready = time.monotonic()
    api = Api(revived)
    expired = wait_for(lambda: (c := api.cart(cart["id"]))["status"] == "expired" and c, 3, what="expiry after restart")
    assert time.monotonic() - ready < 3
    assert [(line["sku"], line["quantity"]) for line in expired["lines"]] == [(a, 3), (b, 5)]
    for sku in (a, b):
        wait_for(lambda: api.inventory(sku)["reserved"] == 0, 3, what=f"{sku} released")
        level = api.inventory(sku)
        assert (level["on_hand"], level["reserved"], level["available"]) == (5, 0, 5)
        assert [e["data"]["reserved"] for e in api.events(f"stock:{sku}") if e["type"] == "stock.changed"][-1] == 0
    assert [e["type"] for e in api.events(f"cart:{cart['id']}")][-1] == "cart.expired"
    assert cart["id"] not in {c["id"] for c in api.carts("active")}
    # The units can be had again, and adding to the expired cart revives it.
    revived_cart = api.add(cart["id"], a, 1)
    assert revived_cart.status_code == 200 and revived_cart.json()["status"] == "active"
    assert api.inventory(a)["reserved"] == 4 and api.inventory(b)["reserved"] == 5


