"""The optional repeat cache (repeat_cache_seconds): only OTP answers, bounded, short-lived."""

from __future__ import annotations

from typing import Any

import pytest

from novajoin.ipa import errors as ipa_errors
from novajoin.join import InstanceRequest, IPAUnavailable, JoinService, JoinSettings
from novajoin.join.model import ENROLLED, OTP_ISSUED, REFUSED, Extras, ItemError, JoinAnswer
from novajoin.join.service import RepeatCache

SETTINGS = JoinSettings(domain="example.test", realm="EXAMPLE.TEST")
KEY = b"k" * 32
UUID = "0b7b2cbe-2f1d-4c55-9a4c-8d6c1f2e3a4b"
OTHER = "1c8c3dcf-3a2e-4d66-8b5d-9e7d2a3f4b5c"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class HostIPA:
    """A one-host IPA: host_add stores the entry, host_show returns it; calls are recorded."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.entry: dict[str, Any] | None = None
        self.down = False

    def request(self, command: str, args: Any = (), options: Any = None, **kw: Any):
        self.calls.append(command)
        if self.down:
            raise ipa_errors.IPAClientError("connection refused")
        options = dict(options or {})
        if command == "host_show":
            if self.entry is None:
                raise ipa_errors.NotFound("host not found")
            return {"result": dict(self.entry)}
        if command == "host_add":
            self.entry = {"fqdn": [args[0]], "description": [options["description"]],
                          "has_password": True, "has_keytab": False}
            return {"result": dict(self.entry), "value": args[0]}
        raise AssertionError(command)


def req(**kw: Any) -> InstanceRequest:
    kw.setdefault("instance_id", UUID)
    kw.setdefault("project_id", "p1")
    kw.setdefault("hostname", "vm1")
    kw.setdefault("metadata", {"ipa_enroll": "true"})
    return InstanceRequest(**kw)


def service(ipa: HostIPA, clock: Clock, seconds: float, **kw: Any) -> JoinService:
    return JoinService(ipa, SETTINGS, otp_key=KEY, clock=clock,  # type: ignore[arg-type]
                       repeat_cache_seconds=seconds, **kw)


def test_off_by_default_every_repeat_asks_ipa():
    ipa = HostIPA()
    svc = JoinService(ipa, SETTINGS, otp_key=KEY)  # type: ignore[arg-type]
    first, again = svc.join(req()), svc.join(req())
    assert first.status == again.status == OTP_ISSUED and first.otp == again.otp
    assert ipa.calls == ["host_show", "host_add", "host_show"]


def test_repeat_within_the_window_costs_no_ipa_call_and_expires():
    ipa, clock = HostIPA(), Clock()
    svc = service(ipa, clock, 5.0)
    first = svc.join(req())
    assert ipa.calls == ["host_show", "host_add"]
    for _ in range(6):
        clock.now += 0.5
        assert svc.join(req()) == first
    assert ipa.calls == ["host_show", "host_add"]
    clock.now = 1000.0 + 5.0  # the window counts from IPA's answer; hits do not extend it
    assert svc.join(req()).otp == first.otp
    assert ipa.calls == ["host_show", "host_add", "host_show"]


def test_key_is_the_whole_request():
    ipa, clock = HostIPA(), Clock()
    svc = service(ipa, clock, 5.0)
    svc.join(req())
    svc.join(req(metadata={"ipa_enroll": "true", "role": "web"}))
    svc.join(req(image_id="img"))
    assert ipa.calls == ["host_show", "host_add", "host_show", "host_show"]


def test_enrolled_and_refused_answers_are_never_kept():
    ipa, clock = HostIPA(), Clock()
    svc = service(ipa, clock, 5.0)
    svc.join(req())
    clock.now += 10  # past the window
    assert ipa.entry is not None
    ipa.entry["has_keytab"] = True
    assert svc.join(req()).status == ENROLLED
    assert svc.join(req()).status == ENROLLED
    refused = svc.join(req(instance_id=OTHER))
    assert refused.status == REFUSED and svc.join(req(instance_id=OTHER)).status == REFUSED
    assert ipa.calls.count("host_show") == 5


def test_failures_are_not_kept():
    ipa, clock = HostIPA(), Clock()
    svc = service(ipa, clock, 5.0)
    ipa.down = True
    with pytest.raises(IPAUnavailable):
        svc.join(req())
    ipa.down = False
    assert svc.join(req()).status == OTP_ISSUED
    assert ipa.calls == ["host_show", "host_show", "host_add"]


def test_cache_is_bounded_and_keeps_only_clean_otp_answers():
    clock = Clock()
    cache = RepeatCache(5.0, size=3, clock=clock)
    issued = JoinAnswer.issued(SETTINGS, "vm.example.test", "x" * 32)
    for i in range(5):
        cache.put(i, issued)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == issued
    cache.put("enrolled", JoinAnswer.enrolled(SETTINGS, "vm.example.test"))
    cache.put("refused", JoinAnswer.refused(SETTINGS, None, "no", "foreign-host"))
    partial = issued.with_extras(Extras(errors=(ItemError("svc", "not applied"),)))
    cache.put("partial", partial)
    assert cache.get("enrolled") is None and cache.get("refused") is None
    assert cache.get("partial") is None
    clock.now += 5.0
    assert cache.get(4) is None and len(cache) == 2  # expired entries leave on access
    cache.put("new", issued)
    assert len(cache) == 1  # and on the next put


def test_invalid_settings():
    with pytest.raises(ValueError):
        JoinService(HostIPA(), SETTINGS, otp_key=KEY,  # type: ignore[arg-type]
                    repeat_cache_seconds=-1)
    with pytest.raises(ValueError):
        RepeatCache(0)
