"""XZuFi benchmark: parse + map throughput vs raw lxml, and peak RSS over file size.

    python tests/bench/bench_xzufi.py            # 100 MB x 3 reps (two files), then 1 GB
    python tests/bench/bench_xzufi.py --quick    # 20 MB x 3 reps (two files), then 100 MB
    python tests/bench/bench_xzufi.py --resync   # xzufi-dir re-sync, fingerprints on/off

Two files of the same size are measured with the same repetitions: ``small``, from the
generator (:func:`efa_xzufi.testing.generate_transfer_message`), and ``writer``, written by
efa-xzufi's own writer (:func:`efa_xzufi.write_transfer_message`, Leistungen included, every
Zuständigkeit with ``versionsinformation``, minified as the writer writes it).

Files are generated into a temporary directory with
:func:`efa_xzufi.testing.generate_transfer_message` (streaming, constant memory) and deleted
afterwards.  Every measurement runs in a fresh subprocess (``worker`` sub-command); the clock
covers only the iteration over the file (not interpreter start-up or imports), and the peak
RSS is the child's ``VmHWM``.  Repetitions are interleaved (the order of the contenders
rotates per repetition) and ratios are computed per repetition, then their median taken.
The target is stated on wall-clock time; each worker also reports its CPU time
(``time.process_time``), and the ratios are given on both, because on a shared machine the
wall clock mostly measures how much of a core the child got.

Contenders (``worker <task> <file>``):

* ``raw``: the baseline of the issue: ``lxml.etree.iterparse(f, events=("end",))`` with
  default options over **every** element; each element is ``clear()``-ed and its preceding
  siblings are deleted from its parent (as the parser does for entries), so memory stays
  flat.  Nothing is read from the elements.
* ``raw-entries``: a stricter baseline: ``iterparse`` with the parser's own options (no
  entities, no network, no DTD, comments/PIs removed) and ``tag=("{*}schreibe",
  "{*}loesche")``, so that Python sees only the entries (libxml2 still builds every
  element); each entry is cleared and its preceding siblings deleted.  This is what
  ``efa_xzufi._xml.iter_entries`` does without the guarded stream and the checks.
* ``parse``: ``for item in efa_xzufi.parse_transfer_message(path)`` to the end: hardened
  streaming parse plus mapping to efa-core changes (``Upsert(Responsibility)``, services,
  organisation units, raw objects).  No store writes.
* ``parse-noservices`` (growing-catalogue file only, for the RSS): the same with
  ``services=False``, so the mapper keeps no LeiKa keys per Onlinedienst until the end.

Files: ``small`` and ``large`` use the generator's defaults, a realistic catalogue that stops
growing at 200,000 Zuständigkeiten (2,000 Leistungen, 200 Onlinedienste and 200 OEs, each
Onlinedienst serving 5 Leistungen; see :func:`efa_xzufi.testing.default_catalogue`), so the
large file has ten times the Zuständigkeiten, not more (Onlinedienst, LeiKa key) pairs.
``small-growing`` / ``large-growing`` (:func:`growing_catalogue`) are the stress case: the
catalogue grows with the file and every Zuständigkeit of an Onlinedienst is a new
(Onlinedienst, LeiKa key) pair, so what the mapper keeps until the end (each Onlinedienst's
LeiKa keys, 8 bytes per pair) grows with the file by construction.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _bench2_util import machine_info, median, peak_rss_mib, run_child  # noqa: E402

TASKS = ("raw", "raw-entries", "parse")
#: Extra contender on the large file: parse + map without services (``services=False``).
NO_SERVICES = "parse-noservices"
MB = 1_000_000


# -- workers --------------------------------------------------------------------------------


def _raw(path: str) -> int:
    from lxml import etree

    n = 0
    with open(path, "rb") as f:
        for _event, el in etree.iterparse(f, events=("end",)):
            n += 1
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    return n


def _raw_entries(path: str) -> int:
    from lxml import etree

    n = 0
    with open(path, "rb") as f:
        for _event, el in etree.iterparse(
            f,
            events=("end",),
            tag=("{*}schreibe", "{*}loesche"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        ):
            n += 1
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    return n


def _parse(path: str) -> int:  # the contender measured against the baselines
    from efa_xzufi import parse_transfer_message

    n = 0
    for _item in parse_transfer_message(path):
        n += 1
    return n


def _parse_noservices(path: str) -> int:
    from efa_xzufi import parse_transfer_message

    n = 0
    for _item in parse_transfer_message(path, services=False):
        n += 1
    return n


def worker(task: str, path: str) -> None:
    """Run one contender over *path*; print seconds, items and peak RSS as JSON."""
    fn = {
        "raw": _raw,
        "raw-entries": _raw_entries,
        "parse": _parse,
        NO_SERVICES: _parse_noservices,
    }[task]
    if task.startswith("parse"):
        import efa_xzufi  # noqa: F401 - import before the clock starts
    else:
        from lxml import etree  # noqa: F401
    started = time.perf_counter()
    cpu_started = time.process_time()
    items = fn(path)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    size = Path(path).stat().st_size
    print(
        json.dumps(
            {
                "task": task,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "items": items,
                "bytes": size,
                "mb_per_s": size / MB / seconds,
                "hwm_mib": peak_rss_mib(),
            }
        ),
        flush=True,
    )


# -- orchestration ----------------------------------------------------------------------------


def measure(task: str, path: Path, label: str, rep: int) -> dict[str, Any]:
    """Run *task* over *path* in a fresh subprocess."""
    result = run_child([sys.executable, str(Path(__file__)), "worker", task, str(path)])
    result.update(label=label, rep=rep)
    print(
        f"  {label:13s} rep {rep} {task:16s} {result['seconds']:7.2f} s"
        f" (cpu {result['cpu_seconds']:6.2f} s) {result['mb_per_s']:6.1f} MB/s"
        f" items {result['items']:>9d}"
        f" rss {result['rss_mib']:6.1f} MiB",
        flush=True,
    )
    return result


def growing_catalogue(n: int) -> dict[str, int]:
    """The stress case: a catalogue that grows with the number *n* of Zuständigkeiten.

    N/100 Leistungen, N/1000 Onlinedienste and OEs (the generator's defaults before they
    were capped), and every Onlinedienst may serve every Leistung, so each of its ~500
    Zuständigkeiten is a new (Onlinedienst, LeiKa key) pair: N/2 pairs in all.
    """
    n_leistungen = max(1, n // 100)
    return {
        "n_leistungen": n_leistungen,
        "n_onlinedienste": max(1, n // 1000),
        "n_organisationseinheiten": max(1, n // 1000),
        "leistungen_per_onlinedienst": n_leistungen,
    }


def _catalogue(n: int, growing: bool) -> dict[str, int]:
    from efa_xzufi.testing import default_catalogue

    if growing:
        return growing_catalogue(n)
    leistungen, onlinedienste, units = default_catalogue(n)
    return {
        "n_leistungen": leistungen,
        "n_onlinedienste": onlinedienste,
        "n_organisationseinheiten": units,
    }


def generate(path: Path, megabytes: float, *, growing: bool = False) -> dict[str, Any]:
    """Write a generated message of about *megabytes* MB; return what was written.

    Without *growing* the generator's defaults apply (a realistic catalogue, capped); with
    it, :func:`growing_catalogue`.
    """
    from efa_xzufi.testing import generate_transfer_message

    # size = catalogue + n * marginal size of a Zuständigkeit (estimated with a tiny
    # catalogue), solved for n twice because the catalogue depends on n
    tiny = {"n_leistungen": 1, "n_onlinedienste": 1, "n_organisationseinheiten": 1}
    one = generate_transfer_message(io.BytesIO(), 20_000, **tiny).size
    marginal = (generate_transfer_message(io.BytesIO(), 40_000, **tiny).size - one) / 20_000
    n = max(1, int(megabytes * MB / marginal))
    for _ in range(2):
        overhead = generate_transfer_message(io.BytesIO(), 0, **_catalogue(n, growing)).size
        n = max(1, int((megabytes * MB - overhead) / marginal))
    options = _catalogue(n, growing)
    started = time.perf_counter()
    info = generate_transfer_message(path, n, **options)
    seconds = time.perf_counter() - started
    print(
        f"generated {path.name}: {info.size / MB:.1f} MB, {info.responsibilities} Zuständigkeiten,"
        f" {info.leistungen} Leistungen, {info.onlinedienste} Onlinedienste in {seconds:.1f} s",
        flush=True,
    )
    return {
        "bytes": info.size,
        "responsibilities": info.responsibilities,
        "leistungen": info.leistungen,
        "onlinedienste": info.onlinedienste,
        "catalogue": options,
        "seconds": seconds,
    }


def _writer_records(n: int) -> Any:
    """The generator's Zuständigkeiten as records, each with a modification time."""
    import datetime as dt

    from efa_xzufi.testing import ars_of, default_catalogue, leika_key_of

    from efa_core.ids import Ars, LeikaKey
    from efa_core.model import Responsibility, TargetKind

    n_leistungen, n_onlinedienste, n_units = default_catalogue(n)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for number in range(n):
        online = number % 2 == 0
        half = number // 2
        if online:
            target = f"S16000_Onlinedienst_OD{half % n_onlinedienste}"
            scheme, kind = "ZustaendigkeitOnlinedienst", TargetKind.ONLINEDIENST
        else:
            target = f"S16000_Organisationseinheit_OE{half % n_units}"
            scheme, kind = "ZustaendigkeitOrganisationseinheit", TargetKind.ORGANISATIONSEINHEIT
        leistung = number % n_leistungen
        yield Responsibility(
            leika_key=LeikaKey(leika_key_of(leistung)),
            ars=Ars(ars_of(number)),
            target_kind=kind,
            target_id=target,
            responsibility_id=f"S16000_{scheme}_Z{number}",
            leistung_id=f"S16000_Leistung_L{leistung}",
            role="01",
            modified_at=start + dt.timedelta(seconds=number * 7),
        )


def generate_writer(path: Path, megabytes: float) -> dict[str, Any]:
    """Write a message of about *megabytes* MB with efa-xzufi's writer; return what it holds."""
    from efa_xzufi import write_transfer_message
    from efa_xzufi.testing import default_catalogue, leika_key_of

    from efa_core.ids import LeikaKey
    from efa_core.model import Service

    probe = io.BytesIO()
    write_transfer_message(_writer_records(10_000), sender="bench", out=probe)
    n = max(1, int(megabytes * MB / (len(probe.getvalue()) / 10_000)))
    _, n_onlinedienste, _ = default_catalogue(n)
    services = [
        Service(
            key=f"S16000_Onlinedienst_OD{k}",
            name=f"Onlinedienst {k}",
            leika_keys=(LeikaKey(leika_key_of(k)),),
            url=f"https://od{k}.example.org/start",
        )
        for k in range(n_onlinedienste)
    ]
    started = time.perf_counter()
    summary = write_transfer_message(
        _writer_records(n), services, sender="bench", out=path, include_leistungen=True
    )
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    print(
        f"wrote {path.name}: {size / MB:.1f} MB, {summary.responsibilities} Zuständigkeiten, "
        f"{summary.leistungen} Leistungen, {summary.onlinedienste} Onlinedienste in "
        f"{seconds:.1f} s",
        flush=True,
    )
    return {
        "bytes": size,
        "responsibilities": summary.responsibilities,
        "leistungen": summary.leistungen,
        "onlinedienste": summary.onlinedienste,
        "seconds": seconds,
    }


def _resync_engine(store: Any, export: Path, fingerprints: bool) -> Any:
    import efa_xzufi.plugin

    from efa_core.config import parse_config
    from efa_core.sync import SyncEngine
    from efa_core.testing import isolated_registry

    registry = isolated_registry()
    registry.register(efa_xzufi.plugin, name="xzufi")
    table = {"type": "xzufi-dir", "path": str(export), "fingerprints": fingerprints}
    return SyncEngine(store, registry, parse_config({"connectors": {"lrs": table}}, env={}))


def resync(tmp: Path, n: int, reps: int) -> dict[str, Any]:
    """Sync an xzufi-dir export into SQLite, then re-sync it unchanged, fingerprints on/off.

    One store per setting, loaded once (timed as the full load); the re-syncs alternate
    between the two stores.  Times are wall and CPU (all threads) of ``engine.run()``.
    """
    from efa_xzufi.testing import generate_transfer_message

    from efa_core.store import open_store

    export = tmp / "export"
    export.mkdir()
    info = generate_transfer_message(export / "XZUFI1.xml", n)
    (export / "index.txt").write_text("XZUFI1.xml\n", encoding="utf-8")
    print(f"export: {info.size / MB:.1f} MB, {n} Zuständigkeiten", flush=True)
    stores = {fp: open_store(f"sqlite:///{tmp / f'fp-{fp}.db'}") for fp in (True, False)}
    runs: list[dict[str, Any]] = []

    def run(fp: bool, phase: str, rep: int) -> None:
        engine = _resync_engine(stores[fp], export, fp)
        started, cpu = time.perf_counter(), time.process_time()
        report = engine.run()["lrs"]
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        assert report.ok, report.error
        runs.append(
            {
                "fingerprints": fp,
                "phase": phase,
                "rep": rep,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "added": report.added,
                "unchanged": report.unchanged,
            }
        )
        print(
            f"  fingerprints={fp!s:5} {phase:6} rep {rep} {seconds:7.2f} s "
            f"(cpu {cpu_seconds:6.2f} s) added {report.added} unchanged {report.unchanged}",
            flush=True,
        )

    try:
        for fp in (True, False):
            run(fp, "load", 0)
        for rep in range(reps):
            for fp in (True, False) if rep % 2 == 0 else (False, True):
                run(fp, "resync", rep)
    finally:
        for store in stores.values():
            store.close()
    out: dict[str, Any] = {"n": n, "bytes": info.size, "runs": runs, "medians": {}}
    for fp in (True, False):
        mine = [r for r in runs if r["fingerprints"] is fp and r["phase"] == "resync"]
        out["medians"][f"resync fingerprints={fp}"] = {
            "seconds": median([r["seconds"] for r in mine]),
            "cpu_seconds": median([r["cpu_seconds"] for r in mine]),
        }
        load = next(r for r in runs if r["fingerprints"] is fp and r["phase"] == "load")
        out["medians"][f"load fingerprints={fp}"] = {
            "seconds": load["seconds"],
            "cpu_seconds": load["cpu_seconds"],
        }
    on = out["medians"]["resync fingerprints=True"]
    off = out["medians"]["resync fingerprints=False"]
    out["speedup"] = {
        "wall": off["seconds"] / on["seconds"],
        "cpu": off["cpu_seconds"] / on["cpu_seconds"],
    }
    return out


def summarize(results: list[dict[str, Any]], files: dict[str, Any]) -> dict[str, Any]:
    """Medians per (file, task), per-repetition throughput ratios (wall and CPU), RSS."""
    out: dict[str, Any] = {"files": files, "medians": {}, "ratios": {}, "rss_mib": {}}
    for label in files:
        mine = [r for r in results if r["label"] == label]
        for task in (*TASKS, NO_SERVICES):
            runs = [r for r in mine if r["task"] == task]
            if runs:
                out["medians"][f"{label}/{task}"] = {
                    "runs": len(runs),
                    "seconds": median([r["seconds"] for r in runs]),
                    "cpu_seconds": median([r["cpu_seconds"] for r in runs]),
                    "mb_per_s": median([r["mb_per_s"] for r in runs]),
                    "items": runs[0]["items"],
                }
                out["rss_mib"][f"{label}/{task}"] = max(r["rss_mib"] for r in runs)
        for base in ("raw", "raw-entries"):
            for clock, suffix in (("seconds", ""), ("cpu_seconds", "_cpu")):
                per_rep = []
                for rep in sorted({r["rep"] for r in mine}):
                    a = [r for r in mine if r["rep"] == rep and r["task"] == "parse"]
                    b = [r for r in mine if r["rep"] == rep and r["task"] == base]
                    if a and b:
                        per_rep.append(b[0][clock] / a[0][clock])
                if per_rep:
                    out["ratios"][f"{label}/parse_vs_{base}{suffix}"] = {
                        "median": median(per_rep),
                        "per_rep": per_rep,
                    }
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the benchmark (or one worker task)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "worker":
        worker(argv[1], argv[2])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 MB and 100 MB files")
    parser.add_argument("--reps", type=int, default=3, help="repetitions on the small file")
    parser.add_argument("--small-mb", type=float, default=None, help="default 100 (quick: 20)")
    parser.add_argument("--large-mb", type=float, default=None, help="default 1000 (quick: 100)")
    parser.add_argument(
        "--large-reps", type=int, default=1, help="parse runs on the large file (RSS)"
    )
    parser.add_argument(
        "--no-growing", action="store_true", help="skip the growing-catalogue files (RSS only)"
    )
    parser.add_argument("--no-large", action="store_true", help="skip the large file (RSS only)")
    parser.add_argument(
        "--resync", action="store_true", help="only the xzufi-dir re-sync, fingerprints on/off"
    )
    parser.add_argument("--resync-n", type=int, default=100_000, help="Zuständigkeiten")
    parser.add_argument("--tmp", default=None, help="where to write the files (default: TMPDIR)")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    small_mb = args.small_mb or (20 if args.quick else 100)
    large_mb = args.large_mb or (100 if args.quick else 1000)
    info = machine_info()
    print(json.dumps(info), flush=True)
    if args.resync:
        with tempfile.TemporaryDirectory(prefix="efa-bench-xzufi-", dir=args.tmp) as tmp:
            outcome = resync(Path(tmp), args.resync_n, args.reps)
        document = {"machine": info, **outcome}
        if args.out:
            Path(args.out).write_text(json.dumps(document, indent=2, default=str))
        print(json.dumps({k: v for k, v in document.items() if k != "runs"}, indent=2))
        return 0
    results: list[dict[str, Any]] = []
    files: dict[str, Any] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="efa-bench-xzufi-", dir=args.tmp) as tmp:
        small = Path(tmp) / "small.xml"
        files["small"] = generate(small, small_mb)
        writer = Path(tmp) / "writer.xml"
        files["writer"] = generate_writer(writer, small_mb)
        for rep in range(args.reps):
            order = TASKS[rep % len(TASKS) :] + TASKS[: rep % len(TASKS)]
            for label, path in (("small", small), ("writer", writer))[:: 1 if rep % 2 else -1]:
                for task in order:
                    results.append(measure(task, path, label, rep))
        small.unlink()
        writer.unlink()
        if not args.no_large:
            large = Path(tmp) / "large.xml"
            files["large"] = generate(large, large_mb)
            # one baseline run on the large file too: its RSS shows what lxml alone needs
            for rep in range(args.large_reps):
                results.append(measure("parse", large, "large", rep))
                if rep == 0:
                    results.append(measure("raw-entries", large, "large", rep))
            large.unlink()
        if not args.no_growing:
            # the stress case: (Onlinedienst, LeiKa key) pairs grow with the file
            for label, megabytes in (("small-growing", small_mb), ("large-growing", large_mb)):
                path = Path(tmp) / f"{label}.xml"
                files[label] = generate(path, megabytes, growing=True)
                results.append(measure("parse", path, label, 0))
                if label == "large-growing":
                    results.append(measure(NO_SERVICES, path, label, 0))
                path.unlink()
    summary = summarize(results, files)
    summary["total_seconds"] = time.perf_counter() - started
    document = {"machine": info, "results": results, **summary}
    if args.out:
        Path(args.out).write_text(json.dumps(document, indent=2, default=str))
        print(f"results written to {args.out}")
    print(json.dumps({"machine": info, **summary}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
