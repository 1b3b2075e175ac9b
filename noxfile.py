"""The test matrix of efa-core: Pythons × sessions.

``nox`` runs the default set (tests on every supported Python, lint, typing, docs, plugins);
``nox -s bench`` runs the benchmarks, which are never part of the default run.
Plain pip + virtualenv work everywhere; uv is used where it is installed.
"""

from __future__ import annotations

import os
import pathlib

import nox

ROOT = pathlib.Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS: list[str] = nox.project.python_versions(PYPROJECT)
DOCS_PYTHON = "3.12"
EXAMPLE_PLUGIN = ROOT / "docs" / "examples" / "efa-connector-example"

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "lint", "typing", "docs", "plugins"]


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the core's test suite (slow tests only with ``-- -m slow``)."""
    session.install("-e", ".[testing,postgres]", *_group("test"))
    # pytest exits with 5 when it collected no test; nox treats that as a failure.
    session.run("pytest", *(session.posargs or ["-q"]))


@nox.session(python=PYTHONS[-1])
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
def typing(session: nox.Session) -> None:
    """Type-check the library with ``mypy --strict`` (on the oldest supported Python)."""
    session.install("-e", ".[testing]", *_group("typing"))
    session.run("mypy", "--strict", "src/efa_core")


@nox.session(python=DOCS_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation; any warning is an error."""
    session.install("-e", ".[testing]", *_group("docs"))
    out = os.environ.get("EFA_DOCS_OUT", "docs/_build/html")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", out)


@nox.session(python=PYTHONS[1] if len(PYTHONS) > 1 else PYTHONS[0], reuse_venv=False)
def plugins(session: nox.Session) -> None:
    """Install the example third-party connector next to efa-core in a fresh env and test it."""
    session.install(".[testing]", *_group("test"))
    session.install(str(EXAMPLE_PLUGIN))
    session.run("efa", "plugins", "--json")
    session.run("pytest", "-q", str(EXAMPLE_PLUGIN / "tests"), "-p", "no:cacheprovider")
