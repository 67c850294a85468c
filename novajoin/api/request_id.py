"""Request ids as oslo.middleware's RequestId assigns them, on plain WSGI.

Same contract: every request gets ``req-<uuid4>`` (oslo.context's generator)
in ``environ['openstack.request_id']`` and in the ``x-openstack-request-id``
response header unless the app set one; a well-formed inbound
``X-Openstack-Request-Id`` becomes ``environ['openstack.global_request_id']``.
oslo's class does it through webob (a Request and two Response objects per
call); that wrapping, with http_proxy_to_wsgi's (now only in the pipeline
when enabled), was ~0.2 ms of a vendordata request's ~2.9 ms of server CPU.
Hence this plain-WSGI form on oslo's own names, id format and generator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from oslo_context import context
from oslo_middleware import request_id as oslo_request_id

from novajoin.api.errors import StartResponse, WSGIApp

ENV_REQUEST_ID = oslo_request_id.ENV_REQUEST_ID
GLOBAL_REQ_ID = oslo_request_id.GLOBAL_REQ_ID
RESPONSE_HEADER = oslo_request_id.HTTP_RESP_HEADER_REQUEST_ID
_INBOUND_ENVIRON_KEY = "HTTP_" + oslo_request_id.INBOUND_HEADER.upper().replace("-", "_")
_GLOBAL_ID = re.compile(oslo_request_id.ID_FORMAT)


class RequestId:
    """Assign a request id (see the module docstring)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        inbound = environ.get(_INBOUND_ENVIRON_KEY)
        if inbound and _GLOBAL_ID.match(inbound):
            environ[GLOBAL_REQ_ID] = inbound
        req_id = context.generate_request_id()
        environ[ENV_REQUEST_ID] = req_id

        def with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(name.lower() == RESPONSE_HEADER for name, _ in headers):
                headers = [*headers, (RESPONSE_HEADER, req_id)]
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        return self.app(environ, with_id)
