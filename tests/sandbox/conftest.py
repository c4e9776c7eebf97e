"""Contract-test fixtures: the sandbox by default, a real OpenMetadata with OM_URL + OM_JWT.

`client` authenticates as the ingestion bot (OM_JWT: the ingestion-bot's token), `user_client`
as a non-bot admin user (OM_USER_JWT): OM applies different PUT rules to each.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import JWT

USER_JWT = "eyJ-test-user-jwt-SECRET-51c2e0"
REAL_OM = bool(os.environ.get("OM_URL") and os.environ.get("OM_JWT"))
sandbox_only = pytest.mark.skipif(
    REAL_OM, reason="inspects the sandbox itself (request log, faults, restarts)"
)


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    if REAL_OM:
        yield None
        return
    from om_ingest.sandbox import ThreadedSandbox

    with ThreadedSandbox(JWT, user_tokens=[USER_JWT]) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    from om_ingest.sandbox.testing import make_sdk_client

    if REAL_OM:
        return make_sdk_client(os.environ["OM_URL"], os.environ["OM_JWT"])
    return make_sdk_client(server.url, JWT)


@pytest.fixture(scope="module")
def user_client(server: Any) -> Any:
    from om_ingest.sandbox.testing import make_sdk_client

    if REAL_OM:
        if not os.environ.get("OM_USER_JWT"):
            pytest.skip("set OM_USER_JWT (a non-bot admin user's token) for user-rule tests")
        return make_sdk_client(os.environ["OM_URL"], os.environ["OM_USER_JWT"])
    return make_sdk_client(server.url, USER_JWT)


@pytest.fixture()
def unique() -> str:
    """A name prefix no other test uses (the module shares one server)."""
    return f"t{uuid.uuid4().hex[:8]}_"
