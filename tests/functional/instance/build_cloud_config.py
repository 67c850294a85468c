"""Build novajoin/install/data/cloud-config-novajoin.json from the enrollment script.

The vendordata file embeds the script, so the two must not drift apart:
``python tests/functional/instance/build_cloud_config.py`` rewrites the JSON and
``test_enroll_script.py`` fails while it is stale.

Why a ``#cloud-config-archive`` holding a ``text/x-shellscript`` part rather than a
``#cloud-config`` with ``write_files`` + ``runcmd``: cloud-init merges the user's
cloud-config over the vendor's, and a user-data ``runcmd``, ``write_files`` or
``packages`` list *replaces* the vendor's one, which would silently drop enrollment.
A vendor shell-script part is not merged: cloud-init stores it under
``/var/lib/cloud/instance/scripts/vendor/`` and its ``scripts_vendor`` module runs it
once per instance, after package installation, in the final stage.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "novajoin" / "install" / "data"
SCRIPT = DATA / "novajoin-enroll.sh"
CLOUD_CONFIG = DATA / "cloud-config-novajoin.json"
PART_NAME = "novajoin-enroll"


def _indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


def build(script: str) -> str:
    """The JSON text nova serves as vendor_data.json (StaticJSON)."""
    archive = (
        "#cloud-config-archive\n"
        "# novajoin: enroll the instance in FreeIPA at first boot with the one-time\n"
        "# password found under \"join\" in vendor_data2.json (config drive or metadata\n"
        "# service).  The script exits 0 and does nothing unless enrollment was asked.\n"
        "- type: text/x-shellscript\n"
        f"  filename: {PART_NAME}\n"
        "  content: |\n"
        + _indent(script, "    ")
    )
    return json.dumps({"cloud-init": archive}, indent=1) + "\n"


def main() -> None:
    CLOUD_CONFIG.write_text(build(SCRIPT.read_text()))


if __name__ == "__main__":
    main()
