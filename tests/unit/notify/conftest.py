"""Fixtures of the listener unit tests."""

from __future__ import annotations

import pytest
from notify_fakes import RecordingLifecycle


@pytest.fixture
def lifecycle() -> RecordingLifecycle:
    return RecordingLifecycle()
