"""In-process app around a recording JoinService double (no IPA, no servers)."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import RecordingJoinService

from novajoin.api.deploy import direct_app


@pytest.fixture
def join_service() -> RecordingJoinService:
    return RecordingJoinService()


@pytest.fixture
def app(join_service: RecordingJoinService) -> Any:
    return direct_app(join_service)
