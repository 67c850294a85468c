"""Helpers for the simulator's own tests: log in, call JSON-RPC."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import gssapi
import httpx
import pytest

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")


def _mutual_token(response: httpx.Response) -> bytes:
    scheme, _, value = response.headers["WWW-Authenticate"].partition(" ")
    assert scheme == "Negotiate"
    assert value, "no mutual-auth token in WWW-Authenticate"
    return base64.b64decode(value)


@pytest.fixture
def mutual_token() -> Callable[[httpx.Response], bytes]:
    """The decoded token of ``WWW-Authenticate: Negotiate <b64>``."""
    return _mutual_token


@pytest.fixture
def rpc_body() -> Callable[..., dict[str, Any]]:
    """``rpc_body("host_add", ["h.example.test"], force=True)`` -> JSON-RPC request."""

    def make(method: str, args: list[Any] | None = None, **options: Any) -> dict[str, Any]:
        return {"method": method, "params": [args or [], options], "id": 0}

    return make


@pytest.fixture
def login(nova_negotiate: Callable[..., Any]) -> Iterator[Callable[..., httpx.Client]]:
    """``client = login(ipa, mech=SPNEGO)``: Kerberos login, mutual auth checked."""
    clients: list[httpx.Client] = []

    def do_login(ipa: Any, mech: gssapi.OID = SPNEGO) -> httpx.Client:
        ctx, header = nova_negotiate(mech=mech)
        client = ipa.client()
        clients.append(client)
        response = client.post(ipa.login_kerberos_url, headers={"Authorization": header})
        assert response.status_code == 200, response.text
        ctx.step(_mutual_token(response))
        assert ctx.complete
        assert client.cookies.get("ipa_session")
        return client

    yield do_login
    for client in clients:
        client.close()
