"""Check the built API reference: every enum member and every field of every record is there.

Run by ``nox -s docs`` after the build: ``python docs/check_reference.py docs/_build/html``.
Exits non-zero naming what is missing.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import sys
from pathlib import Path

import attrs

#: API page -> the modules it documents.
PAGES = {
    "api/model.html": ["efa_core.model"],
    "api/ids.html": ["efa_core.ids"],
    "api/connectors.html": ["efa_core.connectors", "efa_core.config"],
    "api/plugins.html": ["efa_core.plugins"],
}


def missing(out: Path) -> list[str]:
    """Return the anchors the reference lacks, as ``page: module.Class.member``."""
    problems: list[str] = []
    for page, modules in PAGES.items():
        html = (out / page).read_text(encoding="utf-8")
        for name in modules:
            module = importlib.import_module(name)
            for cls_name in getattr(module, "__all__", []):
                cls = getattr(module, cls_name)
                if not inspect.isclass(cls) or cls.__module__ != name:
                    continue
                members: list[str] = []
                if issubclass(cls, enum.Enum):
                    members = [m.name for m in cls]
                elif attrs.has(cls):
                    members = [f.name for f in attrs.fields(cls) if not f.name.startswith("_")]
                for member in members:
                    anchor = f'id="{name}.{cls_name}.{member}"'
                    if anchor not in html:
                        problems.append(f"{page}: {name}.{cls_name}.{member}")
    return problems


def main() -> int:
    """Check the build in ``sys.argv[1]``."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html")
    problems = missing(out)
    for problem in problems:
        print(f"missing from the API reference: {problem}")
    if not problems:
        print(f"API reference complete: enum members and record fields ({out})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
