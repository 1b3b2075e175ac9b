"""The efa-core plugin of efa-xzufi: registers the ``xzufi-dir`` connector type.

Found through the entry point ``[project.entry-points.efa_core] xzufi = "efa_xzufi.plugin"``.
"""

from __future__ import annotations

from efa_core.hookspecs import RegisterConnector, hookimpl
from efa_xzufi.connector import XZuFiDirConnector

__all__ = ["efa_register_connectors"]


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``xzufi-dir`` connector type."""
    register(XZuFiDirConnector)
