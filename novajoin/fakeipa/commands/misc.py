"""ping, env and batch."""

from __future__ import annotations

from typing import Any

from novajoin.fakeipa.commands._common import Ctx, command
from novajoin.ipa import errors


@command("ping")
def ping(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    return {"summary": f"IPA server version {ctx.ipa_version}. API version {ctx.api_version}"}


def environment(ctx: Ctx) -> dict[str, Any]:
    """The part of IPA's server environment a client may reasonably ask for."""
    basedn = ctx.basedn
    return {
        "api_version": ctx.api_version, "basedn": basedn, "context": "server",
        "domain": ctx.domain, "enable_ra": False, "host": ctx.server_fqdn, "in_server": True,
        "jsonrpc_uri": f"https://{ctx.server_fqdn}/ipa/json", "realm": ctx.realm,
        "server": ctx.server_fqdn, "version": ctx.ipa_version,
        "xmlrpc_uri": f"https://{ctx.server_fqdn}/ipa/xml",
        "container_host": "cn=computers,cn=accounts",
        "container_service": "cn=services,cn=accounts",
        "container_hostgroup": "cn=hostgroups,cn=accounts",
        "container_dns": "cn=dns",
    }


@command("env")
def env(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    variables = environment(ctx)
    wanted = p.get("variables")
    result = variables if not wanted else {k: variables[k] for k in wanted if k in variables}
    count = len(result)
    return {"result": result, "count": count, "total": len(variables),
            "summary": f"{count} variable" + ("" if count == 1 else "s")}


@command("batch")
def batch(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    """Each nested call succeeds or fails on its own; the batch itself never fails."""
    results = []
    keeponly = p.get("keeponly")
    for item in p.get("methods") or ():
        try:
            if "method" not in item:
                raise errors.RequirementError("'method' is required", data={"name": "method"})
            if "params" not in item:
                raise errors.RequirementError("'params' is required", data={"name": "params"})
            result = ctx.call(item["method"], item["params"], version=p.get("version"))
            result["error"] = None
            if keeponly is not None and isinstance(result.get("result"), dict):
                result["result"] = {k: v for k, v in result["result"].items() if k in keeponly}
        except errors.IPAError as exc:
            result = _failure(exc)
        except Exception:  # a simulator bug must not fail the whole batch either
            result = _failure(errors.InternalError("an internal error has occurred"))
        results.append(result)
    return {"count": len(results), "results": results}


def _failure(exc: errors.IPAError) -> dict[str, Any]:
    return {"error": exc.message, "error_code": exc.code, "error_name": exc.name,
            "error_kw": dict(exc.data)}
