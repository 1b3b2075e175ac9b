"""The efa-core plugin module of efa-fitconnect (entry point ``fitconnect``)."""

from __future__ import annotations

from efa_core import hookimpl
from efa_core.hookspecs import RegisterConnector
from efa_fitconnect.connector import FitConnectConnector

__all__ = ["efa_register_connectors"]


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``fitconnect`` connector type."""
    register(FitConnectConnector)
