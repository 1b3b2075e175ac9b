"""Run the examples of the documentation as tests (Sybil): docs cannot drift from the code.

Every Markdown page under ``docs/`` is read; in it

* a ```` ```python ```` block runs (a block that starts with ``>>>`` is a doctest).  The
  blocks of one page share their names, top to bottom.  ``await``, ``async with`` and
  ``async for`` may stand at the top level, as in an async function (the block then runs
  on a fresh event loop);
* a ```` ```console ```` block runs its commands: each line that starts with ``$ `` is one
  command (a line ending in ``\\`` continues on the next), the lines after it up to the next
  ``$ `` are its expected output.  ``...`` in the output matches anything (also across
  lines), runs of spaces match any whitespace.  A command with no expected output must
  succeed (exit status 0); one with expected output may fail, its output is the check.
  ``cd DIR`` and ``export NAME=VALUE`` change the page's working folder and environment;
  ``efa …`` runs in-process (fast), anything else in ``bash``;
* a page runs in a fresh folder with a clean environment (no ``EFA_*`` variables,
  ``COLUMNS=160``).  The folder is a copy of what ``efa demo`` leaves, with the store named
  ``efa.db``: an ``efa.toml`` with the example's sources and ``[store] url = "efa.db"``, the
  example's files, and the store filled with them.  So ``efa report``, ``efa findings`` or
  ``open_store("efa.db")`` work on the demo's data (services ``MP-101`` … ``MP-104`` in
  Thüringen); a page that wants an empty folder makes one (``mkdir x && cd x``).  The
  checkout is beside it as ``efa-core/`` (a link to the repository, as after ``git clone``),
  so a page can copy files shipped with the docs: ``cp -r efa-core/docs/tutorial/land .``.

A ```` ```text ```` block right after the MyST comment ``% check-output`` is the output the
Python block before it prints (``...`` and whitespace as for console blocks).

A block that cannot run in the test suite (installs from the network, a server that is not
there, a fragment of a larger file) is marked on the line before it with a MyST comment::

    % skip: next "why it cannot run"

``% skip: start`` / ``% skip: end`` mark several blocks.  Set-up code a reader need not see
goes into ``% invisible-code-block: python`` comments.  Blocks of other languages
(``toml``, ``text``, ``json`` …) are not run.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from sybil import Example, Region, Sybil
from sybil.evaluators.python import pad
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer
from sybil.parsers.myst import CodeBlockParser, PythonCodeBlockParser, SkipParser

DOCS = Path(__file__).parent

collect_ignore_glob = ["_build/*", "examples/*/tests/*", "examples/*/src/*", "conf.py"]

#: Variables of the caller's environment that would change what the examples do.
_CLEARED = re.compile(r"EFA_.*|COLUMNS|LINES|FORCE_COLOR|NO_COLOR|CLICOLOR.*|PGPASSWORD|PY_COLORS")
#: Shell syntax that the in-process runner cannot give its meaning.
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?\[\]{}~]")
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@attrs.define
class _Page:
    """The state of one page: its working folder and environment."""

    cwd: Path
    env: dict[str, str]


@attrs.frozen
class Command:
    """One ``$ command`` of a console block with the output it should print."""

    line: int
    command: str
    expected: str


def parse_console(source: str) -> list[Command]:
    """Split a console block into commands and their expected output."""
    commands: list[Command] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        text = lines[index]
        if not text.startswith("$ "):
            raise ValueError(
                f"line {index + 1} of a console block is neither a '$ ' command nor the output "
                f"of one: {text!r} (mark blocks that cannot run with % skip: next)"
            )
        start = index
        command = text[2:]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command[:-1] + " " + lines[index].strip()
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        commands.append(Command(start, command.strip(), "\n".join(output).strip("\n")))
    return commands


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _CLEARED.fullmatch(k)}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.update({"COLUMNS": "160", "NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"})
    return env


def _split_env(command: str) -> tuple[dict[str, str], list[str]] | None:
    """``A=1 B= efa plugins`` -> ``({"A": "1", "B": ""}, ["plugins"])``; ``None`` if not efa."""
    if _SHELL_SYNTAX.search(command.split(" #", 1)[0]):
        return None
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return None
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or words[0] != "efa":
        return None
    return env, words[1:]


def _run_efa(page: _Page, extra_env: dict[str, str], args: list[str]) -> tuple[int, str]:
    from click.testing import CliRunner

    from efa_core.cli import main

    env = {**page.env, **extra_env}
    # CliRunner applies env on top of os.environ: clear what the page does not have.
    overlay: dict[str, str | None] = {k: None for k in os.environ if k not in env}
    overlay.update(env)
    result = CliRunner().invoke(main, args, env=overlay, prog_name="efa", terminal_width=160)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


def _run_shell(page: _Page, command: str) -> tuple[int, str]:
    done = subprocess.run(  # noqa: S603 - the commands of our own docs
        ["bash", "-c", command],  # noqa: S607 - bash from PATH, as a reader runs it
        cwd=page.cwd,
        env=page.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout


def _run(page: _Page, command: str) -> tuple[int, str] | None:
    """Run *command*; ``None`` for the page-state commands ``cd`` and ``export``."""
    first, _, rest = command.partition(" && ")
    words = first.split()
    if words and words[0] == "cd" and len(words) == 2:
        target = (page.cwd / os.path.expanduser(words[1])).resolve()
        if not target.is_dir():
            return 1, f"cd: {words[1]}: no such folder"
        page.cwd = target
        os.chdir(target)  # Python blocks further down run there too
        return _run(page, rest) if rest else None
    if words and words[0] == "export" and not rest:
        for item in shlex.split(first)[1:]:
            name, _, value = item.partition("=")
            page.env[name] = value
        return None
    efa = _split_env(command)
    if efa is not None:
        return _run_efa(page, *efa)
    return _run_shell(page, command)


def evaluate_console(example: Example) -> str | None:
    """Run the commands of a console block; describe the first mismatch."""
    page: _Page = example.namespace["_page"]
    checker = doctest.OutputChecker()
    for command in example.parsed:
        result = _run(page, command.command)
        if result is None:
            continue
        code, output = result
        if command.expected:
            want = command.expected + "\n"
            if not checker.check_output(want, output, _FLAGS):
                return (
                    f"$ {command.command}\n(exit status {code})\nexpected:\n{want}\ngot:\n{output}"
                )
        elif code != 0:
            return f"$ {command.command}\nfailed with exit status {code}:\n{output}"
    return None


def evaluate_python(example: Example) -> None:
    """Run a Python block; top-level ``await`` runs it on a fresh event loop."""
    __tracebackhide__ = True
    import ast
    import asyncio
    import contextlib
    import inspect
    import io

    source = pad(example.parsed, example.line + example.parsed.line_offset)
    code = compile(
        source, example.path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            if code.co_flags & inspect.CO_COROUTINE:

                async def main() -> None:
                    await eval(code, example.namespace)  # noqa: S307 - the docs' own code

                asyncio.run(main())
            else:
                exec(code, example.namespace)  # noqa: S102 - the docs' own code
    finally:
        example.namespace.pop("__builtins__", None)
        example.namespace["_last_output"] = out.getvalue()
        sys.stdout.write(out.getvalue())


_CHECK_OUTPUT = re.compile(r"^% check-output\n\n```text\n(?P<want>.*?)^```$", re.M | re.S)


def evaluate_output(example: Example) -> str | None:
    """Compare the output of the last Python block with a ``% check-output`` text block."""
    got = example.namespace.get("_last_output", "")
    want = example.parsed
    if doctest.OutputChecker().check_output(want, got, _FLAGS):
        return None
    return f"the Python block before prints:\n{got}\nexpected:\n{want}"


class CheckOutputParser:
    """Finds ``% check-output`` text blocks (see the module docs)."""

    def __call__(self, document: Any) -> Iterator[Region]:
        for match in _CHECK_OUTPUT.finditer(document.text):
            yield Region(match.start(), match.end(), match["want"], evaluate_output)


class ConsoleParser:
    """Finds ```` ```console ```` blocks and checks their commands (see the module docs)."""

    def __init__(self) -> None:
        self.lexer = FencedCodeBlockLexer(language="console")

    def __call__(self, document: Any) -> Iterator[Region]:
        for region in self.lexer(document):
            try:
                region.parsed = parse_console(str(region.lexemes["source"]))
            except ValueError as exc:
                message = str(exc)

                def fail(example: Example, message: str = message) -> str:
                    return message

                region.parsed = []
                region.evaluator = fail
            else:
                region.evaluator = evaluate_console
            yield region


_DEMO: list[Path] = []


def _demo_folder() -> Path:
    """The demo's folder with the store renamed to ``efa.db``; made once per test run."""
    if not _DEMO:
        import atexit

        from efa_core.report import run_demo

        base = Path(tempfile.mkdtemp(prefix="efa-docs-demo-"))
        atexit.register(shutil.rmtree, base, True)
        result = run_demo(base / "demo", timeline=False)
        folder = result.output_dir
        (folder / "efa-demo.db").rename(folder / "efa.db")
        for name in ("efa-report.html", ".efa-demo", "efa-demo.db.sync-lock"):
            (folder / name).unlink(missing_ok=True)
        config = folder / "efa.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('url = "efa-demo.db"', 'url = "efa.db"'), encoding="utf-8")
        _DEMO.append(folder)
    return _DEMO[0]


def _python_parser() -> PythonCodeBlockParser:
    """Python blocks through :func:`evaluate_python`; a block starting ``>>>`` is a doctest."""
    parser = PythonCodeBlockParser(doctest_optionflags=_FLAGS)
    parser.codeblock_parser = CodeBlockParser("python", evaluate_python)
    return parser


def _setup(namespace: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="efa-docs-"))
    shutil.copytree(_demo_folder(), folder, dirs_exist_ok=True)
    (folder / "efa-core").symlink_to(DOCS.parent, target_is_directory=True)
    namespace["_page"] = _Page(folder, _environment())
    namespace["_folder"] = folder
    namespace["_old_cwd"] = Path.cwd()
    namespace["__name__"] = "__docs__"
    os.chdir(folder)


def _teardown(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["_old_cwd"])
    shutil.rmtree(namespace["_folder"], ignore_errors=True)


pytest_collect_file = Sybil(
    parsers=[
        SkipParser(),
        ConsoleParser(),
        CheckOutputParser(),
        _python_parser(),
    ],
    patterns=["*.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
