"""/healthcheck: oslo.middleware's healthcheck app with an IPA backend.

The backend is the stevedore plugin ``novajoin_ipa`` (entry point group
``oslo.middleware.healthcheck``), enabled by default through
``[healthcheck] backends``.  It answers "unavailable" when
``JoinService.check_ipa()`` fails, so a load balancer stops sending
enrollments to a replica that cannot reach IPA.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from oslo_middleware import healthcheck
from oslo_middleware.healthcheck import pluginbase

from novajoin.api import errors

if TYPE_CHECKING:
    from novajoin.api.deploy import AppContext

LOG = logging.getLogger("novajoin.api.healthcheck")


def make_app(ctx: AppContext) -> Any:
    app = healthcheck.Healthcheck(None, ctx.conf)

    def healthcheck_app(environ: dict[str, Any], start_response: Any) -> Any:
        # Its 503 body is oslo.middleware's documented format (text, JSON or
        # HTML by Accept); the fault middleware must not rewrite it.
        environ[errors.KEEP_ERROR_BODY] = True
        return app(environ, start_response)

    return healthcheck_app


class IPAHealthcheck(pluginbase.HealthcheckBaseExtension):
    """Reports whether IPA answers a ping within the IPA deadline."""

    def healthcheck(self, server_port: int) -> pluginbase.HealthcheckResult:
        from novajoin.api.deploy import context_for_conf

        ctx = context_for_conf(self.oslo_conf)
        if ctx is None:
            return pluginbase.HealthcheckResult(available=False, reason="novajoin not loaded")
        try:
            ok = bool(ctx.join_service.check_ipa())
        except Exception as exc:  # a health probe reports, it never raises
            LOG.warning("IPA health check failed: %s", type(exc).__name__)
            ok = False
        if ok:
            return pluginbase.HealthcheckResult(available=True, reason="IPA reachable")
        return pluginbase.HealthcheckResult(available=False, reason="IPA unreachable")
