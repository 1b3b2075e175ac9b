"""The test matrix of efa-core: Pythons × sessions.

``nox`` runs the default set (tests on every supported Python, lint, typing, docs, plugins,
template, the short fault campaign); ``nox -s bench`` runs the benchmarks, ``nox -s faults``
the full fault campaign and ``nox -s release`` builds and checks the packages, none of which
is part of the default run.
Plain pip + virtualenv work everywhere; uv is used where it is installed.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import nox

ROOT = pathlib.Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS: list[str] = nox.project.python_versions(PYPROJECT)
DOCS_PYTHON = "3.12"
EXAMPLE_PLUGIN = ROOT / "docs" / "examples" / "efa-connector-example"
#: The bundled connector plugins, in install order (efa-pvog needs efa-xzufi).
BUNDLED_PLUGINS = [
    ROOT / "plugins" / name
    for name in ("efa-xzufi", "efa-pvog", "efa-fitconnect", "efa-dashboard", "efa-marktplatz")
]

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "tests",
    "lint",
    "typing",
    "docs",
    "plugins",
    "template",
    "faults-short",
]


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the core's test suite (slow tests only with ``-- -m slow``)."""
    # The demo's tests run the example through the real connector plugins.
    session.install("-e", ".[testing,postgres]", *_plugin_specs(), *_group("test"))
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
    """Type-check the library and the bundled plugins with ``mypy --strict`` (oldest Python)."""
    session.install("-e", ".[testing,postgres,xlsx]", *_plugin_specs("[test]"), *_group("typing"))
    session.run("mypy", "--strict", "src/efa_core")
    for plugin in BUNDLED_PLUGINS:
        session.run("mypy", "--strict", str(plugin / "src"))


@nox.session(python=DOCS_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation; any warning is an error."""
    session.install("-e", ".[testing]", *_group("docs"))
    out = os.environ.get("EFA_DOCS_OUT", "docs/_build/html")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", out)
    # The reference shows every enum member and every record field (issue 13 §2).
    session.run("python", "docs/check_reference.py", out)


def _plugin_specs(extra: str = "") -> list[str]:
    return [f"{plugin}{extra}" for plugin in BUNDLED_PLUGINS]


@nox.session(python=PYTHONS[1] if len(PYTHONS) > 1 else PYTHONS[0], reuse_venv=False)
def plugins(session: nox.Session) -> None:
    """Test the bundled plugins and the example connector, installed as users get them.

    A fresh environment gets efa-core, the plugins and the example third-party package (not
    editable); ``efa plugins`` must list them, then each package's own tests run.
    """
    session.install(".[testing,postgres]", *_plugin_specs("[test]"), f"{EXAMPLE_PLUGIN}[test]")
    session.run("efa", "plugins", "--json")
    for plugin in [*BUNDLED_PLUGINS, EXAMPLE_PLUGIN]:
        with session.chdir(plugin):
            session.run("pytest", "-q", "-p", "no:cacheprovider", "tests")


@nox.session(python=PYTHONS[1] if len(PYTHONS) > 1 else PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Run the benchmarks in tests/bench; results are written down in docs/benchmarks.md.

    Never part of the default run. dlt is installed here only, as the comparison. The store
    benchmark needs PostgreSQL's binaries (or EFA_BENCH_POSTGRES_URL). A quick run:
    ``nox -s bench -- --quick`` (Thüringen scale only, fewer repetitions).  Issue 15's
    national table: ``nox -s bench -- --national`` (the store at 100k and 1M records with
    records files and dlt, then national rollout stores of 10 and 100 services; hours on
    a small machine).
    """
    quick = "--quick" in session.posargs
    session.install(
        "-e", ".[postgres,testing]", "-e", str(BUNDLED_PLUGINS[0]), "dlt[sqlalchemy]>=1.0"
    )
    if "--national" in session.posargs:
        session.run("python", "tests/bench/bench_store.py", "--national")
        session.run("python", "tests/bench/bench_rollout.py", "--national", "10,100")
        session.run("python", "tests/bench/bench_xzufi.py")
        return
    session.run("python", "tests/bench/bench_store.py", *(["--scales", "th"] if quick else []))
    session.run("python", "tests/bench/bench_xzufi.py", *(["--quick"] if quick else []))
    session.run("python", "tests/bench/bench_rollout.py", *(["--quick"] if quick else []))
    session.run("python", "tests/bench/bench_plan.py", *(["--quick"] if quick else []))
    session.install("-e", ".[xlsx]", "-e", "plugins/efa-marktplatz")
    session.run("python", "tests/bench/bench_marktplatz.py", *(["--quick"] if quick else []))


def _faults(session: nox.Session, *args: str) -> None:
    session.install("-e", ".[testing,postgres,xlsx]", *_plugin_specs("[test]"), *_group("test"))
    session.run("python", "tests/faults/run.py", *args, *session.posargs)


@nox.session(python=PYTHONS[-1], default=False)
def faults(session: nox.Session) -> None:
    """Run the standing fault campaign (docs/reliability.md): ``tests/faults/campaign_*.py``.

    SIGKILLs during loads, re-syncs and snapshot completions (at least 100 per backend),
    concurrent writers with kills, at least 1,000 injected HTTP faults through the PVOG,
    routing and dashboard fakes, each round compared with an undisturbed run.  Not in the
    default run; ``-- --only kills --seed 7`` narrows it.  Needs PostgreSQL's binaries (or
    EFA_TEST_POSTGRES_URL).
    """
    _faults(session)


@nox.session(name="faults-short", python=PYTHONS[-1])
def faults_short(session: nox.Session) -> None:
    """Run the short fault campaign, as CI does (20 kills per backend, 200 HTTP faults)."""
    _faults(session, "--short")


@nox.session(python=PYTHONS[1] if len(PYTHONS) > 1 else PYTHONS[0], reuse_venv=False)
def template(session: nox.Session) -> None:
    """Generate a connector package with ``efa new connector``, install it, run its tests.

    The package is installed as its users install it (not editable), so its entry point is
    found; ruff and ``mypy --strict`` check that the template's code is clean.
    """
    session.install(".[testing]", "ruff>=0.8", "mypy>=1.13")
    # Outside .nox/: ruff skips files below it.
    base = pathlib.Path(tempfile.mkdtemp(prefix="efa-template-"))
    target = base / "efa-nox-probe"
    session.run("efa", "new", "connector", "nox-probe", "--output", str(target))
    session.install(f"{target}[test]")
    with session.chdir(target):
        session.run("ruff", "check", ".")
        session.run("ruff", "format", "--check", ".")
        session.run("mypy", "src")
        session.run("pytest", "-q", "-p", "no:cacheprovider")
    session.run("efa", "plugins")
    shutil.rmtree(base, ignore_errors=True)


@nox.session(python=PYTHONS[-1], default=False)
def release(session: nox.Session) -> None:
    """Build the sdists and wheels of efa-core and the bundled plugins, check them with twine.

    Writes them to ``dist/`` (emptied first).  Publishing is a separate, manual step
    (``twine upload dist/*``) once the packages have a home on the package index.
    """
    session.install("build>=1.2", "twine>=6.0")
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    for project in [ROOT, *BUNDLED_PLUGINS]:
        session.run("python", "-m", "build", "--outdir", str(out), str(project))
    built = sorted(str(path) for path in out.iterdir())
    session.run("twine", "check", "--strict", *built)
    session.log(f"{len(built)} files in {out}")
