"""The efa-core plugin module of efa-dashboard (entry point ``dashboard``)."""

from __future__ import annotations

from efa_core import hookimpl
from efa_core.hookspecs import RegisterConnector
from efa_dashboard.connector import DashboardConnector
from efa_dashboard.file import DashboardFileConnector

__all__ = ["efa_register_connectors"]


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``dashboard`` and ``dashboard-file`` connector types."""
    register(DashboardConnector)
    register(DashboardFileConnector)
