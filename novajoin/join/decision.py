"""Does an instance want to join IPA, and what OS does it run?

``ipa_enroll`` is read from the instance metadata first; only when the
instance does not set it at all is the glance image property consulted
(boot from volume: no image, so instance metadata only).  Values are
``true`` / ``false``, case-insensitive, surrounding whitespace ignored, as
in the original novajoin; a JSON boolean is accepted too.  Any other value
("1", "yes", "") counts as *not true*: enrollment is opt-in, and an
instance that sets the key to something we do not understand has still
made an explicit choice, so the image is not consulted behind its back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ENROLL_KEY = "ipa_enroll"
_OS_FIELD_MAX = 64


@dataclass(frozen=True)
class Decision:
    """``enroll`` and where it came from: "instance", "image" or "default"."""

    enroll: bool
    source: str


def parse_flag(value: object) -> bool | None:
    """True / False for a recognised ``ipa_enroll`` value, None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    return None


def instance_choice(metadata: Mapping[str, object] | None) -> bool | None:
    """The instance's own choice: None when its metadata does not mention ``ipa_enroll``."""
    if not metadata or ENROLL_KEY not in metadata:
        return None
    return parse_flag(metadata[ENROLL_KEY]) is True


def decide(
    metadata: Mapping[str, object] | None, image_properties: Mapping[str, object] | None
) -> Decision:
    """Instance metadata wins (an explicit "false" too); else the image; else no."""
    choice = instance_choice(metadata)
    if choice is not None:
        return Decision(choice, "instance")
    if image_properties and ENROLL_KEY in image_properties:
        return Decision(parse_flag(image_properties[ENROLL_KEY]) is True, "image")
    return Decision(False, "default")


def _clean(value: object) -> str:
    if not isinstance(value, str):
        return ""
    printable = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(printable.split())[:_OS_FIELD_MAX]


def os_version(image_properties: Mapping[str, object] | None) -> str | None:
    """``nsosversion`` for IPA: "<os_distro> <os_version>" trimmed, or None when unknown."""
    if not image_properties:
        return None
    text = " ".join(part for part in (_clean(image_properties.get("os_distro")),
                                      _clean(image_properties.get("os_version"))) if part)
    return text or None
