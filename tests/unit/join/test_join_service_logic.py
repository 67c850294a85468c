"""JoinService paths that end before IPA is asked, with a recording stand-in for IPAClient.

The IPA paths themselves run against the simulator in
tests/functional/test_join_service.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from novajoin.ipa import errors as ipa_errors
from novajoin.join import (
    InstanceRequest,
    JoinService,
    JoinSettings,
    LookupUnavailable,
    ProjectNotFound,
)

SETTINGS = JoinSettings(domain="example.test", realm="EXAMPLE.TEST")
KEY = b"k" * 32
UUID = "0b7b2cbe-2f1d-4c55-9a4c-8d6c1f2e3a4b"


class RecordingIPA:
    """Answers host_show with NotFound and host_add with success; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def request(self, command: str, args: Any = (), options: Any = None, **kw: Any):
        self.calls.append((command, tuple(args), dict(options or {})))
        if command == "host_show":
            raise ipa_errors.NotFound("host not found")
        return {"result": {}, "value": args[0] if args else None}


class Images:
    def __init__(self, props: dict[str, str] | None = None, fail: bool = False) -> None:
        self.props = props or {}
        self.fail = fail
        self.asked: list[str] = []

    def properties(self, image_id: str) -> dict[str, str]:
        self.asked.append(image_id)
        if self.fail:
            raise LookupUnavailable("glance down")
        return self.props


class Projects:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def name(self, project_id: str) -> str:
        if project_id not in self.names:
            raise ProjectNotFound(project_id)
        return self.names[project_id]


def req(**kw: Any) -> InstanceRequest:
    kw.setdefault("instance_id", UUID)
    kw.setdefault("project_id", "p1")
    kw.setdefault("hostname", "vm1")
    return InstanceRequest(**kw)


def service(ipa: RecordingIPA, **kw: Any) -> JoinService:
    return JoinService(ipa, kw.pop("settings", SETTINGS), otp_key=KEY, **kw)  # type: ignore[arg-type]


def test_explicit_false_asks_nobody():
    ipa, images = RecordingIPA(), Images({"ipa_enroll": "true"})
    answer = service(ipa, images=images).join(
        req(metadata={"ipa_enroll": "false"}, image_id="img"))
    assert answer.to_json() == {} and ipa.calls == [] and images.asked == []


def test_image_decides_when_instance_is_silent():
    ipa = RecordingIPA()
    images = Images({"ipa_enroll": "True", "os_distro": "fedora", "os_version": "40"})
    answer = service(ipa, images=images).join(req(image_id="img"))
    assert answer.otp and images.asked == ["img"]
    (show, _, _), (add, args, options) = ipa.calls
    assert (show, add, args) == ("host_show", "host_add", ("vm1.example.test",))
    assert options["nsosversion"] == "fedora 40" and options["force"] is True
    assert options["nshardwareplatform"] == "OpenStack"
    assert options["userpassword"] == answer.otp
    assert options["description"].startswith(f"novajoin:v1 instance={UUID} project=p1 ")


def test_boot_from_volume_uses_instance_metadata_only():
    ipa, images = RecordingIPA(), Images({"ipa_enroll": "True"})
    assert service(ipa, images=images).join(req(image_id="")).to_json() == {}
    assert images.asked == []
    answer = service(ipa, images=images).join(req(image_id=None,
                                                  metadata={"ipa_enroll": "true"}))
    assert answer.otp and "nsosversion" not in ipa.calls[-1][2]


def test_glance_down_when_the_image_decides_raises():
    ipa = RecordingIPA()
    with pytest.raises(LookupUnavailable):
        service(ipa, images=Images(fail=True)).join(req(image_id="img"))
    assert ipa.calls == []


def test_glance_down_when_the_instance_asked_enrolls_without_os():
    ipa = RecordingIPA()
    answer = service(ipa, images=Images(fail=True)).join(
        req(image_id="img", metadata={"ipa_enroll": "True"}))
    assert answer.otp and "nsosversion" not in ipa.calls[-1][2]


@pytest.mark.parametrize("bad", [{"instance_id": "a b"}, {"project_id": ""},
                                 {"instance_id": "x" * 100}])
def test_malformed_ids_are_refused(bad):
    ipa = RecordingIPA()
    answer = service(ipa).join(req(metadata={"ipa_enroll": "true"}, **bad))
    assert answer.reason == "invalid-request" and ipa.calls == []


def test_project_subdomain():
    settings = JoinSettings(domain="example.test", realm="EXAMPLE.TEST", project_subdomain=True)
    ipa = RecordingIPA()
    svc = service(ipa, settings=settings, projects=Projects({"p1": "Dev Team"}))
    answer = svc.join(req(metadata={"ipa_enroll": "true"}))
    assert answer.hostname == "vm1.dev-team.example.test"
    unknown = svc.join(req(project_id="p2", metadata={"ipa_enroll": "true"}))
    assert unknown.reason == "unknown-project" and len(ipa.calls) == 2


def test_configuration_errors():
    with pytest.raises(ValueError):
        JoinService(RecordingIPA(), JoinSettings(domain="bad_domain", realm="X"),  # type: ignore[arg-type]
                    otp_key=KEY)
    with pytest.raises(ValueError):
        JoinService(RecordingIPA(), SETTINGS, otp_key=b"short")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        JoinService(RecordingIPA(), JoinSettings(domain="example.test", realm="X",  # type: ignore[arg-type]
                                                 project_subdomain=True), otp_key=KEY)


def test_ipa_rejecting_the_name_gives_no_otp():
    class Rejecting(RecordingIPA):
        def request(self, command: str, args: Any = (), options: Any = None, **kw: Any):
            if command == "host_add":
                raise ipa_errors.ValidationError("invalid 'hostname': bad")
            return super().request(command, args, options, **kw)

    answer = service(Rejecting()).join(req(metadata={"ipa_enroll": "true"}))
    assert answer.reason == "ipa-rejected" and answer.otp is None
    assert "ipaotp" not in answer.to_json()
