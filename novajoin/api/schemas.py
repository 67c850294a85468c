"""The body nova POSTs to the vendordata endpoint (DESIGN.md §2), as JSON Schema.

Bounds follow what nova itself allows (user-data ≤ 65535 base64 characters,
metadata ≤ 128 items of ≤ 255-character keys and values), so a genuine
request always passes and anything larger is not from nova.  Unknown keys
are accepted (newer nova may send more) within the body size limit.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
PROJECT_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_METADATA_ITEMS = 128
MAX_METADATA_KEY = 255
MAX_METADATA_VALUE = 255
MAX_USER_DATA = 65535
MAX_BOOT_ROLES = 8192

VENDORDATA_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["instance-id", "project-id", "hostname"],
    "properties": {
        "instance-id": {"type": "string", "pattern": UUID_PATTERN},
        # Keystone ids; the same character set the ownership marker stores.
        "project-id": {"type": "string", "pattern": PROJECT_PATTERN},
        "hostname": {"type": "string", "minLength": 1, "maxLength": 255},
        # None or "" when the instance boots from a volume.
        "image-id": {"type": ["string", "null"], "maxLength": 255},
        "user-data": {
            "type": ["string", "null"],
            "maxLength": MAX_USER_DATA,
            "pattern": r"^[A-Za-z0-9+/=\s]*$",
        },
        "metadata": {
            "type": ["object", "null"],
            "maxProperties": MAX_METADATA_ITEMS,
            "propertyNames": {"maxLength": MAX_METADATA_KEY},
            "additionalProperties": {"type": "string", "maxLength": MAX_METADATA_VALUE},
        },
        "boot-roles": {"type": ["string", "null"], "maxLength": MAX_BOOT_ROLES},
    },
    "additionalProperties": True,
}

_VALIDATOR = jsonschema.Draft202012Validator(VENDORDATA_REQUEST)

_REASONS = {
    "type": "has the wrong type",
    "required": "is required",
    "pattern": "has an invalid format",
    "minLength": "is empty",
    "maxLength": "is too long",
    "maxProperties": f"has more than {MAX_METADATA_ITEMS} items",
    "propertyNames": f"has a key longer than {MAX_METADATA_KEY} characters",
}


class SchemaError(ValueError):
    """The body does not match; the message names the field, never echoes values."""


def validate_vendordata(body: Any) -> None:
    if _plainly_valid(body):
        return
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(body))
    if error is None:
        return
    raise SchemaError(_describe(error))


_UUID = re.compile(UUID_PATTERN)
_PROJECT = re.compile(PROJECT_PATTERN)
_USER_DATA = re.compile(VENDORDATA_REQUEST["properties"]["user-data"]["pattern"])


def _optional_str(body: dict[str, Any], key: str, limit: int) -> bool:
    value = body.get(key)
    return value is None or (type(value) is str and len(value) <= limit)


def _plainly_valid(body: Any) -> bool:
    """The schema's checks, spelled out for the common case (~10x cheaper than jsonschema).

    True only when every rule of VENDORDATA_REQUEST holds (``re.search`` as jsonschema's
    ``pattern``); anything else, even a valid body this does not recognise, goes to
    jsonschema, which stays the authority and names the error.
    """
    if type(body) is not dict:
        return False
    instance_id = body.get("instance-id")
    project_id = body.get("project-id")
    hostname = body.get("hostname")
    if not (type(instance_id) is str and _UUID.search(instance_id)
            and type(project_id) is str and _PROJECT.search(project_id)
            and type(hostname) is str and 1 <= len(hostname) <= 255):
        return False
    if not (_optional_str(body, "image-id", 255)
            and _optional_str(body, "boot-roles", MAX_BOOT_ROLES)
            and _optional_str(body, "user-data", MAX_USER_DATA)):
        return False
    user_data = body.get("user-data")
    if user_data is not None and not _USER_DATA.search(user_data):
        return False
    metadata = body.get("metadata")
    if metadata is None:
        return True
    if type(metadata) is not dict or len(metadata) > MAX_METADATA_ITEMS:
        return False
    return all(type(k) is str and len(k) <= MAX_METADATA_KEY
               and type(v) is str and len(v) <= MAX_METADATA_VALUE
               for k, v in metadata.items())


def _describe(error: jsonschema.ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = next(
            (name for name in error.validator_value if name not in (error.instance or {})),
            "?",
        )
        path.append(missing)
    if not path:
        if error.validator == "type":
            return "the request body must be a JSON object"
        return "invalid request body"
    field = path[0] if len(path) == 1 else f"{path[0]}[{_short(path[1])}]"
    reason = _REASONS.get(str(error.validator), "is invalid")
    if "propertyNames" in error.absolute_schema_path:
        reason = _REASONS["propertyNames"]
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        reason = f"must be {'a ' if expected != 'null' else ''}{expected}"
    if field == "instance-id" and error.validator == "pattern":
        reason = "must be a UUID"
    if field == "project-id" and error.validator == "pattern":
        reason = "must be 1 to 64 letters, digits, '_' or '-'"
    return f"'{field}' {reason}"


def _short(text: str, limit: int = 40) -> str:
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "..."
