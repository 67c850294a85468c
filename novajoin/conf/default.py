"""[DEFAULT] options of the REST service (names kept from the original join.conf)."""

from __future__ import annotations

from oslo_config import cfg

AUTH_KEYSTONE = "keystone"
AUTH_NOAUTH = "noauth"

OPTS = [
    cfg.HostAddressOpt(
        "join_listen",
        default="0.0.0.0",  # noqa: S104 - nova's metadata API runs on other hosts
        help="IP address novajoin-server listens on. The default (all addresses) is the "
        "original novajoin's: nova's metadata service usually runs on other hosts. "
        "Use 127.0.0.1 when a local proxy or load balancer fronts the service.",
    ),
    cfg.PortOpt(
        "join_listen_port",
        default=9999,
        help="TCP port novajoin-server listens on (nova's vendordata_dynamic_targets "
        "points at http://HOST:PORT/v1/).",
    ),
    cfg.StrOpt(
        "api_paste_config",
        default="join-api-paste.ini",
        help="PasteDeploy file composing the WSGI middleware. A relative name is looked "
        "up next to the config files (e.g. /etc/novajoin/); when it is not found the "
        "copy shipped inside the novajoin package is used.",
    ),
    cfg.StrOpt(
        "auth_strategy",
        default=AUTH_KEYSTONE,
        choices=[
            (AUTH_KEYSTONE, "Validate X-Auth-Token with keystonemiddleware and enforce policy."),
            (AUTH_NOAUTH, "No authentication and NO policy check: anyone who can reach "
             "the port may enroll hosts. For tests and demos only."),
        ],
        help="How callers of the vendordata endpoint are authenticated.",
    ),
    cfg.IntOpt(
        "server_threads",
        default=32,
        min=1,
        help="Worker threads of the embedded WSGI server (cheroot). Each request "
        "holds a thread while it waits for IPA.",
    ),
    cfg.IntOpt(
        "server_shutdown_timeout",
        default=10,
        min=0,
        help="Seconds to let requests in flight finish on SIGTERM.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=256 * 1024,
        min=1024,
        help="Largest vendordata request body accepted, in bytes (413 above). nova may "
        "send up to 64 KiB of base64 user-data plus 128 metadata items, so keep this "
        "well above 64 KiB.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)


def list_opts() -> list[cfg.Opt]:
    return OPTS
