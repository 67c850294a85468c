"""One reconcile run: read IPA, then nova and neutron, plan, apply (unless dry run).

IPA is read first, the cloud second: a host created after IPA was read is not
looked at in this run, and an instance created after nova's listing is caught
by the per-instance confirmation, so a run never removes a host because its
instance was too new to be listed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from novajoin.ipa import IPAClient
from novajoin.ipa import errors as ipa_errors
from novajoin.join.errors import IPAUnavailable
from novajoin.join.lifecycle import InstanceLifecycle
from novajoin.reconcile import apply as apply_mod
from novajoin.reconcile import inventory, plan
from novajoin.reconcile.inventory import Cloud, CloudUnavailable

LOG = logging.getLogger("novajoin.reconcile")


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class RunResult:
    plan: plan.Plan
    result: apply_mod.Result | None


class Reconciler:
    def __init__(
        self,
        ipa: IPAClient,
        lifecycle: InstanceLifecycle,
        cloud: Cloud,
        settings: plan.Settings,
        *,
        floating_ip_dns: bool = True,
        ipa_deadline: float = 30.0,
        now: Callable[[], datetime.datetime] = _utcnow,
    ) -> None:
        self._ipa = ipa
        self._lifecycle = lifecycle
        self._cloud = cloud
        self.settings = settings
        self._floating = floating_ip_dns
        self._deadline = ipa_deadline
        self._now = now

    def run(self, *, dry_run: bool = False) -> RunResult:
        now = self._now()
        problems: list[str] = []
        try:
            hosts = inventory.owned_hosts(self._ipa, deadline=self._deadline)
            publications = (inventory.floating_publications(self._ipa, deadline=self._deadline)
                            if self._floating else None)
        except (IPAUnavailable, ipa_errors.IPAClientError, ipa_errors.IPAError) as exc:
            LOG.error("reconcile: cannot read IPA: %s", exc)
            return RunResult(plan.Plan(problems=[f"IPA: {exc}"]), None)

        servers = recently_deleted = confirmed = None
        try:
            servers = self._cloud.servers()
            since = now - datetime.timedelta(seconds=self.settings.grace_period)
            recently_deleted = self._cloud.deleted_since(since)
            confirmed = self._cloud.confirm(plan.missing_instances(hosts, servers))
        except CloudUnavailable as exc:
            LOG.error("reconcile: nova gave no definite answer (%s): no host is removed", exc)
            problems.append(str(exc))
        floating_ips = None
        if publications:
            try:
                floating_ips = self._cloud.floating_ips()
            except CloudUnavailable as exc:
                LOG.error("reconcile: neutron gave no definite answer (%s): no floating IP "
                          "DNS is removed", exc)
                problems.append(str(exc))
        the_plan = plan.build(hosts, self.settings, now, servers=servers,
                              recently_deleted=recently_deleted, confirmed=confirmed,
                              publications=publications, floating_ips=floating_ips,
                              problems=problems)
        if dry_run:
            return RunResult(the_plan, None)
        return RunResult(the_plan, apply_mod.apply(the_plan, self._lifecycle, self._ipa))
