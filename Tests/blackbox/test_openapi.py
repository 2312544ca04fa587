"""The top-level openapi.yaml is a valid OpenAPI 3.1 document that describes the system endpoints."""

from __future__ import annotations

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from conftest import SPEC_PATH


@pytest.fixture(scope="module")
def spec() -> dict:
    document, _ = read_from_filename(str(SPEC_PATH))
    return document


def test_spec_is_valid_openapi_31(spec):
    assert str(spec["openapi"]).startswith("3.1")
    validate(spec)  # raises OpenAPIValidationError with the failing path


def test_spec_parses_as_plain_yaml():
    with open(SPEC_PATH, "rb") as handle:
        document = yaml.safe_load(handle)
    assert isinstance(document, dict) and document["info"]["title"]


@pytest.mark.parametrize("path,method", [("/health", "get"), ("/ready", "get"), ("/openapi.yaml", "get"),
                                         ("/v1/echo", "post")])
def test_spec_describes_system_endpoints(spec, path, method):
    assert method in spec["paths"][path]
    operation = spec["paths"][path][method]
    assert "200" in operation["responses"]


def test_operation_ids_are_unique(spec):
    ids = [op["operationId"] for item in spec["paths"].values() for key, op in item.items()
           if key in {"get", "put", "post", "patch", "delete", "head", "options", "trace"} and "operationId" in op]
    assert len(ids) == len(set(ids))
