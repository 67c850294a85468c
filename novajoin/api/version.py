"""The version document served on GET / (version discovery, unauthenticated)."""

from __future__ import annotations

from typing import Any

VERSION_ID = "v1"


def version_document(root_url: str) -> dict[str, Any]:
    """``root_url`` is the service's public base URL (after http_proxy_to_wsgi)."""
    base = root_url.rstrip("/")
    return {
        "versions": [
            {
                "id": VERSION_ID,
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{base}/{VERSION_ID}/"}],
            }
        ]
    }
