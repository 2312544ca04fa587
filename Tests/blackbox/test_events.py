"""The durable event log over HTTP (`GET /v1/events`): every change of the catalogue and of stock
is there exactly once, in `seq` order, with its data; refused requests leave nothing; `since`,
`topics` and paging; `stock.low`. The log is written in the same transaction as the change, so a
read right after the response sees it: nothing here waits."""
from __future__ import annotations

import json
import re

import pytest

from catalogue_api import Api, admin, admin_key_of, srv, assert_problem, assert_unauthorized, money, product_body, unique, variant

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def warehouse(admin) -> dict:
    return admin.create_location(kind="warehouse", fulfils_online=False)


class Log:
    """Reads the events appended since the last check and compares them with what was expected."""

    def __init__(self, admin: Api):
        self.admin = admin
        self.seq = admin.last_seq()

    def expect(self, *expected: tuple[str, str]) -> list[dict]:
        events = self.admin.events(self.seq)
        assert [(e["type"], e["topic"]) for e in events] == list(expected), events
        if events:
            self.seq = events[-1]["seq"]
        return events

    def expect_none(self, what: str) -> None:
        events = self.admin.events(self.seq)
        assert events == [], f"{what} appended events: {events}"


def stock(sku: str, available: int, on_hand: int, location: str = "main", reserved: int = 0) -> dict:
    return {"sku": sku, "available": available, "on_hand": on_hand, "reserved": reserved, "location": location}


def test_events_need_an_admin_key(srv, admin):
    assert_unauthorized(Api(srv).get("/v1/events"))
    for role, location in (("pos", "main"), ("storefront", None)):
        key = admin.create_key(role, location=location)["key"]
        assert_problem(Api(srv, key).get("/v1/events"), 403, "forbidden")


def test_events_shape_and_order(admin):
    admin.create_product()
    page = admin.ok(admin.get("/v1/events"))
    assert page["items"] and "next_cursor" in page
    seqs = [e["seq"] for e in page["items"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for event in page["items"]:
        assert set(event) == {"seq", "type", "topic", "at", "data"}, event
        assert isinstance(event["seq"], int) and event["seq"] > 0
        assert TIME.fullmatch(event["at"]) and isinstance(event["data"], dict)


def test_every_change_appends_exactly_one_event_and_refusals_none(srv, admin, warehouse):
    log = Log(admin)
    a, b = unique("EV-"), unique("EV-")

    # Create, with opening stock for one variant.
    created = admin.create_product(product_body(variants=[variant(a, initial_stock={"main": 4}), variant(b)]))
    pid = created["id"]
    # The product is announced first (its stock still 0), then the stock it arrived with.
    events = log.expect(("product.created", f"product:{pid}"), ("stock.changed", f"stock:{a}"))
    announced = json.loads(json.dumps(created))
    announced["variants"][0]["available"] = 0
    assert events[0]["data"] == announced
    assert events[1]["data"] == stock(a, 4, 4)

    # Update.
    updated = admin.ok(admin.patch(f"/v1/products/{pid}", {"title": "Renamed", "variants": [variant(b, 1500)]}))
    assert log.expect(("product.updated", f"product:{pid}"))[0]["data"] == updated

    # Adjustments: online, then at a warehouse that does not fulfil online.
    admin.adjust(a, 3)
    assert log.expect(("stock.changed", f"stock:{a}"))[0]["data"] == stock(a, 7, 7)
    admin.adjust(b, 2, location=warehouse["code"])
    assert log.expect(("stock.changed", f"stock:{b}"))[0]["data"] == stock(b, 0, 2, warehouse["code"])
    admin.adjust(b, -1, "damaged", location=warehouse["code"])
    assert log.expect(("stock.changed", f"stock:{b}"))[0]["data"] == stock(b, 0, 1, warehouse["code"])

    # Stocktake.
    admin.ok(admin.put(f"/v1/inventory/{a}/levels/main", {"on_hand": 5}))
    assert log.expect(("stock.changed", f"stock:{a}"))[0]["data"] == stock(a, 5, 5)

    # A till at main.
    till = Api(srv, admin.create_key("pos", location="main")["key"])
    till.adjust(a, -1, "sold_in_store")
    assert log.expect(("stock.changed", f"stock:{a}"))[0]["data"] == stock(a, 4, 4)

    # An idempotent retry: one event for the two requests.
    key = {"Idempotency-Key": unique("idem-")}
    admin.ok(admin.post(f"/v1/inventory/{a}/adjustments", {"delta": 1, "reason": "returned"}, headers=key))
    admin.ok(admin.post(f"/v1/inventory/{a}/adjustments", {"delta": 1, "reason": "returned"}, headers=key))
    assert log.expect(("stock.changed", f"stock:{a}"))[0]["data"] == stock(a, 5, 5)

    # A location.
    location = admin.create_location()
    assert log.expect(("location.created", "locations"))[0]["data"] == location

    # Refused requests: nothing.
    refused = [
        (admin.post("/v1/products", product_body(variants=[variant(a)])), 409),
        (admin.post("/v1/products", product_body(variants=[variant(amount=-1)])), 422),
        (admin.post("/v1/products", product_body(variants=[variant(initial_stock={"nowhere": 1})])), 404),
        (admin.post("/v1/products/import", {"products": [product_body(), product_body(variants=[variant(b)])]}), 409),
        (admin.patch(f"/v1/products/{pid}", {"title": ""}), 422),
        (admin.patch(f"/v1/products/{pid}", {"variants": [{"sku": a, "price": money(1, "XXX")}]}), 422),
        (admin.patch("/v1/products/prod_nope", {"title": "x"}), 404),
        (admin.delete("/v1/products/prod_nope"), 404),
        (admin.post(f"/v1/inventory/{a}/adjustments", {"delta": -6, "reason": "damaged"}), 409),
        (admin.post(f"/v1/inventory/{a}/adjustments", {"delta": 0, "reason": "damaged"}), 422),
        (admin.post("/v1/inventory/NOPE/adjustments", {"delta": 1, "reason": "received"}), 404),
        (admin.post(f"/v1/inventory/{a}/adjustments", {"delta": 1, "reason": "received", "location": "nowhere"}), 404),
        (till.post(f"/v1/inventory/{a}/adjustments", {"delta": 1, "reason": "received", "location": warehouse["code"]}), 403),
        (Api(srv).post(f"/v1/inventory/{a}/adjustments", {"delta": 1, "reason": "received"}), 401),
        (till.patch(f"/v1/products/{pid}", {"title": "Till title"}), 403),
        (admin.put(f"/v1/inventory/{a}/levels/main", {"on_hand": -1}), 422),
        (admin.post("/v1/locations", {"code": location["code"], "name": "x", "kind": "store", "fulfils_online": False}), 409),
        (admin.request("POST", "/v1/products", data=b'{"title":"x","title":"y","variants":[]}',
                       headers={"Content-Type": "application/json"}), 400),
    ]
    for response, status in refused:
        assert response.status_code == status, (response.request.method, response.request.url, response.text)
    log.expect_none("refused requests")

    # Delete.
    assert admin.delete(f"/v1/products/{pid}").status_code == 204
    assert log.expect(("product.deleted", f"product:{pid}"))[0]["data"] == {"id": pid, "skus": [a, b]}


def test_since_returns_only_later_events(admin):
    admin.create_product()
    everything = admin.events(0)
    middle = everything[len(everything) // 2]["seq"]
    assert admin.events(middle) == [e for e in everything if e["seq"] > middle]
    assert admin.events(everything[-1]["seq"]) == []
    assert admin.ok(admin.get("/v1/events", params={"since": 2**63 - 1}))["items"] == []


def test_topic_filters(admin):
    a, b = unique("TOP-"), unique("TOP-")
    p1 = admin.create_product(product_body(variants=[variant(a)]))
    p2 = admin.create_product(product_body(variants=[variant(b)]))
    admin.adjust(a, 1)
    admin.adjust(b, 2)
    admin.adjust(a, 3)
    everything = admin.events(0)

    def only(predicate):
        return [e for e in everything if predicate(e["topic"])]

    assert admin.events(0, topics="stock") == only(lambda t: t == "stock" or t.startswith("stock:"))
    assert [e["data"]["on_hand"] for e in admin.events(0, topics=f"stock:{a}")] == [1, 4]
    assert admin.events(0, topics=f"stock:{a}") == only(lambda t: t == f"stock:{a}")
    assert admin.events(0, topics="products") == only(lambda t: t.startswith("product:"))
    assert admin.events(0, topics=f"product:{p2['id']}") == only(lambda t: t == f"product:{p2['id']}")
    assert admin.events(0, topics=f"stock:{b},product:{p1['id']}") == \
        only(lambda t: t in (f"stock:{b}", f"product:{p1['id']}"))
    assert admin.events(0, topics=f",stock:{a},,") == admin.events(0, topics=f"stock:{a}")
    assert admin.events(0, topics="") == everything
    assert admin.events(0, topics="sto") == []
    assert admin.events(0, topics="product") == [], "`product` is no family (that is `products`)"
    assert admin.events(0, topics=f"stock:{a.lower()}") == []  # topics are exact
    assert admin.events(0, topics="locations") == only(lambda t: t == "locations")


def test_limit_and_next_cursor_paging(admin):
    sku = unique("PAGE-")
    admin.create_product(product_body(variants=[variant(sku)]))
    for _ in range(6):
        admin.adjust(sku, 1)
    topic = f"stock:{sku}"
    everything = admin.events(0, topics=topic)
    assert len(everything) == 6
    first = admin.ok(admin.get("/v1/events", params={"topics": topic, "limit": 4}))
    assert first["items"] == everything[:4] and first["next_cursor"] == str(everything[3]["seq"])
    second = admin.ok(admin.get("/v1/events", params={"topics": topic, "limit": 4, "since": first["next_cursor"]}))
    assert second["items"] == everything[4:] and second["next_cursor"] is None
    exact = admin.ok(admin.get("/v1/events", params={"topics": topic, "limit": 6}))
    assert exact["items"] == everything and exact["next_cursor"] is None
    collected, since = [], 0
    while True:
        page = admin.ok(admin.get("/v1/events", params={"limit": 3, "since": since}))
        collected += page["items"]
        if page["next_cursor"] is None:
            break
        since = int(page["next_cursor"])
    assert collected == admin.events(0)
    default = admin.ok(admin.get("/v1/events"))
    assert len(default["items"]) == min(50, len(collected))


@pytest.mark.parametrize("params", [
    {"since": "-1"}, {"since": "abc"}, {"since": "1.5"}, {"since": ""}, {"since": "9223372036854775808"},
    {"topics": "stock sku"}, {"topics": "a;b"}, {"topics": "x" * 101}, {"topics": ",".join(["stock"] * 51)},
    {"topics": "stock/x"}, {"topics": "stöck"}, {"topics": "stock*"},
    {"limit": "0"}, {"limit": "201"}, {"limit": "x"},
], ids=lambda p: "-".join(f"{k}={v[:12]}" for k, v in p.items()))
def test_bad_query_is_400(admin, params):
    assert_problem(admin.get("/v1/events", params=params), 400, "invalid_request")


# stock.low ---------------------------------------------------------------------------------------


def test_stock_low_is_emitted_when_available_falls_to_the_threshold(admin, warehouse):
    sku = unique("LOW-")
    admin.create_product(product_body(variants=[variant(sku, low_stock_threshold=3)]))
    topic = f"stock:{sku}"
    log = Log(admin)

    def step(delta, expected_types, location=None, reason="sold_in_store"):
        admin.adjust(sku, delta, reason if delta < 0 else "received", location=location)
        events = admin.events(log.seq, topics=topic)
        assert [e["type"] for e in events] == expected_types, (delta, events)
        log.seq = admin.last_seq()
        return events

    step(5, ["stock.changed"])                       # 0 → 5: rising, not low
    step(-1, ["stock.changed"])                      # 5 → 4
    low = step(-1, ["stock.changed", "stock.low"])   # 4 → 3: at the threshold
    assert low[1]["data"] == stock(sku, 3, 3) and low[1]["topic"] == topic and low[1]["seq"] == low[0]["seq"] + 1
    step(-1, ["stock.changed"])                      # 3 → 2: already low, not again
    step(-2, ["stock.changed"])                      # 2 → 0
    step(6, ["stock.changed"])                       # 0 → 6: recovered
    step(5, ["stock.changed"], location=warehouse["code"])   # offline stock does not change `available`
    step(-5, ["stock.changed"], location=warehouse["code"])
    low = step(-5, ["stock.changed", "stock.low"])   # 6 → 1: jumps below the threshold
    assert low[1]["data"] == stock(sku, 1, 1)


def test_stock_low_from_a_stocktake(admin):
    sku = unique("LOW-")
    admin.create_product(product_body(variants=[variant(sku, low_stock_threshold=0, initial_stock={"main": 2})]))
    log = Log(admin)
    admin.ok(admin.put(f"/v1/inventory/{sku}/levels/main", {"on_hand": 0}))
    events = log.expect(("stock.changed", f"stock:{sku}"), ("stock.low", f"stock:{sku}"))
    assert events[1]["data"] == stock(sku, 0, 0)


def test_no_stock_low_without_a_threshold(admin):
    sku = unique("NOLOW-")
    admin.create_product(product_body(variants=[variant(sku, initial_stock={"main": 2})]))
    log = Log(admin)
    admin.adjust(sku, -2, "sold_in_store")
    log.expect(("stock.changed", f"stock:{sku}"))


def test_threshold_set_by_patch_applies(admin):
    sku = unique("LOW-")
    product = admin.create_product(product_body(variants=[variant(sku, initial_stock={"main": 10})]))
    admin.ok(admin.patch(f"/v1/products/{product['id']}", {"variants": [variant(sku, low_stock_threshold=8)]}))
    log = Log(admin)
    admin.adjust(sku, -2, "sold_in_store")
    log.expect(("stock.changed", f"stock:{sku}"), ("stock.low", f"stock:{sku}"))


def test_log_survives_a_restart_and_seq_keeps_rising(launch, tmp_path):
    data = tmp_path / "data"
    first = launch({"data_dir": str(data)})
    admin = Api(first, admin_key_of(first))
    sku = unique("DUR-")
    admin.create_product(product_body(variants=[variant(sku)]))
    admin.adjust(sku, 4)
    before = admin.events(0)
    first.shutdown()
    second = launch({"data_dir": str(data)})
    admin = Api(second, admin_key_of(second))
    assert admin.events(0) == before
    admin.adjust(sku, 1)
    after = admin.events(before[-1]["seq"])
    assert [(e["type"], e["data"]) for e in after] == [("stock.changed", stock(sku, 5, 5))]
    assert after[0]["seq"] > before[-1]["seq"]
