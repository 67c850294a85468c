"""JoinService: enroll an instance in IPA exactly once, whoever asks.

State lives in IPA only: the host entry, its ownership marker (with the
nonce of the current enrollment generation) and has_password /
has_keytab.  The OTP is recomputed from the marker and the shared key
(``otp.compute_otp``), so any replica, thread or restarted process gives
the same answer without an in-process cache.

IPA round trips per ``join()`` (measured by tests/functional/test_join_service.py):

* first request:  host_show (NotFound) + host_add          = 2 calls, 1 write
* repeat request: host_show                                 = 1 call,  0 writes
  (0 calls within ``repeat_cache_seconds`` of an OTP answer in this process)
* enrolled host / refusal:  host_show                       = 1 call,  0 writes
* lost a concurrent first request: host_show + host_add (DuplicateEntry)
  + host_show                                               = 3 calls, 0 writes
* keys revoked (rebuild): host_show + host_mod              = 2 calls, 1 write
* invalid hostname, not requested:                            0 calls

With managed services, host classes or hostgroups in the metadata
(``novajoin.join.services`` / ``placement``), the first host_show becomes one
``batch`` that also reads every subhost, service and hostgroup named; a first
request is batch + host_add + one batch of the missing writes (3 round trips),
a repeat request one batch and no write.  Per-item problems are answered in
``errors``, never as a failed enrollment.

Identical requests that overlap in one process are coalesced
(``singleflight``): the first makes these calls, the others share its answer.
With ``repeat_cache_seconds`` > 0 (the server's default is 5; this class's is 0) a
repeat of an ``OTP_ISSUED`` answer within that many seconds is answered from this
process's memory with 0 IPA calls (``RepeatCache``; trade-off in docs/enrollment.md).

All IPA calls of one ``join()`` share ``settings.ipa_deadline`` (counted
from the start of ``join()``), so nova (5 s read timeout) gets a 503 instead
of a hang.  Every IPA change is one INFO line on the ``novajoin.audit``
logger, every ownership refusal one WARNING line there; no OTP is ever
logged or put in an exception.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from novajoin.ipa import BatchItem, IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join import decision, naming, otp, placement, services
from novajoin.join.errors import (
    InvalidName,
    IPACommandFailed,
    IPAUnavailable,
    LookupUnavailable,
    ProjectNotFound,
)
from novajoin.join.lookups import ImageLookup, ProjectLookup
from novajoin.join.marker import Marker, parse, valid_instance_id, valid_project_id, with_marker
from novajoin.join.model import (
    ENROLLED,
    OTP_ISSUED,
    Extras,
    InstanceRequest,
    ItemError,
    JoinAnswer,
    JoinSettings,
)
from novajoin.join.singleflight import FlightTimeout, SingleFlight

LOG = logging.getLogger("novajoin.join")
AUDIT = logging.getLogger("novajoin.audit")

HARDWARE_PLATFORM = "OpenStack"
HEALTH_DEADLINE = 2.0
REPEAT_CACHE_SIZE = 4096


class RepeatCache:
    """Bounded, short-lived memory of clean ``OTP_ISSUED`` answers, by request (thread-safe).

    Why: nova asks for one instance seven times in a row; each repeat would cost a
    ``host_show``.  Only OTP answers without per-item errors are kept (never ENROLLED,
    REFUSED, NOT_REQUESTED or failures), each for ``ttl`` seconds from the IPA answer
    it came from (a hit does not extend it), at most ``size`` entries (oldest dropped).
    The price: an instance that enrolls or is rebuilt within the window is handed the
    OTP of the previous answer again.
    """

    def __init__(self, ttl: float, size: int = REPEAT_CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0 or size <= 0:
            raise ValueError("repeat cache ttl and size must be positive")
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        # Insertion order is expiry order: every entry lives exactly ttl seconds.
        self._entries: collections.OrderedDict[Hashable, tuple[float, JoinAnswer]] = (
            collections.OrderedDict())

    @staticmethod
    def cacheable(answer: JoinAnswer) -> bool:
        return answer.status == OTP_ISSUED and not answer.extras.errors

    def get(self, key: Hashable) -> JoinAnswer | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: Hashable, answer: JoinAnswer) -> None:
        if not self.cacheable(answer):
            return
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (now + self.ttl, answer)
            while self._entries:  # drop the expired and anything over the bound
                oldest = next(iter(self._entries.values()))
                if oldest[0] > now and len(self._entries) <= self.size:
                    break
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class JoinService:
    """The enrollment decision, naming and IPA operations for one instance request."""

    def __init__(
        self,
        ipa: IPAClient,
        settings: JoinSettings,
        *,
        otp_key: bytes,
        images: ImageLookup | None = None,
        projects: ProjectLookup | None = None,
        clock: Callable[[], float] = time.monotonic,
        repeat_cache_seconds: float = 0.0,
        repeat_cache_size: int = REPEAT_CACHE_SIZE,
    ) -> None:
        naming.validate_domain(settings.domain)
        if not otp.MIN_LENGTH <= settings.otp_length <= otp.MAX_LENGTH:
            raise ValueError(f"otp_length must be within {otp.MIN_LENGTH}..{otp.MAX_LENGTH}")
        if settings.ipa_deadline <= 0:
            raise ValueError("ipa_deadline must be positive")
        if len(otp_key) < otp.MIN_KEY_BYTES:
            raise ValueError(f"otp_key must hold at least {otp.MIN_KEY_BYTES} bytes")
        if settings.project_subdomain and projects is None:
            raise ValueError("project_subdomain needs a ProjectLookup")
        self._ipa = ipa
        self.settings = settings
        self._key = otp_key
        self._images = images
        self._projects = projects
        self._clock = clock
        # Overlapping identical requests in this process share one IPA round trip.
        self._flights: SingleFlight[JoinAnswer] = SingleFlight()
        if repeat_cache_seconds < 0:
            raise ValueError("repeat_cache_seconds must not be negative")
        self._repeats = (RepeatCache(repeat_cache_seconds, repeat_cache_size, clock)
                         if repeat_cache_seconds > 0 else None)

    # -- public API --------------------------------------------------------

    def join(self, request: InstanceRequest) -> JoinAnswer:
        """Decide, name, and enroll (create the host once / return the same OTP).

        Raises IPAUnavailable when IPA cannot be reached within
        ``settings.ipa_deadline``, LookupUnavailable when glance/keystone
        cannot be asked; every refusal is a JoinAnswer.
        """
        key = (request.instance_id, request.project_id, request.hostname, request.image_id,
               tuple(sorted(request.metadata.items())))
        repeats = self._repeats
        if repeats is not None:
            cached = repeats.get(key)
            if cached is not None:
                return cached
        try:
            answer = self._flights.do(key, lambda: self._join(request),
                                      timeout=self.settings.ipa_deadline)
        except FlightTimeout:
            raise IPAUnavailable("an identical request for this instance is still "
                                 "waiting for IPA") from None
        if repeats is not None:
            repeats.put(key, answer)
        return answer

    def _join(self, request: InstanceRequest) -> JoinAnswer:
        deadline = self._clock() + self.settings.ipa_deadline
        if not valid_instance_id(request.instance_id) or not valid_project_id(
            request.project_id
        ):
            LOG.warning("join refused: malformed instance or project id")
            return self._refused(None, "the request has a malformed instance or project id",
                                 "invalid-request")
        wanted, os_version = self._decide(request)
        if not wanted:
            LOG.debug("instance %s did not ask for IPA enrollment", request.instance_id)
            return JoinAnswer.not_requested()
        try:
            fqdn = self.fqdn(request)
        except InvalidName as exc:
            LOG.warning("join refused for instance %s: %s", request.instance_id, exc)
            return self._refused(None, str(exc), "invalid-hostname")
        except ProjectNotFound:
            LOG.warning("join refused for instance %s: project %s unknown to keystone",
                        request.instance_id, request.project_id)
            return self._refused(None, "the instance's project is unknown", "unknown-project")
        wanted = self._wanted(request, fqdn)
        if wanted is None or wanted.empty:
            entry = self._show(fqdn, deadline)
            if entry is None:
                answer = self._create(request, fqdn, os_version, deadline)
            else:
                answer = self._existing(request, fqdn, entry, deadline)
            if wanted is not None and answer.status in (OTP_ISSUED, ENROLLED):
                errors = [*wanted.errors, *wanted.placement.errors]
                self._log_errors(request, errors)
                answer = answer.with_extras(Extras(errors=tuple(errors)))
            return answer
        # Services / placement asked for: one batch reads the host and all they touch.
        entry, seen = self._read(fqdn, wanted, deadline)
        if entry is None:
            answer = self._create(request, fqdn, os_version, deadline,
                                  classes=wanted.placement.classes)
            host = None  # created with its classes; or raced, then re-read without members
        else:
            answer = self._existing(request, fqdn, entry, deadline)
            host = entry
        if answer.status not in (OTP_ISSUED, ENROLLED):
            return answer  # refused: nothing is done for a host that is not the instance's
        return answer.with_extras(self._apply(request, wanted, host, seen, deadline))

    def fqdn(self, request: InstanceRequest) -> str:
        """The IPA host name of an instance; InvalidName / ProjectNotFound if there is none."""
        project = None
        if self.settings.project_subdomain:
            assert self._projects is not None
            project = self._projects.name(request.project_id)
        return naming.host_fqdn(request.hostname, self.settings.domain, project=project,
                                normalize=self.settings.normalize_project)

    def check_ipa(self) -> bool:
        """Whether IPA answers an authenticated ping (for the healthcheck); never raises."""
        try:
            self._ipa.request("ping", deadline=min(self.settings.ipa_deadline, HEALTH_DEADLINE))
        except Exception as exc:
            LOG.warning("IPA health check failed: %s", type(exc).__name__)
            return False
        return True

    # -- decision ----------------------------------------------------------

    def _decide(self, request: InstanceRequest) -> tuple[bool, str | None]:
        """(enroll?, nsosversion).  The image is only asked when it matters."""
        choice = decision.instance_choice(request.metadata)
        if choice is False:
            return False, None
        image_id = request.image_id or ""
        properties: Mapping[str, str] = {}
        if image_id and self._images is not None:
            try:
                properties = self._images.properties(image_id)
            except LookupUnavailable:
                if choice is None:
                    raise  # the image decides: we cannot answer without it
                # The instance asked itself; the OS name is a nicety.
                LOG.warning("image %s: glance unavailable, enrolling without nsosversion",
                            image_id)
        wanted = decision.decide(request.metadata, properties)
        return wanted.enroll, decision.os_version(properties)

    # -- IPA ---------------------------------------------------------------

    def _call(self, deadline: float, command: str, *args: Any, **options: Any) -> dict[str, Any]:
        remaining = deadline - self._clock()
        if remaining <= 0.001:
            raise IPAUnavailable(
                f"IPA time budget of {self.settings.ipa_deadline:g}s used up before {command}")
        try:
            return self._ipa.request(command, args, options, deadline=remaining)
        except ipa_errors.IPAError:
            raise
        except ipa_errors.IPAClientError as exc:
            # Transport, authentication and protocol failures: try again later.
            raise IPAUnavailable(f"IPA {command} failed: {exc}") from None

    def _show(self, fqdn: str, deadline: float) -> dict[str, Any] | None:
        try:
            answer = self._call(deadline, "host_show", fqdn, no_members=True)
        except ipa_errors.NotFound:
            return None
        except ipa_errors.IPAError as exc:
            raise _command_failed("host_show", exc) from None
        entry = answer.get("result")
        if not isinstance(entry, dict):
            raise IPAUnavailable("IPA host_show: answer without a host entry")
        return entry

    def _create(
        self, request: InstanceRequest, fqdn: str, os_version: str | None, deadline: float,
        *, classes: tuple[str, ...] = (),
    ) -> JoinAnswer:
        marker = Marker(request.instance_id, request.project_id, otp.new_nonce())
        password = self._otp(fqdn, marker)
        options: dict[str, Any] = {
            "description": marker.format(),
            "userpassword": password,
            "force": True,  # the instance has no DNS record yet
            "nshardwareplatform": HARDWARE_PLATFORM,
            "no_members": True,
        }
        if os_version:
            options["nsosversion"] = os_version
        if classes:
            options["userclass"] = list(classes)  # automember rules see it at creation
        try:
            self._call(deadline, "host_add", fqdn, **options)
        except ipa_errors.DuplicateEntry as exc:
            # A concurrent request (any replica) created it first, or our own
            # first attempt landed and its retry collided with it.
            entry = self._show(fqdn, deadline)
            if entry is None:
                raise IPAUnavailable(f"host {fqdn} vanished while being created") from None
            found = parse(entry.get("description"))
            if exc.attempts > 1 and found == marker:
                self._audit("host-add", request, fqdn)
            return self._existing(request, fqdn, entry, deadline)
        except ipa_errors.ValidationError as exc:
            LOG.warning("IPA refused host name %s for instance %s: %s", fqdn,
                        request.instance_id, exc.message)
            return self._refused(fqdn, f"IPA refused the host name {fqdn}", "ipa-rejected")
        except ipa_errors.IPAError as exc:
            raise _command_failed("host_add", exc) from None
        self._audit("host-add", request, fqdn)
        return JoinAnswer.issued(self.settings, fqdn, password)

    def _existing(
        self, request: InstanceRequest, fqdn: str, entry: Mapping[str, Any], deadline: float
    ) -> JoinAnswer:
        marker = parse(entry.get("description"))
        if marker is None:
            self._audit_refusal("foreign-host", request, fqdn, owner=None)
            return self._refused(
                fqdn, f"host {fqdn} already exists in IPA and was not created by novajoin",
                "foreign-host")
        if not marker.owned_by(request.instance_id) or marker.project_id != request.project_id:
            self._audit_refusal("other-instance", request, fqdn, owner=marker)
            return self._refused(
                fqdn, f"host {fqdn} already exists in IPA and belongs to another instance",
                "other-instance")
        if entry.get("has_keytab"):
            return JoinAnswer.enrolled(self.settings, fqdn)
        if entry.get("has_password"):
            return JoinAnswer.issued(self.settings, fqdn, self._otp(fqdn, marker))
        return self._rekey(request, fqdn, entry, marker, deadline)

    def _rekey(
        self,
        request: InstanceRequest,
        fqdn: str,
        entry: Mapping[str, Any],
        old: Marker,
        deadline: float,
    ) -> JoinAnswer:
        """Our host lost its keys (rebuild): start the next enrollment generation.

        The next nonce is derived from the stored one, so concurrent re-keys
        on any replica write the same password and hand out the same OTP.
        """
        marker = Marker(old.instance_id, old.project_id, otp.next_nonce(self._key, old.nonce))
        password = self._otp(fqdn, marker)
        try:
            self._call(deadline, "host_mod", fqdn, userpassword=password, no_members=True,
                       description=with_marker(entry.get("description"), marker))
        except ipa_errors.ValidationError:
            # Enrolled in the meantime ("Password cannot be set on enrolled host").
            fresh = self._show(fqdn, deadline)
            if fresh is not None and fresh.get("has_keytab"):
                return JoinAnswer.enrolled(self.settings, fqdn)
            raise IPAUnavailable(f"IPA refused a new password for host {fqdn}") from None
        except ipa_errors.NotFound:
            raise IPAUnavailable(f"host {fqdn} vanished while being re-keyed") from None
        except ipa_errors.IPAError as exc:
            raise _command_failed("host_mod", exc) from None
        self._audit("host-rekey", request, fqdn)
        return JoinAnswer.issued(self.settings, fqdn, password)

    # -- managed services and placement -------------------------------------

    def _wanted(self, request: InstanceRequest, fqdn: str) -> services.Wanted | None:
        """What the metadata asks for besides the host (None: nothing), validated."""
        metadata = request.metadata
        asks_services = services.requested(metadata)
        asks_placement = placement.requested(metadata)
        if not asks_services and not asks_placement:
            return None
        requests: list[services.ServiceRequest] = []
        errors: list[ItemError] = []
        if asks_services:
            requests, errors = services.parse(metadata, hostname=fqdn,
                                              domain=self.settings.domain,
                                              realm=self.settings.realm)
        chosen = placement.Placement()
        if asks_placement:
            rule = self._rule(request.project_id, errors)
            chosen = placement.decide(metadata, rule)
        return services.Wanted(fqdn, request.project_id, request.instance_id,
                               self.settings.realm, tuple(requests), chosen, tuple(errors))

    def _rule(self, project_id: str, errors: list[ItemError]) -> placement.ProjectRule | None:
        policy = self.settings.placement
        if policy is None:
            return None
        rule = policy.rule_for(project_id)
        if rule is not None or not policy.needs_name(project_id) or self._projects is None:
            return rule
        try:
            name = self._projects.name(project_id)
        except (LookupUnavailable, ProjectNotFound):
            # Refused now, applied by a later request (nova asks again and again).
            errors.append(ItemError("project", "the project's name could not be looked up"))
            return None
        return policy.rule_for(project_id, name)

    def _read(
        self, fqdn: str, wanted: services.Wanted, deadline: float
    ) -> tuple[dict[str, Any] | None, services.Observed]:
        """Round trip 1: the host (with its hostgroups when asked) and what ``wanted`` names."""
        calls: list[services.Call] = [
            ("host_show", [fqdn], {"no_members": not wanted.placement.hostgroups})]
        calls += services.read_calls(wanted)
        items = self._batch(deadline, calls)
        first = items[0]
        entry: dict[str, Any] | None
        if isinstance(first.error, ipa_errors.NotFound):
            entry = None
        elif first.error is not None:
            raise _command_failed("host_show", first.error) from None
        else:
            entry = (first.result or {}).get("result")
            if not isinstance(entry, dict):
                raise IPAUnavailable("IPA host_show: answer without a host entry")
        return entry, services.observe(wanted, items[1:])

    def _apply(
        self,
        request: InstanceRequest,
        wanted: services.Wanted,
        host: dict[str, Any] | None,
        seen: services.Observed,
        deadline: float,
    ) -> Extras:
        """One batch with only what IPA lacks (none on a repeat request); each item checked."""
        plan = services.plan(wanted, host, seen)
        errors = list(plan.errors)
        failed: set[str] = set()  # subjects (principal, subhost, group) not in place
        try:
            results = self._batch(deadline, [w.call for w in plan.writes])
            raced = []
            for write, item in zip(plan.writes, results, strict=True):
                changed, error = services.check(write, item)
                if error:
                    errors.append(ItemError(write.item, error))
                    failed.add(write.subject)
                elif changed:
                    self._audit(write.audit, request, write.target)
                elif write.audit == "subhost-add":
                    raced.append(write.call[1][0])  # someone else created it first
            if raced:
                lost = self._verify_subhosts(request, wanted, raced, deadline)
                errors += lost
                failed |= {r.host for r in wanted.services if r.item in {e.item for e in lost}}
        except IPAUnavailable as exc:
            LOG.warning("instance %s: managed services and placement not applied: %s",
                        request.instance_id, exc)
            errors.append(ItemError("services", "IPA was unavailable; a later request "
                                    "applies them"))
            self._log_errors(request, errors[:-1])
            return Extras(errors=tuple(errors))
        principals = tuple(wanted.canonical(r) for r in plan.services
                           if r.principal not in failed and r.host not in failed)
        groups = tuple(g for g in plan.hostgroups if f"hostgroup:{g}" not in failed)
        classes = tuple(plan.classes) if "hostclass" not in failed else ()
        self._log_errors(request, errors)
        return Extras(principals, groups, classes, tuple(errors))

    def _verify_subhosts(
        self, request: InstanceRequest, wanted: services.Wanted, raced: list[str],
        deadline: float,
    ) -> list[ItemError]:
        """A subhost created concurrently must be of our project, else our links go."""
        items = self._batch(deadline, services.verify_calls(raced))
        writes, errors = services.undo_foreign(wanted, raced, items)
        for write, item in zip(writes, self._batch(deadline, [w.call for w in writes]),
                               strict=True):
            if services.check(write, item)[0]:
                self._audit(write.audit, request, write.target)
        return errors

    def _batch(self, deadline: float, calls: list[services.Call]) -> list[BatchItem]:
        """One round trip: a plain request for one call, a ``batch`` for several."""
        if not calls:
            return []
        remaining = deadline - self._clock()
        if remaining <= 0.001:
            raise IPAUnavailable(
                f"IPA time budget of {self.settings.ipa_deadline:g}s used up before "
                f"{calls[0][0]}")
        try:
            return self._ipa.run(calls, deadline=remaining)
        except ipa_errors.IPAError as exc:
            raise _command_failed("batch", exc) from None
        except ipa_errors.IPAClientError as exc:
            raise IPAUnavailable(f"IPA {calls[0][0]} failed: {exc}") from None

    @staticmethod
    def _log_errors(request: InstanceRequest, errors: list[ItemError]) -> None:
        for error in errors:
            LOG.warning("instance %s: metadata item %s not applied: %s",
                        request.instance_id, error.item, error.error)

    # -- helpers -----------------------------------------------------------

    def _otp(self, fqdn: str, marker: Marker) -> str:
        return otp.compute_otp(self._key, fqdn, marker.instance_id, marker.nonce,
                               self.settings.otp_length)

    def _refused(self, fqdn: str | None, error: str, reason: str) -> JoinAnswer:
        return JoinAnswer.refused(self.settings, fqdn, error, reason)

    @staticmethod
    def _audit(action: str, request: InstanceRequest, fqdn: str) -> None:
        AUDIT.info("action=%s instance=%s project=%s fqdn=%s", action, request.instance_id,
                   request.project_id, fqdn)

    @staticmethod
    def _audit_refusal(
        reason: str, request: InstanceRequest, fqdn: str, owner: Marker | None
    ) -> None:
        AUDIT.warning(
            "action=refuse reason=%s instance=%s project=%s fqdn=%s owner_instance=%s "
            "owner_project=%s", reason, request.instance_id, request.project_id, fqdn,
            owner.instance_id if owner else "-", owner.project_id if owner else "-")


def _command_failed(command: str, exc: ipa_errors.IPAError) -> IPACommandFailed:
    LOG.error("IPA %s failed: %s (%s): %s", command, exc.name, exc.code, exc.message)
    return IPACommandFailed(f"IPA {command} failed: {exc.name} ({exc.code})",
                            ipa_error=f"{exc.name} ({exc.code})")
