"""expire_otp: only an owned, unenrolled host with a password loses it; audited."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from novajoin.ipa import errors as ipa_errors
from novajoin.join import expiry
from novajoin.join.errors import IPACommandFailed
from novajoin.join.marker import Marker

UUID = "0b5c7a8e-3f1d-4c2b-9e6a-7d8f9a0b1c2d"
FQDN = "vm1.example.test"


class StubIPA:
    """Answers host_show / host_mod like IPA for one host."""

    def __init__(self, entry: dict[str, Any] | None, *, clears: bool = True) -> None:
        self.entry = entry
        self.clears = clears
        self.calls: list[tuple[str, list[Any], dict[str, Any]]] = []

    def request(self, command: str, args: list[Any], options: dict[str, Any],
                deadline: float | None = None) -> dict[str, Any]:
        self.calls.append((command, list(args), dict(options)))
        if self.entry is None:
            raise ipa_errors.NotFound(f"{args[0]}: host not found")
        if command == "host_mod":
            if not self.clears:
                raise ipa_errors.EmptyModlist("no modifications to be performed")
            self.entry = {**self.entry, "has_password": False}
        return {"result": dict(self.entry)}


def entry(*, instance: str = UUID, password: bool = True, keytab: bool = False
          ) -> dict[str, Any]:
    marker = Marker(instance, "p1", "abcdefgh12345678")
    return {"fqdn": [FQDN], "description": [marker.format()], "has_password": password,
            "has_keytab": keytab}


def test_removes_the_password_with_an_empty_userpassword(caplog: Any) -> None:
    ipa = StubIPA(entry())
    with caplog.at_level(logging.INFO, logger="novajoin.audit"):
        outcome = expiry.expire_otp(ipa, FQDN, UUID)  # type: ignore[arg-type]
    assert outcome.changed
    assert [c[0] for c in ipa.calls] == ["host_show", "host_mod"]
    assert ipa.calls[1][2]["userpassword"] == ""
    assert any("action=otp-expire" in r.getMessage() and FQDN in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("state", [
    entry(instance="11111111-2222-4333-8444-555555555555"),  # another instance's host
    entry(password=False),                                    # nothing to expire
    entry(password=False, keytab=True),                       # enrolled
    None,                                                     # gone
])
def test_leaves_other_hosts_alone(state: dict[str, Any] | None) -> None:
    ipa = StubIPA(state)
    outcome = expiry.expire_otp(ipa, FQDN, UUID)  # type: ignore[arg-type]
    assert not outcome.changed
    assert [c[0] for c in ipa.calls] == ["host_show"]


def test_an_ipa_that_keeps_the_password_is_an_error() -> None:
    ipa = StubIPA(entry(), clears=False)
    with pytest.raises(IPACommandFailed, match="kept the one-time password"):
        expiry.expire_otp(ipa, FQDN, UUID)  # type: ignore[arg-type]
