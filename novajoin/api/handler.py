"""Routes → small handler functions (Placement's handler.py, in miniature).

The router knows paths and methods only; what a handler does lives in its
own module.  Unknown path → 404, known path with another method → 405 with
``Allow``; all errors are JSON (see errors.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from novajoin.api import errors, vendordata, version

if TYPE_CHECKING:
    from novajoin.api.deploy import AppContext

Handler = Callable[["AppContext", dict[str, Any]], "Response"]


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] | None = None


def get_version(ctx: AppContext, environ: dict[str, Any]) -> Response:
    return Response(200, version.version_document(_root_url(environ)))


def post_vendordata(ctx: AppContext, environ: dict[str, Any]) -> Response:
    return Response(200, vendordata.handle(ctx, environ))


ROUTES: dict[str, dict[str, Handler]] = {
    "/": {"GET": get_version},
    "/v1": {"POST": post_vendordata},
    "/v1/": {"POST": post_vendordata},
}


def allowed_methods(handlers: dict[str, Handler]) -> list[str]:
    methods = set(handlers)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class Router:
    """The innermost WSGI app: dispatch, run the handler, encode JSON."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def __call__(
        self, environ: dict[str, Any], start_response: errors.StartResponse
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        head = method == "HEAD"
        handlers = ROUTES.get(path)
        if handlers is None:
            return errors.error_response(start_response, 404, "No such resource.", head=head)
        handler = handlers.get("GET" if head and "GET" in handlers else method)
        if handler is None:
            allow = ", ".join(allowed_methods(handlers))
            return errors.error_response(
                start_response,
                405,
                f"Method {method[:16]} is not allowed on this resource.",
                {"Allow": allow},
                head=head,
            )
        try:
            response = handler(self.ctx, environ)
        except errors.APIError as exc:
            return errors.error_response(
                start_response, exc.status, exc.message, exc.headers, head=head
            )
        body = json.dumps(response.body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),  # join data holds a one-time password
            *(response.headers or {}).items(),
        ]
        start_response(f"{response.status} {errors._title(response.status)}", headers)
        return [] if head else [body]


def _root_url(environ: dict[str, Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "localhost")
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != {"http": "80", "https": "443"}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}"
