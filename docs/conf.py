"""Sphinx configuration for the efa-core documentation."""

from __future__ import annotations

import efa_core

project = "efa-core"
author = "efa-core developers"
copyright = "2026, efa-core developers (EUPL-1.2)"
release = efa_core.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "examples/**", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
# undoc-members: enum members and record fields show even without a docstring of their own.
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
# attrs generates __init__; preserving its source defaults would show "attr_dict['x'].default".
autodoc_preserve_defaults = False
# The docs build runs without network: no intersphinx inventories. References to outside
# objects (attrs, httpx, pluggy …) cannot be resolved, so nitpicky mode ignores those.
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(attrs|attr|cattrs|httpx|pluggy|click|datetime|enum|collections|typing|"
        r"typing_extensions|_?pytest|os|pathlib|asyncio|logging|contextlib|types|abc)\..*",
    ),
    (
        r"py:.*",
        r"(Any|Self|T|C|_?F|Callable|Mapping|Sequence|Iterable|Iterator|AsyncIterator|"
        r"Awaitable|ClassVar|Literal|Final|TypeVar|NoneType|ellipsis)",
    ),
    (r"py:class", r"(str|int|float|bool|bytes|object|type|tuple|list|dict|set|frozenset)"),
]

html_theme = "furo"
html_title = f"efa-core {release}"
