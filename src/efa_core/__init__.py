"""efa-core: make the 'Einer für Alle' (EfA) reuse of online services visible and manageable.

A plugin needs nothing but :data:`hookimpl`::

    from efa_core import hookimpl

    @hookimpl
    def efa_register_connectors(register):
        register(MyConnector)
"""

from __future__ import annotations

from efa_core.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
