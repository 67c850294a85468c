"""nova's own vendordata client against a running novajoin-server and the IPA simulator.

The caller is ``nova.api.metadata.vendordata_dynamic.DynamicVendorData`` from
PyPI nova, so what these tests see is exactly what nova would serve under
``join`` in vendor_data2.json (nova turns any error into ``{}``).  The
server runs with ``auth_strategy = noauth``; test_keystone_auth.py covers
the same behind Keystone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from novajoin.fakeipa.adminclient import AdminClient, AdminError
from novajoin.join.otp import create_otp_key
from novajoin.testing.nova_vendordata import NovaConfig, NovaVendordata, make_instance
from novajoin.testing.novajoin_server import NovajoinServer, ipa_overrides

WRITE_COMMANDS = {"host_add", "host_mod"}


def ipa_writes(admin: AdminClient, since: int = 0) -> list[dict[str, Any]]:
    """host_add / host_mod calls in the simulator's log (batch items included)."""
    writes = []
    for call in admin.calls(since):
        method = (call.get("method") or "").partition("/")[0]
        if method in WRITE_COMMANDS:
            writes.append(call)
        elif method == "batch":
            params = call.get("params") or [[], {}]
            for item in params[0] if params and isinstance(params[0], list) else []:
                inner = str(item.get("method", "")).partition("/")[0]
                if inner in WRITE_COMMANDS:
                    writes.append({**call, "method": inner, "batched": True})
    return writes


@pytest.fixture(scope="module")
def otp_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("otp") / "otp.key"
    create_otp_key(path)
    return path


@pytest.fixture(scope="module")
def novajoin_server(
    _fake_ipa_shared: Any, otp_key_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NovajoinServer]:
    """One noauth novajoin-server for the module; the simulator is reset per test."""
    # A short repeat window, so that a test can outwait it (the default is 5 s).
    overrides = ipa_overrides(_fake_ipa_shared, otp_key_file, auth_strategy="noauth",
                              repeat_cache_seconds=REPEAT_WINDOW)
    with NovajoinServer(tmp_path_factory.mktemp("novajoin-server"), overrides) as server:
        yield server


@pytest.fixture(scope="module")
def nova(
    novajoin_server: NovajoinServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NovaVendordata]:
    """nova's client, no [vendordata_dynamic_auth] (it sends no token)."""
    config = NovaConfig(target_url=f"{novajoin_server.url}/v1/")
    with NovaVendordata(config, tmp_path_factory.mktemp("nova")) as client:
        yield client


REPEAT_WINDOW = 1.0


def hostname() -> str:
    return f"vm-{uuid.uuid4().hex[:10]}"


def test_enrolling_instance_gets_fqdn_otp_and_realm(fake_ipa: Any, nova: NovaVendordata) -> None:
    name = hostname()
    served = nova.get(make_instance(name, enroll=True))

    assert set(served) == {"join"}
    join = served["join"]
    fqdn = f"{name}.{fake_ipa.domain}"
    assert join["hostname"] == fqdn
    assert join["krb_realm"] == fake_ipa.realm
    assert isinstance(join["ipaotp"], str)
    assert len(join["ipaotp"]) >= 16
    assert "error" not in join

    host = fake_ipa.admin.state()["hosts"][fqdn]
    assert host["has_password"] and not host["has_keytab"]
    # The instance's ipa-client-install would succeed with this OTP.
    entry = fake_ipa.admin.enroll(fqdn, join["ipaotp"])
    assert entry
    assert fake_ipa.admin.state()["hosts"][fqdn]["has_keytab"]


@pytest.mark.parametrize("enroll", [None, False])
def test_instance_that_did_not_ask_gets_empty_answer(
    fake_ipa: Any, nova: NovaVendordata, enroll: bool | None
) -> None:
    before = fake_ipa.admin.state()["hosts"]
    served = nova.get(make_instance(hostname(), enroll=enroll))
    assert served == {"join": {}}
    assert fake_ipa.admin.state()["hosts"] == before
    assert ipa_writes(fake_ipa.admin) == []


def test_metadata_flag_is_case_insensitive(fake_ipa: Any, nova: NovaVendordata) -> None:
    name = hostname()
    instance = make_instance(name, enroll=None, metadata={"ipa_enroll": "tRuE"})
    join = nova.join(instance)
    assert join["hostname"] == f"{name}.{fake_ipa.domain}"
    assert join["ipaotp"]


def test_repeated_requests_return_the_same_otp_without_writing(
    fake_ipa: Any, nova: NovaVendordata
) -> None:
    instance = make_instance(hostname(), enroll=True)
    first = nova.join(instance)
    assert len(ipa_writes(fake_ipa.admin)) == 1
    seq = fake_ipa.admin.last_call_seq()

    again = [nova.join(instance) for _ in range(6)]

    assert {answer["ipaotp"] for answer in again} == {first["ipaotp"]}
    # nova's config-drive burst: answered from the repeat window, no IPA call at all
    assert fake_ipa.admin.calls(seq) == []
    fake_ipa.admin.enroll(first["hostname"], first["ipaotp"])


def test_enrolled_host_asked_again_gets_no_otp(fake_ipa: Any, nova: NovaVendordata) -> None:
    instance = make_instance(hostname(), enroll=True)
    first = nova.join(instance)
    fake_ipa.admin.enroll(first["hostname"], first["ipaotp"])
    seq = fake_ipa.admin.last_call_seq()
    time.sleep(REPEAT_WINDOW + 0.1)  # an instance enrolls long after its config drive

    again = nova.join(instance)

    assert again["hostname"] == first["hostname"]
    assert again["krb_realm"] == fake_ipa.realm
    assert "ipaotp" not in again
    assert again.get("enrolled") is True
    assert ipa_writes(fake_ipa.admin, since=seq) == []
    host = fake_ipa.admin.state()["hosts"][first["hostname"]]
    assert host["has_keytab"] and not host["has_password"]


def test_instance_claiming_another_instances_hostname_gets_no_otp(
    fake_ipa: Any, nova: NovaVendordata, novajoin_server: NovajoinServer
) -> None:
    name = hostname()
    owner = nova.join(make_instance(name, enroll=True))
    seq = fake_ipa.admin.last_call_seq()

    intruder = make_instance(name, enroll=True)  # another uuid, same name
    claimant = nova.join(intruder)

    assert "ipaotp" not in claimant
    assert claimant["hostname"] == owner["hostname"]
    assert "belongs to another instance" in claimant["error"]
    # one audit line names the claimant; no OTP in the server's log
    log = novajoin_server.log_text()
    assert intruder.uuid in log
    assert owner["ipaotp"] not in log
    # Nothing of the owner's host was touched: its OTP still enrolls it.
    assert ipa_writes(fake_ipa.admin, since=seq) == []
    fake_ipa.admin.enroll(owner["hostname"], owner["ipaotp"])


def test_claimant_of_an_enrolled_hostname_gets_no_otp(
    fake_ipa: Any, nova: NovaVendordata
) -> None:
    name = hostname()
    owner = nova.join(make_instance(name, enroll=True))
    fake_ipa.admin.enroll(owner["hostname"], owner["ipaotp"])

    claimant = nova.join(make_instance(name, enroll=True))

    assert "ipaotp" not in claimant
    assert "belongs to another instance" in claimant["error"]
    with pytest.raises(AdminError):
        # the owner's OTP was consumed; no new one was set for the claimant
        fake_ipa.admin.enroll(owner["hostname"], owner["ipaotp"])


def test_two_nova_configurations_used_from_many_threads(
    fake_ipa: Any, novajoin_server: NovajoinServer, tmp_path: Path
) -> None:
    """The wrapper's gate: nova's global CONF switches safely between configurations."""
    from concurrent.futures import ThreadPoolExecutor

    url = f"{novajoin_server.url}/v1/"
    first = NovaVendordata(NovaConfig(target_url=url, name="join"), tmp_path)
    second = NovaVendordata(NovaConfig(target_url=url, name="ipa", read_timeout=3), tmp_path)
    instances = [make_instance(hostname(), enroll=True) for _ in range(4)]

    def call(i: int) -> tuple[str, dict[str, Any]]:
        nova = first if i % 2 else second
        return nova.config.name, nova.get(instances[i % len(instances)])

    with first, second, ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(40), timeout=60))

    otps: dict[str, set[str]] = {}
    for name, served in results:
        assert list(served) == [name]
        otps.setdefault(served[name]["hostname"], set()).add(served[name]["ipaotp"])
    assert len(otps) == len(instances)
    assert all(len(found) == 1 for found in otps.values())
