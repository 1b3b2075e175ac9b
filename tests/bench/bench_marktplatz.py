"""efa-marktplatz benchmark: source fingerprints on a re-sync of a large interest list.

    python tests/bench/bench_marktplatz.py              # 100,000 rows x 3 repetitions
    python tests/bench/bench_marktplatz.py --quick      # 20,000 rows x 2 repetitions

The data: an interest/contract list (``;``-separated, UTF-8 with BOM, a title line and a
footer, as the registries export it) of ``--rows`` agreement rows, one per municipality x
service (the first ``rows / 100`` municipalities of the real register in
``../shared/data/`` when it is there, else synthetic ARS; 100 services), statuses and dates
varied; and an offers export of the 100 services.  Version 1 changes 1 % of the agreement
rows (a later status and date).

Contenders, each a full ``SyncEngine`` run of the ``marktplatz`` connector into SQLite, in
its own subprocess, interleaved per repetition (the order rotates):

* ``read``: the floor: stream every row of both files through ``efa_core.tabular`` (no
  store, no building).
* ``load``: the first sync of version 0 into an empty store (fingerprints on: they are
  computed and stored).
* ``load-plain``: the same with ``fingerprints = false``.
* ``resync-plain``: version 1 into a store holding version 0, ``fingerprints = false``:
  every row built, validated and compared again.
* ``resync``: the same with fingerprints (the store was loaded with them): only the rows of
  changed agreements are built.
* ``noop``: version 0 again into that store, with fingerprints.

The stores to re-sync into are loaded once per repetition (not timed) and copied for each
contender.  The clock covers the sync (or the read) only, not start-up and imports; peak
RSS is the child's ``VmHWM``.  Ratios are taken per repetition, then their median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench2_util import ROOT, machine_info, median, peak_rss_mib, run_child  # noqa: E402

CONTENDERS = ("read", "load", "load-plain", "resync-plain", "resync", "noop")
SERVICES = 100
REGISTER = Path(
    os.environ.get(
        "EFA_BENCH_REGISTER", ROOT.parent / "shared" / "data" / "gemeindeverzeichnis-2020q4.csv"
    )
)
_STATES = ("Interessenbekundung", "Abstimmung", "Vertragsschluss")


# -- data -----------------------------------------------------------------------------------


def _municipalities(count: int) -> list[tuple[str, str]]:
    """``(ARS, name)`` of *count* Gemeinden of the real register (synthetic if it is absent)."""
    found: list[tuple[str, str]] = []
    if REGISTER.is_file():
        from efa_core.areas import read_register_csv

        for row in read_register_csv(REGISTER):
            if len(str(row.ars)) == 12:
                found.append((str(row.ars), row.name))
                if len(found) == count:
                    return found
    return [(f"{16051000000 + n * 1000:012d}", f"Gemeinde {n}") for n in range(count)]


def write_data(folder: Path, rows: int) -> tuple[Path, Path, Path]:
    """Write the offers export and versions 0 and 1 of the interest list."""
    offers = folder / "angebote.csv"
    with offers.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("Angebots-ID;Leistung;LeiKa-Schlüssel;Umsetzendes Land;Betreiber;Anbieter\r\n")
        for n in range(SERVICES):
            out.write(
                f"MP-{n:04d};Leistung {n};{99000000000000 + n * 1000};Thüringen;"
                f"Betreiber {n % 7};govdigital\r\n"
            )
    areas = _municipalities(max(1, rows // SERVICES))
    paths = []
    for version in (0, 1):
        path = folder / f"interessen-v{version}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            out.write("EfA-Marktplatz, Export Interessenbekundungen vom 05.11.2024\r\n")
            out.write("Angebots-ID;Leistung;Nachnutzer;ARS;Status;Datum;Anbieter\r\n")
            for n in range(rows):
                ars, name = areas[n // SERVICES % len(areas)]
                service = n % SERVICES
                state, day = _STATES[n % 3], 1 + n % 28
                if version == 1 and n % 100 == 42:  # 1 % of the rows: later status and date
                    state, day = "Vertragsschluss", 28
                out.write(
                    f"MP-{service:04d};Leistung {service};{name};{ars};{state};"
                    f"{day:02d}.06.2024;FITKO\r\n"
                )
            out.write(f"Summe: {rows} Vorgänge\r\n")
        paths.append(path)
    return offers, paths[0], paths[1]


# -- workers --------------------------------------------------------------------------------


def _sync(db: str, offers: str, agreements: str, fingerprints: bool) -> dict[str, Any]:
    from efa_core.config import parse_config
    from efa_core.plugins import PluginRegistry
    from efa_core.store import open_store
    from efa_core.sync import SyncEngine

    table = {
        "type": "marktplatz",
        "offers": offers,
        "agreements": agreements,
        "fingerprints": fingerprints,
        "batch_size": 5000,
    }
    config = parse_config({"connectors": {"mp": table}}, env={})
    with open_store(f"sqlite:///{db}") as store:
        engine = SyncEngine(store, PluginRegistry(env={}), config)
        start, cpu = time.perf_counter(), time.process_time()
        report = engine.run(allow_shrink=True)["mp"]
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    if not report.ok:
        raise SystemExit(report.error)
    return {"seconds": seconds, "cpu": cpu_seconds, "counts": report.counts()}


def _read(offers: str, agreements: str) -> dict[str, Any]:
    from efa_marktplatz.columns import AGREEMENTS, OFFERS

    from efa_core.tabular import open_table

    start, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for path, schema in ((offers, OFFERS), (agreements, AGREEMENTS)):
        with open_table(path, schema) as table:
            for row in table:
                row.values()
                rows += 1
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "counts": {"rows": rows},
    }


def worker(argv: list[str]) -> None:
    """``worker <task> <db> <offers> <agreements>``: run one contender, print JSON."""
    task, db, offers, agreements = argv
    if task == "read":
        result = _read(offers, agreements)
    else:
        result = _sync(db, offers, agreements, fingerprints=not task.endswith("plain"))
    result["hwm_mib"] = peak_rss_mib()
    print(json.dumps(result))


# -- orchestration --------------------------------------------------------------------------


def _child(task: str, db: Path, offers: Path, agreements: Path) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__)), "worker", task, str(db), str(offers)]
    return run_child([*cmd, str(agreements)])


def repetition(folder: Path, rep: int, files: tuple[Path, Path, Path]) -> dict[str, Any]:
    """Run every contender once, in an order rotated by *rep*; return their results."""
    offers, v0, v1 = files
    loaded = {}
    for name, task in (("fp", "load"), ("plain", "load-plain")):  # the stores to re-sync into
        db = folder / f"loaded-{name}.db"
        db.unlink(missing_ok=True)
        _child(task, db, offers, v0)
        loaded[name] = db
    order = CONTENDERS[rep % len(CONTENDERS) :] + CONTENDERS[: rep % len(CONTENDERS)]
    results: dict[str, Any] = {}
    for task in order:
        db = folder / f"{task}.db"
        db.unlink(missing_ok=True)
        if task.startswith(("resync", "noop")):
            shutil.copyfile(loaded["plain" if task.endswith("plain") else "fp"], db)
        results[task] = _child(task, db, offers, v0 if task == "noop" else v1)
        db.unlink(missing_ok=True)
    return results


def main() -> None:
    """Measure and print a summary (JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 2 repetitions")
    args = parser.parse_args()
    rows, reps = (20_000, 2) if args.quick else (args.rows, args.reps)
    with tempfile.TemporaryDirectory(prefix="bench-marktplatz-") as tmp:
        folder = Path(tmp)
        files = write_data(folder, rows)
        runs = [repetition(folder, rep, files) for rep in range(reps)]
    summary: dict[str, Any] = {"rows": rows, "reps": reps, "machine": machine_info()}
    for task in CONTENDERS:
        summary[task] = {
            "seconds": median([r[task]["seconds"] for r in runs]),
            "cpu": median([r[task]["cpu"] for r in runs]),
            "rss_mib": max(r[task]["rss_mib"] for r in runs),
            "counts": runs[-1][task]["counts"],
        }
    ratios = {
        "load / resync": ("load", "resync"),
        "resync-plain / resync": ("resync-plain", "resync"),
        "load / noop": ("load", "noop"),
        "noop / read": ("noop", "read"),
        "load-plain / load": ("load-plain", "load"),
    }
    summary["ratios"] = {
        name: {
            "wall": median([r[a]["seconds"] / r[b]["seconds"] for r in runs]),
            "cpu": median([r[a]["cpu"] / r[b]["cpu"] for r in runs]),
        }
        for name, (a, b) in ratios.items()
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2:])
    else:
        main()
