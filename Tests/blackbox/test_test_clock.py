"""The test clock (API.md, Automation): only with `--enable-test-clock`; advancing it moves every
service's time at once (a cart's reservations expire), and the offset survives a restart."""

from __future__ import annotations

from datetime import datetime, timedelta

from cart_api import ADMIN_ENV, Api, assert_problem, unique, wait_for


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_clock_exists_only_when_enabled(launch):
    api = Api(launch(env=ADMIN_ENV))
    assert_problem(api.call("GET", "/v1/test/clock"), 404, "not_found")
    assert_problem(api.call("POST", "/v1/test/clock", {"advance": "1h"}), 404, "not_found")


def test_advancing_expires_carts_and_survives_a_restart(launch, tmp_path):
    data = tmp_path / "data"
    server = launch({"enable_test_clock": True, "data_dir": str(data)}, env=ADMIN_ENV)
    api = Api(server)
    before = when(api.ok("GET", "/v1/test/clock")["now"])
    # Test servers only: no key needed.
    assert api.public("GET", "/v1/test/clock").status_code == 200
    for bad in ("", "soon", "-5m", "0s", "4000d"):
        problem = assert_problem(api.call("POST", "/v1/test/clock", {"advance": bad}), 422, "invalid_request")
        assert problem["errors"][0]["field"] == "advance"

    sku = unique("CLOCK")
    api.product(sku, stock=3)
    cart = api.new_cart()
    assert api.add(cart["id"], sku, 2).status_code == 200
    assert api.inventory(sku)["reserved"] == 2

    after = when(api.ok("POST", "/v1/test/clock", {"advance": "20m"})["now"])
    assert timedelta(minutes=20) <= after - before < timedelta(minutes=21)
    # The default reservation TTL is 15 minutes: the expiry loop finds the cart at its next tick.
    wait_for(lambda: api.cart(cart["id"])["status"] == "expired", timeout=5, what="the cart to expire")
    assert api.inventory(sku)["reserved"] == 0

    server.shutdown()
    again = Api(launch({"enable_test_clock": True, "data_dir": str(data)}, env=ADMIN_ENV))
    resumed = when(again.ok("GET", "/v1/test/clock")["now"])
    assert resumed - before >= timedelta(minutes=20)
