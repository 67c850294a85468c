"""Fixtures shared by every test: the throwaway Kerberos realm."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from novajoin.testing.krb5lab import KerberosLab, start_lab


@pytest.fixture(scope="session")
def krb5_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KerberosLab]:
    """A running MIT KDC on 127.0.0.1 for the whole test session.

    KRB5_CONFIG / KRB5_KDC_PROFILE are set for this process (and so for the
    subprocesses it starts); /etc/krb5.conf is never read.
    """
    lab = start_lab(tmp_path_factory.mktemp("krb5lab"))
    saved = {key: os.environ.get(key) for key in lab.env()}
    os.environ.update(lab.env())
    try:
        yield lab
    finally:
        lab.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
