"""The logger of the HTTP layer."""

from __future__ import annotations

import logging

logger = logging.getLogger("efa_core.http")
