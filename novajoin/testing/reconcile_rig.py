"""Run ``novajoin-reconcile`` against the IPA simulator and the nova test double (tests, demos).

``reconcile_config`` writes a join.conf for a ``fake_ipa`` simulator and a
``FakeNova`` (reached through ``[reconcile] compute/network_endpoint_override``,
authenticated with keystoneauth's ``admin_token`` plugin); ``reconcile_command``
is the console-script command line; ``summary`` parses the ``reconcile summary:``
line a run prints.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from novajoin.testing.fake_nova import FakeNova
from novajoin.testing.novajoin_server import write_config

REDIS_URL = "redis://127.0.0.1:6379"
RUN_TIMEOUT = 90.0


def reconcile_config(fake_ipa: Any, nova: FakeNova, path: Path, redis_url: str = REDIS_URL,
                     **reconcile: Any) -> Path:
    lab = fake_ipa.lab
    options: dict[str, Any] = {"compute_endpoint_override": nova.compute_url,
                               "network_endpoint_override": nova.network_url,
                               "coordination_url": redis_url, "api_timeout": 5.0}
    options.update(reconcile)
    return write_config(path, {
        "DEFAULT": {"url": fake_ipa.url, "ipa_server_name": fake_ipa.fqdn,
                    "cafile": fake_ipa.ca_file, "keytab": lab.nova_keytab,
                    "principal": lab.nova_principal, "domain": fake_ipa.domain,
                    "realm": fake_ipa.realm, "debug": False, "use_stderr": True},
        "service_credentials": {"auth_type": "admin_token", "endpoint": nova.compute_url,
                                "token": "novajoin-test-token"},
        "reconcile": options,
    })


def reconcile_command(config: Path, *args: str) -> list[str]:
    script = Path(sys.executable).with_name("novajoin-reconcile")
    launcher = [str(script)] if script.exists() else [sys.executable, "-m",
                                                     "novajoin.cmd.reconcile"]
    return [*launcher, "--config-file", str(config), *args]


def summary(output: str) -> dict[str, str]:
    """The key=value words of the ``reconcile summary:`` line."""
    line = next(line for line in output.splitlines() if line.startswith("reconcile summary:"))
    return dict(w.split("=", 1) for w in line.split(" (")[0].split()[2:] if "=" in w)
