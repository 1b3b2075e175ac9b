"""The efa-core plugin module of efa-pvog (entry point ``pvog`` in group ``efa_core``)."""

from __future__ import annotations

from efa_core import hookimpl
from efa_core.hookspecs import RegisterConnector
from efa_pvog.connector import PvogConnector

__all__ = ["efa_register_connectors"]


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``pvog`` connector type."""
    register(PvogConnector)
