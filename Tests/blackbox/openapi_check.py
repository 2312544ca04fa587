"""Checks the responses the black-box suite gets against openapi.yaml, with openapi-core.

`install()` wraps `requests.Session.send` (every `requests` call goes through it, sessions or not), so
each response from a server the suite started is checked against the operation its method and path
name in the spec: status (or `default`), media type, body schema and required headers. Requests to
paths or methods the spec does not describe (a page's scripts, a method a test sends to get 405) are
not checked; neither are streamed responses (their body is the test's to read) nor HEAD responses
(no body to check). The spec is compiled once per session; each (method, path template, status) is
checked for its first `PER_OPERATION` responses, so load and race tests that repeat one call
thousands of times do not pay for each.

A mismatch is recorded with the test that saw it; conftest.py fails that test. `KNOWN_SERVER_FINDINGS`
lists answers where the server, not the spec, is wrong: they are skipped, each with its finding.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.deserializing.media_types.util import json_loads, plain_loads
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
PER_OPERATION = 200
METHODS = {"get", "put", "post", "patch", "delete", "options", "trace"}

# (method, path template, status) -> the finding: answers where the server is wrong against the
# contract (../shared/API.md and the spec), skipped here until the server is fixed.
KNOWN_SERVER_FINDINGS: dict[tuple[str, str, int], str] = {}


class _Request:
    """openapi-core's request protocol, as if the request had been sent to the spec's server (the
    suite's servers listen on other ports)."""

    def __init__(self, method: str, url: str, headers, body, host_url: str):
        parts = urlsplit(url)
        self.host_url = host_url
        self.path = parts.path
        self.method = method
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(parts.query)),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = str(headers.get("Content-Type") or "")
        self.body = body.encode() if isinstance(body, str) else body


class _Response:
    """openapi-core's response protocol."""

    def __init__(self, status: int, headers, content: bytes):
        self.status_code = status
        self.headers = Headers(dict(headers))
        self.content_type = str(headers.get("Content-Type") or "")
        self.data = content


class SpecChecker:
    def __init__(self, spec_path: Path = SPEC_PATH):
        document = yaml.safe_load(spec_path.read_text())
        self.host_url = document["servers"][0]["url"].rstrip("/")
        # openapi-core reads only `application/json` as JSON; the problem documents and this spec
        # itself need telling.
        self.openapi = OpenAPI.from_dict(document, config=Config(extra_media_type_deserializers={
            "application/problem+json": json_loads,
            "application/yaml": lambda value, **_: yaml.safe_load(value),
            "text/csv": plain_loads,
        }))
        # Path templates as regexes, literal ones first (`/v1/customers/lookup` before `/v1/customers/{id}`).
        templates = sorted(document["paths"], key=lambda t: (t.count("{"), -len(t)))
        self.paths = [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t,
                       {m for m in document["paths"][t] if m in METHODS}) for t in templates]
        self.lock = threading.Lock()
        self.counts: dict[tuple[str, str, int], int] = {}
        self.mismatches: list[str] = []
        self.checked = 0

    def template(self, path: str, method: str) -> str | None:
        for pattern, template, methods in self.paths:
            if pattern.match(path):
                return template if method in methods else None
        return None

    def check(self, response: requests.Response) -> None:
        """Checks a `requests` response (its `request` is what was sent)."""
        prepared = response.request
        self.check_exchange(prepared.method or "GET", prepared.url, prepared.headers, prepared.body,
                            response.status_code, response.headers, response.content)

    def check_httpx(self, response) -> None:
        """Checks an `httpx` response (the generated client's), once its body is read."""
        response.read()
        request = response.request
        self.check_exchange(request.method, str(request.url), request.headers, request.content,
                            response.status_code, response.headers, response.content)

    def check_exchange(self, method: str, url: str, request_headers, request_body, status: int, headers,
                       content: bytes) -> None:
        method = method.lower()
        template = self.template(urlsplit(url).path, method)
        if template is None or method == "head":
            return
        key = (method, template, status)
        if key in KNOWN_SERVER_FINDINGS:
            return
        with self.lock:
            seen = self.counts.get(key, 0)
            if seen >= PER_OPERATION:
                return
            self.counts[key] = seen + 1
        try:
            self.openapi.validate_response(_Request(method, url, request_headers, request_body, self.host_url),
                                           _Response(status, headers, content))
        except Exception as error:  # noqa: BLE001 - every validation error is a mismatch to report
            detail = _describe(error)
            with self.lock:
                self.checked += 1
                self.mismatches.append(f"{method.upper()} {url} -> {status} ({template}): {detail}\n"
                                       f"    body: {content[:300].decode('utf-8', 'replace')}")
            return
        with self.lock:
            self.checked += 1


def _describe(error: BaseException) -> str:
    parts = [f"{type(error).__name__}: {str(error)[:200]}"]
    cause = error.__cause__ or error.__context__
    for sub in getattr(error, "schema_errors", None) or getattr(cause, "schema_errors", None) or []:
        where = "/".join(str(p) for p in sub.absolute_path)
        parts.append(f"  at {where or '(root)'}: {sub.message[:300]}")
        for context in (sub.context or [])[:3]:  # why each branch of a oneOf/anyOf failed
            parts.append(f"    - at {'/'.join(str(p) for p in context.absolute_path) or '(root)'}: {context.message[:200]}")
    if cause is not None and not getattr(error, "schema_errors", None):
        parts.append(f"  cause {type(cause).__name__}: {str(cause)[:300]}")
    return "\n".join(parts)


_checker: SpecChecker | None = None


def install(is_ours) -> SpecChecker:
    """Wraps `requests.Session.send` once; `is_ours(host, port)` says whether a URL is one of the
    suite's servers (others, such as a test's webhook receiver, are not checked)."""
    global _checker
    if _checker is not None:
        return _checker
    checker = _checker = SpecChecker()
    original = requests.Session.send

    def send(self, request, **kwargs):
        response = original(self, request, **kwargs)
        if kwargs.get("stream"):
            return response
        parts = urlsplit(request.url)
        if is_ours(parts.hostname, parts.port):
            # Redirects that were followed went through here hop by hop, the final answer included;
            # this call's own first answer is the first of the history.
            checker.check(response.history[0] if response.history else response)
        return response

    requests.Session.send = send
    return checker
