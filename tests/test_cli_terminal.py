"""No control or escape sequence from the data reaches the terminal (issue 14 §3).

A record's text, a quarantined line's raw input or an error naming a value could carry an
OSC 8 hyperlink, an OSC 52 clipboard write, cursor movement or a bidi override; ``efa
report``, ``quarantine``, ``history``, ``status`` and errors printed them as they were.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from efa_core.cli import main
from efa_core.cli._terminal import SafeStream, for_terminal
from efa_core.plugins import PluginRegistry

OSC8 = "\x1b]8;;https://evil.example/\x07klick\x1b]8;;\x1b\\"
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
C1 = "\x9b2J\x9d0;title\x9c"
BIDI = "\u202egnuldlemnA"

#: Anything that a terminal would act on (colours excepted, none are asked for here).
UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"Anmeldung {OSC8} Ende", "Anmeldung klick Ende"),
        (f"a{OSC52}b", "ab"),
        (f"x{C1}y", "x\\u009b2J\\u009d0;title\\u009cy"),
        ("\x1b[2J\x1b[1;1Hweg\x1b7\x1bc", "weg"),
        ("ok\rüberschrieben\r\nnext\tcell", "oküberschrieben\r\nnext\tcell"),
        (BIDI, "\\u202egnuldlemnA"),
        ("\x1b]52;c;unterminated\nnext line", "\nnext line"),
        ("Zeile\x00mit\x07Glocke\x7f", "ZeilemitGlocke\\u007f"),
    ],
)
def test_for_terminal_removes_sequences_and_controls(text: str, shown: str) -> None:
    assert for_terminal(text) == shown


def test_colours_may_be_kept_but_nothing_else() -> None:
    text = f"\x1b[1;31mrot\x1b[0m {OSC8}"
    assert for_terminal(text, keep_colour=True) == "\x1b[1;31mrot\x1b[0m klick"
    out = io.StringIO()
    assert SafeStream(out).write(text) == len(text)
    assert out.getvalue() == "\x1b[1;31mrot\x1b[0m klick"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("EFA_DB", "EFA_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    lines = [
        json.dumps(
            {
                "kind": "service",
                "key": "anmeldung",
                "name": f"Anmeldung {OSC8} {OSC52}",
                "leika_keys": ["99115005104000"],
            }
        ),
        json.dumps(
            {
                "kind": "availability",
                "leika_key": "99115005104000",
                "ars": "16055",
                "online": True,
                "ozg_name": f"Melde{C1}wesen",
                "area_name": f"Weimar{BIDI}",
            }
        ),
        # not JSON (a raw control character in a string): quarantined with its raw line
        '{"kind": "area", "ars": "16", "name": "' + OSC52 + '"}',
    ]
    (tmp_path / "notes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "efa.toml").write_text(
        '[store]\nurl = "sqlite:///efa.db"\n\n'
        '[connectors.notes]\ntype = "records-file"\npath = "notes.jsonl"\n',
        encoding="utf-8",
    )
    return tmp_path


def _run(*args: str) -> str:
    registry = PluginRegistry(entrypoints=False, env={})
    result = CliRunner().invoke(main, list(args), obj=registry, catch_exceptions=False)
    return result.output


def test_what_efa_prints_carries_no_sequence_from_the_data(project: Path) -> None:
    assert "notes" in _run("sync")
    outputs = {
        "status": _run("status"),
        "quarantine": _run("quarantine", "--all"),
        "history": _run("history", "99115005104000", "--prefix"),
        "report": _run("report", "--format", "table"),
        "explain": _run("explain", "service", "anmeldung"),
        "error": _run("status", "--db", f"/nowhere/{OSC8}/efa.db"),
    }
    for name, out in outputs.items():
        assert not UNSAFE.findall(out), (name, out)
    # the data is still shown, without its sequences
    assert "Melde\\u009b2J\\u009d0;title\\u009cwesen" in outputs["history"]
    assert "Weimar\\u202egnuldlemnA" in outputs["history"]
    assert "Rohdaten:" in outputs["quarantine"]  # German by default
    assert "klick" in outputs["error"]
    # JSON escapes control characters itself; the values are kept
    history = json.loads(_run("history", "99115005104000", "--prefix", "--json"))
    assert history[0]["payload"]["area_name"] == f"Weimar{BIDI}"


def test_lines_printed_under_the_progress_bars_are_filtered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On a terminal rich shows what others print (log lines) above its bars, through its
    # own console, which writes past the filter.
    import sys

    from rich.console import Console

    from efa_core.cli._terminal import safe_output
    from efa_core.cli.sync import _Progress

    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    with safe_output(), _Progress(enabled=True) as bar:
        assert bar.progress is not None
        print(f"warning: {OSC52}name{OSC8}", file=sys.stderr)
    assert "warning: nameklick" in terminal.getvalue()
    assert "\x1b]52" not in terminal.getvalue()
    assert "\x1b]8" not in terminal.getvalue()


def test_an_unexpected_errors_traceback_is_filtered_too() -> None:
    # An uncaught exception is printed by Python after efa's output filter has ended.
    import subprocess
    import sys

    program = (
        "from efa_core.cli import main\n"
        "@main.command('boom')\n"
        "def boom():\n"
        f"    raise RuntimeError('bad ' + {OSC52!r} + ' data')\n"
        "main(['boom'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "RuntimeError: bad  data" in done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert not UNSAFE.findall(done.stderr)
