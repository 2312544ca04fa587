"""Inventory: levels per location, adjustments with reasons and their movements, stocktakes, the
`on_hand ≥ reserved ≥ 0` rule, pos keys bound to their location, idempotent retries and online
availability over the locations that fulfil online. One server for the module, unique SKUs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from catalogue_api import Api, admin, srv, assert_field_errors, assert_problem, product_body, unique, variant

REASONS = ["received", "sold_in_store", "damaged", "stocktake", "returned", "correction"]


@pytest.fixture(scope="module")
def admin_id(admin) -> str:
    return next(k["id"] for k in admin.ok(admin.get("/v1/api-keys"))["items"] if k["name"] == "first admin")


@pytest.fixture(scope="module")
def shop(admin) -> dict:
    """A second store (not online) with its own till, and a warehouse that does not fulfil online."""
    store = admin.create_location(kind="store", fulfils_online=False)
    warehouse = admin.create_location(kind="warehouse", fulfils_online=False)
    online_warehouse = admin.create_location(kind="warehouse", fulfils_online=True)
    till = admin.create_key("pos", location=store["code"])
    main_till = admin.create_key("pos", location="main")
    return {"store": store, "warehouse": warehouse, "online_warehouse": online_warehouse,
            "till": till, "main_till": main_till}


def new_sku(admin: Api, **variant_fields) -> str:
    sku = unique("INV-")
    admin.create_product(product_body(variants=[variant(sku, **variant_fields)]))
    return sku


def at(level: dict, code: str) -> dict:
    return next(entry for entry in level["locations"] if entry["location"] == code)


def movements(api: Api, sku: str, **params) -> list[dict]:
    return api.ok(api.get(f"/v1/inventory/{sku}/movements", params=params))["items"]


# Reading levels ----------------------------------------------------------------------------------


def test_new_sku_has_zero_everywhere(admin, shop):
    sku = new_sku(admin)
    level = admin.inventory(sku)
    assert (level["sku"], level["on_hand"], level["reserved"], level["available"]) == (sku, 0, 0, 0)
    codes = [entry["location"] for entry in level["locations"]]
    assert "main" in codes and shop["store"]["code"] in codes and shop["warehouse"]["code"] in codes
    assert len(codes) == len(set(codes))
    for entry in level["locations"]:
        assert entry == {"location": entry["location"], "on_hand": 0, "reserved": 0, "available": 0}
    assert movements(admin, sku) == []


def test_levels_per_location_and_totals(admin, shop):
    sku = new_sku(admin)
    admin.adjust(sku, 10)
    admin.adjust(sku, 4, location=shop["store"]["code"])
    level = admin.adjust(sku, 6, location=shop["warehouse"]["code"])
    assert level == admin.inventory(sku)
    assert (level["on_hand"], level["reserved"], level["available"]) == (20, 0, 10)
    assert at(level, "main") == {"location": "main", "on_hand": 10, "reserved": 0, "available": 10}
    assert at(level, shop["store"]["code"])["on_hand"] == 4 and at(level, shop["store"]["code"])["available"] == 4
    assert at(level, shop["warehouse"]["code"])["on_hand"] == 6


def test_pos_key_reads_inventory(admin, srv, shop):
    sku = new_sku(admin)
    admin.adjust(sku, 3)
    till = Api(srv, shop["till"]["key"])
    assert till.inventory(sku) == admin.inventory(sku)
    assert movements(till, sku) == movements(admin, sku)


def test_unknown_sku_is_404(admin, shop, srv):
    till = Api(srv, shop["till"]["key"])
    for api in (admin, till):
        assert_problem(api.get("/v1/inventory/NO-SUCH-SKU"), 404, "not_found")
        assert_problem(api.get("/v1/inventory/NO-SUCH-SKU/movements"), 404, "not_found")
        assert_problem(api.post("/v1/inventory/NO-SUCH-SKU/adjustments", {"delta": 1, "reason": "received"}), 404, "not_found")
    assert_problem(admin.put("/v1/inventory/NO-SUCH-SKU/levels/main", {"on_hand": 1}), 404, "not_found")


# Adjustments and movements -----------------------------------------------------------------------


def test_each_reason_changes_on_hand_and_is_recorded(admin, admin_id):
    sku = new_sku(admin)
    deltas = {"received": 20, "sold_in_store": -3, "damaged": -2, "stocktake": 5, "returned": 1, "correction": -4}
    on_hand = 0
    for reason in REASONS:
        level = admin.adjust(sku, deltas[reason], reason)
        on_hand += deltas[reason]
        assert level["on_hand"] == on_hand and at(level, "main")["on_hand"] == on_hand
    items = movements(admin, sku)
    assert [m["reason"] for m in items] == list(reversed(REASONS)), "movements are not newest first"
    expected_after = on_hand
    for m in items:
        assert m["sku"] == sku and m["location"] == "main"
        assert m["delta"] == deltas[m["reason"]]
        assert m["on_hand_after"] == expected_after and m["on_hand_before"] == expected_after - m["delta"]
        assert m["actor"] == f"admin:{admin_id}"
        expected_after = m["on_hand_before"]
    assert expected_after == 0
    ids = [m["id"] for m in items]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


def test_adjustment_note_is_recorded(admin):
    sku = new_sku(admin)
    admin.ok(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 24, "reason": "received", "note": "PO 1142"}))
    assert movements(admin, sku)[0]["note"] == "PO 1142"


def test_adjust_by_location_id(admin, shop):
    sku = new_sku(admin)
    level = admin.adjust(sku, 5, location=shop["store"]["id"])
    assert at(level, shop["store"]["code"])["on_hand"] == 5
    assert movements(admin, sku)[0]["location"] == shop["store"]["code"]


def test_movement_pages(admin):
    sku = new_sku(admin)
    for delta in range(1, 8):
        admin.adjust(sku, delta)
    everything = movements(admin, sku)
    assert [m["delta"] for m in everything] == [7, 6, 5, 4, 3, 2, 1]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = admin.ok(admin.get(f"/v1/inventory/{sku}/movements", params=params))
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    for bad in ("nonsense", "bzU", ""):
        assert_problem(admin.get(f"/v1/inventory/{sku}/movements", params={"cursor": bad}), 400, "invalid_request")
    for bad in ("0", "201", "x"):
        assert_problem(admin.get(f"/v1/inventory/{sku}/movements", params={"limit": bad}), 400, "invalid_request")


@pytest.mark.parametrize("body,field", [
    ({"delta": 0, "reason": "received"}, "delta"),
    ({"delta": 1_000_001, "reason": "received"}, "delta"),
    ({"delta": 1, "reason": "stolen"}, "reason"),
    ({"delta": 1}, "reason"),
    ({"reason": "received"}, "delta"),
    ({"delta": "5", "reason": "received"}, "delta"),
    ({"delta": 1.5, "reason": "received"}, "delta"),
    ({"delta": 1, "reason": "received", "note": "n" * 501}, "note"),
])
def test_invalid_adjustment_is_422_and_changes_nothing(admin, body, field):
    sku = new_sku(admin)
    admin.adjust(sku, 5)
    before, seq = admin.inventory(sku), admin.last_seq()
    assert_field_errors(admin.post(f"/v1/inventory/{sku}/adjustments", body), field)
    assert admin.inventory(sku) == before and len(movements(admin, sku)) == 1
    assert admin.last_seq() == seq


def test_adjustment_below_zero_is_409_and_changes_nothing(admin, shop):
    sku = new_sku(admin)
    admin.adjust(sku, 3)
    admin.adjust(sku, 2, location=shop["store"]["code"])
    before, seq = admin.inventory(sku), admin.last_seq()
    assert_problem(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": -4, "reason": "damaged"}), 409, "conflict")
    # Stock elsewhere does not cover a shortfall here.
    assert_problem(admin.post(f"/v1/inventory/{sku}/adjustments",
                              {"delta": -3, "reason": "sold_in_store", "location": shop["store"]["code"]}), 409, "conflict")
    assert admin.inventory(sku) == before
    assert len(movements(admin, sku)) == 2
    assert admin.last_seq() == seq
    level = admin.adjust(sku, -3, "sold_in_store")  # exactly to zero is fine
    assert at(level, "main")["on_hand"] == 0


def test_unknown_location_is_404(admin):
    sku = new_sku(admin)
    seq = admin.last_seq()
    assert_problem(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 1, "reason": "received", "location": "nowhere"}),
                   404, "not_found")
    assert_problem(admin.put(f"/v1/inventory/{sku}/levels/nowhere", {"on_hand": 1}), 404, "not_found")
    assert admin.inventory(sku)["on_hand"] == 0 and admin.last_seq() == seq


# pos keys ----------------------------------------------------------------------------------------


def test_pos_key_adjusts_its_own_location(admin, srv, shop, admin_id):
    sku = new_sku(admin)
    till = Api(srv, shop["till"]["key"])
    code = shop["store"]["code"]
    level = till.adjust(sku, 8)
    assert at(level, code)["on_hand"] == 8 and at(level, "main")["on_hand"] == 0
    level = till.adjust(sku, -1, "sold_in_store", location=code)
    assert at(level, code)["on_hand"] == 7
    level = till.adjust(sku, -1, "damaged", location=shop["store"]["id"])
    assert at(level, code)["on_hand"] == 6
    latest = movements(admin, sku)[0]
    assert latest["actor"] == f"pos:{shop['till']['id']}" and latest["location"] == code


def test_pos_key_may_not_adjust_another_location(admin, srv, shop):
    sku = new_sku(admin)
    till = Api(srv, shop["till"]["key"])
    seq = admin.last_seq()
    for other in ("main", shop["warehouse"]["code"], "loc_main", "nowhere"):
        response = till.post(f"/v1/inventory/{sku}/adjustments", {"delta": 1, "reason": "received", "location": other})
        assert_problem(response, 403, "forbidden")
    assert admin.inventory(sku)["on_hand"] == 0 and admin.last_seq() == seq


def test_pos_key_may_not_count_stock(admin, srv, shop):
    sku = new_sku(admin)
    till = Api(srv, shop["till"]["key"])
    assert_problem(till.put(f"/v1/inventory/{sku}/levels/{shop['store']['code']}", {"on_hand": 4}), 403, "forbidden")
    assert admin.inventory(sku)["on_hand"] == 0


def test_admin_adjusts_main_by_default(admin):
    sku = new_sku(admin)
    assert at(admin.adjust(sku, 2), "main")["on_hand"] == 2


# Stocktake ---------------------------------------------------------------------------------------


def test_stocktake_sets_the_count_and_records_the_difference(admin, shop, admin_id):
    sku = new_sku(admin)
    admin.adjust(sku, 10)
    level = admin.ok(admin.put(f"/v1/inventory/{sku}/levels/main", {"on_hand": 7}))
    assert at(level, "main")["on_hand"] == 7 and level["on_hand"] == 7 and level == admin.inventory(sku)
    latest = movements(admin, sku)[0]
    assert (latest["reason"], latest["delta"], latest["on_hand_before"], latest["on_hand_after"]) == ("stocktake", -3, 10, 7)
    assert latest["actor"] == f"admin:{admin_id}" and latest["location"] == "main"
    level = admin.ok(admin.put(f"/v1/inventory/{sku}/levels/{shop['warehouse']['code']}", {"on_hand": 12}))
    assert at(level, shop["warehouse"]["code"])["on_hand"] == 12 and level["on_hand"] == 19
    latest = movements(admin, sku)[0]
    assert (latest["reason"], latest["delta"], latest["on_hand_before"], latest["on_hand_after"], latest["location"]) == \
        ("stocktake", 12, 0, 12, shop["warehouse"]["code"])
    level = admin.ok(admin.put(f"/v1/inventory/{sku}/levels/main", {"on_hand": 0}))
    assert at(level, "main")["on_hand"] == 0


@pytest.mark.parametrize("body,field", [({"on_hand": -1}, "on_hand"), ({}, "on_hand"), ({"on_hand": "3"}, "on_hand"),
                                        ({"on_hand": 100_000_001}, "on_hand")])
def test_invalid_stocktake_is_422(admin, body, field):
    sku = new_sku(admin)
    admin.adjust(sku, 2)
    seq = admin.last_seq()
    assert_field_errors(admin.put(f"/v1/inventory/{sku}/levels/main", body), field)
    assert admin.inventory(sku)["on_hand"] == 2 and admin.last_seq() == seq


# Idempotency -------------------------------------------------------------------------------------


def test_idempotent_adjustment_applies_once(admin):
    sku = new_sku(admin)
    key = {"Idempotency-Key": unique("idem-")}
    first = admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 5, "reason": "received"}, headers=key)
    seq = admin.last_seq()
    second = admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 5, "reason": "received"}, headers=key)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and first.json()["on_hand"] == 5
    assert admin.inventory(sku)["on_hand"] == 5
    assert len(movements(admin, sku)) == 1
    assert admin.last_seq() == seq, "the retry appended an event"
    third = admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 5, "reason": "received"},
                       headers={"Idempotency-Key": unique("idem-")})
    assert third.json()["on_hand"] == 10


def test_same_idempotency_key_with_another_body_is_refused(admin):
    sku = new_sku(admin)
    key = {"Idempotency-Key": unique("idem-")}
    admin.ok(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 5, "reason": "received"}, headers=key))
    seq = admin.last_seq()
    refused = admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 7, "reason": "received"}, headers=key)
    assert_problem(refused, 422, "invalid_request")
    assert admin.inventory(sku)["on_hand"] == 5
    assert admin.last_seq() == seq, "the refused request appended an event"


def test_idempotency_key_is_scoped_to_sku_and_api_key(admin, srv, shop):
    sku_a, sku_b = new_sku(admin), new_sku(admin)
    key = {"Idempotency-Key": unique("idem-")}
    admin.ok(admin.post(f"/v1/inventory/{sku_a}/adjustments", {"delta": 2, "reason": "received"}, headers=key))
    admin.ok(admin.post(f"/v1/inventory/{sku_b}/adjustments", {"delta": 3, "reason": "received"}, headers=key))
    till = Api(srv, shop["main_till"]["key"])
    till.ok(till.post(f"/v1/inventory/{sku_a}/adjustments", {"delta": 4, "reason": "received"}, headers=key))
    assert admin.inventory(sku_a)["on_hand"] == 6 and admin.inventory(sku_b)["on_hand"] == 3


def test_failed_attempt_does_not_burn_the_idempotency_key(admin):
    sku = new_sku(admin)
    key = {"Idempotency-Key": unique("idem-")}
    assert_problem(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": -1, "reason": "damaged"}, headers=key), 409, "conflict")
    admin.adjust(sku, 1)
    level = admin.ok(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": -1, "reason": "damaged"}, headers=key))
    assert level["on_hand"] == 0


@pytest.mark.parametrize("value", ["x" * 201, "has space", "tab\there", "é"])
def test_bad_idempotency_key_is_400(admin, value):
    sku = new_sku(admin)
    body = b'{"delta":1,"reason":"received"}'
    with admin.server.connect() as conn:  # raw, so non-ASCII and tabs reach the server as sent
        response = conn.request("POST", f"/v1/inventory/{sku}/adjustments", body=body, headers=[
            ("Authorization", f"Bearer {admin.key}"), ("Content-Type", "application/json"), ("Idempotency-Key", value)])
    assert response.status == 400, response.body
    assert response.json()["code"] == "invalid_request"
    assert admin.inventory(sku)["on_hand"] == 0


# Online availability -----------------------------------------------------------------------------


def test_available_sums_only_locations_that_fulfil_online(admin, anon_api, shop):
    sku = unique("ONL-")
    product = admin.create_product(product_body(variants=[variant(sku)]))
    admin.adjust(sku, 5)
    admin.adjust(sku, 10, location=shop["warehouse"]["code"])
    admin.adjust(sku, 4, location=shop["store"]["code"])
    level = admin.adjust(sku, 3, location=shop["online_warehouse"]["code"])
    assert (level["on_hand"], level["reserved"], level["available"]) == (22, 0, 8)
    assert at(level, shop["warehouse"]["code"])["available"] == 10  # per location: on hand minus reserved
    assert anon_api.product(product["id"])["variants"][0]["available"] == 8


def test_product_available_follows_stock_changes(admin, anon_api):
    """Product responses are cached; a stock change must show at once in reads and lists."""
    sku = unique("CACHE-")
    category = unique("cat-")
    product = admin.create_product(product_body(category=category, variants=[variant(), variant(sku)]))
    assert anon_api.product(product["id"])["variants"][1]["available"] == 0
    assert anon_api.all_products(category=category)[0]["variants"][1]["available"] == 0
    for delta, expected in ((6, 6), (-2, 4), (10, 14)):
        admin.adjust(sku, delta)
        assert anon_api.product(product["id"])["variants"][1]["available"] == expected
        assert anon_api.all_products(category=category)[0]["variants"][1]["available"] == expected
    admin.ok(admin.put(f"/v1/inventory/{sku}/levels/main", {"on_hand": 1}))
    assert anon_api.product(product["id"])["variants"][1]["available"] == 1
    assert anon_api.all_products(category=category, in_stock="true")[0]["id"] == product["id"]


def test_variant_added_by_patch_has_its_own_stock(admin, anon_api):
    product = admin.create_product()
    sku = unique("ADDED-")
    admin.ok(admin.patch(f"/v1/products/{product['id']}", {"variants": [variant(sku)]}))
    admin.adjust(sku, 9)
    variants = anon_api.product(product["id"])["variants"]
    assert [v["available"] for v in variants] == [0, 9]


def test_deleted_product_sku_has_no_inventory(admin):
    sku = new_sku(admin)
    product_id = next(p["id"] for p in admin.all_products() if p["variants"][0]["sku"] == sku)
    admin.adjust(sku, 2)
    assert admin.delete(f"/v1/products/{product_id}").status_code == 204
    assert_problem(admin.get(f"/v1/inventory/{sku}"), 404, "not_found")
    assert_problem(admin.post(f"/v1/inventory/{sku}/adjustments", {"delta": 1, "reason": "received"}), 404, "not_found")


@pytest.fixture(scope="module")
def anon_api(srv) -> Api:
    return Api(srv)


# Concurrency ---------------------------------------------------------------------------------------


def test_concurrent_removals_never_go_below_zero(admin, srv):
    sku = new_sku(admin)
    admin.adjust(sku, 10)

    def remove(_):
        return Api(srv, admin.key).post(f"/v1/inventory/{sku}/adjustments", {"delta": -1, "reason": "sold_in_store"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(remove, range(16)))
    assert sorted(statuses) == [200] * 10 + [409] * 6
    assert admin.inventory(sku)["on_hand"] == 0
    assert len(movements(admin, sku)) == 11


def test_concurrent_retries_with_one_idempotency_key_apply_once(admin, srv):
    sku = new_sku(admin)
    key = unique("idem-")

    def retry(_):
        response = Api(srv, admin.key).post(f"/v1/inventory/{sku}/adjustments", {"delta": 3, "reason": "received"},
                                            headers={"Idempotency-Key": key})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(retry, range(8)))
    assert {status for status, _ in results} == {200}
    assert all(body == results[0][1] for _, body in results)
    assert admin.inventory(sku)["on_hand"] == 3 and len(movements(admin, sku)) == 1
