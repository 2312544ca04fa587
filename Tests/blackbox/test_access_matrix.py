"""Who may call what (issue 29, "Access"; API.md, Auth): the whole role × route matrix, black-box.

Every operation in openapi.yaml declares the roles that may call it in `x-roles` (`public`,
`storefront`, `pos`, `admin`, `customer`, `test`), derived from the route code's
`context.require(…)` / `requireCustomer()`. Here each operation is called once per credential:

- none, an invalid key-shaped bearer token, an invalid customer-shaped one (`cst_…`),
- a `storefront` key, a `pos` key (location `main`), the `admin` key,
- a signed-in shopper's customer token (`cst_…`, through the emailed sign-in code),

with every path parameter a placeholder (`x`) and `{}` as the body of a POST, PUT or PATCH, so no
real resource is touched (a placeholder names nothing: an allowed caller gets 404/409/422 or a
harmless 2xx, never a change to real data; no real key, customer or product is deleted). Then:

- a credential whose role is in `x-roles` never gets 401 or 403;
- `public`: every credential gets neither, except an invalid bearer token, which is always 401
  (a credential that is sent must be valid);
- a credential not in `x-roles` gets 401 when it is none or invalid, 403 when it is a valid API key
  of another role. Two cases answer 401 rather than 403, by design of the server (see
  `CROSS_KIND_401`): a customer token on a key route (it is no API key: as if none were sent), and
  an API key on a `/v1/me…` route (`requireCustomer()`: "an API key is not one").

Operations left out of the HTTP matrix are in `SKIPPED`, each with its reason. Public routes whose
answer depends on the key (without a 401/403 in the matrix) are in `KEY_DEPENDENT_PUBLIC`, as notes.

The second half is the event channel's topics (`/v1/events/ws`, EventChannel.swift): each topic kind
subscribed to anonymously, after `auth` with a storefront key, a pos key and the admin key, answered
`subscribed` or error `forbidden` as the channel's rule says (public, restricted to admin and pos,
admin only). That a pos key on `orders` hears only its own location's orders is test_pos_scope.py's.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import requests
import yaml

from cart_api import ADMIN_ENV, Api
from customer_api import sign_in
from test_events_ws import Channel, async_test
from test_messages import Sink

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
METHODS = ("get", "put", "post", "patch", "delete")
ROLES = {"public", "storefront", "pos", "admin", "customer", "test"}
KEY_ROLES = ("storefront", "pos", "admin")
PLACEHOLDER = "x"

# Credential kinds, in the order each operation is called with them.
CREDENTIALS = ("none", "invalid_key", "invalid_customer", "storefront", "pos", "admin", "customer")
INVALID = {"invalid_key", "invalid_customer"}

# (method, path) -> why the HTTP matrix leaves the operation out.
SKIPPED: dict[tuple[str, str], str] = {
    ("GET", "/v1/events/ws"): "WebSocket upgrade: the topics' access is test_ws_topic_matrix below",
    ("GET", "/v1/echo/ws"): "WebSocket upgrade, test-only (--enable-echo; 404 otherwise)",
    ("POST", "/v1/echo"): "test-only (--enable-echo; 404 otherwise)",
    ("GET", "/v1/test/clock"): "test-only (--enable-test-clock; 404 otherwise)",
    ("POST", "/v1/test/clock"): "test-only (--enable-test-clock; 404 otherwise)",
    ("GET", "/v1/sessions/current"): "answers only to a staff session's cookie, whatever bearer credential is sent "
                                     "(401 for every one): checked with cookies in test_a_staff_session_of_each_key_role",
}

# Public operations whose answer depends on the key sent, though never with 401/403 for the
# placeholder call made here (notes, not assertions of the matrix).
KEY_DEPENDENT_PUBLIC: dict[tuple[str, str], str] = {
    ("POST", "/v1/carts"): "a `pos` channel cart needs a pos or admin key (401 without, 403 with a storefront key); "
                           "a customer token makes the cart the shopper's",
    ("PATCH", "/v1/carts/{id}"): "a customer token may name only its own customer_id",
    ("GET", "/v1/products"): "`status` other than active needs the admin key (403 otherwise); admin sees drafts",
    ("GET", "/v1/products/{id}"): "a product not active is 404 except to the admin key",
    ("POST", "/v1/push/subscriptions"): "made with a customer token, the subscription is the shopper's",
    ("DELETE", "/v1/sessions/current"): "signs out the cookie's session; with a bearer credential it does nothing (204)",
}

# Cross-kind refusals that are 401, not 403 (server design, RequestContext.swift): the customer token
# is no API key, and an API key is no customer token.
CROSS_KIND_401 = ("a customer token on a key route is as if no key were sent; "
                  "an API key on a /v1/me… route is not a customer token (requireCustomer)")


def operations() -> list[tuple[str, str, list[str]]]:
    ops = []
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                ops.append((method.upper(), path, item[method].get("x-roles")))
    return ops


OPERATIONS = operations()


def test_every_operation_declares_its_roles():
    missing = [f"{m} {p}" for m, p, roles in OPERATIONS if not roles]
    assert not missing, f"operations without x-roles: {missing}"
    for method, path, roles in OPERATIONS:
        assert isinstance(roles, list) and set(roles) <= ROLES and len(set(roles)) == len(roles), (method, path, roles)
        if "public" in roles or "test" in roles:
            assert len(roles) == 1, f"{method} {path}: public and test stand alone, got {roles}"
    assert set(SKIPPED) <= {(m, p) for m, p, _ in OPERATIONS}, "a skip names an operation the spec no longer has"
    assert set(KEY_DEPENDENT_PUBLIC) <= {(m, p) for m, p, r in OPERATIONS if r == ["public"]}


# Server and credentials --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def matrix(module_launch, tmp_path_factory, tls_files) -> dict:
    """One server (mail through an SMTP sink, for the sign-in codes) and a credential of each kind."""
    sink = Sink(tmp_path_factory.mktemp("sink"), "--tls-cert", str(tls_files[0]), "--tls-key", str(tls_files[1]),
                "--auth", "shop:s3cret pass")
    try:
        server = module_launch({
            "smtp_url": f"smtp://shop:s3cret%20pass@localhost:{sink.port}",
            "mail_from": "Test Shop <shop@test.example>",
            "outbound_ca_file": str(tls_files[0]),
        }, env=ADMIN_ENV)
        api = Api(server)
        customer, _ = sign_in(api, sink, f"access-{secrets.token_hex(4)}@example.com")
        spare, _ = sign_in(api, sink, f"access-spare-{secrets.token_hex(4)}@example.com")
        yield {
            "api": api,
            "keys": {
                "none": None,
                "invalid_key": "sk_invalid_" + secrets.token_hex(16),
                "invalid_customer": "cst_" + secrets.token_hex(16),
                "storefront": api.api_key("storefront"),
                "pos": api.api_key("pos", location="main"),
                "admin": api.key,
                "customer": customer,
            },
            # DELETE /v1/auth/session signs its token out: it gets a token of its own.
            "spare_customer": spare,
        }
    finally:
        sink.stop()


def expected(roles: list[str], credential: str) -> str:
    """`allowed` (neither 401 nor 403), `401` or `403`."""
    if credential in INVALID:
        return "401"
    if "public" in roles:
        return "allowed"
    if credential in roles:
        return "allowed"
    if credential == "none":
        return "401"
    if credential == "customer":
        return "401"  # CROSS_KIND_401: no API key
    if roles == ["customer"]:
        return "401"  # CROSS_KIND_401: not a customer token
    return "403"


def fill(path: str) -> str:
    out, rest = "", path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        _, _, rest = tail.partition("}")
        out += head + PLACEHOLDER
    return out + rest


MATRIX_OPS = [(m, p, r) for m, p, r in OPERATIONS if (m, p) not in SKIPPED]


@pytest.mark.parametrize(("method", "path", "roles"), MATRIX_OPS, ids=[f"{m} {p}" for m, p, _ in MATRIX_OPS])
def test_role_route_matrix(matrix, method, path, roles):
    api: Api = matrix["api"]
    url = fill(path)
    wrong = []
    for credential in CREDENTIALS:
        key = matrix["keys"][credential]
        if (method, path) == ("DELETE", "/v1/auth/session") and credential == "customer":
            key = matrix["spare_customer"]
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = api.call(method, url, json=body, key=key, allow_redirects=False)
        status = response.status_code
        want = expected(roles, credential)
        if want == "allowed":
            ok = status not in (401, 403)
        else:
            ok = status == int(want)
            if ok and response.headers.get("Content-Type", "").startswith("application/problem+json"):
                code = response.json().get("code")
                ok = code == ("unauthorized" if status == 401 else "forbidden")
            if ok and status == 401:
                ok = response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        if not ok:
            wrong.append(f"{credential}: expected {want}, got {status} {response.text[:160]!r}")
    assert not wrong, f"{method} {url} (x-roles {roles}):\n  " + "\n  ".join(wrong)


def test_a_staff_session_of_each_key_role(matrix):
    """`GET /v1/sessions/current` answers the cookie of a session made from a key of any role, and
    no bearer credential (a key is not a session)."""
    api: Api = matrix["api"]
    keys = matrix["keys"]
    for role in KEY_ROLES:
        session = requests.Session()
        signed = session.post(api.server.url("/v1/sessions"), json={"key": keys[role]}, timeout=30)
        assert signed.status_code == 201, signed.text
        current = session.get(api.server.url("/v1/sessions/current"), timeout=30)
        assert current.status_code == 200 and current.json()["role"] == role, current.text
        assert api.call("GET", "/v1/sessions/current", key=keys[role]).status_code == 401
        session.delete(api.server.url("/v1/sessions/current"), timeout=30)
    assert api.call("GET", "/v1/sessions/current", key=None).status_code == 401


# Event channel topics ------------------------------------------------------------------------------

PUBLIC, RESTRICTED, ADMIN_ONLY = "public", "restricted", "admin"
# Each topic kind the channel knows (EventChannel.swift), with a placeholder id, and who may follow it.
TOPICS: dict[str, str] = {
    "stock": PUBLIC,
    "stock:SKU-X": PUBLIC,
    "products": PUBLIC,
    "product:prod_x": PUBLIC,
    "cart:cart_x": PUBLIC,
    "track:x": PUBLIC,
    "carts": RESTRICTED,
    "orders": RESTRICTED,
    "order:ord_x": RESTRICTED,
    "locations": RESTRICTED,
    "tasks": RESTRICTED,
    "messages": ADMIN_ONLY,
    "customers": ADMIN_ONLY,
    "shoppers": ADMIN_ONLY,
    "stats": ADMIN_ONLY,
    "conversations": ADMIN_ONLY,
    "conversation:cnv_x": ADMIN_ONLY,
    "drafts": ADMIN_ONLY,
    "draft:prod_x": ADMIN_ONLY,
}
WS_CREDENTIALS = ("anonymous", "storefront", "pos", "admin")
MAY_FOLLOW = {PUBLIC: set(WS_CREDENTIALS), RESTRICTED: {"pos", "admin"}, ADMIN_ONLY: {"admin"}}


async def answer(ch: Channel) -> dict:
    """The next `subscribed` or `error` reply, past any event or `stats` push."""
    while True:
        message = await ch.recv()
        if message.get("op") in ("subscribed", "error", "authenticated"):
            return message


@async_test(timeout=45)
async def ws_matrix(server, keys: dict) -> list[str]:
    wrong = []
    for credential in WS_CREDENTIALS:
        async with await Channel.open(server) as ch:
            if credential != "anonymous":
                await ch.send({"op": "auth", "key": keys[credential]})
                reply = await answer(ch)
                assert reply == {"op": "authenticated", "role": credential}, reply
            for topic, access in TOPICS.items():
                await ch.send({"op": "subscribe", "topics": [topic]})
                reply = await answer(ch)
                allowed = credential in MAY_FOLLOW[access]
                if allowed and reply.get("op") != "subscribed":
                    wrong.append(f"{credential} on {topic} ({access}): expected subscribed, got {reply}")
                elif not allowed and not (reply.get("op") == "error" and reply.get("code") == "forbidden"
                                          and reply.get("topics") == [topic]):
                    wrong.append(f"{credential} on {topic} ({access}): expected forbidden, got {reply}")
                if reply.get("op") == "subscribed":
                    await ch.send({"op": "unsubscribe", "topics": [topic]})
                    while (await ch.recv()).get("op") != "unsubscribed":
                        pass
    return wrong


def test_ws_topic_matrix(matrix):
    keys = {c: matrix["keys"][c] for c in ("storefront", "pos", "admin")}
    wrong = ws_matrix(matrix["api"].server, keys)
    assert not wrong, "\n".join(wrong)


@async_test(timeout=20)
async def ws_bad_auth(server, keys: dict) -> list[dict]:
    replies = []
    for key in (keys["invalid_key"], keys["customer"]):
        async with await Channel.open(server) as ch:
            await ch.send({"op": "auth", "key": key})
            replies.append(await answer(ch))
            # Still anonymous: a restricted topic stays refused.
            await ch.send({"op": "subscribe", "topics": ["orders"]})
            replies.append(await answer(ch))
    return replies


def test_ws_auth_takes_only_a_valid_api_key(matrix):
    """`auth` with an invalid key, or with a customer token (no API key), is refused `unauthorized`
    and leaves the connection anonymous."""
    replies = ws_bad_auth(matrix["api"].server, matrix["keys"])
    for refused, after in zip(replies[::2], replies[1::2]):
        assert refused.get("op") == "error" and refused.get("code") == "unauthorized", refused
        assert after.get("op") == "error" and after.get("code") == "forbidden", after


@async_test(timeout=20)
async def ws_unknown_topic_detail(server) -> str:
    async with await Channel.open(server) as ch:
        await ch.send({"op": "subscribe", "topics": ["nosuchtopic"]})
        reply = await answer(ch)
        assert reply.get("op") == "error" and reply.get("code") == "invalid_request", reply
        return reply["detail"]


def test_the_unknown_topic_error_lists_every_topic_kind(matrix):
    detail = ws_unknown_topic_detail(matrix["api"].server)
    listed = {t.strip().rstrip(".") for t in detail.split("Topics are", 1)[1].split(",")}
    kinds = {t.split(":")[0] + (":<id>" if ":" in t else "") for t in TOPICS}
    listed = {t.split(":")[0] + (":<id>" if ":" in t else "") for t in listed}
    assert kinds <= listed, f"not listed: {sorted(kinds - listed)}"
