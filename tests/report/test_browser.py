"""The HTML report in headless Chromium, in German and English: no console errors, charts drawn.

Skips without Chromium, except under ``CI`` (there it fails: install ``chromium``).  The
screenshot is saved in the test's tmp directory and its path printed (``pytest -s``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from efa_core.plugins import PluginRegistry
from efa_core.report import collect_report, render_html
from efa_core.store import Store

from .helpers import NOW

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str:
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = "Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run the browser test")
    pytest.skip(message)


def _run(browser: str, tmp_path: Path, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,2000",
        *extra,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


#: The one finding of the small store, as its row of the findings table shows it.
_FINDING = {
    "de": (
        "<td>anmeldung: 16061 hat vor 486 Tagen einen Vertrag geschlossen (seit 01.02.2024), "
        "aber keine Zuständigkeit dafür ist veröffentlicht (Grenze 90 Tage)</td>"
        "<td>Vereinbarung ",
        "days ago",
    ),
    "en": (
        "<td>anmeldung: 16061 contracted 486 days ago (since 2024-02-01) but no responsibility "
        "is published for it (limit 90 days)</td><td>agreement ",
        "Tagen",
    ),
}


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("de", ("<h2>Rollout-Trichter</h2>", ">Vertrag geschlossen</span>", "seit 01.02.2024")),
        ("en", ("<h2>Rollout funnel</h2>", ">contracted</span>", "since 2024-02-01")),
    ],
)
def test_report_renders_in_chromium(
    tmp_path: Path,
    small_store: Store,
    registry: PluginRegistry,
    lang: str,
    labels: tuple[str, ...],
) -> None:
    browser = _chromium()
    page = tmp_path / "report.html"
    data = collect_report(small_store, registry.finding_rules(), land="TH", now=NOW)
    page.write_text(render_html(data, lang=lang), encoding="utf-8")

    dumped = _run(browser, tmp_path, page, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert _console_lines(dumped.stderr) == []
    dom = dumped.stdout
    # the escaped service name stayed text: the document's title was not changed by it
    assert "<title>EfA-Rollout Thüringen</title>" in dom
    # the language the browser sees (hyphenation, screen readers) and the labels in it
    assert f'<html lang="{lang}">' in dom
    for label in labels:
        assert label in dom, label
    # the findings column speaks the page's language too: sentence, dates and record kinds
    findings = re.search(r'<table id="table-findings".*?</table>', dom, re.S)
    assert findings is not None
    row, other = _FINDING[lang]
    assert row in findings.group(0)
    assert other not in findings.group(0)
    assert "pwned" not in re.sub(r"&lt;script&gt;.*?&lt;/script&gt;", "", dom)
    for chart in ("chart-funnel", "chart-coverage", "chart-timeline"):
        svg = re.search(rf'<svg id="{chart}".*?</svg>', dom, re.S)
        assert svg is not None, f"{chart} missing"
        widths = [float(w) for w in re.findall(r'<rect[^>]* width="([\d.]+)"', svg.group(0))]
        paths = re.findall(r'<path[^>]* d="(M[^"]+)"', svg.group(0))
        assert any(w > 0 for w in widths) or paths, f"{chart} draws nothing"

    shot = tmp_path / "report.png"
    taken = _run(browser, tmp_path, page, f"--screenshot={shot}")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert _console_lines(taken.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error produces a console line."""
    browser = _chromium()
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>notDefined();</script></body></html>")
    result = _run(browser, tmp_path, page, "--dump-dom")
    assert any("notDefined" in line for line in _console_lines(result.stderr))
