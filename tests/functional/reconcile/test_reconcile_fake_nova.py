"""The nova test double answers in nova's formats, through openstacksdk."""

from __future__ import annotations

import datetime
import uuid

import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.token_endpoint import Token

from novajoin.reconcile import inventory
from novajoin.testing.fake_nova import FakeNova


@pytest.fixture
def nova():
    with FakeNova() as fake:
        yield fake


def cloud(nova: FakeNova, page: int = 2) -> inventory.Cloud:
    session = ks_session.Session(auth=Token(nova.compute_url, "novajoin-test-token"))
    conn = inventory.connect(session, compute_endpoint=nova.compute_url,
                             network_endpoint=nova.network_url)
    return inventory.Cloud(conn, page_size=page)


def test_listing_pages_confirmation_and_deleted(nova: FakeNova) -> None:
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for n, sid in enumerate(ids):
        nova.add_server(sid, "p1", f"vm{n}")
    nova.delete_server(ids[0])
    c = cloud(nova)
    assert set(c.servers()) == set(ids[1:])
    assert sum("marker=" in r for r in nova.requests) >= 1  # paginated
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    assert set(c.deleted_since(since)) == {ids[0]}
    confirmed = c.confirm([ids[0], ids[1]])
    assert confirmed[ids[0]] is None and confirmed[ids[1]] is not None


@pytest.mark.parametrize("fault", [403, 500, 503, None], ids=["403", "500", "503", "outage"])
def test_failures_are_never_not_found(nova: FakeNova, fault: int | None) -> None:
    sid = str(uuid.uuid4())
    c = cloud(nova)
    if fault is None:
        nova.outage()
    else:
        nova.inject(fault)
    with pytest.raises(inventory.CloudUnavailable):
        c.servers()
    with pytest.raises(inventory.CloudUnavailable):
        c.confirm([sid])


def test_only_novas_own_404_means_absent(nova: FakeNova) -> None:
    class NotNova(Exception):
        status_code = 404
        response = None  # e.g. a load balancer's bare 404 page

    assert not inventory._is_nova_not_found(NotNova())
    sid = str(uuid.uuid4())
    assert cloud(nova).confirm([sid]) == {sid: None}  # nova's itemNotFound body
