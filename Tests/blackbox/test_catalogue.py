"""The catalogue: products and variants (create, read, update, delete, bulk import), validation and
conflicts that store nothing, listing with cursors and filters, full-text search, and locations.

One server for the module; every test uses its own SKUs, words and categories, so tests do not see
each other's products."""

from __future__ import annotations

import copy
import json
import re

import pytest

from catalogue_api import (  # srv and admin are module fixtures
    Api, admin, admin_key_of, srv, assert_field_errors, assert_problem, gs1, money, product_body, random_ean13, unique, variant,
    word,
)

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def anon(srv) -> Api:
    return Api(srv)


@pytest.fixture(scope="module")
def storefront(srv, admin) -> Api:
    return Api(srv, admin.create_key("storefront")["key"])


@pytest.fixture(scope="module")
def pos(srv, admin) -> Api:
    return Api(srv, admin.create_key("pos", location="main")["key"])


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


class Unchanged:
    """Asserts that a refused request stored nothing: same products (as the admin lists them) and no
    new event."""

    def __init__(self, admin: Api):
        self.admin = admin

    def __enter__(self):
        self.products = self.admin.all_products()
        self.seq = self.admin.last_seq()
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            assert self.admin.all_products() == self.products, "a refused request changed the product list"
            assert self.admin.last_seq() == self.seq, "a refused request appended an event"


# Create and read ---------------------------------------------------------------------------------


def test_create_product_returns_it_with_available_zero(admin, anon):
    sku1, sku2 = unique("SHIRT-"), unique("SHIRT-")
    barcode = random_ean13()
    body = {
        "title": "Linen shirt", "description": "Washed linen, relaxed fit.", "category": "shirts",
        "tags": ["linen", "summer"], "images": ["https://cdn.example.com/shirt.jpg"],
        "variants": [
            {"sku": sku1, "title": "Medium", "price": money(4500), "attributes": {"size": "M", "colour": "natural"},
             "barcode": barcode, "low_stock_threshold": 3},
            {"sku": sku2, "title": "Large", "price": money(4500), "attributes": {"size": "L"}},
        ],
    }
    response = admin.post("/v1/products", body)
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    product = response.json()
    assert product["id"].startswith("prod_")
    assert product["title"] == "Linen shirt" and product["description"] == "Washed linen, relaxed fit."
    assert product["category"] == "shirts" and product["tags"] == ["linen", "summer"]
    assert product["images"] == ["https://cdn.example.com/shirt.jpg"]
    assert product["status"] == "active"
    assert TIME.fullmatch(product["created_at"]) and TIME.fullmatch(product["updated_at"])
    first, second = product["variants"]
    assert first["id"].startswith("var_") and second["id"].startswith("var_") and first["id"] != second["id"]
    assert (first["sku"], first["title"], first["price"], first["attributes"]) == (sku1, "Medium", money(4500), {"size": "M", "colour": "natural"})
    assert first["barcode"] == barcode and first["low_stock_threshold"] == 3
    assert second["sku"] == sku2 and "barcode" not in second
    assert first["available"] == 0 and second["available"] == 0
    assert anon.product(product["id"]) == product


def test_minimal_product_defaults(admin):
    product = admin.create_product({"title": "Gift card", "variants": [{"sku": unique("GIFT-"), "price": money(2500)}]})
    assert product["status"] == "active" and product["tags"] == [] and product["images"] == []
    assert "description" not in product and "category" not in product
    assert product["variants"][0]["attributes"] == {} and product["variants"][0]["available"] == 0


def test_unknown_product_is_404(anon, admin):
    assert_problem(anon.get("/v1/products/prod_doesnotexist"), 404, "not_found")
    assert_problem(admin.get("/v1/products/prod_doesnotexist"), 404, "not_found")


def test_draft_product_is_hidden_from_everyone_but_admin(admin, anon, storefront, pos):
    product = admin.create_product(product_body(status="draft"))
    assert product["status"] == "draft"
    for caller in (anon, storefront, pos):
        assert_problem(caller.get(f"/v1/products/{product['id']}"), 404, "not_found")
        assert product["id"] not in ids(caller.all_products())
    assert admin.product(product["id"]) == product
    assert product["id"] in ids(admin.all_products())


def test_archived_product_is_hidden_from_the_public(admin, anon):
    product = admin.create_product()
    assert anon.get(f"/v1/products/{product['id']}").status_code == 200
    admin.ok(admin.patch(f"/v1/products/{product['id']}", {"status": "archived"}))
    assert_problem(anon.get(f"/v1/products/{product['id']}"), 404, "not_found")
    assert admin.product(product["id"])["status"] == "archived"


# Update and delete -------------------------------------------------------------------------------


def test_patch_title_and_status(admin, anon):
    product = admin.create_product(product_body(title="Old title"))
    updated = admin.ok(admin.patch(f"/v1/products/{product['id']}", {"title": "New title"}))
    assert updated["title"] == "New title"
    assert updated["variants"] == product["variants"] and updated["created_at"] == product["created_at"]
    assert anon.product(product["id"])["title"] == "New title"
    drafted = admin.ok(admin.patch(f"/v1/products/{product['id']}", {"status": "draft"}))
    assert drafted["status"] == "draft" and drafted["title"] == "New title"
    assert_problem(anon.get(f"/v1/products/{product['id']}"), 404, "not_found")
    active = admin.ok(admin.patch(f"/v1/products/{product['id']}", {"status": "active"}))
    assert anon.product(product["id"]) == active


def test_patch_absent_and_null_members_keep_fields(admin):
    product = admin.create_product(product_body(description="Keep me", category="kept", tags=["a"]))
    updated = admin.ok(admin.patch(f"/v1/products/{product['id']}", {"title": None, "description": None, "tags": None}))
    for field in ("title", "description", "category", "tags", "images", "status", "variants"):
        assert updated[field] == product[field], field


def test_patch_upserts_variants_by_sku(admin):
    keep, change, new = unique("V-"), unique("V-"), unique("V-")
    product = admin.create_product(product_body(variants=[variant(keep, 100), variant(change, 200)]))
    by_sku = {v["sku"]: v for v in product["variants"]}
    updated = admin.ok(admin.patch(f"/v1/products/{product['id']}", {"variants": [
        {"sku": change, "title": "Changed", "price": money(250)},
        {"sku": new, "title": "Added", "price": money(300), "attributes": {"size": "XL"}},
    ]}))
    assert [v["sku"] for v in updated["variants"]] == [keep, change, new]
    kept, changed, added = updated["variants"]
    assert kept == by_sku[keep]
    assert changed["id"] == by_sku[change]["id"] and changed["price"] == money(250) and changed["title"] == "Changed"
    assert added["id"].startswith("var_") and added["id"] not in {v["id"] for v in product["variants"]}
    assert added["price"] == money(300) and added["attributes"] == {"size": "XL"} and added["available"] == 0
    assert admin.product(product["id"]) == updated


def test_patch_reprice_keeps_variant_fields_it_does_not_name(admin):
    """The openapi `reprice` example: title, price and attributes sent again, barcode and
    low-stock threshold not sent. Absent members leave a field as it is, so those must stay."""
    sku, barcode = unique("SHIRT-LIN-M-"), random_ean13()
    product = admin.create_product({"title": "Linen shirt", "variants": [
        {"sku": sku, "title": "Medium", "price": money(4500), "attributes": {"size": "M", "colour": "natural"},
         "barcode": barcode, "low_stock_threshold": 3}]})
    updated = admin.ok(admin.patch(f"/v1/products/{product['id']}", {
        "title": "Linen shirt (washed)",
        "variants": [{"sku": sku, "title": "Medium", "price": money(3900), "attributes": {"size": "M", "colour": "natural"}}],
    }))
    v = updated["variants"][0]
    assert v["price"] == money(3900)
    assert v.get("barcode") == barcode, f"PATCH cleared the barcode it did not name: {v}"
    assert v.get("low_stock_threshold") == 3, f"PATCH cleared the low-stock threshold it did not name: {v}"


def test_patch_unknown_product_is_404(admin):
    with Unchanged(admin):
        assert_problem(admin.patch("/v1/products/prod_doesnotexist", {"title": "x"}), 404, "not_found")


@pytest.mark.parametrize("patch,field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"status": "sold"}, "status"),
    ({"tags": ["t" * 51]}, "tags[0]"),
    ({"variants": [{"sku": "BAD SKU", "price": {"amount": 1, "currency": "GBP"}}]}, "variants[0].sku"),
    ({"variants": [{"sku": "OK-SKU", "price": {"amount": -5, "currency": "GBP"}}]}, "variants[0].price.amount"),
])
def test_patch_validation_is_422_and_changes_nothing(admin, patch, field):
    product = admin.create_product()
    with Unchanged(admin):
        assert_field_errors(admin.patch(f"/v1/products/{product['id']}", patch), field)
    assert admin.product(product["id"]) == product


def test_patch_cannot_take_a_product_over_100_variants(admin):
    product = admin.create_product(product_body(variants=[variant() for _ in range(100)]))
    with Unchanged(admin):
        response = admin.patch(f"/v1/products/{product['id']}", {"variants": [variant()]})
        assert_field_errors(response, "variants")
    assert len(admin.product(product["id"])["variants"]) == 100


def test_delete_product(admin, anon):
    sku = unique("DEL-")
    title_word = word()
    product = admin.create_product(product_body(title=f"Doomed {title_word}", variants=[variant(sku)]))
    response = admin.delete(f"/v1/products/{product['id']}")
    assert response.status_code == 204 and response.content == b""
    assert_problem(anon.get(f"/v1/products/{product['id']}"), 404, "not_found")
    assert_problem(admin.get(f"/v1/products/{product['id']}"), 404, "not_found")
    assert_problem(admin.delete(f"/v1/products/{product['id']}"), 404, "not_found")
    assert_problem(admin.patch(f"/v1/products/{product['id']}", {"title": "x"}), 404, "not_found")
    assert product["id"] not in ids(admin.all_products())
    assert admin.ok(admin.get("/v1/products", params={"q": title_word}))["items"] == []
    # Its SKU is free again.
    again = admin.create_product(product_body(variants=[variant(sku)]))
    assert again["variants"][0]["sku"] == sku


# Conflicts ---------------------------------------------------------------------------------------


def test_duplicate_sku_in_another_product_is_409_and_stores_nothing(admin):
    taken = unique("DUP-")
    admin.create_product(product_body(variants=[variant(taken)]))
    fresh = unique("FRESH-")
    with Unchanged(admin):
        response = admin.post("/v1/products", product_body(variants=[variant(fresh), variant(taken)]))
        assert_problem(response, 409, "conflict")
    assert_problem(admin.get(f"/v1/inventory/{fresh}"), 404, "not_found")


def test_duplicate_barcode_in_another_product_is_409_and_stores_nothing(admin):
    barcode = random_ean13()
    admin.create_product(product_body(variants=[variant(barcode=barcode)]))
    with Unchanged(admin):
        response = admin.post("/v1/products", product_body(variants=[variant(barcode=barcode)]))
        assert_problem(response, 409, "conflict")
        assert "barcode" in response.json()["detail"]


def test_patch_with_sku_or_barcode_of_another_product_is_409(admin):
    other_sku, other_barcode = unique("OTHER-"), random_ean13()
    admin.create_product(product_body(variants=[variant(other_sku, barcode=other_barcode)]))
    product = admin.create_product()
    own = product["variants"][0]
    with Unchanged(admin):
        assert_problem(admin.patch(f"/v1/products/{product['id']}", {"title": "Renamed", "variants": [variant(other_sku)]}),
                       409, "conflict")
        assert_problem(admin.patch(f"/v1/products/{product['id']}", {"variants": [
            {"sku": own["sku"], "price": own["price"], "barcode": other_barcode}]}), 409, "conflict")
    assert admin.product(product["id"]) == product


@pytest.mark.parametrize("twice", ["sku", "barcode"])
def test_duplicate_within_one_product_is_422(admin, twice):
    if twice == "sku":
        sku = unique("TWICE-")
        variants = [variant(sku), variant(sku)]
    else:
        barcode = random_ean13()
        variants = [variant(barcode=barcode), variant(barcode=barcode)]
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products", product_body(variants=variants)), "variants")


# Validation --------------------------------------------------------------------------------------


def _set(path: str, value):
    """A mutation of a valid body: sets `path` (dotted, [n] for indexes) to value, or deletes it."""
    def apply(body):
        keys = re.findall(r"[^.\[\]]+", path)
        target = body
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return body
    return apply


_DELETE = object()

INVALID = [
    ("negative-price", _set("variants.0.price.amount", -1), "variants[0].price.amount"),
    ("float-price", _set("variants.0.price.amount", 12.99), "variants[0].price.amount"),
    ("price-over-int64", _set("variants.0.price.amount", 99999999999999999999), "variants[0].price.amount"),
    ("string-price", _set("variants.0.price.amount", "1299"), "variants[0].price.amount"),
    ("unknown-currency", _set("variants.0.price.currency", "XXX"), "variants[0].price.currency"),
    ("lowercase-currency", _set("variants.0.price.currency", "gbp"), "variants[0].price.currency"),
    ("missing-currency", _set("variants.0.price.currency", _DELETE), "variants[0].price.currency"),
    ("title-201", _set("title", "x" * 201), "title"),
    ("empty-title", _set("title", ""), "title"),
    ("blank-title", _set("title", "   "), "title"),
    ("control-in-title", _set("title", "bad\u0001title"), "title"),
    ("missing-title", _set("title", _DELETE), "title"),
    ("null-title", _set("title", None), "title"),
    ("no-variants", _set("variants", []), "variants"),
    ("missing-variants", _set("variants", _DELETE), "variants"),
    ("101-variants", lambda b: {**b, "variants": [variant() for _ in range(101)]}, "variants"),
    ("sku-with-spaces", _set("variants.0.sku", "HAS SPACES"), "variants[0].sku"),
    ("empty-sku", _set("variants.0.sku", ""), "variants[0].sku"),
    ("sku-65", _set("variants.0.sku", "S" * 65), "variants[0].sku"),
    ("bad-check-digit", _set("variants.0.barcode", "5012345678901"), "variants[0].barcode"),
    ("barcode-length", _set("variants.0.barcode", "123456789"), "variants[0].barcode"),
    ("tag-51", _set("tags", ["ok", "t" * 51]), "tags[1]"),
    ("51-tags", _set("tags", [f"t{i}" for i in range(51)]), "tags"),
    ("category-101", _set("category", "c" * 101), "category"),
    ("description-10001", _set("description", "d" * 10001), "description"),
    ("image-not-url", _set("images", ["ftp://x/y.jpg"]), "images[0]"),
    ("bad-status", _set("status", "sold"), "status"),
    ("negative-threshold", _set("variants.0.low_stock_threshold", -1), "variants[0].low_stock_threshold"),
    ("negative-initial-stock", _set("variants.0.initial_stock", {"main": -1}), "variants[0].initial_stock.main"),
    ("second-variant", lambda b: {**b, "variants": [variant(), variant(amount=-3)]}, "variants[1].price.amount"),
    ("price-too-large", _set("variants.0.price.amount", 100_000_000_001), "variants[0].price.amount"),
    ("empty-tag", _set("tags", [""]), "tags[0]"),
    ("control-in-description", _set("description", "a\u0000b"), "description"),
    ("empty-attribute-name", _set("variants.0.attributes", {"": "x"}), "variants[0].attributes"),
    ("control-in-attribute-name", _set("variants.0.attributes", {"co\u0001lour": "x"}), "variants[0].attributes"),
    ("blank-attribute-value", _set("variants.0.attributes", {"size": " "}), "variants[0].attributes.size"),
    ("attribute-not-string", _set("variants.0.attributes", {"size": 5}), "variants[0].attributes.size"),
    ("variant-title-201", _set("variants.0.title", "v" * 201), "variants[0].title"),
]


@pytest.mark.parametrize("mutate,field", [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_product_is_422_naming_the_field(admin, mutate, field):
    body = mutate(copy.deepcopy(product_body(variants=[variant()])))
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products", body), field)


def test_limits_are_inclusive(admin):
    product = admin.create_product(product_body(
        title="t" * 200, tags=["t" * 50], variants=[variant(unique("L-") + "x" * 40) for _ in range(100)]))
    assert len(product["title"]) == 200 and len(product["variants"]) == 100


def test_title_length_counts_code_points_not_bytes(admin):
    product = admin.create_product(product_body(title="é" * 200))  # 200 code points, 400 UTF-8 bytes
    assert product["title"] == "é" * 200
    product = admin.create_product(product_body(title="\U0001F375" * 200))  # 200 code points, 800 bytes
    assert product["title"] == "\U0001F375" * 200


def test_title_length_counts_code_points_not_graphemes(admin):
    """openapi.yaml: "Length limits count Unicode code points (as JSON Schema's maxLength does)"."""
    combining = "e\u0301"  # one grapheme, two code points
    product = admin.create_product(product_body(title=combining * 100))  # 200 code points
    assert product["title"] == combining * 100
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products", product_body(title=combining * 101)), "title")  # 202 code points


@pytest.mark.parametrize("barcode", [gs1("1234567"), gs1("03600029145"), gs1("501234567890"), gs1("1501234567890")],
                         ids=["ean8", "upca", "ean13", "gtin14"])
def test_valid_barcodes_are_accepted(admin, anon, barcode):
    product = admin.create_product(product_body(variants=[variant(barcode=barcode)]))
    assert product["variants"][0]["barcode"] == barcode


def _raw_post(admin: Api, body: bytes, content_type: str | None = "application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return admin.request("POST", "/v1/products", data=body, headers=headers)


MALFORMED = [
    ("invalid-utf8", b'{"title":"caf\xe9","variants":[{"sku":"U-1","price":{"amount":1,"currency":"GBP"}}]}'),
    ("overlong-utf8", b'{"title":"\xc0\xaf","variants":[{"sku":"U-2","price":{"amount":1,"currency":"GBP"}}]}'),
    ("duplicate-key", b'{"title":"A","title":"B","variants":[{"sku":"U-3","price":{"amount":1,"currency":"GBP"}}]}'),
    ("nested-duplicate-key", b'{"title":"A","variants":[{"sku":"U-4","sku":"U-5","price":{"amount":1,"currency":"GBP"}}]}'),
    ("trailing-comma", b'{"title":"A","variants":[{"sku":"U-6","price":{"amount":1,"currency":"GBP"}}],}'),
    ("truncated", b'{"title":"A","variants":[{"sku":"U-7"'),
    ("trailing-data", b'{"title":"A","variants":[{"sku":"U-8","price":{"amount":1,"currency":"GBP"}}]} {}'),
    ("empty", b""),
]


@pytest.mark.parametrize("body", [case[1] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_json_is_400(admin, body):
    with Unchanged(admin):
        assert_problem(_raw_post(admin, body), 400, "invalid_request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_non_json_content_type_is_415(admin, content_type):
    body = json.dumps(product_body()).encode()
    with Unchanged(admin):
        assert_problem(_raw_post(admin, body, content_type), 415, "invalid_request")


def test_json_content_type_variants_are_accepted(admin):
    for content_type in ("application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"):
        response = _raw_post(admin, json.dumps(product_body()).encode(), content_type)
        assert response.status_code == 201, (content_type, response.text)


def test_unknown_members_are_ignored(admin):
    body = product_body(extra_member=True)
    body["variants"][0]["colour_code"] = 7
    product = admin.create_product(body)
    assert "extra_member" not in product and "colour_code" not in product["variants"][0]


# Bulk import -------------------------------------------------------------------------------------


def test_import_creates_every_product_in_order(admin, anon):
    bodies = [product_body(title=f"Imported {i} {unique()}") for i in range(5)]
    bodies[2]["variants"][0]["initial_stock"] = {"main": 7}
    response = admin.post("/v1/products/import", {"products": bodies})
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["created"] == 5 and len(result["ids"]) == 5 and len(set(result["ids"])) == 5
    for body, product_id in zip(bodies, result["ids"]):
        product = anon.product(product_id)
        assert product["title"] == body["title"]
        assert product["variants"][0]["sku"] == body["variants"][0]["sku"]
    assert anon.product(result["ids"][2])["variants"][0]["available"] == 7
    assert anon.product(result["ids"][0])["variants"][0]["available"] == 0
    level = admin.inventory(bodies[2]["variants"][0]["sku"])
    assert level["on_hand"] == 7 and level["available"] == 7
    main = next(l for l in level["locations"] if l["location"] == "main")
    assert main == {"location": "main", "on_hand": 7, "reserved": 0, "available": 7}
    movements = admin.ok(admin.get(f"/v1/inventory/{bodies[2]['variants'][0]['sku']}/movements"))["items"]
    assert [(m["reason"], m["delta"], m["on_hand_before"], m["on_hand_after"]) for m in movements] == [("received", 7, 0, 7)]


def test_import_with_one_invalid_product_stores_nothing(admin):
    bodies = [product_body(), product_body(variants=[variant(amount=-1)]), product_body()]
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products/import", {"products": bodies}), "products[1].variants[0].price.amount")
    for body in bodies:
        assert_problem(admin.get(f"/v1/inventory/{body['variants'][0]['sku']}"), 404, "not_found")


def test_import_with_bad_currency_names_the_product(admin):
    bodies = [product_body(), product_body(variants=[{"sku": unique(), "price": money(1, "XXX")}])]
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products/import", {"products": bodies}), "products[1].variants[0].price.currency")


def test_import_with_sku_used_twice_is_409_and_stores_nothing(admin):
    sku = unique("TWICE-")
    bodies = [product_body(variants=[variant(sku)]), product_body(variants=[variant(sku)])]
    with Unchanged(admin):
        assert_problem(admin.post("/v1/products/import", {"products": bodies}), 409, "conflict")


def test_import_with_unknown_stock_location_is_404_and_stores_nothing(admin):
    bodies = [product_body(variants=[variant(initial_stock={"main": 3})]),
              product_body(variants=[variant(initial_stock={"nowhere": 2})])]
    with Unchanged(admin):
        assert_problem(admin.post("/v1/products/import", {"products": bodies}), 404, "not_found")
    assert_problem(admin.get(f"/v1/inventory/{bodies[0]['variants'][0]['sku']}"), 404, "not_found")


def test_import_of_more_than_1000_products_is_422(admin):
    bodies = [{"title": "x", "variants": [{"sku": f"MANY-{i}", "price": money(1)}]} for i in range(1001)]
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products/import", {"products": bodies}), "products")


@pytest.mark.parametrize("body,field", [({"products": []}, "products"), ({}, "products")])
def test_import_needs_products(admin, body, field):
    with Unchanged(admin):
        assert_field_errors(admin.post("/v1/products/import", body), field)


def test_create_with_initial_stock_at_unknown_location_is_404(admin):
    with Unchanged(admin):
        assert_problem(admin.post("/v1/products", product_body(variants=[variant(initial_stock={"nowhere": 1})])),
                       404, "not_found")


# Listing -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def many(admin):
    """120 products in their own category, tagged with one search word, imported in one go."""
    category, tag = unique("cat-"), word()
    bodies = [product_body(title=f"Bulk {i:03d} {tag}", category=category, tags=[tag]) for i in range(120)]
    result = admin.ok(admin.post("/v1/products/import", {"products": bodies}), 201)
    return {"category": category, "word": tag, "ids": result["ids"]}


def _pages(api: Api, **params) -> list[dict]:
    pages, cursor = [], None
    while True:
        query = dict(params)
        if cursor is not None:
            query["cursor"] = cursor
        page = api.ok(api.get("/v1/products", params=query))
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100


def test_cursor_pagination_returns_each_product_once_in_order(anon, many):
    pages = _pages(anon, category=many["category"], limit=50)
    assert [len(p["items"]) for p in pages] == [50, 50, 20]
    assert all(isinstance(p["next_cursor"], str) for p in pages[:-1]) and pages[-1]["next_cursor"] is None
    assert [i for p in pages for i in ids(p["items"])] == many["ids"]


def test_unfiltered_pagination_includes_each_product_once(anon, many):
    seen = [i for p in _pages(anon, limit=50) for i in ids(p["items"])]
    assert len(seen) == len(set(seen))
    positions = [seen.index(i) for i in many["ids"]]
    assert positions == sorted(positions)


def test_search_pagination_returns_each_hit_once(anon, many):
    pages = _pages(anon, q=many["word"], limit=50)
    assert [len(p["items"]) for p in pages] == [50, 50, 20]
    assert sorted(i for p in pages for i in ids(p["items"])) == sorted(many["ids"])


def test_default_and_exact_page_sizes(anon, many):
    page = anon.ok(anon.get("/v1/products", params={"category": many["category"]}))
    assert len(page["items"]) == 50 and page["next_cursor"]
    page = anon.ok(anon.get("/v1/products", params={"category": many["category"], "limit": 120}))
    assert len(page["items"]) == 120 and page["next_cursor"] is None
    page = anon.ok(anon.get("/v1/products", params={"category": many["category"], "limit": 200}))
    assert ids(page["items"]) == many["ids"] and page["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "201", "abc", "-1", "1.5", ""])
def test_bad_limit_is_400(anon, limit):
    assert_problem(anon.get("/v1/products", params={"limit": limit}), 400, "invalid_request")


@pytest.mark.parametrize("cursor", ["zzz", "!!!!", "czQy" * 9, "eDU", "cy1x", ""])
def test_bad_cursor_is_400(anon, cursor):
    assert_problem(anon.get("/v1/products", params={"cursor": cursor}), 400, "invalid_request")


def test_category_tag_and_barcode_filters(anon, admin):
    category, tag, barcode = "cat-" + word(), word(), random_ean13()
    a = admin.create_product(product_body(category=category, tags=[tag, "other"]))
    b = admin.create_product(product_body(category=category, variants=[variant(), variant(barcode=barcode)]))
    c = admin.create_product(product_body(category=category + "x", tags=[tag]))
    assert ids(anon.all_products(category=category)) == [a["id"], b["id"]]
    assert ids(anon.all_products(tag=tag)) == [a["id"], c["id"]]
    assert ids(anon.all_products(category=category, tag=tag)) == [a["id"]]
    assert ids(anon.all_products(barcode=barcode)) == [b["id"]]
    assert anon.all_products(category=category.upper()) == []
    assert anon.all_products(tag=tag[:-1]) == []


def test_status_filter(admin, anon, storefront):
    category = unique("cat-")
    active = admin.create_product(product_body(category=category))
    draft = admin.create_product(product_body(category=category, status="draft"))
    archived = admin.create_product(product_body(category=category, status="archived"))
    assert ids(admin.all_products(category=category)) == [active["id"], draft["id"], archived["id"]]
    assert ids(admin.all_products(category=category, status="draft")) == [draft["id"]]
    assert ids(admin.all_products(category=category, status="archived")) == [archived["id"]]
    assert ids(anon.all_products(category=category)) == [active["id"]]
    assert ids(anon.all_products(category=category, status="active")) == [active["id"]]
    for caller in (anon, storefront):
        for status in ("draft", "archived"):
            assert_problem(caller.get("/v1/products", params={"status": status}), 403, "forbidden")
    assert_problem(admin.get("/v1/products", params={"status": "sold"}), 400, "invalid_request")


def test_in_stock_filter(admin, anon):
    category = unique("cat-")
    warehouse = admin.create_location(kind="warehouse", fulfils_online=False)
    stocked = admin.create_product(product_body(category=category, variants=[variant(), variant(initial_stock={"main": 2})]))
    empty = admin.create_product(product_body(category=category))
    offline = admin.create_product(product_body(category=category, variants=[variant(initial_stock={warehouse["code"]: 5})]))
    sold_out = admin.create_product(product_body(category=category, variants=[variant(initial_stock={"main": 1})]))
    admin.adjust(sold_out["variants"][0]["sku"], -1, "sold_in_store")
    assert ids(anon.all_products(category=category, in_stock="true")) == [stocked["id"]]
    assert ids(anon.all_products(category=category, in_stock="false")) == ids([stocked, empty, offline, sold_out])
    assert_problem(anon.get("/v1/products", params={"in_stock": "yes"}), 400, "invalid_request")


# Search ------------------------------------------------------------------------------------------


def test_title_match_ranks_above_description_match(admin, anon):
    w = word()
    in_description = admin.create_product(product_body(title=f"Kettle {unique()}", description=f"Pairs well with the {w} range."))
    in_title = admin.create_product(product_body(title=f"The {w} teapot"))
    found = ids(anon.ok(anon.get("/v1/products", params={"q": w}))["items"])
    assert found == [in_title["id"], in_description["id"]]


def test_last_word_matches_as_prefix(admin, anon):
    w = word()
    teapot = admin.create_product(product_body(title=f"{w.capitalize()} Teapot"))
    admin.create_product(product_body(title=f"{w.capitalize()} Kettle"))
    for q in (f"{w} teap", f"{w} TEAPOT", f"{w.upper()} tea", f"teapot {w[:4]}"):
        assert ids(anon.ok(anon.get("/v1/products", params={"q": q}))["items"]) == [teapot["id"]], q


def test_every_word_must_match(admin, anon):
    w, other = word(), word()
    admin.create_product(product_body(title=f"{w} mug"))
    assert anon.ok(anon.get("/v1/products", params={"q": f"{w} {other}"}))["items"] == []


def test_spec_example_lin_sh_finds_linen_shirt(admin, anon):
    """openapi.yaml, GET /v1/products: "every word must match, the last as a prefix (`lin sh` finds
    "Linen shirt")"."""
    w = word()
    shirt = admin.create_product(product_body(title=f"Linen shirt {w}"))
    found = ids(anon.ok(anon.get("/v1/products", params={"q": f"{w} lin sh"}))["items"])
    assert found == [shirt["id"]]


def test_search_by_sku(admin, anon):
    sku = f"{word().upper()}-RED-XL"
    product = admin.create_product(product_body(title=f"Plain {unique()}", variants=[variant(), variant(sku)]))
    assert ids(anon.ok(anon.get("/v1/products", params={"q": sku}))["items"]) == [product["id"]]
    assert ids(anon.ok(anon.get("/v1/products", params={"q": sku.split("-")[0].lower()}))["items"]) == [product["id"]]


def test_search_by_tag_and_with_filters(admin, anon):
    w, category = word(), unique("cat-")
    a = admin.create_product(product_body(category=category, tags=[w]))
    admin.create_product(product_body(tags=[w]))
    assert ids(anon.ok(anon.get("/v1/products", params={"q": w, "category": category}))["items"]) == [a["id"]]


def test_search_hides_drafts_from_the_public(admin, anon):
    w = word()
    draft = admin.create_product(product_body(title=f"Secret {w}", status="draft"))
    assert anon.ok(anon.get("/v1/products", params={"q": w}))["items"] == []
    assert ids(admin.ok(admin.get("/v1/products", params={"q": w}))["items"]) == [draft["id"]]


def test_search_follows_renames(admin, anon):
    old, new = word(), word()
    product = admin.create_product(product_body(title=f"Mug {old}"))
    admin.ok(admin.patch(f"/v1/products/{product['id']}", {"title": f"Mug {new}"}))
    assert anon.ok(anon.get("/v1/products", params={"q": old}))["items"] == []
    assert ids(anon.ok(anon.get("/v1/products", params={"q": new}))["items"]) == [product["id"]]


@pytest.mark.parametrize("q", ['"', '""', "*", "teapot*", "AND", "a AND b", "OR", "NOT x", "NEAR(", "NEAR(a b, 2)",
                               "(", ")", "title:tea", "^tea", "-tea", "+", "'", "tea\"pot", "{a b}", "\\", "%", "ünïcödé",
                               "a" * 300, " ".join(["w"] * 50)])
def test_search_syntax_never_fails(anon, q):
    response = anon.get("/v1/products", params={"q": q})
    assert response.status_code == 200, response.text
    page = response.json()
    assert isinstance(page["items"], list) and "next_cursor" in page


def test_search_for_fts_keyword_finds_the_word(admin, anon):
    w = word()
    product = admin.create_product(product_body(title=f"Salt and pepper {w}"))
    assert ids(anon.ok(anon.get("/v1/products", params={"q": f"{w} and"}))["items"]) == [product["id"]]
    assert ids(anon.ok(anon.get("/v1/products", params={"q": f'"{w}" AND "pepper"'}))["items"]) == [product["id"]]


def test_search_ignores_case_and_accents(admin, anon):
    w = word()
    product = admin.create_product(product_body(title=f"Crème Brûlée dish {w}"))
    for q in (f"creme brulee {w}", f"CRÈME {w}", f"{w} brûl", f"{w.upper()} CREM"):
        assert ids(anon.ok(anon.get("/v1/products", params={"q": q}))["items"]) == [product["id"]], q


def test_search_with_in_stock_and_barcode(admin, anon):
    w, barcode = word(), random_ean13()
    stocked = admin.create_product(product_body(title=f"Stocked {w}", variants=[variant(initial_stock={"main": 1})]))
    empty = admin.create_product(product_body(title=f"Empty {w}", variants=[variant(barcode=barcode)]))
    assert ids(anon.ok(anon.get("/v1/products", params={"q": w, "in_stock": "true"}))["items"]) == [stocked["id"]]
    assert ids(anon.ok(anon.get("/v1/products", params={"q": w, "barcode": barcode}))["items"]) == [empty["id"]]
    assert anon.ok(anon.get("/v1/products", params={"q": f"{w} stocked", "barcode": barcode}))["items"] == []
    assert anon.ok(anon.get("/v1/products", params={"q": w, "barcode": random_ean13()}))["items"] == []
    # Sold out, it leaves the in-stock search at once.
    admin.adjust(stocked["variants"][0]["sku"], -1, "sold_in_store")
    assert anon.ok(anon.get("/v1/products", params={"q": w, "in_stock": "true"}))["items"] == []


def test_in_stock_search_pages_past_products_without_stock(admin, anon):
    """The index ranks, the store says which have stock: a page fills though most hits have none."""
    w = word()
    made = [admin.create_product(product_body(title=f"Lamp {w}", variants=[variant(initial_stock={"main": 1})] if n % 5 == 0 else None))
            for n in range(30)]
    stocked = [p["id"] for n, p in enumerate(made) if n % 5 == 0]
    pages = _pages(anon, q=w, in_stock="true", limit=4)
    assert [len(p["items"]) for p in pages] == [4, 2]
    assert [i for p in pages for i in ids(p["items"])] == stocked


def test_a_rolled_back_import_leaves_search_unchanged(admin, anon):
    w = word()
    taken = admin.create_product(product_body(title=f"First {w}"))["variants"][0]["sku"]
    body = {"products": [product_body(title=f"Second {w}"), product_body(title=f"Third {w}", variants=[variant(taken)])]}
    assert_problem(admin.post("/v1/products/import", body), 409, None)
    assert [p["title"] for p in anon.ok(anon.get("/v1/products", params={"q": w}))["items"]] == [f"First {w}"]


def test_search_survives_a_restart(launch):
    """The index lives in memory and is loaded from the database at start."""
    first = launch()
    admin = Api(first, admin_key_of(first))
    w = word()
    kept = admin.create_product(product_body(title=f"Kept {w}", tags=["tagged"], description="Bowl of crème"))
    gone = admin.create_product(product_body(title=f"Gone {w}"))
    renamed = admin.create_product(product_body(title=f"Old {w}"))
    draft = admin.create_product(product_body(title=f"Draft {w}", status="draft"))
    admin.ok(admin.patch(f"/v1/products/{renamed['id']}", {"title": f"New {w}"}))
    assert admin.delete(f"/v1/products/{gone['id']}").status_code == 204
    data_dir = first.data_dir
    first.shutdown()

    again = launch({"data_dir": str(data_dir)})
    anon = Api(again)
    assert ids(anon.ok(anon.get("/v1/products", params={"q": w}))["items"]) == [kept["id"], renamed["id"]]
    assert ids(anon.ok(anon.get("/v1/products", params={"q": f"{w} creme"}))["items"]) == [kept["id"]]
    assert anon.ok(anon.get("/v1/products", params={"q": f"old {w}"}))["items"] == []
    assert ids(anon.ok(anon.get("/v1/products", params={"q": w, "tag": "tagged"}))["items"]) == [kept["id"]]
    admin = Api(again, admin_key_of(again))
    assert ids(admin.ok(admin.get("/v1/products", params={"q": f"draft {w}"}))["items"]) == [draft["id"]]


# Locations ---------------------------------------------------------------------------------------


def test_main_location_exists_from_first_start(anon):
    page = anon.ok(anon.get("/v1/locations"))
    assert page["next_cursor"] is None
    main = next(l for l in page["items"] if l["code"] == "main")
    assert main["kind"] == "store" and main["fulfils_online"] is True
    assert main["id"].startswith("loc_") and TIME.fullmatch(main["created_at"]) and main["name"]


def test_create_location(admin, anon):
    code = unique("leeds-").lower()
    response = admin.post("/v1/locations", {"code": code, "name": "Leeds shop", "kind": "store", "fulfils_online": False})
    assert response.status_code == 201, response.text
    location = response.json()
    assert location["id"].startswith("loc_") and location["code"] == code and location["name"] == "Leeds shop"
    assert location["kind"] == "store" and location["fulfils_online"] is False and TIME.fullmatch(location["created_at"])
    listed = anon.ok(anon.get("/v1/locations"))["items"]
    assert location in listed
    stamps = [l["created_at"] for l in listed]
    assert stamps == sorted(stamps), "locations are not oldest first"


def test_duplicate_location_code_is_409(admin, anon):
    location = admin.create_location()
    before = anon.ok(anon.get("/v1/locations"))
    response = admin.post("/v1/locations", {"code": location["code"], "name": "Again", "kind": "warehouse", "fulfils_online": True})
    assert_problem(response, 409, "conflict")
    assert_problem(admin.post("/v1/locations", {"code": "main", "name": "Main again", "kind": "store", "fulfils_online": True}),
                   409, "conflict")
    assert anon.ok(anon.get("/v1/locations")) == before


@pytest.mark.parametrize("body,field", [
    ({"code": "Bad Code", "name": "x", "kind": "store", "fulfils_online": False}, "code"),
    ({"code": "UPPER", "name": "x", "kind": "store", "fulfils_online": False}, "code"),
    ({"code": "", "name": "x", "kind": "store", "fulfils_online": False}, "code"),
    ({"code": "c" * 33, "name": "x", "kind": "store", "fulfils_online": False}, "code"),
    ({"code": "ok-code", "name": "", "kind": "store", "fulfils_online": False}, "name"),
    ({"code": "ok-code", "name": "x", "kind": "shed", "fulfils_online": False}, "kind"),
    ({"code": "ok-code", "name": "x", "kind": "store"}, "fulfils_online"),
    ({"code": "ok-code", "name": "x", "kind": "store", "fulfils_online": "yes"}, "fulfils_online"),
])
def test_invalid_location_is_422(admin, anon, body, field):
    before = anon.ok(anon.get("/v1/locations"))
    assert_field_errors(admin.post("/v1/locations", body), field)
    assert anon.ok(anon.get("/v1/locations")) == before


def test_locations_created_in_the_same_second_stay_oldest_first(admin, anon):
    """Timestamps have second precision; locations created within one second must still list in
    the order they were created (not by code)."""
    suffix = unique().lower()
    later_in_alphabet = admin.create_location(code=f"zz-{suffix}")
    earlier_in_alphabet = admin.create_location(code=f"aa-{suffix}")
    codes = [l["code"] for l in anon.ok(anon.get("/v1/locations"))["items"]]
    assert codes.index(later_in_alphabet["code"]) < codes.index(earlier_in_alphabet["code"]), codes
