"""Helpers for the catalogue, inventory, auth and event-log tests: a small JSON client bound to an
API key, problem assertions, unique names, GS1 barcodes and event-log reads."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import requests

PROBLEM_TYPE = "application/problem+json"
TIMEOUT = 10


def unique(prefix: str = "T") -> str:
    """A fresh alphanumeric token (also one full-text search word): `prefix` + 10 hex digits."""
    return f"{prefix}{secrets.token_hex(5)}".upper()


def word() -> str:
    """A fresh lowercase word of letters only, for search tests."""
    return "".join("abcdefghijklmnopqrstuvwxyz"[b % 26] for b in secrets.token_bytes(10))


def gs1(body: str) -> str:
    """`body` with its GS1 check digit appended (EAN-8 from 7 digits, EAN-13 from 12, ...)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def random_ean13() -> str:
    return gs1("2" + "".join(str(secrets.randbelow(10)) for _ in range(11)))


def money(amount: int, currency: str = "GBP") -> dict:
    return {"amount": amount, "currency": currency}


def variant(sku: str | None = None, amount: int = 1000, **extra) -> dict:
    return {"sku": sku or unique("SKU-"), "price": money(amount), **extra}


def product_body(title: str | None = None, variants: list[dict] | None = None, **extra) -> dict:
    return {"title": title or f"Product {unique()}", "variants": variants or [variant()], **extra}


def admin_key_of(server) -> str:
    """The admin key the server generated on first start (<data dir>/admin.key)."""
    return (Path(server.data_dir) / "admin.key").read_text().strip()


class Api:
    """A JSON client for one server, optionally authenticated with a Bearer key."""

    def __init__(self, server, key: str | None = None):
        self.server = server
        self.key = key
        self.session = requests.Session()

    def as_key(self, key: str | None) -> "Api":
        return Api(self.server, key)

    def headers(self, extra: dict | None = None) -> dict:
        headers = {}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, json_body=None, *, data: bytes | None = None,
                headers: dict | None = None, params=None) -> requests.Response:
        extra = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            extra.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.server.url(path), data=data, params=params,
                                    headers=self.headers(extra), timeout=TIMEOUT)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # Shortcuts that expect success ----------------------------------------------------------

    def ok(self, response: requests.Response, status: int = 200):
        assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:600]}"
        return response.json() if response.content else None

    def create_product(self, body: dict | None = None, **kw) -> dict:
        return self.ok(self.post("/v1/products", body or product_body(**kw)), 201)

    def create_location(self, code: str | None = None, kind: str = "store", fulfils_online: bool = False) -> dict:
        code = code or unique("loc-").lower()
        return self.ok(self.post("/v1/locations", {"code": code, "name": f"Location {code}", "kind": kind,
                                                   "fulfils_online": fulfils_online}), 201)

    def create_key(self, role: str, location: str | None = None, name: str | None = None) -> dict:
        body = {"role": role, "name": name or f"{role} {unique()}"}
        if location is not None:
            body["location"] = location
        return self.ok(self.post("/v1/api-keys", body), 201)

    def adjust(self, sku: str, delta: int, reason: str = "received", location: str | None = None, **kw) -> dict:
        body = {"delta": delta, "reason": reason}
        if location is not None:
            body["location"] = location
        return self.ok(self.post(f"/v1/inventory/{sku}/adjustments", body, **kw))

    def inventory(self, sku: str) -> dict:
        return self.ok(self.get(f"/v1/inventory/{sku}"))

    def product(self, product_id: str) -> dict:
        return self.ok(self.get(f"/v1/products/{product_id}"))

    def all_products(self, **params) -> list[dict]:
        """Every product the caller can list with these filters, following next_cursor."""
        items, cursor = [], None
        for _ in range(1000):
            query = {"limit": 200, **params}
            if cursor:
                query["cursor"] = cursor
            page = self.ok(self.get("/v1/products", params=query))
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items
        raise AssertionError("product pages never ended")

    def events(self, since: int = 0, topics: str | None = None, limit: int = 200) -> list[dict]:
        """Every event after `since` (on `topics`), following next_cursor."""
        items = []
        for _ in range(10000):
            params = {"since": since, "limit": limit}
            if topics is not None:
                params["topics"] = topics
            page = self.ok(self.get("/v1/events", params=params))
            items += page["items"]
            if page["next_cursor"] is None:
                return items
            since = int(page["next_cursor"])
        raise AssertionError("event pages never ended")

    def last_seq(self) -> int:
        events = self.events(0)
        return events[-1]["seq"] if events else 0


def assert_problem(response: requests.Response, status: int, code: str | None) -> dict:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:600]}"
    assert response.headers["Content-Type"].split(";")[0].strip() == PROBLEM_TYPE, response.headers
    problem = response.json()
    assert {"type", "title", "status", "detail", "code"} <= problem.keys(), problem
    assert problem["status"] == status
    if code is not None:
        assert problem["code"] == code, problem
    return problem


def assert_unauthorized(response: requests.Response) -> dict:
    problem = assert_problem(response, 401, "unauthorized")
    assert response.headers.get("WWW-Authenticate", "").split(" ")[0].lower() == "bearer", response.headers
    return problem


def assert_field_errors(response: requests.Response, *fields: str) -> dict:
    """A 422 `invalid_request` whose `errors` name (at least) each of `fields`."""
    problem = assert_problem(response, 422, "invalid_request")
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, problem
    for error in errors:
        assert isinstance(error.get("field"), str) and isinstance(error.get("detail"), str) and error["detail"], error
    named = {e["field"] for e in errors}
    for field in fields:
        assert field in named, f"{field!r} not among {sorted(named)}: {problem}"
    return problem


# Fixtures shared by the catalogue, inventory, auth and events modules (imported there by name):
# one server per module, and an admin client for it.
@pytest.fixture(scope="module")
def srv(module_launch):
    return module_launch()


@pytest.fixture(scope="module")
def admin(srv) -> Api:
    return Api(srv, admin_key_of(srv))
