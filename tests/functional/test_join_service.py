"""JoinService against the IPA simulator, with a real IPAClient on the lab's nova keytab.

Checks DESIGN §3 end to end: one OTP per enrollment whoever asks, one IPA
write per enrollment, ownership refusals, IPA outages within the deadline,
and no OTP in any log line or exception text.
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from novajoin.fakeipa.adminclient import AdminError
from novajoin.ipa import IPAClient, IPAServer
from novajoin.ipa import errors as ipa_errors
from novajoin.join import (
    ENROLLED,
    OTP_ISSUED,
    REFUSED,
    InstanceRequest,
    IPAUnavailable,
    JoinService,
    JoinSettings,
    marker,
)

WRITES = {"host_add", "host_mod", "host_del", "host_disable"}
PROJECT = "6f1e2d3c4b5a69788796a5b4c3d2e1f0"


class StaticImages:
    """An ImageLookup with fixed answers (the glance implementation has its own tests)."""

    def __init__(self, properties: dict[str, dict[str, str]]) -> None:
        self._properties = properties

    def properties(self, image_id: str) -> dict[str, str]:
        return self._properties.get(image_id, {})


@pytest.fixture
def otp_key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def settings(fake_ipa: Any) -> JoinSettings:
    return JoinSettings(domain=fake_ipa.domain, realm=fake_ipa.realm, ipa_server=fake_ipa.fqdn,
                        ipa_deadline=4.0)


@pytest.fixture
def make_service(
    make_client: Callable[..., IPAClient], settings: JoinSettings, otp_key: bytes
) -> Callable[..., JoinService]:
    def make(client: IPAClient | None = None, **kwargs: Any) -> JoinService:
        kwargs.setdefault("otp_key", otp_key)
        kwargs.setdefault("images", StaticImages(
            {"img-fedora": {"os_distro": "fedora", "os_version": "40", "ipa_enroll": "True"},
             "img-plain": {}}))
        return JoinService(client or make_client(), kwargs.pop("settings", settings), **kwargs)

    return make


@pytest.fixture
def service(make_service: Callable[..., JoinService]) -> JoinService:
    return make_service()


def request(hostname: str = "vm1", instance_id: str | None = None, **kwargs: Any):
    kwargs.setdefault("project_id", PROJECT)
    kwargs.setdefault("metadata", {"ipa_enroll": "true"})
    return InstanceRequest(instance_id=instance_id or str(uuid.uuid4()), hostname=hostname,
                           **kwargs)


def host_calls(fake_ipa: Any, since: int = 0) -> list[tuple[str, str]]:
    """(command, outcome) of the JSON-RPC calls logged after ``since`` (logins excluded)."""
    out = []
    for call in fake_ipa.admin.calls(since):
        method = (call["method"] or "").split("/")[0]
        if method:
            out.append((method, call["outcome"]))
    return out


def writes(calls: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [c for c in calls if c[0] in WRITES]


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "novajoin.audit"]


def test_first_join_creates_host_with_marker_and_usable_otp(service, fake_ipa, caplog):
    caplog.set_level(logging.DEBUG)
    req = request("VM1", image_id="img-plain")
    answer = service.join(req)

    assert answer.status == OTP_ISSUED
    body = answer.to_json()
    assert body["hostname"] == "vm1.example.test"
    assert body["krb_realm"] == "EXAMPLE.TEST"
    assert body["ipa_domain"] == "example.test"
    assert body["ipa_server"] == fake_ipa.fqdn
    otp = body["ipaotp"]
    assert isinstance(otp, str) and len(otp) == 32 and otp.isalnum()
    assert calls_are(host_calls(fake_ipa), [("host_show", "NotFound"), ("host_add", "ok")])

    host = fake_ipa.admin.state()["hosts"]["vm1.example.test"]
    found = marker.parse(host["attrs"]["description"])
    assert found is not None
    assert found.owned_by(req.instance_id) and found.project_id == PROJECT
    assert host["attrs"]["nshardwareplatform"] == ["OpenStack"]
    assert host["has_password"] and not host["has_keytab"]

    [line] = audit_lines(caplog)
    assert line.levelno == logging.INFO
    assert "action=host-add" in line.getMessage() and req.instance_id in line.getMessage()
    assert fake_ipa.admin.enroll("vm1.example.test", otp)["has_keytab"] is True
    assert_no_secret(caplog, otp)


def calls_are(calls: list[tuple[str, str]], expected: list[tuple[str, str]]) -> bool:
    """Outcomes as the simulator logs them: "ok" or an error name somewhere in the text."""
    if len(calls) != len(expected):
        return False
    return all(c == e[0] and (o == e[1] or e[1] in o) for (c, o), e in zip(calls, expected,
                                                                          strict=True))


def assert_no_secret(caplog: pytest.LogCaptureFixture, *secrets_: str) -> None:
    for record in caplog.records:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        for secret in secrets_:
            assert secret not in text, f"secret in log line of {record.name}"


def test_image_os_becomes_nsosversion(service, fake_ipa):
    answer = service.join(request("vm2", image_id="img-fedora", metadata={}))
    assert answer.status == OTP_ISSUED
    host = fake_ipa.admin.state()["hosts"]["vm2.example.test"]
    assert host["attrs"]["nsosversion"] == ["fedora 40"]


def test_not_requested_makes_no_ipa_call(service, fake_ipa):
    seq = fake_ipa.admin.last_call_seq()
    for req in (request(metadata={}), request(metadata={"ipa_enroll": "False"},
                                              image_id="img-fedora"),
                request(metadata={}, image_id="img-plain"), request(metadata={}, image_id="")):
        assert service.join(req).to_json() == {}
    assert fake_ipa.admin.calls(seq) == []


def test_repeated_joins_same_otp_one_write(service, fake_ipa, caplog):
    """The config drive asks ~6 times and the metadata service once more."""
    caplog.set_level(logging.DEBUG)
    req = request("boot1")
    answers = [service.join(req) for _ in range(7)]
    otps = {a.otp for a in answers}
    assert len(otps) == 1 and None not in otps
    calls = host_calls(fake_ipa)
    assert writes(calls) == [("host_add", "ok")]
    # 2 round trips for the first request, 1 for each repeat.
    assert len(calls) == 2 + 6
    assert len(audit_lines(caplog)) == 1
    fake_ipa.admin.enroll("boot1.example.test", otps.pop())


def _storm(services: list[Any], req: Any, threads: int) -> list[Any]:
    """``threads`` simultaneous joins of one instance, spread over ``services``."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    lock = threading.Lock()

    def worker(service: Any) -> None:
        barrier.wait(timeout=10)
        try:
            outcome: Any = service.join(req)
        except Exception as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    pool = [threading.Thread(target=worker, args=(services[i % len(services)],))
            for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert len(results) == threads
    assert all(not isinstance(r, Exception) for r in results), results
    return results


def test_concurrent_requests_in_one_process_share_one_round_trip(make_service, fake_ipa):
    fake_ipa.admin.set_latency(0.02)
    results = _storm([make_service()], request("storm0"), 20)
    otps = {r.otp for r in results}
    assert len(otps) == 1 and None not in otps
    # Coalesced: one show and one add for all twenty, no add race at all.
    assert [c[0] for c in host_calls(fake_ipa)] == ["host_show", "host_add"]
    fake_ipa.admin.enroll("storm0.example.test", otps.pop())


def test_concurrent_first_requests_create_host_once(make_service, make_client, fake_ipa, caplog):
    """Replicas (separate clients) racing on one new instance: one host, one OTP."""
    caplog.set_level(logging.INFO)
    fake_ipa.admin.set_latency(0.02)
    replicas = [make_service(make_client()) for _ in range(10)]
    results = _storm(replicas, request("storm1"), 20)
    otps = {r.otp for r in results}
    assert len(otps) == 1 and None not in otps
    adds = [c for c in host_calls(fake_ipa) if c[0] == "host_add"]
    assert sum(1 for c in adds if c[1] == "ok") == 1
    # The race really happened: losers got DuplicateEntry and re-read the host.
    assert len(adds) >= 2
    assert list(fake_ipa.admin.state()["hosts"]).count("storm1.example.test") == 1
    assert len(audit_lines(caplog)) == 1
    fake_ipa.admin.enroll("storm1.example.test", otps.pop())


def test_two_replicas_agree(make_service, make_client, fake_ipa):
    one, two = make_service(make_client()), make_service(make_client())
    req = request("replica1")
    first = one.join(req)
    assert [two.join(req).otp for _ in range(3)] == [first.otp] * 3
    assert len(writes(host_calls(fake_ipa))) == 1


def test_other_key_gives_other_otp(make_service, fake_ipa):
    """A replica with the wrong key would hand out a useless OTP: keys must be shared."""
    req = request("keyed1")
    first = make_service().join(req)
    other = make_service(otp_key=secrets.token_bytes(32)).join(req)
    assert first.otp != other.otp


def test_enrolled_host_gets_no_otp(service, fake_ipa):
    req = request("enr1")
    otp = service.join(req).otp
    fake_ipa.admin.enroll("enr1.example.test", otp)
    seq = fake_ipa.admin.last_call_seq()
    answer = service.join(req)
    assert answer.status == ENROLLED
    body = answer.to_json()
    assert body["enrolled"] is True and "ipaotp" not in body
    assert body["hostname"] == "enr1.example.test"
    assert host_calls(fake_ipa, seq) == [("host_show", "ok")]


def test_revoked_keys_get_a_new_otp_once(make_service, make_client, fake_ipa, caplog):
    """After a rebuild revoked the keys, the next generation is issued by one write,
    and a second replica computes the same new OTP."""
    caplog.set_level(logging.INFO)
    client = make_client()
    service, other = make_service(client), make_service()
    req = request("rekey1")
    first = service.join(req).otp
    fake_ipa.admin.enroll("rekey1.example.test", first)
    client.call("host_disable", "rekey1.example.test")
    seq = fake_ipa.admin.last_call_seq()
    second = service.join(req)
    assert second.status == OTP_ISSUED and second.otp != first
    assert [other.join(req).otp for _ in range(3)] == [second.otp] * 3
    assert writes(host_calls(fake_ipa, seq)) == [("host_mod", "ok")]
    assert [r.getMessage().split()[0] for r in audit_lines(caplog)] == [
        "action=host-add", "action=host-rekey"]
    fake_ipa.admin.enroll("rekey1.example.test", second.otp)


def test_concurrent_rekey_on_two_replicas_agrees(make_service, make_client, fake_ipa):
    client = make_client()
    services = [make_service(client), make_service()]
    req = request("rekey2")
    fake_ipa.admin.enroll("rekey2.example.test", services[0].join(req).otp)
    client.call("host_disable", "rekey2.example.test")
    fake_ipa.admin.set_latency(0.02)
    barrier = threading.Barrier(10)
    otps: list[str | None] = []

    def worker(n: int) -> None:
        barrier.wait(timeout=10)
        otps.append(services[n % 2].join(req).otp)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(otps) == 10 and len(set(otps)) == 1 and otps[0]
    fake_ipa.admin.enroll("rekey2.example.test", otps[0])


def test_hostname_of_another_instance_is_refused(service, fake_ipa, caplog):
    owner = request("shared1")
    owner_otp = service.join(owner).otp
    caplog.clear()
    caplog.set_level(logging.INFO)
    seq = fake_ipa.admin.last_call_seq()
    claimant = request("shared1")
    answer = service.join(claimant)
    assert answer.status == REFUSED and answer.reason == "other-instance"
    body = answer.to_json()
    assert "ipaotp" not in body and "another instance" in body["error"]
    assert owner.instance_id not in body["error"]
    assert writes(host_calls(fake_ipa, seq)) == []
    [line] = audit_lines(caplog)
    assert line.levelno == logging.WARNING and claimant.instance_id in line.getMessage()
    # The owner's OTP was not touched.
    fake_ipa.admin.enroll("shared1.example.test", owner_otp)


def test_host_created_outside_novajoin_is_refused(service, make_client, fake_ipa, caplog):
    outside = "outside-" + secrets.token_hex(8)
    make_client().call("host_add", "manual1.example.test", force=True, userpassword=outside,
                       description="web server, managed by hand")
    caplog.set_level(logging.INFO)
    seq = fake_ipa.admin.last_call_seq()
    answer = service.join(request("manual1"))
    assert answer.status == REFUSED and answer.reason == "foreign-host"
    assert "not created by novajoin" in answer.to_json()["error"]
    assert host_calls(fake_ipa, seq) == [("host_show", "ok")]
    assert len(audit_lines(caplog)) == 1
    fake_ipa.admin.enroll("manual1.example.test", outside)


@pytest.mark.parametrize("hostname", ["bad_name", "two words", "vm1.other.test", "-vm",
                                      "x" * 300, "vm1..example.test", "ünïcode", ".vm1"])
def test_invalid_hostname_refused_without_ipa_call(service, fake_ipa, hostname):
    seq = fake_ipa.admin.last_call_seq()
    answer = service.join(request(hostname))
    assert answer.status == REFUSED and answer.reason == "invalid-hostname"
    body = answer.to_json()
    assert body["error"] and "ipaotp" not in body and body["hostname"] is None
    assert fake_ipa.admin.calls(seq) == []


class LandedThenDuplicate:
    """An IPAClient whose first host_add reaches IPA, is applied, and is then "retried":
    the caller sees DuplicateEntry with attempts=2 (the lost-answer case)."""

    def __init__(self, client: IPAClient) -> None:
        self._client = client

    def request(self, command: str, args: Any = (), options: Any = None, **kw: Any):
        result = self._client.request(command, args, options, **kw)
        if command == "host_add":
            exc = ipa_errors.DuplicateEntry('host with name "x" already exists')
            exc.attempts = 2
            raise exc
        return result


def test_retried_add_that_landed_returns_its_otp(make_service, make_client, fake_ipa, caplog):
    caplog.set_level(logging.INFO)
    service = make_service(LandedThenDuplicate(make_client()))
    answer = service.join(request("retry1"))
    assert answer.status == OTP_ISSUED
    fake_ipa.admin.enroll("retry1.example.test", answer.otp)
    assert [r.getMessage().split()[0] for r in audit_lines(caplog)] == ["action=host-add"]


@pytest.mark.parametrize("fault", ["reset", "http500", "hang"])
def test_ipa_down_raises_within_deadline(make_service, make_client, fake_ipa, settings,
                                         fault, caplog):
    caplog.set_level(logging.DEBUG)
    budget = 1.5
    service = make_service(make_client(connect_retries=50, timeout=10.0),
                           settings=JoinSettings(domain=settings.domain, realm=settings.realm,
                                                 ipa_deadline=budget))
    service.check_ipa()  # log in first: the fault must hit the commands
    fake_ipa.admin.inject_fault(fault, duration=30, seconds=20 if fault == "hang" else None)
    began = time.monotonic()
    with pytest.raises(IPAUnavailable) as info:
        service.join(request("down1"))
    elapsed = time.monotonic() - began
    assert elapsed <= budget + 0.3, elapsed
    assert "IPA" in str(info.value)
    assert "down1.example.test" not in fake_ipa.admin.state()["hosts"]
    fake_ipa.admin.clear_faults()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ipa_unreachable_port(make_service, make_client, fake_ipa, settings):
    url = f"https://127.0.0.1:{_closed_port()}/ipa"
    client = make_client(IPAServer(url, name=fake_ipa.fqdn), connect_retries=100)
    service = make_service(client, settings=JoinSettings(
        domain=settings.domain, realm=settings.realm, ipa_deadline=1.0))
    began = time.monotonic()
    with pytest.raises(IPAUnavailable):
        service.join(request("down2"))
    assert time.monotonic() - began <= 1.3
    began = time.monotonic()
    assert service.check_ipa() is False
    assert time.monotonic() - began <= 1.3


def test_check_ipa(service):
    assert service.check_ipa() is True


def test_acierror_is_not_an_otp(make_service, make_client, fake_ipa):
    """IPA refusing host_add (missing privilege) must never give the instance an OTP."""
    service = make_service()
    fake_ipa.admin.inject_fault("aci", commands=["host_add"])
    with pytest.raises(IPAUnavailable) as info:
        service.join(request("aci1"))
    assert "ACIError" in str(info.value)
    assert "aci1.example.test" not in fake_ipa.admin.state()["hosts"]


def test_no_otp_in_logs_or_errors_across_flows(make_service, make_client, fake_ipa, caplog):
    caplog.set_level(logging.DEBUG)
    service = make_service()
    seen: list[str] = []
    for name in ("log1", "log2"):
        req = request(name)
        otp = service.join(req).otp
        assert otp
        seen.append(otp)
        service.join(req)
        service.join(request(name))  # claimant
    fake_ipa.admin.enroll("log1.example.test", seen[0])
    service.join(request("log1"))
    try:
        fake_ipa.admin.enroll("log2.example.test", "wrong")
    except AdminError as exc:
        assert seen[1] not in str(exc)
    assert_no_secret(caplog, *seen)
    assert all(s not in fake_ipa.log_text() for s in seen)
