"""nova.conf / neutron.conf settings novajoin needs, merged into existing files.

configparser would drop every comment of an operator's nova.conf, so
``IniDocument`` edits the lines themselves: a changed key is rewritten in
place, a new key goes after the last key of its section, a new section at
the end; everything else (comments, order, blank lines) stays as it was.
List options (providers, targets, topics) keep the operator's other entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^([^\s#;=:][^=:]*?)\s*[=:]\s?(.*)$")

PLACEHOLDER = "CHANGE_ME"


@dataclass
class _Key:
    section: str
    name: str
    start: int  # line index of "key = value"
    end: int  # index after its continuation lines


class IniDocument:
    """An oslo.config-style INI file that keeps comments when edited."""

    def __init__(self, text: str = "") -> None:
        self.lines = text.splitlines()

    @classmethod
    def load(cls, path: str) -> IniDocument:
        try:
            with open(path, encoding="utf-8") as handle:
                return cls(handle.read())
        except FileNotFoundError:
            return cls()

    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.lines else "")

    def _scan(self) -> list[_Key]:
        """Every ``key = value`` with its section and continuation lines."""
        keys: list[_Key] = []
        section = "DEFAULT"
        i = 0
        while i < len(self.lines):
            line = self.lines[i]
            match = _SECTION.match(line)
            if match:
                section = match.group(1).strip()
            elif (key := _KEY.match(line)) and not line.startswith((" ", "\t")):
                end = i + 1
                while (end < len(self.lines) and self.lines[end][:1] in (" ", "\t")
                       and self.lines[end].strip()):
                    end += 1
                keys.append(_Key(section, key.group(1).strip(), i, end))
                i = end
                continue
            i += 1
        return keys

    def sections(self) -> list[str]:
        return [m.group(1).strip() for line in self.lines if (m := _SECTION.match(line))]

    def get(self, section: str, name: str) -> str | None:
        """The value (last assignment wins, as in oslo.config), or None."""
        value = None
        for key in self._scan():
            if key.section == section and key.name == name:
                first = _KEY.match(self.lines[key.start])
                assert first is not None
                parts = [first.group(2).strip()] + [
                    line.strip() for line in self.lines[key.start + 1:key.end]]
                value = "\n".join(p for p in parts if p) if len(parts) > 1 else parts[0]
        return value

    def set(self, section: str, name: str, value: str) -> bool:
        """Set a key; return True when the text changed."""
        if self.get(section, name) == value:
            return False
        keys = self._scan()
        mine = [k for k in keys if k.section == section and k.name == name]
        line = f"{name} = {value}"
        if mine:
            last = mine[-1]
            self.lines[last.start:last.end] = [line]
            return True
        in_section = [k for k in keys if k.section == section]
        if in_section:
            self.lines.insert(in_section[-1].end, line)
        elif section in self.sections():
            header = next(i for i, text in enumerate(self.lines)
                          if (m := _SECTION.match(text)) and m.group(1).strip() == section)
            self.lines.insert(header + 1, line)
        else:
            if self.lines and self.lines[-1].strip():
                self.lines.append("")
            self.lines += [f"[{section}]", line]
        return True


def split_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in re.split(r"[,\n]", value) if v.strip()]


@dataclass(frozen=True)
class Setting:
    """One desired key: ``mode`` is set (replace), merge (list) or default (only if absent)."""

    section: str
    name: str
    value: str
    mode: str = "set"
    # For merge: entries whose name before "@" equals ours are replaced (targets).
    keyed: bool = False

    def merged(self, current: str | None) -> str:
        if self.mode == "default":
            return self.value if current is None else current
        if self.mode == "set":
            return self.value
        have = split_list(current)
        for entry in split_list(self.value):
            if self.keyed:
                name = entry.split("@", 1)[0]
                have = [h for h in have if h.split("@", 1)[0] != name or h == entry]
            if entry not in have:
                have.append(entry)
        return ",".join(have)

    def problem(self, current: str | None, file: str) -> str | None:
        """What is wrong with the current value, or None (for --check)."""
        where = f"{file} [{self.section}] {self.name}"
        if current is None:
            return f"{where} is not set (expected {self.value})"
        if self.mode == "default":
            return None
        if self.mode == "set" and current != self.value:
            return f"{where} = {current}, expected {self.value}"
        if self.mode == "merge":
            have = split_list(current)
            for entry in split_list(self.value):
                if entry not in have:
                    return f"{where} = {current}, must include {entry}"
        return None


def target_url(host: str, port: int = 9999) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{host}:{port}/v1/"


def nova_settings(*, join_host: str, join_port: int = 9999,
                  jsonfile_path: str = "/etc/novajoin/cloud-config-novajoin.json",
                  auth_url: str | None = None) -> list[Setting]:
    """What nova's metadata API and compute need for novajoin."""
    auth = [
        Setting("vendordata_dynamic_auth", name, value, "default")
        for name, value in (
            ("auth_type", "password"),
            ("auth_url", auth_url or PLACEHOLDER),
            ("username", "nova"),
            ("password", PLACEHOLDER),
            ("project_name", "service"),
            ("user_domain_name", "Default"),
            ("project_domain_name", "Default"),
        )
    ]
    return [
        Setting("api", "vendordata_providers", "StaticJSON,DynamicJSON", "merge"),
        Setting("api", "vendordata_jsonfile_path", jsonfile_path),
        Setting("api", "vendordata_dynamic_targets",
                f"join@{target_url(join_host, join_port)}", "merge", keyed=True),
        Setting("api", "vendordata_dynamic_connect_timeout", "5"),
        Setting("api", "vendordata_dynamic_read_timeout", "5"),
        *auth,
        Setting("notifications", "notify_on_state_change", "vm_and_task_state"),
        Setting("notifications", "notification_format", "both"),
        Setting("oslo_messaging_notifications", "driver", "messagingv2", "merge"),
        Setting("oslo_messaging_notifications", "topics", "notifications", "merge"),
    ]


def neutron_settings() -> list[Setting]:
    return [Setting("oslo_messaging_notifications", "driver", "messagingv2", "merge")]


def merge(doc: IniDocument, settings: Iterable[Setting]) -> list[str]:
    """Apply settings to ``doc``; return ``[section] key = value`` of each change."""
    changes = []
    for setting in settings:
        current = doc.get(setting.section, setting.name)
        value = setting.merged(current)
        if doc.set(setting.section, setting.name, value):
            shown = "<placeholder>" if setting.name == "password" else value
            changes.append(f"[{setting.section}] {setting.name} = {shown}")
    return changes


def check(doc: IniDocument, settings: Iterable[Setting], file: str) -> list[str]:
    out = []
    for setting in settings:
        if (why := setting.problem(doc.get(setting.section, setting.name), file)) is not None:
            out.append(why)
    return out


def placeholders(doc: IniDocument) -> list[str]:
    """Keys still holding the installer's placeholder: the operator must fill them."""
    out = []
    for section in dict.fromkeys(doc.sections()):
        for key in doc._scan():
            if key.section == section and doc.get(section, key.name) == PLACEHOLDER:
                out.append(f"[{section}] {key.name}")
    return list(dict.fromkeys(out))
