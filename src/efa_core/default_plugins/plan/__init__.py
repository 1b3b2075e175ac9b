"""The ``plan`` connector: a rollout plan kept in a YAML, CSV or XLSX file.

A plan is data like every other source: synced through the engine into the store, with
history, so "what was the target on 1 March" has an answer (docs/planning.md)::

    [connectors.plan-th]
    type = "plan"
    path = "plan.yaml"            # the whole plan: header, checklist, waves, items

    [connectors.plan-th-table]
    type = "plan"
    path = "wellenplan.xlsx"      # a table: one row per target area of a wave
    sheet = "Plan"                # XLSX: the sheet (default: the first)
    plan = "th-2025"              # the plan header comes from the options
    name = "EfA-Rollout Thüringen 2025"
    land = "TH"
    services = ["MP-101", "MP-102"]
    fee_services = ["MP-102"]     # services that charge fees (the payment item applies)
    onlinedienste = { "MP-101" = "S16000_Onlinedienst_OD-101" }

**Pull** (SNAPSHOT) reads the file in one complete batch: a
:class:`~efa_core.model.RolloutPlan`, its :class:`~efa_core.model.Wave` records and its
:class:`~efa_core.model.OnboardingItem` records.  An entry that does not fit the model is
a :class:`~efa_core.connectors.Rejected` naming the line (YAML) or row (tables) and the
field; the rest goes on.  Title and footer lines, empty rows and unknown columns of a
table are counted as :class:`~efa_core.connectors.Skipped`.  A file that is no plan at all
raises :class:`~efa_core.errors.SourceNotUnderstood`, so nothing is deleted.

:func:`write_plan_file` writes a plan in any of the three forms (the YAML form holds
everything; the table form holds waves, targets and checklist states).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

import anyio.to_thread
import attrs

from efa_core.connectors import Batch, Capability, CheckResult, Connector, Upsert
from efa_core.default_plugins.plan._common import Content
from efa_core.default_plugins.plan._table import read_table, write_csv, write_xlsx
from efa_core.default_plugins.plan._yaml import dump_yaml, read_yaml
from efa_core.errors import ConnectorError, SourceNotUnderstood
from efa_core.hookspecs import RegisterConnector, hookimpl
from efa_core.ids import Land
from efa_core.model import OnboardingItem, PlanService, RolloutPlan, Wave

__all__ = [
    "FORMATS",
    "PlanFileConfig",
    "PlanFileConnector",
    "efa_register_connectors",
    "plan_format",
    "read_plan_file",
    "table_options",
    "write_plan_file",
]

#: File suffix -> format.
FORMATS: Final[Mapping[str, str]] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
#: The cursor after the one batch of a pull.
_DONE: Final = "1"
_HEADER_OPTIONS: Final = (
    "plan",
    "name",
    "land",
    "services",
    "planning_body",
    "financing",
    "fee_services",
    "onlinedienste",
)


def plan_format(path: str | Path, given: str | None = None) -> str:
    """Return the format of a plan file: *given*, else by its suffix.

    :raises ValueError: the suffix is unknown and no format was given.
    """
    if given is not None:
        if given not in ("yaml", "csv", "xlsx"):
            raise ValueError(f"format must be yaml, csv or xlsx, got {given!r}")
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {str(path)!r} from its suffix; use .yaml, .csv or "
            '.xlsx, or give format = "yaml" | "csv" | "xlsx"'
        )
    return FORMATS[suffix]


def _non_blank(inst: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True)
class PlanFileConfig:
    """Options of a ``plan`` connector (see the module docs)."""

    #: The plan file (``~`` is expanded; relative to the working directory).
    path: str = attrs.field(validator=_non_blank)
    #: ``yaml``, ``csv`` or ``xlsx`` (default: from the file's suffix).
    format: str | None = None
    #: XLSX: the sheet with the table (default: the first sheet).
    sheet: str | None = None
    #: CSV: the encoding (default: UTF-8 with or without BOM, else cp1252).
    encoding: str | None = None
    #: Tables: the plan's key.
    plan: str | None = None
    #: Tables: the plan's name.
    name: str | None = None
    #: Tables: the Land (code, abbreviation or name).
    land: str | None = None
    #: Tables: the services the plan rolls out.
    services: tuple[str, ...] = ()
    #: Tables: the roll-in organisation.
    planning_body: str | None = None
    #: Tables: the financing model (a cost strategy name or a text).
    financing: str | None = None
    #: Tables: the services that charge fees.
    fee_services: tuple[str, ...] = ()
    #: Tables: service key -> the composite XZuFi id of its Onlinedienst.
    onlinedienste: Mapping[str, str] = attrs.field(factory=dict, hash=False)

    def __attrs_post_init__(self) -> None:
        kind = plan_format(self.path, self.format)
        given = [name for name in _HEADER_OPTIONS if getattr(self, name) not in (None, (), {})]
        if kind == "yaml" and given:
            raise ValueError(
                f"{', '.join(given)}: these options are for CSV/XLSX plans; a YAML plan "
                "has its own header"
            )
        if kind != "yaml":
            missing = [n for n in ("plan", "name", "land", "services") if not getattr(self, n)]
            if missing:
                raise ValueError(
                    f"a {kind.upper()} plan needs the options {', '.join(missing)} "
                    "(the table holds waves and checklists; the plan header comes from here)"
                )
            Land.parse(str(self.land))
            unknown = [
                s for s in (*self.fee_services, *self.onlinedienste) if s not in self.services
            ]
            if unknown:
                raise ValueError(f"{', '.join(unknown)}: not in services")

    def header(self) -> RolloutPlan:
        """Return the plan record the options describe (tables only)."""
        return RolloutPlan(
            key=str(self.plan),
            name=str(self.name),
            land=Land.parse(str(self.land)),
            services=[
                PlanService(
                    key=key,
                    fees=key in self.fee_services,
                    onlinedienst=self.onlinedienste.get(key),
                )
                for key in self.services
            ],
            planning_body=self.planning_body,
            financing=self.financing,
        )


def table_options(plan: RolloutPlan) -> dict[str, Any]:
    """Return the connector options that describe *plan*'s header (for a table file).

    :raises ValueError: the plan has something the options cannot hold (a checklist).
    """
    if plan.checklist or any(s.checklist for s in plan.services):
        raise ValueError("a plan table holds the default checklist only (write the plan as YAML)")
    options: dict[str, Any] = {
        "plan": plan.key,
        "name": plan.name,
        "land": plan.land.code,
        "services": list(plan.service_keys),
    }
    if plan.planning_body is not None:
        options["planning_body"] = plan.planning_body
    if plan.financing is not None:
        options["financing"] = plan.financing
    fees = [s.key for s in plan.services if s.fees]
    if fees:
        options["fee_services"] = fees
    onlinedienste = {s.key: s.onlinedienst for s in plan.services if s.onlinedienst}
    if onlinedienste:
        options["onlinedienste"] = onlinedienste
    return options


def read_plan_file(config: PlanFileConfig, *, label: str = "plan") -> Content:
    """Read the plan file of *config*: its records, rejected entries and skipped input.

    :raises ConnectorError: the file is missing or unreadable.
    :raises SourceNotUnderstood: the file is not a plan.
    """
    path = Path(config.path).expanduser()
    if not path.is_file():
        raise ConnectorError(f"{label}: plan file {str(path)!r} does not exist")
    kind = plan_format(path, config.format)
    try:
        if kind == "yaml":
            return read_yaml(path, label)
        plan = config.header()
        content = read_table(path, plan, sheet=config.sheet, encoding=config.encoding, label=label)
    except SourceNotUnderstood as exc:
        if exc.source is None:
            raise SourceNotUnderstood(exc.reason, source=label, where=exc.where) from None
        raise
    except OSError as exc:
        raise ConnectorError(f"{label}: cannot read {str(path)!r}: {exc}") from exc
    content.records.insert(0, plan)
    return content


def write_plan_file(
    path: str | Path,
    plan: RolloutPlan,
    waves: Sequence[Wave],
    items: Sequence[OnboardingItem],
    *,
    format: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Path:
    """Write a plan to *path* as YAML, CSV or XLSX (by *format* or the suffix).

    The table forms hold waves, targets and checklist states (one ``Bearbeiter`` and one
    ``Bemerkung`` per row); the plan header goes into the connector options
    (:func:`table_options`).  *names* (ARS -> name) fills the table's Name column.

    :raises ValueError: the plan does not fit a table (own checklists, waves with their own
        services).
    """
    target = Path(path)
    kind = plan_format(target, format)
    if kind == "yaml":
        target.write_text(dump_yaml(plan, waves, items), encoding="utf-8")
    elif kind == "csv":
        write_csv(target, plan, waves, items, names)
    else:
        write_xlsx(target, plan, waves, items, names)
    return target


class PlanFileConnector(Connector):
    """A rollout plan from a YAML, CSV or XLSX file; see the module docs."""

    type_name: ClassVar[str] = "plan"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = PlanFileConfig

    config: PlanFileConfig

    async def check_source(self) -> CheckResult:
        """Report whether the file exists."""
        path = Path(self.config.path).expanduser()
        if not path.is_file():
            return CheckResult(False, f"plan file {str(path)!r} does not exist")
        return CheckResult(
            True, f"plan file {str(path)!r} ({plan_format(path, self.config.format)})"
        )

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield the whole plan as one complete batch (after its cursor ``"1"``: nothing)."""
        if cursor == _DONE:
            yield Batch([], _DONE, complete=True)
            return
        if cursor is not None:
            raise ConnectorError(
                f"{self.label}: invalid cursor {cursor!r}; a plan is read in one batch ({_DONE!r})"
            )
        content = await anyio.to_thread.run_sync(
            lambda: read_plan_file(self.config, label=self.label)
        )
        yield Batch(
            [Upsert(record) for record in content.records],
            _DONE,
            complete=True,
            rejected=content.rejected,
            skipped=content.skipped,
        )


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``plan`` connector type."""
    register(PlanFileConnector)
