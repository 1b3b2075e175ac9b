"""Helpers shared by the efa-pvog tests (importable: conftest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

from efa_pvog import PvogConfig
from efa_pvog.testing import FakePvog

from efa_core.http import HttpSettings
from efa_core.secret import Secret

#: Fast retries (no backoff) and a short read timeout, so fault tests stay quick.
FAST_HTTP = HttpSettings(read_timeout=0.5, initial_backoff=0, max_backoff=0)


def make_config(fake: FakePvog, base_url: str, **options: Any) -> PvogConfig:
    """A config pointing at *fake* served at *base_url*; *options* override."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "auth_url": base_url + fake.token_path,
        "client_id": fake.client_id,
        "client_secret": Secret(fake.client_secret),
        "http": FAST_HTTP,
    }
    values.update(options)
    return PvogConfig(**values)
