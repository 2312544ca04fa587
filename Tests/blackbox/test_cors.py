"""Browser storefronts on other origins (`--cors-origins`, issue 29): a listed origin's preflight is
answered with the methods and headers the API uses and its answers name it; an unlisted origin gets
nothing it could use; `*` opens the public reads only; no cookie ever crosses. Malformed settings
are refused at start (test_lifecycle.py)."""

from __future__ import annotations

import pytest

from cart_api import ADMIN_ENV, Api, unique

SHOP = "https://shop.example"


@pytest.fixture(scope="module")
def listed(session_launch):
    return Api(session_launch({"cors_origins": f"{SHOP}, http://localhost:3000"}, env=ADMIN_ENV))


@pytest.fixture(scope="module")
def anywhere(session_launch):
    return Api(session_launch({"cors_origins": "*"}, env=ADMIN_ENV))


def preflight(api: Api, path: str, origin: str, method: str = "POST", headers: str = "content-type, idempotency-key"):
    return api.public("OPTIONS", path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                                "Access-Control-Request-Headers": headers})


def test_a_listed_origin_is_answered_its_preflight_and_may_read_the_answers(listed):
    answer = preflight(listed, "/v1/carts", SHOP)
    assert answer.status_code == 204, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    methods = {m.strip() for m in answer.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "PATCH", "DELETE", "PUT"} <= methods
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "Access-Control-Allow-Credentials" not in answer.headers and int(answer.headers["Access-Control-Max-Age"]) > 0

    cart = listed.public("POST", "/v1/carts", {"channel": "online"}, headers={"Origin": SHOP})
    assert cart.status_code == 201
    assert cart.headers["Access-Control-Allow-Origin"] == SHOP and "origin" in cart.headers["Vary"].lower()
    exposed = {h.strip().lower() for h in cart.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "retry-after", "etag"} <= exposed
    # Errors are readable too, so the page can show them.
    missing = listed.public("GET", "/v1/carts/cart_nope", headers={"Origin": "http://localhost:3000"})
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_an_unlisted_origin_gets_nothing_it_could_use(listed):
    refused = preflight(listed, "/v1/carts", "https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert refused.json()["code"] == "forbidden"
    answer = listed.public("GET", "/v1/products", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
    # Without an Origin nothing changes: OPTIONS is still not a method of the API.
    assert listed.public("OPTIONS", "/v1/carts").status_code == 405


def test_any_origin_may_make_the_public_reads_and_nothing_else(anywhere):
    product = anywhere.product(unique("CORS"), stock=2)
    read = anywhere.public("GET", f"/v1/products/{product['id']}", headers={"Origin": "https://anyone.example"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight(anywhere, "/v1/products", "https://anyone.example", method="GET", headers="if-none-match").status_code == 204
    assert preflight(anywhere, "/v1/carts", "https://anyone.example").status_code == 403
    written = anywhere.public("POST", "/v1/carts", {"channel": "online"}, headers={"Origin": "https://anyone.example"})
    assert written.status_code == 201 and "Access-Control-Allow-Origin" not in written.headers
    keyed = anywhere.call("GET", f"/v1/products/{product['id']}", headers={"Origin": "https://anyone.example"})
    assert "Access-Control-Allow-Origin" not in keyed.headers, "an answer behind a key is not a public read"
