"""The efa-core plugin of efa-xzufi: the ``xzufi-dir`` connector and the XZuFi writer.

Found through the entry point ``[project.entry-points.efa_core] xzufi = "efa_xzufi.plugin"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from efa_core.hookspecs import RegisterConnector, RegisterResponsibilityWriter, hookimpl
from efa_core.model import Responsibility
from efa_xzufi.connector import XZuFiDirConnector

__all__ = [
    "efa_register_connectors",
    "efa_register_responsibility_writers",
    "write_responsibilities",
]


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``xzufi-dir`` connector type."""
    register(XZuFiDirConnector)


def write_responsibilities(
    responsibilities: Sequence[Responsibility], *, directory: Path, sender: str
) -> list[Path]:
    """Write *responsibilities* as one XZuFi 2.2.0 transfer message ``zustaendigkeiten.xml``."""
    from efa_xzufi.writer import write_transfer_message

    path = directory / "zustaendigkeiten.xml"
    write_transfer_message(responsibilities, sender=sender, out=path)
    return [path]


@hookimpl
def efa_register_responsibility_writers(register: RegisterResponsibilityWriter) -> None:
    """Register the ``xzufi-2.2.0`` writer of Zuständigkeiten (``efa plan onboarding``)."""
    register("xzufi-2.2.0", write_responsibilities)
