"""An integrator's view of openapi.yaml: a Python client generated from it at test time with
`openapi-python-client` imports whole and runs a shopping story against a live server.

The story: an admin key creates a shipping method and a product with stock and issues a storefront
key; with that key a shopper's client creates a cart, adds a line, changes its quantity
(`updateCartLine`), gives the checkout details and completes the cart with the test card (with an
`Idempotency-Key`, retried once); the admin client reads the order and its receipt, as JSON through
the generated call and as HTML by content negotiation. Every response the generated client gets is
checked against the spec as the suite's `requests` calls are (conftest.py, openapi_check.py).
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cart_api import ADMIN_ENV, ADMIN_KEY, unique
from conftest import SPEC_CHECK, SPEC_PATH

PACKAGE = "shopfloor_generated_client"
OK_CARD = "4242424242424242"  # the test card that succeeds (API.md; cart_api.OK_CARD)


@pytest.fixture(scope="module")
def client_package(tmp_path_factory):
    """The client generated from openapi.yaml, imported. Generation must succeed and must not drop
    an operation of the story (the generator warns and leaves out what it cannot model)."""
    out = tmp_path_factory.mktemp("generated")
    config = out / "config.yml"
    config.write_text(f"package_name_override: {PACKAGE}\nproject_name_override: {PACKAGE}\npost_hooks: []\n")
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(SPEC_PATH), "--meta", "none",
         "--config", str(config), "--output-path", str(out / PACKAGE)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = result.stdout + result.stderr
    for operation in ("POST /v1/products", "POST /v1/carts ", "POST /v1/carts/{id}/lines", "PATCH /v1/carts/{id}/lines/{line}",
                      "PATCH /v1/carts/{id} ", "POST /v1/carts/{id}/complete", "GET /v1/orders/{id} ", "GET /v1/orders/{id}/receipt"):
        assert f"parsing {operation}" not in report, report[-4000:]
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module(PACKAGE)
        for module in ("api.catalogue.create_product", "api.carts.create_cart", "api.carts.add_cart_line",
                       "api.carts.update_cart_line", "api.checkout.update_cart_checkout", "api.checkout.complete_cart",
                       "api.orders.get_order", "api.orders.get_order_receipt", "api.api_keys.create_api_key",
                       "api.pricing.create_shipping_method"):
            importlib.import_module(f"{PACKAGE}.{module}")
        yield package
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def server(module_launch):
    return module_launch({"currency": "GBP"}, env=ADMIN_ENV)


def _module(package, name: str):
    return importlib.import_module(f"{package.__name__}.{name}")


def _ok(response, status: int):
    """The parsed body of a generated call's detailed response, which must have `status`."""
    assert response.status_code == status, f"{response.status_code}: {response.content[:1000]!r}"
    assert response.headers.get("X-Request-Id"), response.headers
    return response.parsed


def test_generated_client_runs_a_shopping_story(client_package, server):
    p = client_package
    m = _module(p, "models")
    api = lambda name: _module(p, f"api.{name}")  # noqa: E731
    seen = []
    checked = {"event_hooks": {"response": [SPEC_CHECK.check_httpx, seen.append]}}
    admin = p.AuthenticatedClient(base_url=server.base_url, token=ADMIN_KEY, timeout=30, httpx_args=checked)

    # Back office: a shipping method, a product with five units at `main`, a storefront key.
    method = _ok(api("pricing.create_shipping_method").sync_detailed(
        client=admin, body=m.NewShippingMethod(name="Standard", price=m.Money(amount=395, currency=m.Currency.GBP), countries=["GB"])), 201)
    sku = unique("GEN")
    product = _ok(api("catalogue.create_product").sync_detailed(client=admin, body=m.NewProduct(
        title="Generated-client mug", status=m.ProductStatus.ACTIVE,
        variants=[m.NewVariant(sku=sku, price=m.Price(amount=1250, currency=m.Currency.GBP),
                               initial_stock=m.NewVariantInitialStockType0.from_dict({"main": 5}))])), 201)
    assert product.variants[0].sku == sku
    issued = _ok(api("api_keys.create_api_key").sync_detailed(
        client=admin, body=m.NewAPIKey(role=m.Role.STOREFRONT, name=unique("storefront"))), 201)
    shop = p.AuthenticatedClient(base_url=server.base_url, token=issued.key, timeout=30, httpx_args=checked)

    # The shopper: a cart, a line, a new quantity, the checkout details.
    cart = _ok(api("carts.create_cart").sync_detailed(client=shop, body=m.NewCart(channel=m.CartChannel.ONLINE)), 201)
    cart = _ok(api("carts.add_cart_line").sync_detailed(cart.id, client=shop, body=m.NewCartLine(sku=sku, quantity=1)), 200)
    assert [(line.sku, line.quantity) for line in cart.lines] == [(sku, 1)]
    request_id = f"gen-{secrets.token_hex(4)}"
    response = api("carts.update_cart_line").sync_detailed(cart.id, cart.lines[0].id, client=shop,
                                                          body=m.CartLinePatch(quantity=2), x_request_id=request_id)
    cart = _ok(response, 200)
    assert response.headers["X-Request-Id"] == request_id
    assert cart.lines[0].quantity == 2 and cart.totals.subtotal.amount == 2500
    address = m.Address(name="Ada Lovelace", line1="1 High St", city="London", postal_code="N1 1AA", country="GB")
    cart = _ok(api("checkout.update_cart_checkout").sync_detailed(cart.id, client=shop, body=m.CheckoutDetails(
        email=f"{unique('gen').lower()}@example.com", shipping_address=address, shipping_method=method.id)), 200)
    assert cart.totals.total.amount == 2500 + 395

    # Completion with the test card, and its retry with the same Idempotency-Key: the same order.
    payment = m.CompleteCart(payment=m.CompleteCartPayment(method=m.CompleteCartPaymentMethod.TEST_CARD, card_number=OK_CARD))
    key = str(uuid.uuid4())
    order = _ok(api("checkout.complete_cart").sync_detailed(cart.id, client=shop, body=payment, idempotency_key=key), 201)
    again = _ok(api("checkout.complete_cart").sync_detailed(cart.id, client=shop, body=payment, idempotency_key=key), 201)
    assert again.id == order.id and again.number == order.number
    assert order.status == m.OrderStatus.PAID and order.totals.total.amount == 2895

    # The back office reads the order and its receipt.
    read = _ok(api("orders.get_order").sync_detailed(order.id, client=admin), 200)
    assert read.id == order.id and [(line.sku, line.quantity) for line in read.lines] == [(sku, 2)]
    assert [entry.status for entry in read.history][:2] == [m.OrderStatus.PLACED, m.OrderStatus.PAID]
    receipt = _ok(api("orders.get_order_receipt").sync_detailed(order.id, client=admin), 200)
    assert receipt.order_id == order.id and receipt.number == order.number
    assert [(line.sku, line.quantity) for line in receipt.lines] == [(sku, 2)]

    # The receipt's other media type, negotiated by Accept; both name Accept in Vary.
    http = admin.get_httpx_client()
    html = http.get(f"/v1/orders/{order.id}/receipt", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html"), html.headers
    assert order.number in html.text
    as_json = http.get(f"/v1/orders/{order.id}/receipt", headers={"Accept": "text/html"}, params={"format": "json"})
    assert as_json.headers["Content-Type"].startswith("application/json"), as_json.headers
    for answer in (html, as_json):
        assert "accept" in [v.strip().lower() for v in answer.headers["Vary"].split(",")], answer.headers
    assert len(seen) == 13, "every response of the generated client went past the spec check"
