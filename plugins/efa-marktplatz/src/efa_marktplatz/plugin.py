"""The plugin module: registers the ``marktplatz`` and ``local`` connector types.

efa-core finds it through the entry point
``[project.entry-points.efa_core] marktplatz = "efa_marktplatz.plugin"``.
"""

from __future__ import annotations

from efa_core import hookimpl
from efa_core.hookspecs import RegisterConnector
from efa_marktplatz.connector import MarktplatzConnector
from efa_marktplatz.local import LocalConnector

__all__ = ["efa_register_connectors"]


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``marktplatz`` and ``local`` connector types."""
    register(MarktplatzConnector)
    register(LocalConnector)
