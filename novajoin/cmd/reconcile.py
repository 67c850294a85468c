"""``novajoin-reconcile``: remove from IPA what nova and neutron no longer have.

::

    novajoin-reconcile [--config-file join.conf] [--dry-run]      # one run
    novajoin-reconcile --service [--interval N]                   # every N seconds

Reads the same join.conf as novajoin-server (IPA, keytab, domain), plus
``[service_credentials]`` (who asks nova and neutron) and ``[reconcile]``.
A run that changes IPA first takes the tooz lock ``[reconcile] lock_name`` on
``[reconcile] coordination_url``: on several nodes, one acts and the others
skip.  ``--dry-run`` prints the plan as a table, changes nothing and takes no
lock.  Every run ends with a ``reconcile summary:`` line (stdout and log).
Exit status of a one-shot run: 0 done (or another node was acting), 1 a
problem (nova/neutron/IPA unavailable, failed actions), 2 configuration error,
3 coordination backend unavailable.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from oslo_config import cfg
from oslo_log import log as oslo_logging

from novajoin import conf as novajoin_conf
from novajoin.conf import clients

LOG = logging.getLogger("novajoin.reconcile")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="novajoin-reconcile", add_help=True,
        description="Remove from IPA the hosts, services and DNS records that nova and "
        "neutron no longer have; expire unused one-time passwords.")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan as a table and change nothing")
    parser.add_argument("--service", action="store_true",
                        help="run every [reconcile] interval seconds until SIGTERM")
    parser.add_argument("--interval", type=float, default=None,
                        help="seconds between runs (implies --service)")
    return parser


def build(conf: cfg.ConfigOpts) -> tuple[Any, Any, list[Any]]:
    """(Reconciler, Leader, closers) from the configuration; ConfigError if unusable."""
    from keystoneauth1 import loading as ks_loading

    from novajoin.join.lifecycle import InstanceLifecycle
    from novajoin.reconcile import inventory, leader, plan, runner

    group = conf.reconcile
    settings, servers, principal = clients.build_settings(conf)
    auth = ks_loading.load_auth_from_conf_options(conf, "service_credentials")
    if auth is None:
        raise clients.ConfigError("[service_credentials] auth_type must be set: the "
                                  "reconciler asks nova and neutron")
    extra = {} if conf.service_credentials.timeout else {"timeout": group.api_timeout}
    session = ks_loading.load_session_from_conf_options(conf, "service_credentials",
                                                        auth=auth, **extra)
    connection = inventory.connect(
        session, compute_endpoint=group.compute_endpoint_override,
        network_endpoint=group.network_endpoint_override,
        region_name=conf.service_credentials.region_name,
        interface=conf.service_credentials.interface)
    ipa = clients.build_ipa_client(conf, servers, principal, deadline=group.ipa_deadline)
    lifecycle = InstanceLifecycle(ipa, settings, deadline=group.ipa_deadline)
    reconciler = runner.Reconciler(
        ipa, lifecycle, inventory.Cloud(connection, page_size=group.page_size),
        plan.Settings(group.grace_period, group.otp_expiry, group.max_deletes),
        floating_ip_dns=group.floating_ip_dns, ipa_deadline=group.ipa_deadline)
    lock = leader.Leader(group.coordination_url, group.lock_name)
    clients.log_identity(servers, principal, settings)
    return reconciler, lock, [ipa.close, lock.stop]


def run_once(reconciler: Any, lock: Any, *, dry_run: bool) -> int:
    from novajoin.reconcile import report
    from novajoin.reconcile.leader import CoordinationUnavailable

    if dry_run:
        outcome = reconciler.run(dry_run=True)
        print(report.table(outcome.plan), flush=True)
        line = report.summary(outcome.plan, None, dry_run=True)
        LOG.info("%s", line)
        print(line, flush=True)
        return 1 if outcome.plan.problems else 0
    try:
        with lock.turn() as mine:
            if not mine:
                line = report.skipped("another reconciler holds the lock")
                LOG.info("%s", line)
                print(line, flush=True)
                return 0
            outcome = reconciler.run(dry_run=False)
    except CoordinationUnavailable as exc:
        LOG.error("no run: %s (a reconciler acts only while it holds the lock)", exc)
        print(report.skipped("coordination unavailable"), flush=True)
        return 3
    line = report.summary(outcome.plan, outcome.result, dry_run=False)
    LOG.info("%s", line)
    print(line, flush=True)
    failed = sum(outcome.result.failed.values()) if outcome.result else 0
    return 1 if outcome.plan.problems or failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args, rest = _parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    conf = novajoin_conf.load(rest, prog="novajoin-reconcile")
    oslo_logging.setup(conf, "novajoin")
    try:
        reconciler, lock, closers = build(conf)
    except (clients.ConfigError, ValueError) as exc:
        LOG.error("configuration error: %s", exc)
        print(f"novajoin-reconcile: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        if not (args.service or args.interval):
            return run_once(reconciler, lock, dry_run=args.dry_run)
        interval = args.interval or conf.reconcile.interval
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            LOG.info("signal %d: stopping after the current run", signum)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        while not stop.is_set():
            try:
                run_once(reconciler, lock, dry_run=args.dry_run)
            except Exception:
                LOG.exception("reconcile run failed; next run in %g s", interval)
            stop.wait(interval)
        return 0
    finally:
        for close in closers:
            close()


if __name__ == "__main__":
    sys.exit(main())
