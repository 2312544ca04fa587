"""API keys and roles: 401 without a key, 403 with the wrong role, the first admin key, issuing and
revoking keys. One shared server for the module, plus short-lived servers for the start-up cases."""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path

import pytest

from catalogue_api import (  # srv and admin are module fixtures
    Api, admin, admin_key_of, srv, assert_field_errors, assert_problem, assert_unauthorized, product_body, unique, variant,
)

PRINTED_KEY = re.compile(r"Shopfloor admin key \(also in (\S+)\): (\S+)")


@pytest.fixture(scope="module")
def keys(admin):
    """One key of each non-admin role (pos at `main`) and a product with a SKU, for role checks."""
    pos = admin.create_key("pos", location="main")
    storefront = admin.create_key("storefront")
    product = admin.create_product(product_body(variants=[variant(unique("AUTH-"))]))
    return {"pos": pos["key"], "storefront": storefront["key"], "product": product}


def _protected(product: dict) -> list[tuple[str, str, dict | None, set[str]]]:
    """(method, path, body, roles that may call it) for every protected route."""
    pid, sku = product["id"], product["variants"][0]["sku"]
    return [
        ("POST", "/v1/products", product_body(), {"admin"}),
        ("POST", "/v1/products/import", {"products": [product_body()]}, {"admin"}),
        ("PATCH", f"/v1/products/{pid}", {"title": "Renamed"}, {"admin"}),
        ("DELETE", f"/v1/products/{pid}", None, {"admin"}),
        ("POST", "/v1/locations", {"code": "authloc", "name": "x", "kind": "store", "fulfils_online": False}, {"admin"}),
        ("GET", f"/v1/inventory/{sku}", None, {"admin", "pos"}),
        ("POST", f"/v1/inventory/{sku}/adjustments", {"delta": 1, "reason": "received"}, {"admin", "pos"}),
        ("PUT", f"/v1/inventory/{sku}/levels/main", {"on_hand": 3}, {"admin"}),
        ("GET", f"/v1/inventory/{sku}/movements", None, {"admin", "pos"}),
        ("POST", "/v1/api-keys", {"role": "storefront", "name": "x"}, {"admin"}),
        ("GET", "/v1/api-keys", None, {"admin"}),
        ("DELETE", "/v1/api-keys/key_doesnotexist", None, {"admin"}),
        ("GET", "/v1/events", None, {"admin"}),
    ]


ROUTE_IDS = ["create-product", "import", "patch-product", "delete-product", "create-location", "get-inventory",
             "adjust", "set-level", "movements", "create-key", "list-keys", "revoke-key", "events"]


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
def test_protected_route_without_key_is_401(srv, admin, keys, index):
    method, path, body, _ = _protected(keys["product"])[index]
    before = admin.last_seq()
    response = Api(srv).request(method, path, body)
    assert_unauthorized(response)
    assert admin.last_seq() == before, "a refused request changed state"


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
def test_protected_route_with_wrong_role_is_403(srv, admin, keys, index):
    method, path, body, roles = _protected(keys["product"])[index]
    before = admin.last_seq()
    for role in ("pos", "storefront"):
        if role in roles:
            continue
        response = Api(srv, keys[role]).request(method, path, body)
        assert_problem(response, 403, "forbidden")
    assert admin.last_seq() == before, "a refused request changed state"
    assert admin.product(keys["product"]["id"])["title"] == keys["product"]["title"]


@pytest.mark.parametrize("header", ["Bearer sf_notakey", "Bearer ", "Bearer", "Basic YWRtaW46YWRtaW4=", "sf_noscheme"])
@pytest.mark.parametrize("path", ["/v1/products", "/v1/locations"])
def test_invalid_key_is_401_even_on_public_routes(srv, header, path):
    anonymous = Api(srv).get(path)
    assert anonymous.status_code == 200
    response = Api(srv).get(path, headers={"Authorization": header})
    assert_unauthorized(response)


def test_invalid_key_on_public_product_read_is_401(srv, keys):
    path = f"/v1/products/{keys['product']['id']}"
    assert Api(srv).get(path).status_code == 200
    assert_unauthorized(Api(srv, "sf_" + "a" * 52).get(path))


def test_public_routes_accept_every_valid_role(srv, admin, keys):
    for key in (None, keys["pos"], keys["storefront"], admin.key):
        api = Api(srv, key)
        assert api.get("/v1/locations").status_code == 200
        assert api.get("/v1/products").status_code == 200
        assert api.get(f"/v1/products/{keys['product']['id']}").status_code == 200


def test_bearer_scheme_is_case_insensitive(srv, admin):
    response = Api(srv).get("/v1/api-keys", headers={"Authorization": f"bearer {admin.key}"})
    assert response.status_code == 200


# The first admin key ------------------------------------------------------------------------------


def _printed_key(server, timeout: float = 2.0) -> tuple[str, str]:
    """The admin key the server printed on stdout, waiting (bounded) for the line to appear."""
    deadline = time.monotonic() + timeout
    while True:
        match = PRINTED_KEY.search(server.log_text())
        if match:
            return match.group(1), match.group(2)
        if time.monotonic() > deadline:
            raise AssertionError(f"no 'Shopfloor admin key' line on stdout while the server runs:\n{server.log_text()}")
        time.sleep(0.05)


def test_first_start_generates_admin_key_file_with_mode_0600(launch):
    server = launch()
    path = server.data_dir / "admin.key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert secret.startswith("sf_") and len(secret) >= 30
    response = Api(server, secret).get("/v1/api-keys")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(k["role"], k["name"]) for k in items] == [("admin", "first admin")]
    assert "key" not in items[0]


def test_generated_admin_key_is_printed_once_on_stdout(launch):
    server = launch()
    shown_path, shown = _printed_key(server)
    assert shown == admin_key_of(server)
    assert Path(shown_path) == server.data_dir / "admin.key"
    assert Api(server, shown).get("/v1/api-keys").status_code == 200
    assert server.log_text().count(shown) == 1


def test_restart_does_not_generate_another_admin_key(launch, tmp_path):
    data = tmp_path / "data"
    first = launch({"data_dir": str(data)})
    secret = admin_key_of(first)
    first.shutdown()
    assert first.proc.returncode == 0
    assert PRINTED_KEY.search(first.log_path.read_text()).group(2) == secret
    second = launch({"data_dir": str(data)})
    assert admin_key_of(second) == secret
    response = Api(second, secret).get("/v1/api-keys")
    assert response.status_code == 200
    assert [k["role"] for k in response.json()["items"]] == ["admin"]
    second.shutdown()  # stdout is complete once the process has exited
    assert "Shopfloor admin key" not in second.log_path.read_text()


def test_admin_key_from_environment(launch):
    secret = "env-admin-" + unique()
    server = launch(env={"SHOPFLOOR_ADMIN_KEY": secret})
    response = Api(server, secret).get("/v1/api-keys")
    assert response.status_code == 200
    assert [(k["role"], k["name"]) for k in response.json()["items"]] == [("admin", "SHOPFLOOR_ADMIN_KEY")]
    assert not (server.data_dir / "admin.key").exists()
    assert secret not in server.log_text()
    assert_unauthorized(Api(server, secret + "x").get("/v1/api-keys"))


def test_revoked_environment_admin_key_comes_back_at_next_start(launch, tmp_path):
    data = tmp_path / "data"
    secret = "env-admin-" + unique()
    first = launch({"data_dir": str(data)}, env={"SHOPFLOOR_ADMIN_KEY": secret})
    admin = Api(first, secret)
    backup = admin.create_key("admin")
    own_id = next(k["id"] for k in admin.ok(admin.get("/v1/api-keys"))["items"] if k["name"] == "SHOPFLOOR_ADMIN_KEY")
    assert admin.delete(f"/v1/api-keys/{own_id}").status_code == 204
    assert_unauthorized(admin.get("/v1/api-keys"))
    first.shutdown()
    second = launch({"data_dir": str(data)}, env={"SHOPFLOOR_ADMIN_KEY": secret})
    listed = Api(second, secret).ok(Api(second, secret).get("/v1/api-keys"))["items"]
    assert sorted(k["name"] for k in listed) == sorted([backup["name"], "SHOPFLOOR_ADMIN_KEY"])
    assert Api(second, backup["key"]).get("/v1/api-keys").status_code == 200


# Issuing, listing and revoking keys ---------------------------------------------------------------


def test_create_pos_key_bound_to_location(srv, admin):
    issued = admin.create_key("pos", location="main", name="Till 1")
    assert issued["role"] == "pos" and issued["location"] == "main" and issued["name"] == "Till 1"
    assert issued["id"].startswith("key_")
    assert issued["key"].startswith("sf_") and len(issued["key"]) >= 30
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", issued["created_at"])
    till = Api(srv, issued["key"])
    assert till.get("/v1/inventory/NO-SUCH-SKU").status_code == 404  # authenticated as pos: past the role check
    assert_problem(till.get("/v1/api-keys"), 403, "forbidden")


def test_pos_key_location_by_id(srv, admin):
    issued = admin.create_key("pos", location="loc_main")
    assert issued["location"] == "main"


def test_pos_key_without_location_is_422(srv, admin):
    before = admin.ok(admin.get("/v1/api-keys"))["items"]
    response = admin.post("/v1/api-keys", {"role": "pos", "name": "No place"})
    assert_field_errors(response, "location")
    assert admin.ok(admin.get("/v1/api-keys"))["items"] == before


@pytest.mark.parametrize("role", ["storefront", "admin"])
def test_location_on_non_pos_key_is_422(srv, admin, role):
    before = admin.ok(admin.get("/v1/api-keys"))["items"]
    assert_field_errors(admin.post("/v1/api-keys", {"role": role, "name": "x", "location": "main"}), "location")
    assert admin.ok(admin.get("/v1/api-keys"))["items"] == before


def test_pos_key_for_unknown_location_is_404(srv, admin):
    assert_problem(admin.post("/v1/api-keys", {"role": "pos", "name": "x", "location": "nowhere"}), 404, "not_found")


@pytest.mark.parametrize("body,field", [
    ({"role": "superuser", "name": "x"}, "role"),
    ({"name": "x"}, "role"),
    ({"role": "storefront"}, "name"),
    ({"role": "storefront", "name": ""}, "name"),
    ({"role": "storefront", "name": "x" * 101}, "name"),
])
def test_invalid_key_request_is_422(srv, admin, body, field):
    before = admin.ok(admin.get("/v1/api-keys"))["items"]
    assert_field_errors(admin.post("/v1/api-keys", body), field)
    assert admin.ok(admin.get("/v1/api-keys"))["items"] == before


def test_storefront_and_admin_keys(srv, admin):
    storefront = admin.create_key("storefront", name="Web shop")
    assert storefront["role"] == "storefront" and storefront.get("location") is None
    assert Api(srv, storefront["key"]).get("/v1/products").status_code == 200
    assert_problem(Api(srv, storefront["key"]).get("/v1/inventory/ANY"), 403, "forbidden")
    second_admin = admin.create_key("admin", name="Ops")
    assert Api(srv, second_admin["key"]).get("/v1/api-keys").status_code == 200


def test_secrets_are_shown_only_at_creation(srv, admin):
    issued = [admin.create_key("storefront"), admin.create_key("pos", location="main"), admin.create_key("admin")]
    response = admin.get("/v1/api-keys")
    page = admin.ok(response)
    assert page["next_cursor"] is None
    by_id = {k["id"]: k for k in page["items"]}
    for key in issued:
        listed = by_id[key["id"]]
        assert listed == {k: v for k, v in key.items() if k != "key"}
        assert key["key"] not in response.text
    for item in page["items"]:
        assert "key" not in item and "secret_hash" not in item
    assert admin.key not in response.text


def test_keys_are_stored_hashed(srv, admin):
    secret = admin.create_key("storefront")["key"].encode()
    for path in Path(srv.data_dir).iterdir():
        if path.name != "admin.key" and path.is_file():
            assert secret not in path.read_bytes(), f"{path.name} holds a key secret in clear"


def test_revoke_key(srv, admin):
    issued = admin.create_key("pos", location="main")
    till = Api(srv, issued["key"])
    assert till.get("/v1/products").status_code == 200
    assert admin.delete(f"/v1/api-keys/{issued['id']}").status_code == 204
    assert_unauthorized(till.get("/v1/inventory/ANY"))
    assert_unauthorized(till.get("/v1/products"))  # a revoked key is invalid everywhere
    assert issued["id"] not in {k["id"] for k in admin.ok(admin.get("/v1/api-keys"))["items"]}
    assert_problem(admin.delete(f"/v1/api-keys/{issued['id']}"), 404, "not_found")


def test_revoke_unknown_key_is_404(srv, admin):
    assert_problem(admin.delete("/v1/api-keys/key_00000000000000000000000000"), 404, "not_found")


def test_revoke_by_secret_is_404_and_keeps_the_key(srv, admin):
    issued = admin.create_key("storefront")
    assert_problem(admin.delete(f"/v1/api-keys/{issued['key']}"), 404, "not_found")
    assert Api(srv, issued["key"]).get("/v1/products").status_code == 200


def test_keys_list_oldest_first(srv, admin):
    """Keys issued within one second still list in the order they were issued."""
    issued = [admin.create_key("storefront", name=f"order {i}")["id"] for i in range(6)]
    listed = [k["id"] for k in admin.ok(admin.get("/v1/api-keys"))["items"]]
    assert [i for i in listed if i in issued] == issued
