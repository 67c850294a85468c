"""Value objects shared by the entry points and the domain layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from novajoin.join.placement import PlacementPolicy

# JoinAnswer.status values: one per shape of the answer nova receives.
NOT_REQUESTED = "not-requested"
OTP_ISSUED = "otp-issued"
ENROLLED = "enrolled"
REFUSED = "refused"


@dataclass(frozen=True)
class InstanceRequest:
    """What nova's dynamic vendordata POST tells us (schema-validated by the REST layer)."""

    instance_id: str
    project_id: str
    hostname: str
    image_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    user_data: str | None = field(default=None, repr=False)
    boot_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class JoinSettings:
    """Deployment settings the domain layer needs (filled from oslo.config by callers)."""

    domain: str
    realm: str
    ipa_server: str | None = None
    project_subdomain: bool = False
    normalize_project: bool = True
    image_cache_ttl: float = 300.0
    otp_length: int = 32
    ipa_deadline: float = 4.0
    # Which projects may ask for which host classes / hostgroups (default: none).
    placement: PlacementPolicy | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ItemError:
    """One metadata item novajoin could not apply (the enrollment itself goes on).

    ``item`` names the metadata key (or ``key:value`` part) the instance sent,
    ``error`` says why, in words an instance owner can act on.
    """

    item: str
    error: str

    def to_json(self) -> dict[str, str]:
        return {"item": self.item, "error": self.error}


@dataclass(frozen=True)
class Extras:
    """What was applied besides the host itself: managed services and placement."""

    services: tuple[str, ...] = ()
    hostgroups: tuple[str, ...] = ()
    hostclass: tuple[str, ...] = ()
    errors: tuple[ItemError, ...] = ()


@dataclass(frozen=True)
class JoinAnswer:
    """The outcome of ``JoinService.join``; ``to_json()`` is what nova serves under ``join``.

    ``status`` (one of NOT_REQUESTED, OTP_ISSUED, ENROLLED, REFUSED) and
    ``reason`` (a short machine code for refusals, e.g. ``"foreign-host"``)
    are for callers' logs and metrics; they are not sent to nova.  The OTP is
    kept out of ``repr`` so an answer can be logged safely.
    """

    status: str
    hostname: str | None = None
    krb_realm: str | None = None
    ipa_domain: str | None = None
    ipa_server: str | None = None
    otp: str | None = field(default=None, repr=False)
    error: str | None = None
    reason: str | None = None
    extras: Extras = field(default_factory=Extras)

    @classmethod
    def not_requested(cls) -> JoinAnswer:
        return cls(status=NOT_REQUESTED)

    @classmethod
    def issued(cls, settings: JoinSettings, fqdn: str, otp: str) -> JoinAnswer:
        return cls(status=OTP_ISSUED, hostname=fqdn, krb_realm=settings.realm,
                   ipa_domain=settings.domain, ipa_server=settings.ipa_server, otp=otp)

    @classmethod
    def enrolled(cls, settings: JoinSettings, fqdn: str) -> JoinAnswer:
        return cls(status=ENROLLED, hostname=fqdn, krb_realm=settings.realm,
                   ipa_domain=settings.domain, ipa_server=settings.ipa_server)

    @classmethod
    def refused(
        cls, settings: JoinSettings, fqdn: str | None, error: str, reason: str
    ) -> JoinAnswer:
        return cls(status=REFUSED, hostname=fqdn, krb_realm=settings.realm, error=error,
                   reason=reason)

    def with_extras(self, extras: Extras) -> JoinAnswer:
        return replace(self, extras=extras)

    def to_json(self) -> dict[str, object]:
        if self.status == NOT_REQUESTED:
            return {}
        body: dict[str, object] = {"hostname": self.hostname, "krb_realm": self.krb_realm}
        if self.status == REFUSED:
            body["error"] = self.error
            return body
        body["ipa_domain"] = self.ipa_domain
        if self.ipa_server:
            body["ipa_server"] = self.ipa_server
        if self.status == OTP_ISSUED:
            body["ipaotp"] = self.otp
        else:
            body["enrolled"] = True
        # Present only when the instance asked for them (the plain answer is unchanged).
        extras = self.extras
        if extras.services:
            body["services"] = list(extras.services)
        if extras.hostgroups:
            body["hostgroups"] = list(extras.hostgroups)
        if extras.hostclass:
            body["hostclass"] = list(extras.hostclass)
        if extras.errors:
            body["errors"] = [e.to_json() for e in extras.errors]
        return body

