"""Pages far larger than asked keep memory bounded by one page (issue 16 §1).

A Routing API that ignores ``limit`` answers every request with all routes from the offset on
(the spec allows at most 500 per page).  Before the fix, such pages grew the sync's memory to
gigabytes; now each page is cut to the limit, the rest is asked for next, and the process
holds about one page at a time.  Measured in fresh processes: the peak RSS a sync through the
engine into SQLite adds grows with the largest answer, not with the number of answers read.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, tempfile
    import efa_fitconnect.plugin
    from efa_fitconnect.testing import RoutingApiFake
    from efa_core.config import parse_config
    from efa_core.store import open_store
    from efa_core.sync import SyncEngine
    from efa_core.testing import isolated_registry
    from efa_core.testing.servers import serve_asgi

    KEY, ARS, TOTAL = "99123456760610", "16055", int(sys.argv[1])
    fake = RoutingApiFake()
    for n in range(TOTAL):
        fake.add_route(KEY, ARS, name=f"Amt {n}")
    routes = fake.routes[KEY, "ars", ARS]

    async def ignores_limit(scope, receive, send):  # every route from the offset on
        if scope["type"] != "http":
            return
        query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if p)
        offset = int(query.get("offset", "0"))
        page = routes[offset:]
        body = json.dumps(
            {"count": len(page), "offset": offset, "totalCount": TOTAL, "routes": page}
        ).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    registry = isolated_registry()
    registry.register(efa_fitconnect.plugin, name="fitconnect")
    with serve_asgi(ignores_limit) as url, tempfile.TemporaryDirectory() as tmp:
        table = {
            "type": "fitconnect",
            "base_url": url + "/v1",
            "pairs": [f"{KEY}@{ARS}"],
            "use_store": False,
            "page_size": 500,
            "http": {"rate_limit_per_second": 1000},
        }
        store = open_store(f"sqlite:///{tmp}/efa.db")
        engine = SyncEngine(store, registry, parse_config({"connectors": {"routing": table}}))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report = engine.run()["routing"]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        store.close()
    print(before // 1024, peak // 1024, report.added, report.ok)
    """
)


def _growth(total: int) -> int:
    """MiB of peak RSS a sync of *total* routes adds, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(total)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=Path(__file__).parent,
    ).stdout.split()
    before_mib, peak_mib, added, ok = int(out[0]), int(out[1]), int(out[2]), out[3]
    assert (ok, added) == ("True", total)
    return peak_mib - before_mib


@pytest.mark.slow
def test_pages_much_larger_than_asked_keep_memory_bounded_by_one_page() -> None:
    # 10 answers of up to 5,000 routes (27,500 parsed) against 20 of up to 10,000 (105,000):
    # memory held by one page doubles, memory held by every page read nearly quadruples.
    small, large = _growth(5_000), _growth(10_000)
    print(f"oversized pages: peak RSS +{small} MiB (5,000 routes), +{large} MiB (10,000)")
    assert large < 3 * small, (small, large)
    assert large < 400, large  # the largest answer is about 8 MiB of JSON
