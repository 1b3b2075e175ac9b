"""Configuration: ``efa.toml``, environment interpolation, connector options.

An ``efa.toml`` has one table per connector instance, an optional store table and an
optional table of finding options::

    [store]
    url = "efa.db"            # a path, sqlite:///efa.db or postgresql://user@host/db

    [findings]
    contracted_days = 60
    known_onlinedienste = ["S16000_Onlinedienst_OD-EWA"]

    [connectors.pvog-th]
    type = "pvog"
    client_id = "efa-th"
    client_secret = "${PVOG_TH_SECRET}"

    [connectors.own-notes]
    type = "records-file"
    path = "notes.jsonl"

    [identity]                      # how the rollout view joins records into services
    same = [["MP-101", "FS-2024-17"]]
    distinct = [["MP-101", "MP-103"]]
    onlinedienste = { "MP-101" = ["S16000_Onlinedienst_OD-EWA"] }
    urls = { "MP-101" = ["https://anmeldung.example.org/"] }

    [rollout]
    source_priority = ["marktplatz", "fitstore"]   # who governs when sources disagree

    [report]
    lang = "en"                     # reports and tables in English (default: German)

Rules:

* ``type`` names the connector type (a registered :attr:`Connector.type_name
  <efa_core.connectors.Connector.type_name>`); every other key of the table is an option,
  structured into the connector's :attr:`~efa_core.connectors.Connector.config_class`.
* Options every table takes, whatever its type: ``max_delete_share`` (default 0.5), the
  share of a snapshot source's live records that one completed snapshot may delete before
  the sync engine's shrink guard stops it (see the "Store and sync" page).
* ``${NAME}`` in a string value is replaced by the environment variable ``NAME`` (keep
  secrets out of the file).  A variable that is not set is an error naming the table, the
  key and the variable: in ``[store]`` and ``[findings]`` when the file is read, in a
  connector table only when that connector is built (:func:`build_connector`), so a source
  whose secret is not set never stops the commands and syncs that do not use it.
  ``$${`` stands for a literal ``${``.
* ``[findings]`` holds the options of the finding rules (see :mod:`efa_core.rollout.findings`);
  ``efa findings``, ``efa report`` and ``efa demo`` all read them, and ``--option`` on the
  command line overrides single keys.
* ``[report] lang`` chooses the language of the HTML report and the CLI tables (``de``,
  the default, or ``en``); ``$EFA_LANG`` and ``--lang`` win over it (:mod:`efa_core.i18n`).
* Unknown keys are errors that name the table and the key and list the known keys, with
  close matches suggested.
* Fields typed :class:`~efa_core.secret.Secret` receive strings and never show them again.

:func:`load_config` finds and reads the file; :func:`build_connector` turns one table into
a connector instance.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

import attrs

from efa_core.errors import ConfigError, PluginError, ValidationError
from efa_core.i18n import LANGS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from efa_core.connectors import Connector

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_MAX_DELETE_SHARE",
    "ConnectorSettings",
    "ConnectorTypes",
    "EfaConfig",
    "IdentitySettings",
    "RolloutSettings",
    "build_connector",
    "config_to_table",
    "interpolate",
    "load_config",
    "parse_config",
    "structure_options",
]

_C = TypeVar("_C")

#: The environment variable naming the configuration file.
CONFIG_ENV_VAR: Final = "EFA_CONFIG"
#: The file looked for in the working directory when no path is given.
DEFAULT_CONFIG_FILE: Final = "efa.toml"

#: The default of the ``max_delete_share`` option every connector table takes.
DEFAULT_MAX_DELETE_SHARE: Final = 0.5
#: Keys of a connector table that the engine reads, not the connector (besides ``type``).
_COMMON_KEYS: Final = ("max_delete_share",)

_TOP_LEVEL_KEYS: Final = ("connectors", "findings", "identity", "report", "rollout", "store")
_STORE_KEYS: Final = ("url",)
_REPORT_KEYS: Final = ("lang",)
_IDENTITY_KEYS: Final = ("same", "distinct", "onlinedienste", "urls")
_ROLLOUT_KEYS: Final = ("source_priority",)
_CONNECTOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\})?")
_URL_PASSWORD = re.compile(r"(?P<head>://[^/@:]*:)[^/@]*(?P<tail>@)")


def _options_repr(options: Mapping[str, Any]) -> str:
    # Option values may hold interpolated secrets: show the keys only.
    return "{" + ", ".join(f"{key!r}: ..." for key in options) + "}"


def _url_repr(url: str | None) -> str:
    if url is None:
        return "None"
    return repr(_URL_PASSWORD.sub(r"\g<head>***\g<tail>", url))


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ConnectorSettings:
    """One ``[connectors.NAME]`` table: the connector type and its (interpolated) options.

    The repr shows option keys only, since values may be secrets from the environment.
    """

    #: The table name, e.g. ``"pvog-th"``; the connector instance's name.
    name: str
    #: The connector type, e.g. ``"pvog"``.
    type: str
    #: Every key of the table except ``type``, after ``${ENV}`` interpolation.
    options: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_mapping, repr=_options_repr, hash=False
    )
    #: The configuration file the table comes from, as shown in messages.
    origin: str = DEFAULT_CONFIG_FILE
    #: Why the table cannot be used yet (an environment variable it names is not set);
    #: ``None`` if it can.  :func:`build_connector` raises it as a
    #: :class:`~efa_core.errors.ConfigError`; :attr:`options` then hold the table as written.
    error: str | None = None
    #: The share of live records one completed snapshot may delete (the shrink guard).
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE

    @property
    def where(self) -> str:
        """How messages name the table, e.g. ``efa.toml [connectors.pvog-th]``."""
        return f"{self.origin} [connectors.{self.name}]"


@attrs.frozen(kw_only=True)
class IdentitySettings:
    """The ``[identity]`` table: links between the ids of offers that sources do not give.

    See docs/rollout.md, "Service identity".

    .. versionadded:: 0.2.0
    """

    #: Groups of ids (service keys, offer ids, Onlinedienst ids) that are one offer; the
    #: first id of a group becomes the service's key.
    same: tuple[tuple[str, ...], ...] = ()
    #: Groups of ids that are never one offer, whatever the sources say.
    distinct: tuple[tuple[str, ...], ...] = ()
    #: More Onlinedienst ids of an offer, by one of its ids.
    onlinedienste: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )
    #: More URLs of an offer, by one of its ids.
    urls: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )


@attrs.frozen(kw_only=True)
class RolloutSettings:
    """The ``[rollout]`` table: options of the derived view.

    .. versionadded:: 0.2.0
    """

    #: Sources in order of precedence when they disagree (an area's agreement, a service's
    #: attributes); sources not listed come after, then the most recent date decides.
    source_priority: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class EfaConfig:
    """The loaded configuration (read-only); see the module docs for the file format."""

    #: The connector tables by name, in file order.
    connectors: Mapping[str, ConnectorSettings] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )
    #: The store URL from ``[store] url``, if given (its password is masked in the repr).
    store_url: str | None = attrs.field(default=None, repr=_url_repr)
    #: The file the configuration was read from; ``None`` if none was found or given.
    path: Path | None = None
    #: The options of the finding rules from ``[findings]`` (e.g. ``contracted_days``).
    findings: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_frozen_mapping, repr=_options_repr, hash=False
    )
    #: The ``[identity]`` table.
    identity: IdentitySettings = IdentitySettings()
    #: The ``[rollout]`` table.
    rollout: RolloutSettings = RolloutSettings()
    #: The language of reports and tables from ``[report] lang`` (``de``, ``en``), if given.
    lang: str | None = None


class ConnectorTypes(Protocol):
    """What :func:`build_connector` needs of a plugin registry: a class per connector type.

    :class:`efa_core.plugins.PluginRegistry` is one; the configuration itself never needs the
    registry.
    """

    def connector_class(self, type_name: str, /) -> type[Connector]:
        """Return the connector class registered under *type_name*.

        :raises efa_core.errors.PluginError: no such type.
        """
        ...


class _UnsetVariable(ConfigError):
    """A ``${NAME}`` names an environment variable that is not set."""


def _suggest(key: str, known: Sequence[str]) -> str:
    matches = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"


def _unknown_keys_error(where: str, unknown: Sequence[str], known: Sequence[str]) -> ConfigError:
    listed = ", ".join(known) if known else "none"
    parts = [f"unknown key {key!r}{_suggest(key, known)}" for key in unknown]
    return ConfigError(f"{where}: {'; '.join(parts)}; known keys: {listed}")


def interpolate(value: Any, *, env: Mapping[str, str], where: str, key: str) -> Any:
    """Replace ``${NAME}`` in the strings of *value* (recursively) by environment variables.

    ``$${`` is a literal ``${``.  *where* and *key* name the place for error messages.

    :raises efa_core.errors.ConfigError: a variable is not set, or a placeholder is
        malformed; the message names *where*, the key and the variable, never a value.
    """
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            body = match.group("body")
            if match.group("close") is None:
                raise ConfigError(
                    f"{where}: key {key!r} has an unterminated '${{' (write '$${{' for a "
                    "literal '${')"
                )
            if not _ENV_NAME.match(body):
                raise ConfigError(
                    f"{where}: key {key!r} refers to {body!r}, which is not an environment "
                    "variable name (letters, digits and '_', not starting with a digit)"
                )
            if body not in env:
                raise _UnsetVariable(
                    f"{where}: key {key!r} refers to environment variable {body!r}, "
                    "which is not set"
                )
            return env[body]

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, Mapping):
        return {k: interpolate(v, env=env, where=where, key=f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [
            interpolate(v, env=env, where=where, key=f"{key}[{i}]") for i, v in enumerate(value)
        ]
    return value


def _table(value: object, where: str, known: Sequence[str] | None = None) -> Mapping[str, Any]:
    """Return *value* as a table; with *known*, refuse any other key (naming close matches)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table, not {type(value).__name__}")
    if known is not None:
        unknown = [key for key in value if key not in known]
        if unknown:
            raise _unknown_keys_error(where, unknown, known)
    return value


def _share(value: object, where: str) -> float:
    if value is None:
        return DEFAULT_MAX_DELETE_SHARE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(
            f"{where}: key 'max_delete_share' must be a number from 0 to 1 (a share of the "
            f"live records, e.g. 0.5), got {value!r}"
        )
    return float(value)


def parse_config(
    data: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> EfaConfig:
    """Build an :class:`EfaConfig` from the parsed TOML document *data*.

    :param env: the environment for ``${NAME}`` interpolation; default :data:`os.environ`.
    :param path: the file *data* came from (used in messages and kept in the result).
    :raises efa_core.errors.ConfigError: naming the table and key of every problem found
        first.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    origin = str(path) if path is not None else DEFAULT_CONFIG_FILE
    unknown = [key for key in data if key not in _TOP_LEVEL_KEYS]
    if unknown:
        raise _unknown_keys_error(origin, unknown, _TOP_LEVEL_KEYS)

    findings: dict[str, Any] = {}
    if "findings" in data:
        where = f"{origin} [findings]"
        table = _table(data["findings"], where)
        findings = {
            key: interpolate(value, env=environ, where=where, key=key)
            for key, value in table.items()
        }

    store_url: str | None = None
    if "store" in data:
        where = f"{origin} [store]"
        store = _table(data["store"], where, _STORE_KEYS)
        if "url" in store:
            url = interpolate(store["url"], env=environ, where=where, key="url")
            if not isinstance(url, str) or not url.strip():
                raise ConfigError(f"{where}: key 'url' must be a non-empty string")
            store_url = url

    lang: str | None = None
    if "report" in data:
        where = f"{origin} [report]"
        report = _table(data["report"], where, _REPORT_KEYS)
        if "lang" in report:
            value = interpolate(report["lang"], env=environ, where=where, key="lang")
            if not isinstance(value, str) or value.strip().lower() not in LANGS:
                raise ConfigError(
                    f"{where}: key 'lang' must be one of {', '.join(LANGS)}, got {value!r}"
                )
            lang = value.strip().lower()

    connectors: dict[str, ConnectorSettings] = {}
    tables = _table(data.get("connectors", {}), f"{origin} [connectors]")
    for name, table in tables.items():
        where = f"{origin} [connectors.{name}]"
        if not _CONNECTOR_NAME.match(name):
            raise ConfigError(
                f"{where}: invalid connector name {name!r}; use letters, digits, '-' and '_', "
                "starting with a letter or digit"
            )
        table = _table(table, where)
        type_name = table.get("type")
        if type_name is None:
            raise ConfigError(f"{where}: missing key 'type' (the connector type)")
        if not isinstance(type_name, str) or not type_name.strip():
            raise ConfigError(f"{where}: key 'type' must be a non-empty string")
        raw = {
            key: value for key, value in table.items() if key != "type" and key not in _COMMON_KEYS
        }
        error: str | None = None
        try:
            options = {
                key: interpolate(value, env=environ, where=where, key=key)
                for key, value in raw.items()
            }
        except _UnsetVariable as exc:
            options, error = raw, str(exc)
        connectors[name] = ConnectorSettings(
            name=name,
            type=type_name.strip(),
            options=options,
            origin=origin,
            error=error,
            max_delete_share=_share(table.get("max_delete_share"), where),
        )
    return EfaConfig(
        connectors=connectors,
        store_url=store_url,
        path=path,
        findings=findings,
        identity=_identity(data.get("identity", {}), f"{origin} [identity]"),
        rollout=_rollout(data.get("rollout", {}), f"{origin} [rollout]"),
        lang=lang,
    )


def _ids(value: object, where: str, key: str) -> tuple[str, ...]:
    """Check a list of non-blank strings without surrounding whitespace; drop repeats."""
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: {key} must be a non-empty list of strings")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or item != item.strip():
            raise ConfigError(
                f"{where}: {key}: {item!r} is not an id (a non-blank string without "
                "surrounding spaces)"
            )
        if item not in out:
            out.append(item)
    return tuple(out)


def _groups(value: object, where: str, key: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: {key} must be a list of lists of ids")
    groups = []
    for n, group in enumerate(value):
        ids = _ids(group, where, f"{key}[{n}]")
        if len(ids) < 2:
            raise ConfigError(f"{where}: {key}[{n}] needs at least two ids")
        for item in ids:
            if item.lower().startswith(("http://", "https://")):
                raise ConfigError(
                    f"{where}: {key}[{n}]: {item!r} is a URL; give an offer's URLs in "
                    "[identity.urls]"
                )
        groups.append(ids)
    return tuple(groups)


def _by_id(value: object, where: str, key: str) -> dict[str, tuple[str, ...]]:
    table = _table(value, f"{where} {key}")
    return {str(k): _ids(v, where, f"{key}.{k}") for k, v in table.items()}


def _identity(value: object, where: str) -> IdentitySettings:
    table = _table(value, where, _IDENTITY_KEYS)
    urls = _by_id(table.get("urls", {}), where, "urls")
    for key, items in urls.items():
        for url in items:
            if not url.lower().startswith(("http://", "https://")) or " " in url:
                raise ConfigError(f"{where}: urls.{key}: {url!r} is not an http(s) URL")
    return IdentitySettings(
        same=_groups(table.get("same", []), where, "same"),
        distinct=_groups(table.get("distinct", []), where, "distinct"),
        onlinedienste=_by_id(table.get("onlinedienste", {}), where, "onlinedienste"),
        urls=urls,
    )


def _rollout(value: object, where: str) -> RolloutSettings:
    table = _table(value, where, _ROLLOUT_KEYS)
    priority = table.get("source_priority")
    return RolloutSettings(
        source_priority=() if priority is None else _ids(priority, where, "source_priority")
    )


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> EfaConfig:
    """Find, read and check the configuration.

    Without *path*, the file named by ``$EFA_CONFIG`` is read, else ``./efa.toml``; if
    neither is set or exists, the result is an empty configuration (``path=None``).

    :param env: the environment (for ``EFA_CONFIG`` and ``${NAME}`` interpolation);
        default :data:`os.environ`.
    :raises efa_core.errors.ConfigError: a file given explicitly (by *path* or
        ``$EFA_CONFIG``) does not exist, the file is not valid TOML, or its content is
        invalid.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if path is not None:
        file, how = Path(path), " (given)"
    elif environ.get(CONFIG_ENV_VAR):
        file, how = Path(environ[CONFIG_ENV_VAR]), f" (named by ${CONFIG_ENV_VAR})"
    else:
        file, how = Path(DEFAULT_CONFIG_FILE), ""
        if not file.is_file():
            return EfaConfig()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(file)!r}{how} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"configuration file {str(file)!r} cannot be read: {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    return parse_config(data, env=environ, path=file)


def _field_names(config_class: type[Any]) -> list[str]:
    return [field.name for field in attrs.fields(config_class)]


def _key_of(path: str) -> str:
    """Turn a serialization path (``$.auth.client_id``, ``$``) into a table key."""
    key = path[1:] if path.startswith("$") else path
    key = key.lstrip(".")
    return key or "(table)"


def structure_options(config_class: type[_C], options: Mapping[str, Any], *, context: str) -> _C:
    """Structure the *options* of a connector table into an instance of *config_class*.

    :param context: how messages name the table, e.g. ``efa.toml [connectors.pvog-th]``.
    :raises efa_core.errors.ConfigError: unknown keys (named, with known keys and close
        matches), or values that do not fit (one ``key: message`` per problem).
    """
    from efa_core import serialization

    known = _field_names(config_class)
    unknown = [key for key in options if key not in known]
    if unknown:
        raise _unknown_keys_error(context, unknown, known)
    try:
        return serialization.structure(dict(options), config_class, context=context)
    except ValidationError as exc:
        lines = [f"{_key_of(path)}: {message}" for path, message in exc.problems]
        if len(lines) == 1:
            raise ConfigError(f"{context}: {lines[0]}") from exc
        raise ConfigError(
            f"{context}: {len(lines)} problems\n" + "\n".join(f"  {line}" for line in lines)
        ) from exc
    except (ValueError, TypeError) as exc:  # raised by the config class's own validators
        raise ConfigError(f"{context}: {exc}") from exc


def config_to_table(config: Any) -> dict[str, Any]:
    """Unstructure a connector configuration into a table; secrets show as ``**********``.

    Use it to display a configuration; the result never contains a secret value.
    """
    from efa_core import serialization

    table = serialization.unstructure(config)
    if not isinstance(table, dict):
        raise TypeError(f"{type(config).__qualname__} does not unstructure into a table")
    return table


def build_connector(registry: ConnectorTypes, name: str, config: EfaConfig) -> Connector:
    """Create the connector configured in table ``[connectors.NAME]`` of *config*.

    The connector is not opened; use it with ``async with``.

    :param registry: where connector types are looked up, usually a
        :class:`~efa_core.plugins.PluginRegistry`.
    :raises efa_core.errors.ConfigError: no such table, an environment variable of the
        table is not set, an unknown connector type, or invalid options; the message names
        the file and table.
    """
    settings = config.connectors.get(name)
    if settings is None:
        configured = sorted(config.connectors)
        origin = str(config.path) if config.path is not None else DEFAULT_CONFIG_FILE
        raise ConfigError(
            f"{origin}: no connector named {name!r}{_suggest(name, configured)}; "
            f"configured: {', '.join(configured) or 'none'}"
        )
    if settings.error is not None:
        raise ConfigError(settings.error)
    try:
        connector_class = registry.connector_class(settings.type)
    except PluginError as exc:
        raise ConfigError(f"{settings.where}: {exc}") from exc
    options = structure_options(
        connector_class.config_class, settings.options, context=settings.where
    )
    return connector_class(options, name=name)
