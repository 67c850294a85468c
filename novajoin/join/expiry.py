"""Expire the one-time password of a host that never enrolled.

An OTP is handed to nova (config drive, metadata service) and stays valid in
IPA until the instance enrolls.  When an instance has not enrolled long after
it was launched, the password is only a liability: this removes it.

How IPA removes it: ``host_mod`` with ``userpassword`` given empty.  ipalib
converts an empty value to None and its LDAP update then deletes the attribute
(the same rule that makes ``ipa host-mod --desc=`` clear a description).  The
host keeps its ownership marker, so a later request of the same, still living
instance is treated like a rebuilt host without keys: JoinService starts the
next enrollment generation and hands out a fresh OTP.

Only a host whose marker names the instance, that has a password and no keytab
(checked with ``host_show`` just before the write) is changed; an enrolled host
or a foreign host is never touched.  One INFO line on ``novajoin.audit`` per
password removed; the password itself is never read or logged.
"""

from __future__ import annotations

import logging
from typing import Any

from novajoin.ipa import IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join.errors import IPACommandFailed, IPAUnavailable
from novajoin.join.lifecycle import Outcome
from novajoin.join.marker import parse

LOG = logging.getLogger("novajoin.join")
AUDIT = logging.getLogger("novajoin.audit")

OTP_EXPIRED = "otp-expired"


def _call(ipa: IPAClient, command: str, args: list[Any], options: dict[str, Any],
          deadline: float | None) -> dict[str, Any]:
    try:
        return ipa.request(command, args, options, deadline=deadline)
    except ipa_errors.IPAError:
        raise
    except ipa_errors.IPAClientError as exc:
        raise IPAUnavailable(f"IPA {command} failed: {exc}") from None


def _failed(command: str, exc: ipa_errors.IPAError) -> IPACommandFailed:
    return IPACommandFailed(f"IPA {command} failed: {exc.name} ({exc.code})",
                            ipa_error=f"{exc.name} ({exc.code})")


def _show(ipa: IPAClient, fqdn: str, deadline: float | None) -> dict[str, Any] | None:
    try:
        answer = _call(ipa, "host_show", [fqdn], {"no_members": True}, deadline)
    except ipa_errors.NotFound:
        return None
    except ipa_errors.IPAError as exc:
        raise _failed("host_show", exc) from None
    entry = answer.get("result")
    if not isinstance(entry, dict):
        raise IPAUnavailable("IPA host_show: answer without a host entry")
    return entry


def expire_otp(
    ipa: IPAClient, fqdn: str, instance_id: str, *, deadline: float | None = None
) -> Outcome:
    """Remove the unused OTP of ``fqdn``, a host owned by ``instance_id``.

    ``changed=False`` when there is nothing to do (host gone, enrolled meanwhile,
    no password, not ours).  Raises IPAUnavailable / IPACommandFailed, including
    when IPA accepted the change but the password is still there.
    """
    fqdn = fqdn.lower().rstrip(".")
    entry = _show(ipa, fqdn, deadline)
    if entry is None:
        return Outcome(OTP_EXPIRED, False, f"{fqdn} is gone", 1)
    marker = parse(entry.get("description"))
    if marker is None or not marker.owned_by(instance_id):
        LOG.warning("not expiring the OTP of %s: it is not owned by instance %s",
                    fqdn, instance_id)
        return Outcome(OTP_EXPIRED, False, f"{fqdn} is not owned by instance {instance_id}", 1)
    if entry.get("has_keytab") or not entry.get("has_password"):
        return Outcome(OTP_EXPIRED, False, f"{fqdn} has no unused one-time password", 1)
    try:
        answer = _call(ipa, "host_mod", [fqdn], {"userpassword": "", "no_members": True},
                       deadline)
    except ipa_errors.NotFound:
        return Outcome(OTP_EXPIRED, False, f"{fqdn} is gone", 2)
    except ipa_errors.ValidationError:
        # "Password cannot be set on enrolled host": it enrolled meanwhile.
        return Outcome(OTP_EXPIRED, False, f"{fqdn} enrolled meanwhile", 2)
    except ipa_errors.EmptyModlist:
        answer = {"result": _show(ipa, fqdn, deadline) or {}}
    except ipa_errors.IPAError as exc:
        raise _failed("host_mod", exc) from None
    result = answer.get("result")
    if isinstance(result, dict) and result.get("has_password") and not result.get("has_keytab"):
        raise IPACommandFailed(f"IPA kept the one-time password of {fqdn} after host_mod "
                               "with an empty password", ipa_error="password not removed")
    AUDIT.info("action=otp-expire instance=%s project=%s fqdn=%s", marker.instance_id,
               marker.project_id, fqdn)
    return Outcome(OTP_EXPIRED, True, f"one-time password of {fqdn} removed", 2)
