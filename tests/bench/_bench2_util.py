"""Helpers shared by ``bench_xzufi.py`` and ``bench_rollout.py`` (not a test module).

The machine description reuses :func:`bench_store.machine` (the store benchmarks' helper)
when it can be imported and adds what these benchmarks need on top: ``nproc``, ``free -g``,
the lxml / libxml2 versions.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def median(values: Sequence[float]) -> float:
    """The median of *values* (NaN for none)."""
    return statistics.median(values) if values else float("nan")


def interleaved_summary(
    results: Sequence[dict[str, Any]], ratios: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """Medians per task, and per named ratio ``a / b`` the median of its per-repetition ratios.

    *results* are ``{"task", "rep", "seconds"}`` dicts of interleaved repetitions; a ratio is
    taken within each repetition (same machine load), never across them.
    """
    tasks = sorted({r["task"] for r in results})
    by = {t: [r for r in results if r["task"] == t] for t in tasks}
    medians = {
        t: {"runs": len(v), "seconds": median([r["seconds"] for r in v])} for t, v in by.items()
    }

    def ratio(a: str, b: str) -> dict[str, Any]:
        per = []
        for rep in sorted({r["rep"] for r in results}):
            x = [r["seconds"] for r in by.get(a, []) if r["rep"] == rep]
            y = [r["seconds"] for r in by.get(b, []) if r["rep"] == rep]
            if x and y:
                per.append(x[0] / y[0])
        return {"median": median(per), "per_rep": per}

    return {
        "medians": medians,
        "ratios": {name: ratio(a, b) for name, (a, b) in ratios.items()},
    }


def peak_rss_mib() -> float | None:
    """This process's peak resident set size in MiB (``VmHWM``; Linux only)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def run_child(cmd: Sequence[str]) -> dict[str, Any]:
    """Run *cmd* (which prints one JSON object as its last line); add the child's peak RSS.

    ``rss_mib`` is the ``VmHWM`` the child reports (``hwm_mib``), else its ``ru_maxrss``
    from :func:`os.wait4` (which may include the pre-exec copy of this process).
    """
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(list(cmd), stdout=out, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}:\n{text[-2000:]}")
    result: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    result["ru_maxrss_mib"] = usage.ru_maxrss / 1024
    result["rss_mib"] = result.get("hwm_mib") or result["ru_maxrss_mib"]
    return result


def machine_info() -> dict[str, Any]:
    """Describe the machine and the versions measured."""
    info: dict[str, Any] = {}
    try:
        from bench_store import machine

        info.update(machine())
    except Exception:  # the other benchmark module is optional here
        import sqlite3

        info.update(
            python=platform.python_version(),
            platform=platform.platform(),
            sqlite=sqlite3.sqlite_version,
        )
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["nproc"] = subprocess.run(
            ["nproc"], capture_output=True, text=True, check=True
        ).stdout.strip()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lines = subprocess.run(
            ["free", "-g"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        info["free_g"] = next((ln.split() for ln in lines if ln.startswith("Mem:")), None)
    with contextlib.suppress(ImportError):
        from lxml import etree

        info["lxml"] = ".".join(map(str, etree.LXML_VERSION))
        info["libxml2"] = ".".join(map(str, etree.LIBXML_VERSION))
    with contextlib.suppress(OSError):
        info["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    return info
