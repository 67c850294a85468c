"""Fixtures of the IPA client unit tests (the fake itself is in ipa_fake.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from ipa_fake import NAME, PASSWORD, URL, USER, FakeIPA, RecordingBackoff

from novajoin.ipa import IPAClient, IPAServer, PasswordAuth


@pytest.fixture
def fake() -> FakeIPA:
    return FakeIPA()


@pytest.fixture
def recorder() -> RecordingBackoff:
    return RecordingBackoff()


@pytest.fixture
def make_client(
    fake: FakeIPA, recorder: RecordingBackoff
) -> Iterator[Callable[..., IPAClient]]:
    clients: list[IPAClient] = []

    def make(servers: Any = None, **kwargs: Any) -> IPAClient:
        kwargs.setdefault("auth", PasswordAuth(USER, PASSWORD))
        kwargs.setdefault("backoff", recorder.backoff)
        kwargs.setdefault("transport", httpx.MockTransport(fake.handler))
        client = IPAClient(servers or IPAServer(URL, name=NAME), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
