"""``efa demo``: sync the Thüringen example through the real connectors and report on it.

:func:`run_demo` does what the command does, for scripts and tests:

1. checks that the connector plugins the example needs are installed (else
   :class:`DemoError` naming the ``pip install`` command);
2. copies the example (:mod:`efa_core.examples`) into the output folder, with its
   ``efa.toml`` naming the store, so that afterwards ``cd efa-demo && efa report`` (and
   ``efa findings``, ``efa coverage``, ``efa sync`` …) work without flags;
3. opens a fresh store, imports the example's register extract
   (:func:`efa_core.areas.import_register`) and syncs every source of the ``efa.toml``
   with :class:`~efa_core.sync.SyncEngine`; no network is used (the OZG-Dashboard rows are
   a saved answer, read by the ``dashboard-file`` connector);
4. collects the report (:func:`~efa_core.report.data.collect_report`, Land Thüringen, with
   the ``[findings]`` options of the ``efa.toml``), with the example's plan against it
   (:func:`~efa_core.rollout.planning.plan_status`), and writes the HTML report.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import attrs

from efa_core.config import EfaConfig, parse_config
from efa_core.errors import EfaError
from efa_core.examples import copy_example
from efa_core.report.data import ReportData, collect_report
from efa_core.report.html import render_html
from efa_core.rollout import IdentityRules
from efa_core.store import open_store
from efa_core.sync import SyncEngine, SyncReport

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from efa_core.plugins import PluginRegistry
    from efa_core.rollout.planning import PlanStatus

__all__ = [
    "DEFAULT_OUTPUT",
    "DEFAULT_STORE",
    "REQUIRED_PLUGINS",
    "DemoError",
    "DemoResult",
    "check_plugins",
    "run_demo",
]

#: Connector type -> the distribution that provides it (the bundled plugins).
REQUIRED_PLUGINS: Mapping[str, str] = {
    "marktplatz": "efa-marktplatz",
    "xzufi-dir": "efa-xzufi",
    "dashboard-file": "efa-dashboard",
}
#: The output directory when none is given.
DEFAULT_OUTPUT = "efa-demo"
#: The store file in the output directory when no ``db`` is given (as the example's
#: ``efa.toml`` names it).
DEFAULT_STORE = "efa-demo.db"
#: Marks a directory as written by the demo (so a re-run may replace its contents).
_MARKER = ".efa-demo"
#: Options that name files, per connector type (resolved against the output directory).
_PATH_OPTIONS = ("path", "offers", "agreements", "output_dir")
#: The ``url = …`` line of the example's ``[store]`` table.
_STORE_LINE = re.compile(r'^url = "[^"]*"', re.MULTILINE)


class DemoError(EfaError):
    """The demo cannot run: a plugin is missing, the output exists, or a source failed."""


@attrs.frozen(kw_only=True)
class DemoResult:
    """What :func:`run_demo` made."""

    #: The folder with the example's files, its ``efa.toml``, the store and the report.
    output_dir: Path
    #: The store's URL (a SQLite file's ``sqlite:///…`` URL, or the PostgreSQL URL given,
    #: password included: show it with :func:`efa_core.store.mask_url`).
    store_url: str
    #: The SQLite file of the store; ``None`` for PostgreSQL.
    db_path: Path | None
    #: The HTML report.
    report_path: Path
    #: The folder of the example's files (the same as :attr:`output_dir`).
    example_dir: Path
    #: The ``efa.toml`` in :attr:`output_dir`.
    config_path: Path
    sync: SyncReport
    data: ReportData
    #: The example's plan against what the sources show (None: the example has no plan).
    plan: PlanStatus | None = None


def check_plugins(registry: PluginRegistry) -> None:
    """Raise :class:`DemoError` unless every connector type the example needs is installed.

    The message names the missing plugins and the ``pip install`` command.
    """
    known = registry.connectors()
    missing = sorted({dist for kind, dist in REQUIRED_PLUGINS.items() if kind not in known})
    if missing:
        raise DemoError(
            f"efa demo needs the connector plugin(s) {', '.join(missing)}, which are not "
            "installed. From an efa-core checkout: pip install "
            + " ".join(f"./plugins/{m}" for m in missing)
        )


def _example_config(folder: Path, config_file: Path) -> EfaConfig:
    """Read the demo's ``efa.toml``, with file options made absolute (any working dir)."""
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    for table in data.get("connectors", {}).values():
        for key in _PATH_OPTIONS:
            value = table.get(key)
            if isinstance(value, str) and "://" not in value and not Path(value).is_absolute():
                table[key] = str(folder / value)
    return parse_config(data, env={}, path=config_file)


def _is_url(value: str) -> bool:
    return "://" in value


def _store_for_file(db: str) -> str:
    """Return how the demo's ``efa.toml`` names the store *db* (never with a password)."""
    if not _is_url(db):
        return str(Path(db).expanduser().resolve())
    parts = urlsplit(db)
    if parts.scheme.lower() == "sqlite":
        return db
    if parts.password is None:
        return db
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:${{PGPASSWORD}}@{host}"))


def _prepare_output(output: Path, db: str | None) -> tuple[str, Path | None]:
    """Check and mark *output*; return the store URL and its SQLite file (if one)."""
    if output.exists() and not output.is_dir():
        raise DemoError(f"{output} exists and is not a directory; choose another --output")
    if output.is_dir() and any(output.iterdir()) and not (output / _MARKER).exists():
        raise DemoError(
            f"{output} exists and was not made by efa demo; choose another --output "
            "(the demo replaces the contents of its own directory only)"
        )
    if db is None:
        file: Path | None = output / DEFAULT_STORE
    elif not _is_url(db):
        file = Path(db).expanduser().resolve()
    elif urlsplit(db).scheme.lower() == "sqlite":
        rest = db.split("://", 1)[1]
        if not rest.startswith("/") or rest in ("/", "/:memory:"):
            raise DemoError(
                f"--db {db!r}: the demo needs a SQLite file: sqlite:///relative.db, "
                "sqlite:////absolute.db or a plain path"
            )
        file = Path(rest[1:].split("?", 1)[0]).expanduser().resolve()
    else:
        file = None
    if db is not None and file is not None and file.exists():
        raise DemoError(
            f"{file} already exists; the demo needs a fresh store (choose another --db)"
        )
    output.mkdir(parents=True, exist_ok=True)
    (output / _MARKER).write_text("made by efa demo; a re-run replaces this directory's files\n")
    if db is None:
        assert file is not None
        for suffix in ("", "-wal", "-shm", ".sync-lock"):
            Path(str(file) + suffix).unlink(missing_ok=True)
    url = db if db is not None and _is_url(db) else f"sqlite:///{file}"
    return url, file


def _write_config(output: Path, db: str | None) -> Path:
    """Point the copied ``efa.toml`` at the store (unchanged for the default store)."""
    config_file = output / "efa.toml"
    if db is not None:
        text = config_file.read_text(encoding="utf-8")
        line = 'url = "' + _store_for_file(db).replace("\\", "\\\\") + '"'
        text, count = _STORE_LINE.subn(lambda _: line, text, count=1)
        if count != 1:  # pragma: no cover - the shipped example has the line
            raise DemoError(f"{config_file}: no [store] url line to point at {db}")
        config_file.write_text(text, encoding="utf-8")
    return config_file


def run_demo(
    output: str | Path | None = None,
    *,
    db: str | Path | None = None,
    registry: PluginRegistry | None = None,
    now: datetime | None = None,
    timeline: bool = True,
    lang: str | None = None,
) -> DemoResult:
    """Run the demo into *output* (default ``./efa-demo``); see the module docs.

    :param db: the store to fill: a plain path, ``sqlite:///…`` or ``postgresql://…``
        (default ``<output>/efa-demo.db``).  A SQLite file must not exist; a PostgreSQL
        database must hold no efa-core data yet.  The ``efa.toml`` in *output* names it
        (a PostgreSQL password as ``${PGPASSWORD}``).
    :param registry: the plugin registry (default: a new one with the installed plugins).
    :param now: the report's "now" (default: the current time).
    :param lang: the language of the HTML report: ``"de"`` (the default) or ``"en"``.
    :raises DemoError: a plugin is missing, *output* holds other files, *db* exists or holds
        data, or a source failed to sync (the message names it and its error).
    """
    from efa_core.areas import import_register
    from efa_core.plugins import PluginRegistry

    registry = registry or PluginRegistry()
    check_plugins(registry)
    out = Path(output if output is not None else DEFAULT_OUTPUT).resolve()
    db_text = None if db is None else str(db)
    url, db_file = _prepare_output(out, db_text)
    copy_example(out, replace=False)
    config_file = _write_config(out, db_text)
    config = _example_config(out, config_file)
    with open_store(url) as store:
        if store.sources():
            raise DemoError(
                f"the store {store.url} already holds data; the demo needs a fresh store "
                "(choose another --db)"
            )
        import_register(store, out / "gemeinden.csv")
        report = SyncEngine(store, registry, config).run()
        if not report.ok:
            failed = [f"{r.source}: {r.error}" for r in report.reports if not r.ok]
            raise DemoError("the demo sync failed: " + "; ".join(failed))
        data = collect_report(
            store,
            registry.finding_rules(),
            land="TH",
            options=dict(config.findings),
            now=now,
            timeline=timeline,
            title="EfA-Rollout Thüringen (Beispiel)",
            identity=IdentityRules.from_config(config, registry),
        )
    report_path = out / "efa-report.html"
    report_path.write_text(render_html(data, lang=lang), encoding="utf-8")
    return DemoResult(
        output_dir=out,
        store_url=url,
        db_path=db_file,
        report_path=report_path,
        example_dir=out,
        config_path=config_file,
        sync=report,
        data=data,
        plan=data.plans[0] if data.plans else None,
    )
