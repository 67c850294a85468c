"""Our command definitions agree with IPA 4.13's own API description."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from novajoin.fakeipa.spec import COMMANDS

_FILE = "freeipa-API-4.13.1.txt"


def _reference() -> Path | None:
    candidates = []
    if os.environ.get("NOVAJOIN_IPA_API_REFERENCE"):
        env = Path(os.environ["NOVAJOIN_IPA_API_REFERENCE"])
        candidates += [env, env / _FILE]
    root = Path(__file__).resolve().parents[3]
    candidates.append(root.parent / "shared" / "reference" / _FILE)
    return next((c for c in candidates if c.is_file()), None)


def _parse(path: Path) -> dict[str, dict[str, list[str]]]:
    commands: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("command: "):
            current = line.split(": ", 1)[1].split("/")[0]
            commands[current] = {"arg": [], "option": []}
        elif current and line.startswith(("arg: ", "option: ")):
            kind, rest = line.split(": ", 1)
            match = re.match(r"\w+\('([^']+)'", rest)
            assert match, line
            commands[current][kind].append(match.group(1))
    return commands


def test_definitions_match_ipa_reference() -> None:
    path = _reference()
    if path is None:
        pytest.skip("IPA API reference not found (../shared/reference or "
                    "NOVAJOIN_IPA_API_REFERENCE)")
    reference = _parse(path)
    problems = []
    for name, spec in COMMANDS.items():
        ref = reference.get(name)
        if ref is None:
            problems.append(f"{name}: not in reference")
            continue
        ours_args = [p.spec for p in spec.args]
        if ours_args != ref["arg"]:
            problems.append(f"{name}: args {ours_args} != {ref['arg']}")
        ours_opts = {p.spec for p in spec.options}
        if ours_opts != set(ref["option"]):
            problems.append(f"{name}: missing {set(ref['option']) - ours_opts}, "
                            f"extra {ours_opts - set(ref['option'])}")
    assert not problems, "\n".join(problems)
