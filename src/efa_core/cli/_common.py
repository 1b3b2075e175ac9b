"""What the ``efa`` commands share: finding the configuration and the store, options, tables.

Every command finds the store the same way: ``--db`` (a URL or a plain path), else
``$EFA_DB``, else ``[store] url`` of the configuration (``--config``, else ``$EFA_CONFIG``,
else ``./efa.toml``), else ``efa.db`` in the user data directory (platformdirs).  Commands
that only read never create a store: a SQLite file that does not exist is an error that
says where the command looked and what to run, and so is a store without data.

The commands that show people the rollout and the store (``report``, ``demo``,
``findings``, ``coverage``, ``costs``, ``plan status``, ``sync``, ``status``, ``history``,
``explain``, ``areas import``, ``ids``, ``plugins``) speak German by default; ``--lang en``
(or ``$EFA_LANG``, or ``[report] lang`` of the configuration) switches them to English
(:func:`choose_lang`, :mod:`efa_core.i18n`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click
import platformdirs

from efa_core.config import EfaConfig, load_config
from efa_core.errors import EfaError
from efa_core.i18n import LANG_ENV_VAR, LANGS, M, Translator, translator

if TYPE_CHECKING:
    from efa_core.plugins import PluginRegistry
    from efa_core.store import Store

__all__ = [
    "DB_ENV_VAR",
    "NEXT_STEPS",
    "StoreChoice",
    "choose_lang",
    "choose_store",
    "config_option",
    "db_option",
    "default_store_url",
    "json_option",
    "lang_of",
    "lang_option",
    "load",
    "open_for_reading",
    "open_for_writing",
    "plugin_registry",
    "resolve_store_url",
    "rule_options",
    "table",
    "time_text",
    "warn_if_empty",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: The environment variable naming the store (a URL or a path).
DB_ENV_VAR = "EFA_DB"

#: What to run when there is no data yet, in English (the error of a missing store says it;
#: :func:`warn_if_empty` says it in the reader's language).
NEXT_STEPS = M.NEXT_STEPS.en

#: ``sqlite:efa.db``: a scheme without ``//`` (one letter is a Windows drive, ``C:``).
_SCHEME_WITHOUT_SLASHES = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+):(?!//)")


def default_store_url() -> str:
    """Return ``sqlite:///<user data dir>/efa.db`` (e.g. ``~/.local/share/efa-core/efa.db``)."""
    path = Path(platformdirs.user_data_dir("efa-core", appauthor=False)) / "efa.db"
    return f"sqlite:///{path}"


@attrs.frozen
class StoreChoice:
    """The store a command uses, and why that one (for messages)."""

    #: A URL (``sqlite:///…``, ``postgresql://…``) or a plain file path.
    url: str
    #: Where the value came from, e.g. ``--db``, ``$EFA_DB`` or ``[store] url of efa.toml``.
    origin: str

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file named by :attr:`url`; ``None`` for other backends and memory."""
        if "://" not in self.url:
            return Path(self.url).expanduser()
        scheme, rest = self.url.split("://", 1)
        if scheme.lower() != "sqlite" or rest in ("", "/", "/:memory:"):
            return None
        return Path(rest[1:].split("?", 1)[0]).expanduser() if rest.startswith("/") else None

    def describe(self) -> str:
        """``/path/efa.db (from --db)``, with any password masked."""
        from efa_core.store import mask_url

        file = self.sqlite_file
        return f"{file if file is not None else mask_url(self.url)} ({self.origin})"


def resolve_store_url(db: str | None, config: EfaConfig) -> str:
    """Pick the store URL: *db* (``--db`` or ``$EFA_DB``), the config's, or the default."""
    if db:
        return db
    if config.store_url:
        return config.store_url
    return default_store_url()


def _check_value(value: str, origin: str) -> str:
    match = _SCHEME_WITHOUT_SLASHES.match(value)
    if match and "://" not in value:
        scheme = match["scheme"]
        raise click.ClickException(
            f"store {value!r} ({origin}) names the scheme {scheme!r} without '//'; write "
            f"{scheme}:///relative/path.db, {scheme}:////absolute/path.db or a plain path "
            "such as efa.db"
        )
    return value


def choose_store(db: str | None, config: EfaConfig) -> StoreChoice:
    """Pick the store as every command does (see the module docs) and say why."""
    if db:
        ctx = click.get_current_context(silent=True)
        source = ctx.get_parameter_source("db") if ctx is not None else None
        from_env = source is not None and source.name == "ENVIRONMENT"
        origin = f"${DB_ENV_VAR}" if from_env else "--db"
    elif config.store_url:
        origin = f"[store] url of {config.path or 'the configuration'}"
        db = config.store_url
    else:
        origin = f"the default: no --db, no ${DB_ENV_VAR}, no [store] url in ./efa.toml"
        db = default_store_url()
    return StoreChoice(_check_value(db, origin), origin)


def load(path: str | None) -> EfaConfig:
    """Read the configuration (``--config``, ``$EFA_CONFIG`` or ``./efa.toml``)."""
    try:
        return load_config(path)
    except EfaError as exc:
        raise click.ClickException(str(exc)) from exc


def _open(choice: StoreChoice, *, read_only: bool = False) -> Store:
    from efa_core.store import SchemaError, open_store

    try:
        if read_only:
            try:
                return open_store(choice.url, read_only=True)
            except SchemaError as exc:
                if not exc.outdated:
                    raise
                # an older schema (or none, in an empty file): upgraded as every command
                # always did; on a read-only mount that fails with a clear message
        return open_store(choice.url)
    except EfaError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        raise click.ClickException(f"cannot open the store {choice.describe()}: {exc}") from exc


def open_for_writing(db: str | None, config: EfaConfig) -> Store:
    """Open (or create) the store for a command that writes (``sync``, ``areas import``)."""
    return _open(choose_store(db, config))


def open_for_reading(db: str | None, config: EfaConfig, *, caches: bool = False) -> Store:
    """Open the store for a command that reads; never create one.

    The store is opened read-only (``open_store(url, read_only=True)``), so a SQLite file on
    a read-only mount can be read; only a store of an older schema is opened for writing,
    to upgrade it.

    :param caches: the command derives the rollout view, which keeps its rows in the
        store's database (:class:`efa_core.rollout.RolloutView`) so that the next command
        derives only what changed.  Such a store is opened for writing where its file
        can be written, read-only (deriving afresh each time) where it cannot.
    :raises click.ClickException: the SQLite file does not exist; the message says where
        the command looked and what to run.
    """
    choice = choose_store(db, config)
    file = choice.sqlite_file
    if file is not None and not file.is_file():
        what = "is not a file" if file.exists() else "does not exist"
        raise click.ClickException(
            f"no store at {file}: it {what} (looked there because of {choice.origin}); {NEXT_STEPS}"
        )
    if caches and (file is None or _writable(file)):
        return _open(choice)
    return _open(choice, read_only=True)


def _writable(file: Path) -> bool:
    """Whether SQLite can write *file* (and its journal files beside it)."""
    return os.access(file, os.W_OK) and os.access(file.parent, os.W_OK)


def warn_if_empty(
    store: Store, db: str | None, config: EfaConfig, tr: Translator | None = None
) -> bool:
    """Tell on stderr that *store* holds no data yet, where it is and what to run.

    :param tr: the reader's language (default: the config's, else German; see
        :func:`choose_lang`).
    :returns: whether the store is empty (no source was ever synced into it).
    """
    if store.sources():
        return False
    tr = tr or choose_lang(None, config)
    where = choose_store(db, config).describe()
    click.echo(tr.render(M.EMPTY_STORE.fill(store=where, next=M.NEXT_STEPS)), err=True)
    return True


def plugin_registry(ctx: click.Context) -> PluginRegistry:
    """Return the registry an embedding program passed as context object, or a new one."""
    from efa_core.plugins import PluginRegistry

    return ctx.find_object(PluginRegistry) or PluginRegistry()


def rule_options(values: Sequence[str], base: Any = None) -> dict[str, Any]:
    """Parse ``--option NAME=VALUE`` (VALUE as JSON where it parses) over *base*.

    :param base: the options to start from, e.g. ``[findings]`` of the configuration.
    """
    out: dict[str, Any] = dict(base or {})
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--option")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def time_text(value: datetime | None, tr: Translator | None = None) -> str:
    """Format a time as ``2024-03-01 12:00:00``, or as *tr* writes it; ``-`` for none."""
    if value is None:
        return "-"
    return (tr or translator("en")).datetime(value, seconds=True)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format a plain text table with columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def db_option(f: _F) -> _F:
    """``--db URL|PATH`` (also ``$EFA_DB``)."""
    return click.option(
        "--db",
        envvar=DB_ENV_VAR,
        metavar="URL|PATH",
        help="The store: a file path (efa.db), sqlite:///efa.db or postgresql://… "
        f"(default: ${DB_ENV_VAR}, [store] url of the config, or efa.db in the user data dir).",
    )(f)


def config_option(f: _F) -> _F:
    """``--config PATH``."""
    return click.option(
        "--config",
        "config_path",
        metavar="PATH",
        help="Configuration file (default: $EFA_CONFIG, else ./efa.toml).",
    )(f)


def lang_option(f: _F) -> _F:
    """``--lang de|en`` (also ``$EFA_LANG``)."""
    return click.option(
        "--lang",
        envvar=LANG_ENV_VAR,
        type=click.Choice(LANGS, case_sensitive=False),
        help=f"Language of labels, stage names, dates and numbers (default: ${LANG_ENV_VAR}, "
        "[report] lang of the config, or de).",
    )(f)


def choose_lang(lang: str | None, config: EfaConfig) -> Translator:
    """Pick the language: *lang* (``--lang`` or ``$EFA_LANG``), ``[report] lang``, or German."""
    return translator(lang or config.lang)


def lang_of(lang: str | None, config_path: str | None) -> Translator:
    """Pick the language for a command that needs nothing else of the configuration.

    As :func:`choose_lang`, but the configuration is read only when neither ``--lang`` nor
    ``$EFA_LANG`` names a language, and a configuration that cannot be read is said on
    stderr and passed over (German): ``efa ids`` or ``efa plugins`` must work beside a
    broken ``efa.toml``, since they are how one finds out what is wrong.
    """
    if lang:
        return translator(lang)
    try:
        config = load_config(config_path)
    except EfaError as exc:
        click.echo(f"the configuration was not read, nor its [report] lang: {exc}", err=True)
        return translator(None)
    return choose_lang(None, config)


def json_option(f: _F) -> _F:
    """``--json``."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)
