"""Per-project placement rules: ``[<project id or name>] allowed_classes / allowed_hostgroups``.

One section per project, named by the project's id or its name (an id section wins
over a name section).  The sections are not known in advance, so the two options are
registered on every section the config files contain, once they have been parsed
(``build_policy``).  A section that sets neither option grants nothing, so library
sections (``[keystone_authtoken]`` ...) are harmless.  Default: nothing is allowed.
"""

from __future__ import annotations

from oslo_config import cfg

from novajoin.join.placement import PlacementPolicy, ProjectRule

# The group name shown in the sample config (a placeholder for a project id or name).
SAMPLE_GROUP = "<project>"

OPTS = [
    cfg.ListOpt(
        "allowed_classes",
        default=[],
        help="Host classes (IPA userclass, used by automember rules) instances of this "
        "project may ask for with the ``ipa_hostclass`` metadata. '*' allows any. "
        "The section is named after the project's id or name.",
    ),
    cfg.ListOpt(
        "allowed_hostgroups",
        default=[],
        help="IPA hostgroups instances of this project may join with the "
        "``ipa_hostgroups`` metadata (comma list). '*' allows any.",
    ),
]


def build_policy(conf: cfg.ConfigOpts) -> PlacementPolicy:
    """Rules of every section of the parsed config files that grants something."""
    rules: dict[str, ProjectRule] = {}
    for section in conf.list_all_sections():
        if section == "DEFAULT":
            continue
        conf.register_opts(OPTS, group=section)
        group = conf[section]
        rule = ProjectRule.from_lists(group.allowed_classes, group.allowed_hostgroups)
        if not rule.empty:
            rules[section] = rule
    return PlacementPolicy(rules)


def list_opts() -> list[cfg.Opt]:
    return OPTS
