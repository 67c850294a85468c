"""Helpers shared by the command modules: context, errors, entry rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from novajoin.fakeipa.state import State
from novajoin.ipa import errors

Handler = Callable[["Ctx", dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


@dataclass
class Ctx:
    """What a handler may use: the state and the server's identity."""

    state: State
    realm: str
    domain: str
    server_fqdn: str
    api_version: str
    ipa_version: str
    # Runs a nested command as IPA's batch does: call(method, params, version=...) -> result.
    call: Callable[..., dict[str, Any]]

    @property
    def basedn(self) -> str:
        return ",".join(f"dc={part}" for part in self.domain.split("."))

    def dn(self, rdn: str, container: str) -> str:
        return f"{rdn},{container},{self.basedn}"


# -- errors with IPA's texts ----------------------------------------------------------
def not_found(key: str, oname: str) -> errors.IPAError:
    reason = f"{key}: {oname} not found"
    return errors.NotFound(reason, data={"reason": reason})


def duplicate(key: str, oname: str) -> errors.IPAError:
    return errors.DuplicateEntry(f'{oname} with name "{key}" already exists')


def empty_modlist() -> errors.IPAError:
    return errors.EmptyModlist("no modifications to be performed")


def validation(name: str, error: str) -> errors.IPAError:
    return errors.ValidationError(f"invalid '{name}': {error}", data={"name": name, "error": error})


ALREADY_MEMBER = "This entry is already a member"
NOT_MEMBER = "This entry is not a member"
NO_SUCH_ENTRY = "no such entry"


# -- rendering ------------------------------------------------------------------------
def dns_name(value: str, p: dict[str, Any]) -> Any:
    """DNS names travel wrapped from API 2.88 on (plain text with raw)."""
    return value if p.get("raw") else {"__dns_name__": value}


def render(attrs: dict[str, list[str]], keep: Iterable[str] | None) -> dict[str, Any]:
    """Non-empty attributes, all of them or only those in ``keep``."""
    wanted = None if keep is None else set(keep)
    return {k: list(v) for k, v in attrs.items() if v and (wanted is None or k in wanted)}


def find_result(entries: list[dict[str, Any]], p: dict[str, Any], one: str,
                many: str) -> dict[str, Any]:
    """The shape of every *_find: count, result list, summary, truncated."""
    truncated = False
    limit = p.get("sizelimit")
    if limit is not None and limit > 0 and len(entries) > limit:
        entries, truncated = entries[:limit], True
    count = len(entries)
    summary = (one if count == 1 else many) % {"count": count}
    return {"count": count, "result": entries, "summary": summary, "truncated": truncated}


def matches(entry_attrs: dict[str, list[str]], criteria: str | None,
            fields: Iterable[str]) -> bool:
    """IPA's criteria search: case-insensitive substring over the search attributes."""
    if not criteria:
        return True
    needle = criteria.lower()
    return any(needle in v.lower() for f in fields for v in entry_attrs.get(f, []))


def equal_filters(entry_attrs: dict[str, list[str]], p: dict[str, Any],
                  fields: Iterable[str]) -> bool:
    """Attribute options of a *_find match exactly (case-insensitively)."""
    for f in fields:
        want = p.get(f)
        if want is None:
            continue
        have = {v.lower() for v in entry_attrs.get(f, [])}
        for w in want if isinstance(want, tuple) else (want,):
            if str(w).lower() not in have:
                return False
    return True


def member_failed(kinds: Iterable[str], attr: str = "member") -> dict[str, Any]:
    return {attr: {k: [] for k in kinds}}


def change_managedby(
    ctx: Ctx, managedby: set[str], hosts: Iterable[str], *, add: bool
) -> tuple[dict[str, Any], int]:
    """IPA's LDAPAddMember / LDAPRemoveMember on a ``managedby`` set of host names.

    Returns the ``failed`` structure and the count of completed changes.
    """
    failed = member_failed(["host"], "managedby")
    completed = 0
    for name in hosts:
        fqdn = name.lower().rstrip(".")
        if fqdn not in ctx.state.hosts:
            failed["managedby"]["host"].append([name, NO_SUCH_ENTRY])
        elif add and fqdn in managedby:
            failed["managedby"]["host"].append([name, ALREADY_MEMBER])
        elif not add and fqdn not in managedby:
            failed["managedby"]["host"].append([name, NOT_MEMBER])
        else:
            (managedby.add if add else managedby.discard)(fqdn)
            completed += 1
    return failed, completed


def apply_attr_options(attrs: dict[str, list[str]], p: dict[str, Any]) -> bool:
    """setattr / addattr / delattr ("attr=value"); True if anything changed."""
    changed = False
    for opt in ("setattr", "addattr", "delattr"):
        for item in p.get(opt) or ():
            attr, sep, value = item.partition("=")
            if not sep or not attr:
                raise validation(opt, 'Invalid format. Should be name=value')
            attr = attr.strip().lower()
            values = attrs.setdefault(attr, [])
            if opt == "setattr" and values != [value]:
                attrs[attr], changed = ([value] if value else []), True
            elif opt == "addattr" and value not in values:
                values.append(value)
                changed = True
            elif opt == "delattr":
                if value not in values:
                    raise errors.AttrValueNotFound(
                        f"{attr} does not contain '{value}'", data={"attr": attr, "value": value}
                    )
                values.remove(value)
                changed = True
    return changed


def set_attrs(attrs: dict[str, list[str]], p: dict[str, Any], names: Iterable[str]) -> bool:
    """Copy given attribute options into ``attrs``; True if anything changed."""
    changed = False
    for name in names:
        if name not in p:
            continue
        value = p[name]
        if value is None:
            new: list[str] = []
        elif isinstance(value, tuple):
            new = [_text(v) for v in value]
        else:
            new = [_text(value)]
        if attrs.get(name, []) != new:
            attrs[name] = new
            changed = True
    return changed


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)
