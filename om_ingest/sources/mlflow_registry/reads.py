"""Bytes an MLflow source receives, counted on the requests mlflow-skinny sends for it.

mlflow-skinny sends every REST call (`rest_utils.http_request`, what its stores and this
source's own requests use) through a `requests` session it caches per process and retry
policy, shared by every caller, so there is no session of the source's own to hook. What
each call does carry is its host credentials' `auth`: the name of a request-auth provider
(mlflow's `RequestAuthProvider` plugin point), whose `requests` auth object is applied to the
request. A measured source registers a provider under a name of its own whose auth object
adds nothing to the request but a response hook counting its body bytes, and removes it when
it disconnects.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests
from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider
from mlflow.tracking.request_auth.registry import _request_auth_provider_registry

from om_ingest.sources.reads import requests_hook


class _CountingAuth(requests.auth.AuthBase):
    """Leaves the request's headers (mlflow sets its own Authorization) and hooks its answer."""

    def __init__(self, count: Any) -> None:
        self._hook = requests_hook(count)

    def __call__(self, request: Any) -> Any:
        request.register_hook("response", self._hook)
        return request


class CountingAuthProvider(RequestAuthProvider):
    """A provider under a unique name, counting into `count`; `register` / `unregister`."""

    def __init__(self, count: Any) -> None:
        self.name = f"om-ingest-read-meter-{uuid.uuid4().hex}"
        self._auth = _CountingAuth(count)

    def get_name(self) -> str:
        return self.name

    def get_auth(self) -> Any:
        return self._auth

    def register(self) -> CountingAuthProvider:
        # mlflow's registry (`register` takes a class and instantiates it): its list directly
        _request_auth_provider_registry._registry.append(self)
        return self

    def unregister(self) -> None:
        providers = _request_auth_provider_registry._registry
        if self in providers:
            providers.remove(self)
