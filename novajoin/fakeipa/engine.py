"""The simulator's core: IPA's command pipeline over an in-memory directory.

``execute`` follows ipalib's ``Command.__do_call`` step by step (version check,
args/options merge, defaults, normalize, convert, validate, run), so a client
gets the same error, with the same code and text, that a real 4.13 server gives.
No HTTP here: the server module turns JSON-RPC requests into ``execute`` calls.
"""

from __future__ import annotations

import copy
from typing import Any

from novajoin.fakeipa import commands
from novajoin.fakeipa.commands import host as host_cmds
from novajoin.fakeipa.commands._common import Ctx
from novajoin.fakeipa.commands.dns import name_from_ip, new_zone
from novajoin.fakeipa.params import SECRET_MASK, is_null
from novajoin.fakeipa.spec import COMMANDS, CommandSpec
from novajoin.fakeipa.state import Group, Host, Service, State
from novajoin.ipa import errors

_VERSION_MISSING = 13001
_FALLBACK_SECRETS = frozenset({"password", "userpassword", "krbpassword", "otp", "ipaotp"})
SECRET_OPTIONS = frozenset(
    p.name for spec in COMMANDS.values() for p in spec.options if p.secret
) | _FALLBACK_SECRETS

# Seeded system objects an installer may refer to by name.
_SEED_PERMISSIONS = (
    "System: Add Hosts", "System: Remove Hosts", "System: Modify Hosts",
    "System: Manage Host Enrollment Password", "System: Manage Host Keytab",
    "System: Add krbPrincipalName to a Host", "System: Enroll a Host",
    "System: Manage Host Certificates", "System: Manage Host Principals",
    "System: Add Services", "System: Remove Services", "System: Manage Service Keytab",
    "System: Add DNS Entries", "System: Remove DNS Entries", "System: Update DNS Entries",
    "System: Read DNS Entries", "System: Modify Realm Domains",
)
_SEED_PRIVILEGES = {
    "Host Administrators": _SEED_PERMISSIONS[:9],
    "Host Enrollment": _SEED_PERMISSIONS[3:9],
    "Service Administrators": _SEED_PERMISSIONS[9:12],
    "DNS Administrators": _SEED_PERMISSIONS[12:16],
}


def _json_error(text: str) -> errors.IPAError:
    return errors.JSONError(f"Invalid JSON-RPC request: {text}", data={"error": text})


def _command_error(name: str) -> errors.IPAError:
    return errors.CommandError(f"unknown command '{name}'", data={"name": name})


class Engine:
    """Thread-safe, in-memory IPA: command definitions, validation, state, result shapes."""

    def __init__(self, *, realm: str = "EXAMPLE.TEST", domain: str = "example.test",
                 server_fqdn: str = "ipa.example.test", api_version: str = "2.257",
                 ipa_version: str = "4.13.1") -> None:
        self.realm = realm
        self.domain = domain.lower()
        self.server_fqdn = server_fqdn.lower()
        self.api_version = api_version
        self.ipa_version = ipa_version
        self.state = State()
        self._ctx = Ctx(state=self.state, realm=realm, domain=self.domain,
                        server_fqdn=self.server_fqdn, api_version=api_version,
                        ipa_version=ipa_version, call=self._nested)
        self.reset()

    # -- public interface -----------------------------------------------------------------
    def is_known(self, method: str) -> bool:
        return self._lookup(method) is not None

    def execute(self, method: str, params: object, *, principal: str) -> dict:
        """Run one JSON-RPC command; raise IPAError subclasses as IPA would."""
        args, options = self._unmarshal(params)
        name = self._lookup(method) if isinstance(method, str) else None
        if name is None:
            raise _command_error(str(method))
        with self.state.lock:
            return self._call(name, list(args), options)

    def redact(self, method: str, params: object) -> object:
        """A copy of ``params`` with every secret value masked; safe to log."""
        return _redact(params)

    def enroll(self, fqdn: str, otp: str) -> dict:
        with self.state.lock:
            return host_cmds.enroll(self._ctx, fqdn, otp)

    def snapshot(self) -> dict:
        with self.state.lock:
            return self.state.snapshot()

    def reset(self) -> None:
        with self.state.lock:
            self.state.clear()
            self._seed()

    # -- the pipeline ---------------------------------------------------------------------
    def _lookup(self, method: str) -> str | None:
        name, sep, version = method.partition("/")
        if sep and version != "1":
            return None
        return name if name in COMMANDS else None

    @staticmethod
    def _unmarshal(params: object) -> tuple[list, dict]:
        if params is None:
            raise _json_error('Request is missing "params"')
        if not isinstance(params, list | tuple):
            raise _json_error("params must be a list")
        if len(params) != 2:
            raise _json_error("params must contain [args, options]")
        args, options = params
        if not isinstance(args, list | tuple):
            raise _json_error("params[0] (aka args) must be a list")
        if not isinstance(options, dict):
            raise _json_error("params[1] (aka options) must be a dict")
        return [_decode(a) for a in args], {str(k): _decode(v) for k, v in options.items()}

    def _call(self, name: str, args: list, options: dict) -> dict:
        spec = COMMANDS[name]
        version_missing = "version" not in options
        if version_missing:
            options["version"] = self.api_version
        else:
            self._check_version(options["version"])
        params = self._args_options_2_params(spec, args, options)
        if name == "dnszone_add" and is_null(params.get("idnsname")) and params.get(
                "name_from_ip"):  # IPA's default_from
            params["idnsname"] = name_from_ip(str(params["name_from_ip"]))
        for p in spec.args + spec.options:
            if p.name not in params and (p.required or p.autofill) and p.default is not None:
                params[p.name] = p.default
        params = {k: spec.params[k].convert(spec.params[k].normalize(v))
                  for k, v in params.items()}
        for p in spec.args + spec.options:
            p.validate(params.get(p.name))
        result = commands.HANDLERS[name](self._ctx, params)
        if version_missing:
            result.setdefault("messages", []).append(self._version_missing())
        return result

    def _check_version(self, value: Any) -> None:
        text = str(value)
        major = text.split(".", 1)[0]
        if not major.isdigit() or major != self.api_version.split(".", 1)[0]:
            server = f"https://{self.server_fqdn}/ipa/xml"
            raise errors.VersionError(
                f"{text} client incompatible with {self.api_version} server at '{server}'",
                data={"cver": text, "sver": self.api_version, "server": server},
            )

    def _version_missing(self) -> dict[str, Any]:
        return {
            "type": "warning", "name": "VersionMissing", "code": _VERSION_MISSING,
            "message": "API Version number was not sent, forward compatibility not "
                       f"guaranteed. Assuming server's API version, {self.api_version}",
            "data": {"server_version": self.api_version},
        }

    @staticmethod
    def _args_options_2_params(spec: CommandSpec, args: list, options: dict) -> dict[str, Any]:
        max_args = spec.max_args
        if max_args is not None and len(args) > max_args:
            if max_args == 0:
                raise errors.ZeroArgumentError(
                    f"command '{spec.name}' takes no arguments", data={"name": spec.name})
            noun = "argument" if max_args == 1 else "arguments"
            raise errors.MaxArgumentError(
                f"command '{spec.name}' takes at most {max_args} {noun}",
                data={"name": spec.name, "count": max_args})
        known = spec.params
        unknown = [k for k in options if k not in known]
        if unknown:
            raise errors.OptionError(f"Unknown option: {unknown[0]}", data={"option": unknown[0]})
        params = dict(options)
        from_args: dict[str, Any] = {}
        for i, arg in enumerate(spec.args):
            if i >= len(args):
                break
            if arg.multivalue:
                rest = args[i:]
                single = len(rest) == 1 and isinstance(rest[0], list | tuple)
                from_args[arg.name] = rest[0] if single else rest
            else:
                from_args[arg.name] = args[i]
        overlap = sorted(set(from_args) & set(params))
        if overlap:
            raise errors.OverlapError(f"overlapping arguments and options: {overlap}",
                                      data={"names": overlap})
        params.update(from_args)
        return params

    def _nested(self, method: Any, params: Any, *, version: str | None = None) -> dict:
        """A batch item: validated like IPA's batch._validate_request, then run."""
        name = self._lookup(method) if isinstance(method, str) else None
        if name is None:
            raise _command_error(str(method))
        try:
            args, options = params
            options = {str(k): _decode(v) for k, v in options.items()}
            args = [_decode(a) for a in args]
        except (AttributeError, ValueError, TypeError):
            error = "must contain a tuple (list, dict)"
            raise errors.ConversionError(f"invalid 'params': {error}",
                                         data={"name": "params", "error": error}) from None
        try:
            self._args_options_2_params(COMMANDS[name], list(args), dict(options))
        except errors.IPAError as exc:
            raise errors.ConversionError(f"invalid 'params': {exc.message}",
                                         data={"name": "params", "error": exc.message}) from None
        options.setdefault("version", version or self.api_version)
        return self._call(name, list(args), options)

    # -- initial directory ------------------------------------------------------------------
    def _seed(self) -> None:
        """What a fresh IPA server with integrated DNS already holds."""
        state, ctx = self.state, self._ctx
        zone = new_zone(ctx, f"{self.domain}.", {})
        if self.server_fqdn.endswith("." + self.domain):
            short = self.server_fqdn[: -len(self.domain) - 1]
            zone.records[short] = {"arecord": ["127.0.0.1"]}
        principal = f"host/{self.server_fqdn}@{self.realm}"
        master = Host(fqdn=self.server_fqdn, keytab=True, managedby={self.server_fqdn})
        master.attrs = {"fqdn": [self.server_fqdn], "cn": [self.server_fqdn],
                        "serverhostname": [self.server_fqdn.split(".", 1)[0]],
                        "krbprincipalname": [principal], "krbcanonicalname": [principal],
                        "objectclass": list(host_cmds.HOST_OBJECTCLASSES)}
        state.hosts[self.server_fqdn] = master
        for svc_name in ("HTTP", "ldap", "DNS"):
            p = f"{svc_name}/{self.server_fqdn}@{self.realm}"
            state.services[p.lower()] = Service(
                principal=p, keytab=True, managedby={self.server_fqdn},
                attrs={"krbprincipalname": [p], "krbcanonicalname": [p]})
        servers = Group(cn="ipaservers", attrs={"cn": ["ipaservers"],
                                                "description": ["IPA server hosts"]})
        servers.member_set("host").add(self.server_fqdn)
        state.hostgroups["ipaservers"] = servers
        for name in _SEED_PERMISSIONS:
            state.permissions[name.lower()] = Group(
                cn=name, attrs={"cn": [name], "ipapermissiontype": ["SYSTEM", "V2", "MANAGED"]})
        for name, perms in _SEED_PRIVILEGES.items():
            state.privileges[name.lower()] = Group(cn=name, attrs={"cn": [name],
                                                                   "description": [name]})
            for perm in perms:
                state.permissions[perm.lower()].member_set("privilege").add(name.lower())


def _decode(value: Any) -> Any:
    """ipalib's json_decode_binary for the wrappers a client may send."""
    if isinstance(value, dict) and len(value) == 1 and "__dns_name__" in value:
        return value["__dns_name__"]
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _redact(params: object) -> object:
    params = copy.deepcopy(params)
    if not (isinstance(params, list) and len(params) == 2 and isinstance(params[1], dict)):
        return params
    args, options = params
    for key in list(options):
        if key in SECRET_OPTIONS and not is_null(options[key]):
            options[key] = SECRET_MASK
    if isinstance(args, list):
        for item in args:
            if isinstance(item, dict) and "params" in item:  # batch
                item["params"] = _redact(item["params"])
    return params
