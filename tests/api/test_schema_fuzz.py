"""Property-based conformance: schemathesis drives every operation of the OpenAPI schema
in-process (ASGI) and checks each response against the documented status codes, media types,
headers and schemas, that invalid input is rejected, valid input accepted, and nothing 500s."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from chainwatch.api.documentation import OPENAPI_PATH
from tests.api.support import shared_app

schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, shared_app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()
