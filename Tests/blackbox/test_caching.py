"""What caches may keep (issue 29): public catalogue reads carry a weak ETag and answer If-None-Match
with 304, everything behind a key, a session or a capability is `no-store`, and `Vary` names what an
answer depends on."""

from __future__ import annotations

import pytest

from cart_api import ADMIN_ENV, Api, unique


@pytest.fixture(scope="module")
def cache_server(session_launch):
    return session_launch({"currency": "GBP"}, env=ADMIN_ENV)


@pytest.fixture
def api(cache_server) -> Api:
    return Api(cache_server)


def test_a_public_product_read_revalidates_with_its_etag(api):
    product = api.product(unique("TAG"), stock=3)
    path = f"/v1/products/{product['id']}"
    first = api.public("GET", path)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
    again = api.public("GET", path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    assert api.public("GET", path, headers={"If-None-Match": tag.removeprefix("W/")}).status_code == 304, "weak comparison"
    assert api.public("GET", path, headers={"If-None-Match": '"other", *'}).status_code == 304

    # A change makes a new tag; the old one gets the whole answer.
    api.ok("PATCH", path, {"title": "Renamed"})
    changed = api.public("GET", path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed" and changed.headers["ETag"] != tag

    listing = api.public("GET", "/v1/products?limit=5")
    assert listing.headers["Cache-Control"] == "no-cache"
    assert api.public("GET", "/v1/products?limit=5", headers={"If-None-Match": listing.headers["ETag"]}).status_code == 304
    for public in ("/v1/locations", "/v1/shipping-methods", "/openapi.yaml"):
        answer = api.public("GET", public)
        assert answer.status_code == 200 and "ETag" in answer.headers, public
        assert api.public("GET", public, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304, public


def test_answers_behind_a_key_or_a_capability_are_not_stored(api):
    product = api.product(unique("PRIV"), stock=3)
    keyed = api.call("GET", f"/v1/products/{product['id']}")
    assert keyed.headers["Cache-Control"] == "no-store" and "ETag" not in keyed.headers
    cart = api.public("POST", "/v1/carts", {"channel": "online"})
    assert cart.headers["Cache-Control"] == "no-store"
    read = api.public("GET", f"/v1/carts/{cart.json()['id']}")
    assert read.headers["Cache-Control"] == "no-store" and "ETag" not in read.headers
    for private in ("/v1/api-keys", "/v1/orders", "/v1/settings"):
        assert api.call("GET", private).headers["Cache-Control"] == "no-store", private
    missing = api.public("GET", "/v1/products/prod_nope")
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"


def test_vary_names_what_the_answer_depends_on(api):
    plain = api.public("GET", "/openapi.yaml", headers={"Accept-Encoding": "identity"})
    gzipped = api.public("GET", "/openapi.yaml", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers and gzipped.headers["Content-Encoding"] == "gzip"
    for answer in (plain, gzipped):
        assert "accept-encoding" in answer.headers["Vary"].lower()
