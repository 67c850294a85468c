"""Compose the WSGI app: dependencies in one place, middleware via PasteDeploy.

``build_context(conf)`` makes everything the app needs from the config (the
JoinService with its IPA client, keystone/glance look-ups and OTP key, the
policy enforcer); ``loadapp(ctx)`` runs the paste pipeline with it.  Tests
build an ``AppContext`` around any JoinService and call ``loadapp`` (or
``direct_app``) to drive the real app in-process, like Placement's direct.py.

Paste factories receive only strings, so the context travels through the
registry below under a key passed in ``global_conf``.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oslo_config import cfg
from oslo_middleware import http_proxy_to_wsgi
from paste import deploy as paste_deploy

from novajoin.api import errors, handler, request_id
from novajoin.api import policy as api_policy
from novajoin.conf import clients
from novajoin.conf import default as default_opts

LOG = logging.getLogger("novajoin.api")

CONTEXT_KEY = "novajoin_context"
DEFAULT_PASTE = Path(__file__).with_name("join-api-paste.ini")

WSGIApp = errors.WSGIApp


# Shared with the other entry points; kept under this name for callers of the API.
ConfigError = clients.ConfigError


@dataclass
class AppContext:
    """What the request handlers need; one per app."""

    conf: cfg.ConfigOpts
    join_service: Any  # novajoin.join.service.JoinService (or a test double)
    auth_strategy: str = default_opts.AUTH_NOAUTH
    max_body_size: int = 256 * 1024
    enforcer: Any = None  # oslo_policy Enforcer when auth_strategy is keystone
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:  # shutting down: log and carry on
                LOG.exception("error while closing")


# --- the registry the paste factories read --------------------------------

_CONTEXTS: dict[str, AppContext] = {}
_CONF_INDEX: dict[int, AppContext] = {}
_counter = itertools.count(1)
_lock = threading.Lock()


def _register(ctx: AppContext) -> str:
    with _lock:
        key = f"ctx-{next(_counter)}"
        _CONTEXTS[key] = ctx
        _CONF_INDEX[id(ctx.conf)] = ctx
    return key


def context_for_conf(conf: cfg.ConfigOpts) -> AppContext | None:
    """The app context built on ``conf`` (for the healthcheck backend plugin)."""
    return _CONF_INDEX.get(id(conf))


def _context(global_conf: dict[str, Any]) -> AppContext:
    try:
        return _CONTEXTS[global_conf[CONTEXT_KEY]]
    except KeyError:
        raise ConfigError(
            "the novajoin paste pipeline must be loaded with novajoin.api.deploy.loadapp()"
        ) from None


# --- building the dependencies from the config -----------------------------


def build_context(conf: cfg.ConfigOpts, join_service: Any = None) -> AppContext:
    """Everything the app needs, from ``conf``; ``join_service`` overrides the real one."""
    ctx = AppContext(
        conf=conf,
        join_service=join_service,
        auth_strategy=conf.auth_strategy,
        max_body_size=conf.max_request_body_size,
    )
    if join_service is None:
        ctx.join_service, closers = build_join_service(conf)
        ctx.closers.extend(closers)
    if ctx.auth_strategy == default_opts.AUTH_KEYSTONE:
        ctx.enforcer = api_policy.make_enforcer(conf)
    return ctx


def build_join_service(conf: cfg.ConfigOpts) -> tuple[Any, list[Callable[[], None]]]:
    """The real JoinService: IPA client (Kerberos keytab), look-ups, OTP key."""
    from novajoin.join.errors import OTPKeyError
    from novajoin.join.otp import load_otp_key
    from novajoin.join.service import JoinService

    settings, servers, principal = clients.build_settings(conf)
    try:
        otp_key = load_otp_key(conf.otp_key_file)
    except OTPKeyError as exc:
        raise ConfigError(str(exc)) from None
    ipa = clients.build_ipa_client(conf, servers, principal)
    images, projects = build_lookups(conf, settings)
    try:
        service = JoinService(ipa, settings, otp_key=otp_key, images=images, projects=projects,
                              repeat_cache_seconds=conf.repeat_cache_seconds)
    except ValueError as exc:
        ipa.close()
        raise ConfigError(str(exc)) from None
    clients.log_identity(servers, principal, settings)
    return service, [ipa.close]


def build_lookups(conf: cfg.ConfigOpts, settings: Any) -> tuple[Any, Any]:
    """glance/keystone look-ups over a keystoneauth Session, when configured."""
    from keystoneauth1 import loading as ks_loading

    group = "service_credentials"
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    if auth is None:
        if conf.project_subdomain:
            raise ConfigError(
                "project_subdomain needs [service_credentials] to look up project names"
            )
        return None, None
    session = ks_loading.load_session_from_conf_options(conf, group, auth=auth)
    from novajoin.join import lookups

    adapter_opts = {
        "interface": conf[group].interface,
        "region_name": conf[group].region_name,
    }
    return (
        lookups.GlanceImageLookup(session, ttl=settings.image_cache_ttl, **adapter_opts),
        lookups.KeystoneProjectLookup(session, ttl=settings.image_cache_ttl, **adapter_opts),
    )


# --- the app -----------------------------------------------------------------


def paste_config_path(conf: cfg.ConfigOpts) -> str:
    """api_paste_config: absolute, next to the config files, or the packaged default."""
    name = conf.api_paste_config
    if os.path.isabs(name):
        if not os.path.exists(name):
            raise ConfigError(f"api_paste_config {name} does not exist")
        return name
    found = conf.find_file(name)
    return os.path.abspath(found) if found else str(DEFAULT_PASTE)


def loadapp(ctx: AppContext, paste_config: str | None = None, name: str = "main") -> WSGIApp:
    """The full WSGI app (middleware + API) for ``ctx``."""
    path = paste_config or paste_config_path(ctx.conf)
    key = _register(ctx)
    return paste_deploy.loadapp(f"config:{path}", name=name, global_conf={CONTEXT_KEY: key})


def direct_app(join_service: Any, conf: cfg.ConfigOpts | None = None) -> WSGIApp:
    """The real app in-process around ``join_service`` (noauth unless conf says otherwise)."""
    from novajoin import conf as novajoin_conf

    if conf is None:
        conf = novajoin_conf.load([], config_files=[])
        conf.set_override("auth_strategy", default_opts.AUTH_NOAUTH)
    return loadapp(build_context(conf, join_service=join_service))


# --- paste factories -----------------------------------------------------------


def root_factory(loader: Any, global_conf: dict[str, Any], **local_conf: str) -> WSGIApp:
    """Dispatch on path prefix without rewriting SCRIPT_NAME/PATH_INFO."""
    default = loader.get_app(local_conf.pop("default"), global_conf=global_conf)
    routes = [
        (prefix.rstrip("/"), loader.get_app(app_name, global_conf=global_conf))
        for prefix, app_name in local_conf.items()
    ]
    return PrefixDispatch(routes, default)


class PrefixDispatch:
    def __init__(self, routes: list[tuple[str, WSGIApp]], default: WSGIApp) -> None:
        # Longest prefix first, so /v1/x never matches a shorter /v.
        self.routes = sorted(routes, key=lambda item: len(item[0]), reverse=True)
        self.default = default

    def __call__(
        self, environ: dict[str, Any], start_response: errors.StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        for prefix, app in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                return app(environ, start_response)
        return self.default(environ, start_response)


def api_factory(global_conf: dict[str, Any], **local_conf: str) -> WSGIApp:
    return handler.Router(_context(global_conf))


def healthcheck_factory(global_conf: dict[str, Any], **local_conf: str) -> WSGIApp:
    from novajoin.api import healthcheck

    return healthcheck.make_app(_context(global_conf))


def faults_factory(global_conf: dict[str, Any], **local_conf: str) -> Callable[[WSGIApp], WSGIApp]:
    return errors.FaultWrapper


def request_id_factory(
    global_conf: dict[str, Any], **local_conf: str
) -> Callable[[WSGIApp], WSGIApp]:
    _context(global_conf)  # ConfigError outside loadapp(), like the other filters
    return request_id.RequestId


def http_proxy_to_wsgi_factory(
    global_conf: dict[str, Any], **local_conf: str
) -> Callable[[WSGIApp], WSGIApp]:
    conf = _context(global_conf).conf

    def wrap(app: WSGIApp) -> WSGIApp:
        proxy = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)  # registers its options
        # It only acts with [oslo_middleware] enable_proxy_headers_parsing (read
        # at start-up, not mutable); without it, its webob round trip would be
        # pure cost on every request.
        if conf.oslo_middleware.enable_proxy_headers_parsing:
            return proxy
        return app

    return wrap


def authtoken_factory(
    global_conf: dict[str, Any], **local_conf: str
) -> Callable[[WSGIApp], WSGIApp]:
    ctx = _context(global_conf)
    if ctx.auth_strategy != default_opts.AUTH_KEYSTONE:
        LOG.warning("auth_strategy = noauth: the vendordata endpoint is open to anyone")
        return lambda app: app
    from keystonemiddleware import auth_token

    def wrap(app: WSGIApp) -> WSGIApp:
        options: dict[str, Any] = {"oslo_config_config": ctx.conf, **local_conf}
        return auth_token.AuthProtocol(app, options)

    return wrap
