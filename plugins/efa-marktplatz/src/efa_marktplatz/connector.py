"""The ``marktplatz`` connector: EfA-Marktplatz and FIT-Store exports (CSV or XLSX).

Configure one instance per registry (and per pair of export files)::

    [connectors.marktplatz]
    type = "marktplatz"
    offers = "exports/marktplatz-angebote.xlsx"       # Leistungsangebote
    agreements = "exports/interessenbekundungen.csv"  # interest and contract list
    registry = "marktplatz"        # or "fit-store" / "verwaltungsabkommen": default channel
    columns = { service_name = "Name des Dienstes" }  # headers of your export, if unusual
    states = { "abgeschlossen" = "contracted" }       # extra status texts
    # encoding = "cp1252"; delimiter = ";"; offers_sheet = "Angebote"; batch_size = 500

At least one of ``offers`` and ``agreements`` is needed; relative paths are relative to
the working directory.  The pull is a SNAPSHOT: providers (operators) and services from
the offers, subscribers and agreements from the interest/contract list.  Bad rows become
:class:`~efa_core.connectors.Rejected` at ``"<file>:row <N>"`` (``"<file>[<sheet>]:row
<N>"`` for an explicitly named XLSX sheet) with one problem per field;
a missing file or a missing required column raises
:class:`~efa_core.errors.ConnectorError` naming the file, the logical field and the
headers accepted for it.  See :mod:`efa_marktplatz.columns`, :mod:`efa_marktplatz.build`
and :mod:`efa_marktplatz.states` for the mapping rules.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs

from efa_core.connectors import Capability, Skipped
from efa_core.model import AgreementState, ReuseChannel
from efa_core.tabular import DEFAULT_LIMITS, CellWarnings, Limits, Row, Schema, Table, open_table
from efa_marktplatz._snapshot import FileSnapshotConnector
from efa_marktplatz.build import Item, SourceRow, agreement_items, offer_items
from efa_marktplatz.columns import AGREEMENTS, ALL_FIELDS, OFFERS
from efa_marktplatz.states import normalize_label

__all__ = [
    "REGISTRIES",
    "MarktplatzConfig",
    "MarktplatzConnector",
    "check_columns",
    "check_states",
    "read_export",
    "state_labels",
    "table_rows",
]

log = logging.getLogger("efa_marktplatz")

#: ``registry`` option → the reuse channel assumed where an export names none.
REGISTRIES: Mapping[str, ReuseChannel | None] = {
    "marktplatz": None,
    "fit-store": ReuseChannel.FIT_STORE,
    "verwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
}


def _optional_path(inst: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def check_columns(inst: object, attribute: attrs.Attribute[Any], value: Mapping[str, str]) -> None:
    """Validate the ``columns`` option: known logical fields, non-blank header names."""
    unknown = sorted(set(value) - ALL_FIELDS)
    if unknown:
        raise ValueError(
            f"columns: unknown field(s) {', '.join(map(repr, unknown))}; known fields: "
            + ", ".join(sorted(ALL_FIELDS))
        )
    for name, header in value.items():
        if not header.strip():
            raise ValueError(f"columns.{name} must name a header, not be empty")


def check_states(inst: object, attribute: attrs.Attribute[Any], value: Mapping[str, str]) -> None:
    """Validate the ``states`` option: status text → an agreement state value."""
    known = [state.value for state in AgreementState]
    for label, state in value.items():
        if not normalize_label(label):
            raise ValueError(f"states: the status text {label!r} is empty")
        if state not in known:
            raise ValueError(
                f"states.{label!r}: {state!r} is not an agreement state; known: {', '.join(known)}"
            )


def _encoding(inst: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"encoding: unknown encoding {value!r}") from None


def _delimiter(inst: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (len(value) != 1 or value in '"\r\n'):
        raise ValueError(f"delimiter must be one character such as ';' or ',', got {value!r}")


def _positive(inst: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, got {value}")


def _registry(inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in REGISTRIES:
        raise ValueError(f"registry must be one of {', '.join(REGISTRIES)}, got {value!r}")


def state_labels(states: Mapping[str, str]) -> dict[str, AgreementState]:
    """Return the ``states`` option as normalized label → state."""
    return {normalize_label(label): AgreementState(state) for label, state in states.items()}


@attrs.frozen(kw_only=True)
class MarktplatzConfig:
    """Options of a ``marktplatz`` connector (see the module docs)."""

    #: The offers export (CSV or XLSX), if any.
    offers: str | None = attrs.field(default=None, validator=_optional_path)
    #: The interest/contract list (CSV or XLSX), if any.
    agreements: str | None = attrs.field(default=None, validator=_optional_path)
    #: ``marktplatz``, ``fit-store`` or ``verwaltungsabkommen``: the default reuse channel.
    registry: str = attrs.field(default="marktplatz", validator=_registry)
    #: Logical field → the header of your export (replaces the default headers).
    columns: dict[str, str] = attrs.field(factory=dict, hash=False, validator=check_columns)
    #: Extra status texts → agreement state values (``contracted``, ...).
    states: dict[str, str] = attrs.field(factory=dict, hash=False, validator=check_states)
    #: The CSV encoding; default: UTF-8 (BOM optional), else cp1252.
    encoding: str | None = attrs.field(default=None, validator=_encoding)
    #: The CSV delimiter; default: detected (``;``, ``,`` or tab).
    delimiter: str | None = attrs.field(default=None, validator=_delimiter)
    #: The sheet of an XLSX offers export; default: the first.
    offers_sheet: str | None = None
    #: The sheet of an XLSX interest/contract list; default: the first.
    agreements_sheet: str | None = None
    #: Items (records and rejected rows) per batch.
    batch_size: int = attrs.field(default=500, validator=_positive)
    #: Skip building services and agreements whose rows the store holds unchanged (source
    #: fingerprints); ``false`` builds every row on every sync.
    fingerprints: bool = True
    #: The largest export file accepted, in bytes (a larger one fails the sync, naming it).
    max_file_bytes: int = attrs.field(default=DEFAULT_LIMITS.max_file_bytes, validator=_positive)
    #: The most rows read from one export (title, blank and footer rows included).
    max_rows: int = attrs.field(default=DEFAULT_LIMITS.max_rows, validator=_positive)

    @property
    def limits(self) -> Limits:
        """The reading limits as :class:`efa_core.tabular.Limits`."""
        return Limits(max_file_bytes=self.max_file_bytes, max_rows=self.max_rows)

    def __attrs_post_init__(self) -> None:
        if self.offers is None and self.agreements is None:
            raise ValueError("give at least one of 'offers' and 'agreements' (file paths)")


def table_rows(table: Iterable[Row], *, start: int = 0) -> Iterator[SourceRow]:
    """Yield the data rows of *table* (a :class:`~efa_core.tabular.Table`) as source rows."""
    for offset, row in enumerate(table):
        yield SourceRow.from_table(row, start + offset)


@contextlib.contextmanager
def read_export(
    path: Path,
    *,
    where: str,
    name: str,
    schema: Schema,
    columns: Mapping[str, str],
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    source: str | None = None,
    warnings: list[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[tuple[Iterator[SourceRow], Callable[[], list[Skipped]], str]]:
    """Open an export (streamed by :func:`efa_core.tabular.open_table`).

    Yields its rows, read as they are consumed, a function that returns the rows skipped
    so far (call it after consuming them), and the table's layout (which column holds which
    field, for fingerprints).  Positions are ``"<name>:row <N>"``, or
    ``"<name>[<sheet>]:row <N>"`` when a sheet of an XLSX workbook is named explicitly (two
    sheets of one workbook stay apart).  A file with a header row and no data rows is read
    as empty, with a line in *warnings*.

    :raises efa_core.errors.SourceNotUnderstood: not a table, or no header row found.
    """
    table: Table
    with open_table(
        path,
        schema,
        columns=columns,
        name=name,
        where=where,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        limits=limits,
        source_name=source,
    ) as table:
        if sheet is not None and table.format == "xlsx":
            table.name = f"{name}[{sheet}]"
        layout = repr(sorted(table.columns.indexes.items()))
        yield table_rows(table), lambda: list(table.skipped), layout
        if not table.data_rows:
            message = f"{table.prefix}: a header row but no data rows; read as an empty table"
            log.info("%s", message)
            if warnings is not None:
                warnings.append(message)


class MarktplatzConnector(FileSnapshotConnector):
    """EfA-Marktplatz / FIT-Store exports (CSV or XLSX) as a SNAPSHOT source."""

    type_name: ClassVar[str] = "marktplatz"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = MarktplatzConfig

    config: MarktplatzConfig

    def files(self) -> Sequence[tuple[str, Path]]:
        """Return the configured offers and agreements files (``~`` expanded)."""
        out = []
        if self.config.offers is not None:
            out.append(("offers", Path(self.config.offers).expanduser()))
        if self.config.agreements is not None:
            out.append(("agreements", Path(self.config.agreements).expanduser()))
        return out

    def fingerprint_salt(self, role: str) -> str:
        """Return what a fingerprint depends on besides the cells: versions, role, options.

        The registry (the default channel) and the ``states`` option change the records
        built from the same cells; a new version of efa-core or of this plugin may too.
        """
        import efa_core
        import efa_marktplatz

        states = sorted(self.config.states.items())
        return (
            f"efa-marktplatz {efa_marktplatz.__version__} efa-core {efa_core.__version__} "
            f"{role} registry={self.config.registry} states={states!r}"
        )

    def load(self, warnings: list[str]) -> list[Item]:
        """Read the exports and build providers, services, subscribers and agreements.

        With fingerprints, an export is read twice: pass one groups and fingerprints its
        rows, pass two reads again the rows of the services and agreements that changed
        (see :func:`~efa_marktplatz.build.agreement_items`).
        """
        config = self.config
        channel = REGISTRIES[config.registry]
        # without a store (a script's pull_sync) nothing can be unchanged: no fingerprints
        lookup = self.stored_fingerprints if config.fingerprints and self.store else None
        items: list[Item] = []
        for role, path in self.files():
            name = str(path)
            schema, sheet = (
                (OFFERS, config.offers_sheet)
                if role == "offers"
                else (AGREEMENTS, config.agreements_sheet)
            )
            options: dict[str, Any] = {
                "where": f"{role} file {name!r}",
                "name": name,
                "schema": schema,
                "sheet": sheet,
                "columns": config.columns,
                "encoding": config.encoding,
                "delimiter": config.delimiter,
                "source": self.name,
                "limits": config.limits,
            }

            def again(path: Path = path, options: dict[str, Any] = options) -> Iterator[SourceRow]:
                with read_export(path, **options) as (rows, _, _):
                    yield from rows

            cells = CellWarnings()
            with read_export(path, warnings=warnings, **options) as (rows, skipped, layout):
                fingerprints: dict[str, Any] = {
                    "lookup": lookup,
                    "salt": f"{self.fingerprint_salt(role)} {layout}",
                    "reread": again if lookup is not None else None,
                }
                if role == "offers":
                    defaults = (channel,) if channel is not None else ()
                    built = offer_items(
                        rows, default_channels=defaults, warnings=cells, **fingerprints
                    )
                else:
                    states = state_labels(config.states)
                    built = agreement_items(
                        rows,
                        states=states,
                        default_channel=channel,
                        warnings=cells,
                        **fingerprints,
                    )
                items.extend(built)
                items.extend(skipped())
            warnings.extend(cells.lines(f"source {self.name!r}, {options['where']}"))
        return items
