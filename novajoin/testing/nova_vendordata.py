"""nova's own dynamic-vendordata client (PyPI ``nova``) as a test caller.

Why nova's code and not a look-alike: the contract in DESIGN.md §2 is what
``nova.api.metadata.vendordata_dynamic.DynamicVendorData`` really sends and
how it really treats our answers (non-2xx, timeouts, bad JSON -> ``{}``).

Usage::

    nova = NovaVendordata(NovaConfig(target_url=server.vendordata_url), workdir)
    answer = nova.join(make_instance("vm1", enroll=True))   # what nova serves as "join"

Thread safety.  nova keeps its configuration in the process-global
``nova.conf.CONF`` and its auth plugin and session in module globals of
``nova.service_auth`` (keyed by config group), so one process can hold only
one vendordata configuration at a time.  Given one configuration, nova's
client is safe to use from many threads: nova's metadata API does exactly
that, keystoneauth1 guards token fetches with a lock, and the requests
session pools connections.  :class:`NovaVendordata` therefore uses a gate:
any number of threads may call :meth:`NovaVendordata.get` concurrently while
they share one configuration; a caller with a different configuration waits
until those calls drain, then reloads ``CONF`` and calls
``nova.service_auth.reset_globals()`` (under the lock), and takes its turn.
Different configurations that must really run at the same moment need one
process each.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keystoneauth1 import loading as ks_loading

TARGET_NAME = "join"
AUTH_TYPES = ("admin_token", "password")


@dataclass
class Instance:
    """The fields of a nova Instance that the dynamic vendordata client reads.

    Item access is supported too because nova's log adapter formats the
    ``instance=`` keyword as a mapping.
    """

    hostname: str
    project_id: str
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    image_ref: str = ""
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    system_metadata: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


def make_instance(
    hostname: str,
    *,
    enroll: bool | None = True,
    project_id: str = "4f1bd8c2b56d4b6e9d4e0c5f33a1c0de",
    instance_id: str | None = None,
    image_ref: str = "",
    user_data: str | None = None,
    metadata: Mapping[str, str] | None = None,
    boot_roles: str = "",
) -> Instance:
    """An instance as nova has it; ``enroll`` sets metadata ``ipa_enroll`` ("True"/"False").

    ``enroll=None`` leaves ``ipa_enroll`` out of the metadata (the instance did
    not ask).  ``image_ref=""`` is nova's value for boot-from-volume.
    """
    meta = dict(metadata or {})
    if enroll is not None:
        meta["ipa_enroll"] = "True" if enroll else "False"
    system_metadata = {"boot_roles": boot_roles} if boot_roles else {}
    return Instance(
        hostname=hostname,
        project_id=project_id,
        uuid=instance_id or str(uuid.uuid4()),
        image_ref=image_ref,
        user_data=user_data,
        metadata=meta,
        system_metadata=system_metadata,
    )


@dataclass(frozen=True)
class NovaConfig:
    """What goes into the generated nova.conf.

    ``auth_type``: ``None`` (no ``[vendordata_dynamic_auth]`` plugin: nova sends
    no token), ``"admin_token"`` (a fixed ``token``, sent as is), or
    ``"password"`` (``auth_url``, ``username``, ``password``, ``project_name``;
    nova fetches one real token and reuses it).
    """

    target_url: str
    name: str = TARGET_NAME
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    failure_fatal: bool = False
    auth_type: str | None = None
    token: str | None = None
    auth_url: str | None = None
    username: str | None = None
    password: str | None = None
    project_name: str | None = None
    user_domain_id: str = "default"
    project_domain_id: str = "default"

    def render(self) -> str:
        lines = [
            "[api]",
            "vendordata_providers = DynamicJSON",
            f"vendordata_dynamic_targets = {self.name}@{self.target_url}",
            f"vendordata_dynamic_connect_timeout = {_int_timeout(self.connect_timeout)}",
            f"vendordata_dynamic_read_timeout = {_int_timeout(self.read_timeout)}",
            f"vendordata_dynamic_failure_fatal = {self.failure_fatal}",
            "",
            "[vendordata_dynamic_auth]",
        ]
        if self.auth_type == "admin_token":
            if not self.token:
                raise ValueError("admin_token auth needs a token")
            # The endpoint is never used for an absolute target URL, but the
            # plugin requires one.
            lines += ["auth_type = admin_token", f"endpoint = {self.target_url}",
                      f"token = {self.token}"]
        elif self.auth_type == "password":
            missing = [name for name in ("auth_url", "username", "password", "project_name")
                       if not getattr(self, name)]
            if missing:
                raise ValueError(f"password auth needs {', '.join(missing)}")
            lines += [
                "auth_type = password",
                f"auth_url = {self.auth_url}",
                f"username = {self.username}",
                f"password = {self.password}",
                f"project_name = {self.project_name}",
                f"user_domain_id = {self.user_domain_id}",
                f"project_domain_id = {self.project_domain_id}",
            ]
        elif self.auth_type is not None:
            raise ValueError(f"unsupported auth_type {self.auth_type!r}")
        return "\n".join(lines) + "\n"


def _int_timeout(value: float) -> int:
    # nova declares both timeouts as IntOpt (min 0; 0 means no timeout).
    return max(1, round(value))


class _Gate:
    """Many concurrent callers of one configuration, or a switch to another."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: object | None = None
        self._users = 0

    @contextmanager
    def use(self, owner: NovaVendordata) -> Iterator[None]:
        with self._cond:
            while self._active is not owner and self._users > 0:
                self._cond.wait()
            if self._active is not owner:
                owner._load()
                self._active = owner
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                if self._users == 0:
                    self._cond.notify_all()

    def forget(self, owner: NovaVendordata) -> None:
        with self._cond:
            if self._active is owner and self._users == 0:
                self._active = None


_GATE = _Gate()


class NovaVendordata:
    """nova's DynamicVendorData with a generated config; see the module docstring."""

    def __init__(self, config: NovaConfig, workdir: Path) -> None:
        self.config = config
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_file = workdir / f"nova-{uuid.uuid4().hex[:8]}.conf"
        self.config_file.write_text(config.render())
        self.config_file.chmod(0o600)

    def _load(self) -> None:
        """Load CONF from our file; only ever called by the gate, under its lock."""
        import nova.conf
        from nova import service_auth

        conf = nova.conf.CONF
        conf.reset()
        # keystoneauth registers a plugin's options (password: a *required*
        # auth_url, ...) in the group when it loads it; left there, they make
        # the next configuration without that plugin fail to parse.
        group = nova.conf.vendordata.vendordata_group.name
        for plugin in AUTH_TYPES:
            conf.unregister_opts(ks_loading.get_auth_plugin_conf_options(plugin), group=group)
        conf(args=[], project="nova", default_config_files=[str(self.config_file)])
        service_auth.reset_globals()

    def get(self, instance: Instance) -> dict[str, Any]:
        """Everything nova would serve in vendor_data2.json, keyed by target name."""
        from nova.api.metadata import vendordata_dynamic

        with _GATE.use(self):
            return vendordata_dynamic.DynamicVendorData(instance).get()

    def join(self, instance: Instance, target_url: str | None = None) -> Any:
        """What nova would serve under ``join`` for this instance.

        ``target_url`` sends this one request to another replica with the same
        configuration, as a load balancer in front of several novajoin-server
        processes would: nova's own request code (``_do_request``, which
        ``get()`` calls once per configured target) with that URL.  It exists
        so one process can spread concurrent calls over replicas without
        switching nova's global configuration.
        """
        from nova.api.metadata import vendordata_dynamic

        if target_url is None:
            return self.get(instance)[self.config.name]
        with _GATE.use(self):
            driver = vendordata_dynamic.DynamicVendorData(instance)
            return driver._do_request(self.config.name, target_url)

    def close(self) -> None:
        _GATE.forget(self)
        self.config_file.unlink(missing_ok=True)

    def __enter__(self) -> NovaVendordata:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Exactly what nova sends (nova/api/metadata/vendordata_dynamic.py), for the
# callers that must see the HTTP status nova hides (tests of 401/403).
NOVA_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": "openstack-nova-vendordata",
}


def nova_body(instance: Instance) -> dict[str, Any]:
    """The POST body nova builds for ``instance``."""
    return {
        "project-id": instance.project_id,
        "instance-id": instance.uuid,
        "image-id": instance.image_ref,
        "user-data": instance.user_data,
        "hostname": instance.hostname,
        "metadata": instance.metadata,
        "boot-roles": instance.system_metadata.get("boot_roles", ""),
    }
