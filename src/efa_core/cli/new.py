"""``efa new connector NAME``: start a connector plugin package from the template.

The template (package data under :mod:`efa_core.templates`) is a complete, installable
package: ``pyproject.toml`` with the entry point in group ``efa_core``, the connector and its
config class, the plugin module with the hook, efa-core's conformance suite and an
accounting test over a messy sample file, and a README.  As generated, its tests pass.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import click

from efa_core import __version__
from efa_core.cli._common import config_option, lang_of, lang_option
from efa_core.i18n import M

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

__all__ = ["TEMPLATE_NAMES", "new", "render_connector", "template_values"]

#: What ``${name}`` placeholders a template may use.
TEMPLATE_NAMES = (
    "dist",
    "package",
    "type_name",
    "class_prefix",
    "entry_point",
    "efa_core_version",
)

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")
_PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


def template_values(name: str) -> dict[str, str]:
    """Return the placeholder values for the connector type *name* (e.g. ``routing-th``).

    :raises ValueError: *name* is not lower-case letters and digits in parts joined by ``-``.
    """
    if not _NAME.match(name):
        raise ValueError(
            f"{name!r} is no connector name: use lower-case letters and digits, parts joined "
            "by '-', starting with a letter (e.g. 'routing-th')"
        )
    package = "efa_" + name.replace("-", "_")
    return {
        "dist": "efa-" + name,
        "package": package,
        "type_name": name,
        "class_prefix": "".join(part.capitalize() for part in name.split("-")),
        "entry_point": name,
        "efa_core_version": ".".join(__version__.split(".")[:2]),
    }


def _render(text: str, values: Mapping[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match["name"]
        if key not in values:
            raise ValueError(f"{where}: unknown placeholder ${{{key}}}")
        return values[key]

    return _PLACEHOLDER.sub(replace, text)


def _walk(
    node: Traversable, parts: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], bytes]]:
    for item in sorted(node.iterdir(), key=lambda i: i.name):
        if item.name == "__pycache__":
            continue
        if item.is_dir():
            yield from _walk(item, (*parts, item.name))
        else:
            yield (*parts, item.name), item.read_bytes()


def render_connector(name: str, target: str | Path) -> list[Path]:
    """Write the connector package for the connector type *name* into the folder *target*.

    :returns: the files written, sorted.
    :raises ValueError: *name* is no valid connector name.
    :raises FileExistsError: *target* exists and is not an empty folder.
    """
    values = template_values(name)
    root = Path(target)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} exists and is not empty; choose another folder")
    written = []
    for parts, content in _walk(files("efa_core.templates").joinpath("connector")):
        relative = [p.replace("__package__", values["package"]) for p in parts]
        if relative[-1].endswith(".tmpl"):
            relative[-1] = relative[-1][: -len(".tmpl")]
            where = "/".join(parts)
            content = _render(content.decode("utf-8"), values, where).encode("utf-8")
        path = root.joinpath(*relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return sorted(written)


@click.group(name="new")
def new() -> None:
    """Start something new from a template."""


@new.command(name="connector")
@click.argument("name")
@click.option(
    "--output",
    "-o",
    metavar="DIR",
    help="The folder to create (default: ./efa-NAME); it must not exist or be empty.",
)
@lang_option
@config_option
def connector(name: str, output: str | None, lang: str | None, config_path: str | None) -> None:
    """Create a connector plugin package for the connector type NAME (e.g. routing-th).

    The package has a pyproject.toml with the entry point, the connector, conformance and
    accounting tests over sample data, and a README; its tests pass as generated.
    """
    tr = lang_of(lang, config_path)
    try:
        values = template_values(name)
        target = Path(output or values["dist"])
        written = render_connector(name, target)
    except (ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(tr(M.NEW_CREATED, target=target, n=len(written), name=name))
    click.echo(tr(M.NEW_NEXT, command=f'cd {target} && pip install -e ".[test]" && pytest'))
