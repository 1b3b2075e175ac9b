"""Record the DDL of a schema version: ``python tests/store/schema/record.py VERSION``.

Writes ``v<VERSION>.<dialect>.sql`` beside this script for both dialects; run it once when a
migration step is added, and never again for that version.
"""

from __future__ import annotations

import sys
from pathlib import Path

from efa_core.store._migrations import schema_statements
from efa_core.store._schema import Dialect


def main(version: int) -> None:
    for dialect in Dialect:
        path = Path(__file__).with_name(f"v{version}.{dialect.value}.sql")
        if path.exists():
            raise SystemExit(f"{path} exists: a recorded version is never rewritten")
        head = (
            f"-- efa-core store schema version {version} ({dialect.value}), as released. "
            "Never edit.\n\n"
        )
        body = ";\n\n".join(schema_statements(dialect, upto=version)) + ";\n"
        path.write_text(head + body, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
