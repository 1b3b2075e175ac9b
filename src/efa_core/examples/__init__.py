"""Example data shipped with efa-core (package data), for ``efa demo`` and the tutorials.

``thueringen/`` is a small, realistic example written for the project: four EfA services with
real LeiKa keys, Thüringen's kreisfreie Städte and two Landkreise with their real ARS and
population (an extract of the Destatis register), a registry export for ``efa-marktplatz``,
an XZuFi export directory for ``efa-xzufi``, FIT-Connect routes as a records file,
OZG-Dashboard rows as saved from its API (read by ``dashboard-file``) and an ``efa.toml``
naming the sources, the store and the finding options.  The rollout facts
(agreements, Zuständigkeiten, routes, dashboard rows and their dates) are invented; its
``README.md`` explains the design.
"""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["EXAMPLES", "copy_example", "example_files"]

#: The names of the shipped examples.
EXAMPLES = ("thueringen",)


def example_files(name: str = "thueringen") -> Traversable:
    """Return the directory of the example *name* as an importlib resource.

    :raises ValueError: *name* is not a shipped example.
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; known: {', '.join(EXAMPLES)}")
    return files(__name__).joinpath(name)


def _copy(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name.startswith((".", "__")):
            continue
        if item.is_dir():
            _copy(item, target / item.name)
        else:
            (target / item.name).write_bytes(item.read_bytes())


def copy_example(target: str | Path, name: str = "thueringen", *, replace: bool = True) -> Path:
    """Copy the example *name* into the directory *target*.

    :param replace: remove *target* first if it exists; with ``False`` the example's files
        are written over the ones of the same name and other files stay.

    Returns *target* as a :class:`~pathlib.Path`.  Copying works for any installation
    (also from a zip file) and gives the connectors real files to read.
    """
    source = example_files(name)
    path = Path(target)
    if replace and path.exists():
        shutil.rmtree(path)
    _copy(source, path)
    return path
