"""Fixtures for the IPA simulator engine tests."""

from __future__ import annotations

from typing import Any

import pytest

from novajoin.fakeipa.engine import Engine

API = "2.257"


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def call(engine: Engine):
    """call(method, *args, **options) with the client's API version filled in."""

    def run(method: str, *args: Any, **options: Any) -> dict:
        options.setdefault("version", API)
        return engine.execute(method, [list(args), options], principal="admin@EXAMPLE.TEST")

    return run
