"""[service_credentials]: how novajoin asks glance and keystone (keystoneauth1).

Used to read the image's ``ipa_enroll``/``os_distro`` properties and the
project's name. When ``auth_type`` is unset, no look-up is made: only the
instance metadata decides, and project_subdomain cannot be used.
"""

from __future__ import annotations

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = "service_credentials"

OPTS = [
    cfg.StrOpt(
        "region_name",
        help="Region of the glance and keystone endpoints in the service catalog.",
    ),
    cfg.StrOpt(
        "interface",
        default="internal",
        choices=["public", "internal", "admin"],
        help="Endpoint interface used for glance and keystone look-ups.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)


def list_opts() -> list[cfg.Opt]:
    # The plugin options of the common password auth type, so the sample shows them.
    opts = list(OPTS)
    opts += ks_loading.get_session_conf_options()
    opts += ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_auth_plugin_conf_options("password")
    seen: set[str] = set()
    unique = []
    for opt in opts:
        if opt.dest not in seen:
            seen.add(opt.dest)
            unique.append(opt)
    return unique
