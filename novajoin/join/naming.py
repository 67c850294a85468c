"""Hostname -> FQDN: the one place that names IPA hosts.

Rule: ``FQDN = <host label> [. <project label>] . <domain>``, lower-case.

* The hostname nova sends must be ONE valid DNS label (letters, digits,
  '-', 1..63 characters, no leading or trailing '-'), optionally followed by
  the host's own suffix (``.<domain>``, or ``.<project>.<domain>`` with
  ``project_subdomain``), which is stripped: nova may send
  ``vm1.example.test`` when its ``dhcp_domain`` matches ours.  Any other
  dotted name (another domain, a trailing root dot, empty labels) is
  refused.  nova already sanitises display names into hostnames, so an
  invalid hostname is suspicious: it is refused with the reason, never
  silently rewritten (the instance would enroll under a name it does not
  carry).
* The project name (``project_subdomain``) is a keystone name, free text:
  with ``normalize_project`` every character outside ``[A-Za-z0-9-]`` becomes
  '-' and leading/trailing '-' are stripped; without it the name must
  already be a valid label.
* The FQDN is at most 64 characters.  IPA's server accepts 253, but
  ``ipa-client-install`` validates ``--hostname`` against MAXHOSTNAMELEN
  (64, Linux's nodename limit): a longer name would get an OTP the
  instance can never use.

Refusals raise ``InvalidName`` with a message for the instance's owner;
no input makes these functions raise anything else.
"""

from __future__ import annotations

import re

from novajoin.join.errors import InvalidName

MAX_LABEL = 63
# ipalib.constants.MAXHOSTNAMELEN, enforced by ipa-client-install.
MAX_FQDN = 64

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)
_NOT_LABEL_CHAR = re.compile(r"[^A-Za-z0-9-]", re.ASCII)
_SHOWN = 70  # characters of hostile input quoted back in a message


def _shown(value: str) -> str:
    text = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    return ascii(text)


def label_problem(label: str) -> str | None:
    """Why ``label`` is not a valid DNS label for IPA, or None."""
    if not label:
        return "empty DNS label"
    if len(label) > MAX_LABEL:
        return f"DNS label longer than {MAX_LABEL} characters"
    if not label.isascii() or _NOT_LABEL_CHAR.search(label):
        return "only letters, digits and '-' are allowed"
    if label[0] == "-" or label[-1] == "-":
        return "a DNS label may not start or end with '-'"
    return None


def validate_domain(domain: str) -> str:
    """The configured DNS domain, lower-case; ``ValueError`` (a config error) if invalid."""
    if not isinstance(domain, str) or not domain or not domain.isascii():
        raise ValueError(f"invalid DNS domain {domain!r}")
    name = domain.lower()
    for label in name.split("."):
        problem = label_problem(label)
        if problem:
            raise ValueError(f"invalid DNS domain {domain!r}: {problem}")
    return name


def normalize_project(name: str) -> str:
    """Project name -> DNS label text: invalid characters become '-', outer '-' stripped.

    The result may still be unusable (empty, too long); ``project_label``
    refuses those.
    """
    return _NOT_LABEL_CHAR.sub("-", name).strip("-").lower()


def project_label(name: object, *, normalize: bool = True) -> str:
    """The DNS label for a project name, or ``InvalidName``."""
    if not isinstance(name, str) or not name:
        raise InvalidName("the project has no name usable in a DNS name")
    label = normalize_project(name) if normalize else name.lower()
    if not normalize and not name.isascii():
        raise InvalidName(f"project name {_shown(name)} is not a valid DNS label: "
                          "only letters, digits and '-' are allowed")
    problem = label_problem(label)
    if problem:
        raise InvalidName(f"project name {_shown(name)} is not a valid DNS label: {problem}")
    return label


def host_fqdn(
    hostname: object, domain: str, *, project: str | None = None, normalize: bool = True
) -> str:
    """The IPA host name for nova's ``hostname`` (see the module docstring).

    ``project`` is the project *name* when ``project_subdomain`` is on.
    Raises ``InvalidName`` (with the reason) for anything that is not a
    usable name; never anything else.
    """
    if not isinstance(hostname, str) or not hostname:
        raise InvalidName("the instance has no hostname")
    domain = validate_domain(domain)
    zone = domain if project is None else f"{project_label(project, normalize=normalize)}.{domain}"
    raw = hostname
    if not raw.isascii():
        raise InvalidName(
            f"hostname {_shown(raw)} is not a valid DNS name: only ASCII letters, digits "
            "and '-' are allowed")
    name = raw.lower()
    if name.endswith("."):
        raise InvalidName(f"hostname {_shown(raw)} must not end with '.'")
    for suffix in (f".{zone}", f".{domain}"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if "." in name or not name:
        raise InvalidName(
            f"hostname {_shown(raw)} is not a short name: expected one DNS label, "
            f"optionally followed by '.{zone}'")
    problem = label_problem(name)
    if problem:
        raise InvalidName(f"hostname {_shown(raw)} is not a valid DNS label: {problem}")
    fqdn = f"{name}.{zone}"
    if len(fqdn) > MAX_FQDN:
        raise InvalidName(
            f"host name {_shown(fqdn)} is {len(fqdn)} characters long; ipa-client-install "
            f"accepts at most {MAX_FQDN}")
    return fqdn
