"""The glance metadata-definition namespace that lets users tick ``ipa_enroll``.

Horizon shows metadef namespaces as forms on images and servers: with
``OS::Identity::IPA`` associated with ``OS::Glance::Image`` and
``OS::Nova::Server``, a user marks an image or a server for enrollment
(``ipa_enroll``) and picks a host class (``ipa_hostclass``).  Credentials
come from the environment (OS_* variables or clouds.yaml), as for the
``openstack`` CLI.  Idempotent: what exists is kept, what is missing added.
"""

from __future__ import annotations

import logging
from typing import Any

LOG = logging.getLogger("novajoin.install")

NAMESPACE = "OS::Identity::IPA"
NAMESPACE_ATTRS: dict[str, Any] = {
    "namespace": NAMESPACE,
    "display_name": "IPA enrollment",
    "description": "Enroll instances into FreeIPA at boot (novajoin).",
    "visibility": "public",
    "protected": True,
}
PROPERTIES: dict[str, dict[str, Any]] = {
    "ipa_enroll": {
        "type": "boolean",
        "title": "Enroll in IPA",
        "description": "Enroll the instance as an IPA host when it boots.",
        "default": False,
    },
    "ipa_hostclass": {
        "type": "string",
        "title": "IPA host class",
        "description": "IPA userclass of the host, used by automember rules.",
    },
}
RESOURCE_TYPES = ("OS::Glance::Image", "OS::Nova::Server")


class GlanceError(Exception):
    """The namespace could not be created; the message says why."""


def connect(**kwargs: Any) -> Any:
    """An openstacksdk connection from OS_* variables / clouds.yaml (plus ``kwargs``)."""
    import openstack

    return openstack.connect(**kwargs)


def ensure_namespace(conn: Any) -> list[str]:
    """Create the namespace, its properties and associations where missing."""
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions

    changes: list[str] = []
    try:
        image = conn.image  # endpoint discovery happens here
        try:
            image.get_metadef_namespace(NAMESPACE)
        except exceptions.NotFoundException:
            image.create_metadef_namespace(**NAMESPACE_ATTRS)
            changes.append(f"glance: created namespace {NAMESPACE}")
        have = {prop.name for prop in image.metadef_properties(NAMESPACE)}
        for name, attrs in PROPERTIES.items():
            if name not in have:
                image.create_metadef_property(NAMESPACE, name=name, **attrs)
                changes.append(f"glance: added property {name}")
        linked = {assoc.name for assoc in image.metadef_resource_type_associations(NAMESPACE)}
        for resource_type in RESOURCE_TYPES:
            if resource_type not in linked:
                image.create_metadef_resource_type_association(NAMESPACE, name=resource_type)
                changes.append(f"glance: associated {NAMESPACE} with {resource_type}")
    except (exceptions.SDKException, ks_exceptions.ClientException) as exc:
        raise GlanceError(f"glance metadefs: {exc}") from None
    for change in changes:
        LOG.info("%s", change)
    return changes
