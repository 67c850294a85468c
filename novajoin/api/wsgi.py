"""Run novajoin under any WSGI container (uWSGI, mod_wsgi, gunicorn --threads).

``application = init_application()`` reads the config files named in
``NOVAJOIN_CONFIG_FILE`` (comma-separated; default /etc/novajoin/join.conf)
and never parses the container's own ``sys.argv``.  ``app_factory`` does the
same for a PasteDeploy file of your own (``config_file = ...`` in its section).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from oslo_log import log as oslo_logging

from novajoin import conf as novajoin_conf
from novajoin.api import deploy

CONFIG_ENV = "NOVAJOIN_CONFIG_FILE"


def _config_files(explicit: Sequence[str] | None) -> list[str] | None:
    if explicit:
        return list(explicit)
    value = os.environ.get(CONFIG_ENV, "")
    files = [item.strip() for item in value.split(",") if item.strip()]
    return files or None


def init_application(config_files: Sequence[str] | None = None) -> deploy.WSGIApp:
    conf = novajoin_conf.load([], prog="novajoin-wsgi", config_files=_config_files(config_files))
    oslo_logging.setup(conf, "novajoin")
    return deploy.loadapp(deploy.build_context(conf))


def app_factory(global_conf: dict[str, Any], **local_conf: str) -> deploy.WSGIApp:
    files = local_conf.get("config_file") or global_conf.get("config_file")
    return init_application([files] if files else None)
