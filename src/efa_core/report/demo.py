"""``efa demo``: sync the Thüringen example through the real connectors and report on it.

:func:`run_demo` does what the command does, for scripts and tests:

1. checks that the connector plugins the example needs are installed (else
   :class:`DemoError` naming the ``pip install`` command);
2. copies the example (:mod:`efa_core.examples`) into ``<output>/example/``;
3. serves the example's OZG-Dashboard rows with efa-core's dashboard fake on 127.0.0.1
   (the dashboard has no file export the connector reads) for the duration of the sync;
4. creates a fresh SQLite store, imports the example's register extract
   (:func:`efa_core.areas.import_register`) and syncs every source of the example's
   ``efa.toml`` with :class:`~efa_core.sync.SyncEngine`;
5. collects the report (:func:`~efa_core.report.data.collect_report`, Land Thüringen, with
   the example's finding options from ``findings.json``) and writes the HTML report.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import attrs

from efa_core.config import EfaConfig, parse_config
from efa_core.errors import EfaError
from efa_core.examples import copy_example
from efa_core.report.data import ReportData, collect_report
from efa_core.report.html import render_html
from efa_core.store import open_store
from efa_core.sync import SyncEngine, SyncReport

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from efa_core.plugins import PluginRegistry
    from efa_core.testing.fakes.dashboard import DashboardApiFake

__all__ = [
    "DASHBOARD_URL_VAR",
    "DEFAULT_OUTPUT",
    "REQUIRED_PLUGINS",
    "DemoError",
    "DemoResult",
    "check_plugins",
    "run_demo",
    "serve_dashboard_rows",
]

#: Connector type -> the distribution that provides it (the bundled plugins).
REQUIRED_PLUGINS: Mapping[str, str] = {
    "marktplatz": "efa-marktplatz",
    "xzufi-dir": "efa-xzufi",
    "dashboard": "efa-dashboard",
}
#: The environment variable the example's ``efa.toml`` takes the dashboard URL from.
DASHBOARD_URL_VAR = "EFA_DEMO_DASHBOARD_URL"
#: The output directory when none is given.
DEFAULT_OUTPUT = "efa-demo"
#: Marks a directory as written by the demo (so a re-run may replace its contents).
_MARKER = ".efa-demo"
#: Options that name files, per connector type (resolved against the example directory).
_PATH_OPTIONS = ("path", "offers", "agreements", "output_dir")


class DemoError(EfaError):
    """The demo cannot run: a plugin is missing, the output exists, or a source failed."""


@attrs.frozen(kw_only=True)
class DemoResult:
    """What :func:`run_demo` made."""

    output_dir: Path
    db_path: Path
    report_path: Path
    example_dir: Path
    sync: SyncReport
    data: ReportData

    @property
    def store_url(self) -> str:
        """The SQLite URL of the demo's store (for ``efa report --db``)."""
        return f"sqlite:///{self.db_path}"


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
            + " (from PyPI: pip install "
            + " ".join(missing)
            + ")"
        )


class _Handler(BaseHTTPRequestHandler):
    """Answers requests with a :class:`DashboardApiFake` (stdlib server, no uvicorn)."""

    fake: ClassVar[Any] = None
    server_version = "efa-demo-dashboard"

    def do_GET(self) -> None:
        """Answer one GET request."""
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, content_type, body, extra = self.fake.respond("GET", parts.path, query, headers)
        if isinstance(body, (bytes, str)):
            payload = body.encode() if isinstance(body, str) else body
        else:
            payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet (the demo prints its own output)."""


@contextmanager
def serve_dashboard_rows(rows_file: str | Path) -> Iterator[str]:
    """Serve the OZG-Dashboard rows of *rows_file* (a JSON list of ``DvDataDto`` rows).

    Yields the API's base URL (``http://127.0.0.1:<port>/api``).  The server is efa-core's
    :class:`~efa_core.testing.fakes.dashboard.DashboardApiFake` behind the standard
    library's HTTP server, listening on 127.0.0.1 only; it stops when the block ends.

    :raises DemoError: the file is not a JSON list of rows with ``leika_key`` and ``ars``.
    """
    from efa_core.testing.fakes.dashboard import DashboardApiFake

    fake: DashboardApiFake = DashboardApiFake()
    path = Path(rows_file)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DemoError(f"{path}: cannot read the dashboard rows: {exc}") from exc
    if not isinstance(rows, list):
        raise DemoError(f"{path}: expected a JSON list of dashboard rows")
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "leika_key" not in row or "ars" not in row:
            raise DemoError(f"{path}: row {number} needs 'leika_key' and 'ars'")
        rest = {k: v for k, v in row.items() if k not in ("leika_key", "ars")}
        fake.add_row(str(row["leika_key"]), str(row["ars"]), **rest)
    handler = type("_DashboardHandler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="efa-demo-dashboard", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _example_config(example: Path, dashboard_url: str) -> EfaConfig:
    """Read the example's ``efa.toml``, with file options made absolute."""
    file = example / "efa.toml"
    data = tomllib.loads(file.read_text(encoding="utf-8"))
    for table in data.get("connectors", {}).values():
        for key in _PATH_OPTIONS:
            value = table.get(key)
            if isinstance(value, str) and "://" not in value and not Path(value).is_absolute():
                table[key] = str(example / value)
    env = {**os.environ, DASHBOARD_URL_VAR: dashboard_url}
    return parse_config(data, env=env, path=file)


def _prepare_output(output: Path, db: Path | None) -> Path:
    if output.exists() and not output.is_dir():
        raise DemoError(f"{output} exists and is not a directory; choose another --output")
    if output.is_dir() and any(output.iterdir()) and not (output / _MARKER).exists():
        raise DemoError(
            f"{output} exists and was not made by efa demo; choose another --output "
            "(the demo replaces the contents of its own directory only)"
        )
    output.mkdir(parents=True, exist_ok=True)
    (output / _MARKER).write_text("made by efa demo; a re-run replaces this directory's files\n")
    if db is None:
        db = output / "efa-demo.db"
        for suffix in ("", "-wal", "-shm", ".sync-lock"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    elif db.exists():
        raise DemoError(f"{db} already exists; the demo needs a fresh store (choose another --db)")
    return db


def run_demo(
    output: str | Path | None = None,
    *,
    db: str | Path | None = None,
    registry: PluginRegistry | None = None,
    now: datetime | None = None,
    timeline: bool = True,
) -> DemoResult:
    """Run the demo into *output* (default ``./efa-demo``); see the module docs.

    :param db: the SQLite file to create (default ``<output>/efa-demo.db``); it must not
        exist.
    :param registry: the plugin registry (default: a new one with the installed plugins).
    :param now: the report's "now" (default: the current time).
    :raises DemoError: a plugin is missing, *output* holds other files, *db* exists, or a
        source failed to sync (the message names it and its error).
    """
    from efa_core.areas import import_register
    from efa_core.plugins import PluginRegistry

    registry = registry or PluginRegistry()
    check_plugins(registry)
    out = Path(output if output is not None else DEFAULT_OUTPUT).resolve()
    db_path = _prepare_output(out, None if db is None else Path(db).resolve())
    example = copy_example(out / "example")
    options = json.loads((example / "findings.json").read_text(encoding="utf-8"))
    with open_store(f"sqlite:///{db_path}") as store:
        import_register(store, example / "gemeinden.csv")
        with serve_dashboard_rows(example / "dashboard.json") as url:
            config = _example_config(example, url)
            report = SyncEngine(store, registry, config).run()
        if not report.ok:
            failed = [f"{r.source}: {r.error}" for r in report.reports if not r.ok]
            raise DemoError("the demo sync failed: " + "; ".join(failed))
        data = collect_report(
            store,
            registry.finding_rules(),
            land="TH",
            options=options,
            now=now,
            timeline=timeline,
            title="EfA-Rollout Thüringen (Beispiel)",
        )
    report_path = out / "efa-report.html"
    report_path.write_text(render_html(data), encoding="utf-8")
    return DemoResult(
        output_dir=out,
        db_path=db_path,
        report_path=report_path,
        example_dir=example,
        sync=report,
        data=data,
    )
