"""Races on the live cart: reserving is linearised per SKU (API.md, Carts), so clients racing for the
last units get exactly as many winners as there are units, and the books always balance:
a SKU's `reserved` is the sum of its lines over active carts, and `0 ≤ reserved ≤ on_hand`.

Racing clients are threads, each on its own keep-alive connection opened before the start so
that all requests leave together (a barrier releases them).
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from cart_api import ADMIN_ENV, ADMIN_KEY, Api, Client, assert_problem, line_of, unique

CLIENTS = 200


@pytest.fixture(scope="module")
def race_server(session_launch):
    return session_launch({"currency": "GBP"}, env=ADMIN_ENV)


@pytest.fixture
def api(race_server) -> Api:
    return Api(race_server)


def race(server, calls: list[tuple[str, str, dict | None]], key: str | None = None) -> list[tuple[int, dict | None]]:
    """Sends every call at once, each from its own thread and connection; results in call order."""
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))
    clients = [Client(server, key) for _ in calls]

    def run(index: int):
        client = clients[index]
        try:
            barrier.wait(timeout=60)
            results[index] = client.request(*calls[index])
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[index] = (None, repr(error))
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [r for r in results if r is None or r[0] is None]
    assert not failures, failures[:5]
    return results


def assert_books_balance(api: Api, skus, on_hand: dict[str, int]) -> dict[str, int]:
    units = api.units_in_active_carts()
    for sku in skus:
        level = api.inventory(sku)
        assert level["on_hand"] == on_hand[sku], level
        assert 0 <= level["reserved"] <= level["on_hand"], level
        assert level["reserved"] == units.get(sku, 0), (sku, level, units.get(sku, 0))
        assert level["available"] == level["on_hand"] - level["reserved"], level
    return units


@pytest.mark.parametrize("units", [1, 50])
def test_200_clients_race_for_the_last_units(api, race_server, units):
    sku = unique("HOT")
    api.product(sku, stock=units)
    carts = [api.new_cart()["id"] for _ in range(CLIENTS)]
    results = race(race_server, [("POST", f"/v1/carts/{cart}/lines", {"sku": sku, "quantity": 1}) for cart in carts])

    winners = [i for i, (status, _) in enumerate(results) if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == units, sorted({s for s, _ in results})
    assert len(losers) == CLIENTS - units
    for status, body in results:
        if status == 200:
            continue
        assert status == 409, body
        assert body["code"] == "insufficient_stock" and body["available"] == 0, body
    for i in winners:
        assert line_of(results[i][1], sku)["quantity"] == 1
        assert api.cart(carts[i])["lines"][0]["sku"] == sku
    for i in set(range(CLIENTS)) - set(winners):
        assert api.cart(carts[i])["lines"] == []

    level = api.inventory(sku)
    assert (level["on_hand"], level["reserved"], level["available"]) == (units, units, 0)
    assert assert_books_balance(api, [sku], {sku: units})[sku] == units
    holders = [c for c in api.carts("active") if any(line["sku"] == sku for line in c["lines"])]
    assert sorted(c["id"] for c in holders) == sorted(carts[i] for i in winners)

    # Stock events: one per unit reserved, the last at zero available, none for refusals.
    changes = [e["data"] for e in api.events(f"stock:{sku}") if e["type"] == "stock.changed"]
    assert [d["reserved"] for d in changes] == list(range(units + 1))
    assert changes[-1]["available"] == 0


def test_random_quantities_never_oversell(api, race_server):
    stock = 60
    sku = unique("HOT")
    api.product(sku, stock=stock)
    rng = random.Random(7)
    wants = [rng.randint(1, 5) for _ in range(120)]
    carts = [api.new_cart()["id"] for _ in wants]
    results = race(race_server, [("POST", f"/v1/carts/{cart}/lines", {"sku": sku, "quantity": q}) for cart, q in zip(carts, wants)])

    granted = 0
    for (status, body), want in zip(results, wants):
        if status == 200:
            assert line_of(body, sku)["quantity"] == want
            granted += want
        else:
            assert status == 409 and body["code"] == "insufficient_stock", body
            assert 0 <= body["available"] < want, (want, body)
    assert granted <= stock
    # Every refusal was true at its moment, so at the end nobody could have had theirs.
    left = stock - granted
    assert all(status == 200 or want > left for (status, _), want in zip(results, wants))
    level = api.inventory(sku)
    assert (level["on_hand"], level["reserved"], level["available"]) == (stock, granted, left)
    assert_books_balance(api, [sku], {sku: stock})


def test_concurrent_adds_to_one_cart_land_on_one_line(api, race_server):
    sku = unique("SKU")
    api.product(sku, stock=100)
    cart = api.new_cart()["id"]
    results = race(race_server, [("POST", f"/v1/carts/{cart}/lines", {"sku": sku, "quantity": 2})] * 30)
    assert all(status == 200 for status, _ in results), results[:3]
    final = api.cart(cart)
    assert len(final["lines"]) == 1 and final["lines"][0]["quantity"] == 60
    quantities = sorted(line_of(body, sku)["quantity"] for _, body in results)
    assert quantities == list(range(2, 61, 2))  # each saw its own step: one at a time per cart
    assert api.inventory(sku)["reserved"] == 60


def test_concurrent_adds_of_different_skus_to_one_cart(api, race_server):
    skus = [unique("SKU") for _ in range(25)]
    api.product({sku: 100 + i for i, sku in enumerate(skus)}, stock=3)
    cart = api.new_cart()["id"]
    results = race(race_server, [("POST", f"/v1/carts/{cart}/lines", {"sku": sku, "quantity": 3}) for sku in skus])
    assert all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:3]
    final = api.cart(cart)
    assert sorted(line["sku"] for line in final["lines"]) == sorted(skus)
    assert len({line["id"] for line in final["lines"]}) == len(skus)
    assert final["totals"]["subtotal"]["amount"] == sum(3 * (100 + i) for i in range(len(skus)))
    for sku in skus:
        level = api.inventory(sku)
        assert (level["reserved"], level["available"]) == (3, 0)


def test_delete_racing_adds_on_one_cart(api, race_server):
    sku = unique("SKU")
    api.product(sku, stock=50)
    cart = api.new_cart()["id"]
    calls = [("POST", f"/v1/carts/{cart}/lines", {"sku": sku, "quantity": 1})] * 20 + [("DELETE", f"/v1/carts/{cart}", None)]
    results = race(race_server, calls)
    assert results[-1][0] == 204
    for status, body in results[:-1]:
        assert status == 200 or (status == 409 and body["code"] == "conflict"), (status, body)
    assert api.cart(cart)["status"] == "deleted"
    level = api.inventory(sku)
    assert (level["on_hand"], level["reserved"]) == (50, 0)


def test_churn_with_adjustments_keeps_the_books(api, race_server):
    """Threads add, change, remove lines and delete carts on scarce SKUs while an admin adjusts stock.
    Afterwards each SKU's reserved is the units in active carts, on_hand is the start plus every
    accepted adjustment, and refused adjustments were ones that would have gone below reserved."""
    skus = [unique("CHURN") for _ in range(4)]
    start = 12
    api.product({sku: 500 for sku in skus}, stock=start)
    on_hand = {sku: start for sku in skus}
    lock = threading.Lock()
    stop = time.monotonic() + 1.5
    errors: list = []
    counts = {"ok": 0, "insufficient": 0, "adjusted": 0, "below_reserved": 0}

    def count(name: str):
        with lock:
            counts[name] += 1

    def shopper(seed: int):
        rng = random.Random(seed)
        client = Client(race_server)
        try:
            status, cart = client.request("POST", "/v1/carts", {"channel": "online"})
            assert status == 201
            cart_id = cart["id"]
            while time.monotonic() < stop:
                roll = rng.random()
                lines = cart["lines"]
                if roll < 0.45 or not lines:
                    status, body = client.request("POST", f"/v1/carts/{cart_id}/lines", {"sku": rng.choice(skus), "quantity": rng.randint(1, 3)})
                elif roll < 0.65:
                    line = rng.choice(lines)
                    status, body = client.request("PATCH", f"/v1/carts/{cart_id}/lines/{line['id']}", {"quantity": rng.randint(1, 4)})
                elif roll < 0.9:
                    line = rng.choice(lines)
                    status, body = client.request("DELETE", f"/v1/carts/{cart_id}/lines/{line['id']}")
                else:
                    status, body = client.request("DELETE", f"/v1/carts/{cart_id}")
                    assert status == 204, (status, body)
                    status, cart = client.request("POST", "/v1/carts", {"channel": "online"})
                    cart_id = cart["id"]
                    continue
                if status == 200:
                    cart = body
                    count("ok")
                else:
                    assert status == 409 and body["code"] == "insufficient_stock", (status, body)
                    assert body["available"] >= 0
                    count("insufficient")
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))
        finally:
            client.close()

    def stockist():
        rng = random.Random(99)
        client = Client(race_server, key=ADMIN_KEY)
        try:
            while time.monotonic() < stop:
                sku, delta = rng.choice(skus), rng.choice([-3, -2, -1, 1, 2, 3])
                status, body = client.request("POST", f"/v1/inventory/{sku}/adjustments",
                                              {"delta": delta, "reason": "correction", "location": "main"})
                if status == 200:
                    with lock:
                        on_hand[sku] += delta
                    assert 0 <= body["reserved"] <= body["on_hand"], body
                    count("adjusted")
                else:
                    assert status == 409 and body["code"] == "conflict", (status, body)
                    count("below_reserved")
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))
        finally:
            client.close()

    threads = [threading.Thread(target=shopper, args=(i,)) for i in range(16)] + [threading.Thread(target=stockist)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:5]
    print("churn:", counts)
    assert counts["ok"] >= 100 and counts["insufficient"] > 0 and counts["adjusted"] > 0, counts
    assert_books_balance(api, skus, on_hand)

    # Deleting every cart holding them returns every unit.
    for cart in api.carts("active"):
        if any(line["sku"] in skus for line in cart["lines"]):
            assert api.delete_cart(cart["id"]).status_code == 204
    for sku in skus:
        level = api.inventory(sku)
        assert (level["on_hand"], level["reserved"], level["available"]) == (on_hand[sku], 0, on_hand[sku])


def test_adjustment_below_reserved_is_refused(api):
    sku = unique("SKU")
    api.product(sku, stock=5)
    cart = api.new_cart()
    assert api.add(cart["id"], sku, 4).status_code == 200
    assert_problem(api.adjust(sku, -2, reason="damaged"), 409, "conflict")
    level = api.adjust(sku, -1, reason="damaged")
    assert level.status_code == 200, level.text
    assert (level.json()["on_hand"], level.json()["reserved"], level.json()["available"]) == (4, 4, 0)
    assert_problem(api.add(api.new_cart()["id"], sku, 1), 409, "insufficient_stock")
    added = api.adjust(sku, 3)
    assert added.status_code == 200 and added.json()["available"] == 3
    assert api.add(api.new_cart()["id"], sku, 3).status_code == 200
