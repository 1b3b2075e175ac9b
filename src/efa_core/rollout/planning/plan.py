"""A plan as one value: the plan record, its waves and its manually recorded checklist items.

:class:`Plan` is what the rest of the planning package works on.  Build and edit one in
Python (:meth:`Plan.build`, :meth:`Plan.with_wave`, :meth:`Plan.tick`) and write it to a
file the ``plan`` connector syncs (:meth:`Plan.write`); read one back from the store with
:func:`load_plan`, as it is now or as the store knew it at a moment (``as_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs

from efa_core.errors import EfaError
from efa_core.ids import Ars, Land
from efa_core.model import (
    ChecklistItem,
    ItemState,
    OnboardingItem,
    PlanService,
    Record,
    RolloutPlan,
    Wave,
    WaveKind,
)
from efa_core.store import Store

__all__ = ["Plan", "PlanError", "load_plan", "load_plans", "plan_keys"]


class PlanError(EfaError):
    """A plan is unknown, ambiguous or cannot be edited as asked."""


def wave_order(wave: Wave) -> tuple[date, date, str]:
    """Sort key of waves: target go-live, then Stichtag, then name (undated last)."""
    return (wave.target_golive or date.max, wave.stichtag or date.max, wave.name)


def _items(value: Iterable[OnboardingItem]) -> tuple[OnboardingItem, ...]:
    return tuple(sorted(value, key=lambda i: i.natural_key))


def _waves(value: Iterable[Wave]) -> tuple[Wave, ...]:
    return tuple(sorted(value, key=wave_order))


@attrs.frozen(kw_only=True)
class Plan:
    """A rollout plan with its waves (in wave order) and its recorded checklist items.

    Edits return a new plan; nothing is stored until the plan is written to the file a
    ``plan`` source reads (:meth:`write`) and synced.
    """

    plan: RolloutPlan
    #: The waves, ordered by target go-live, Stichtag, name.
    waves: tuple[Wave, ...] = attrs.field(default=(), converter=_waves)
    #: The recorded items, ordered by natural key.
    items: tuple[OnboardingItem, ...] = attrs.field(default=(), converter=_items)
    #: The source the plan was read from (``None``: built in Python).
    source: str | None = None

    @property
    def key(self) -> str:
        """The plan's key."""
        return self.plan.key

    @property
    def land(self) -> Land:
        """The plan's Land."""
        return self.plan.land

    @property
    def service_keys(self) -> tuple[str, ...]:
        """The plan's services, in plan order."""
        return self.plan.service_keys

    def wave(self, name: str) -> Wave:
        """Return the wave called *name*.

        :raises PlanError: no such wave (the message lists the waves).
        """
        for wave in self.waves:
            if wave.name == name:
                return wave
        known = ", ".join(repr(w.name) for w in self.waves) or "none"
        raise PlanError(f"plan {self.key!r} has no wave {name!r}; waves: {known}")

    def wave_services(self, wave: Wave) -> tuple[str, ...]:
        """Return the services *wave* rolls out (its own list, else the plan's)."""
        return wave.services or self.service_keys

    def checklist(self, service_key: str) -> tuple[ChecklistItem, ...]:
        """Return the checklist of *service_key* (see :meth:`RolloutPlan.checklist_for`)."""
        return self.plan.checklist_for(service_key)

    def records(self) -> Iterator[Record]:
        """Yield the plan's records: the plan, its waves, its items."""
        yield self.plan
        yield from self.waves
        yield from self.items

    # -- building and editing -------------------------------------------------------------

    @classmethod
    def build(
        cls,
        key: str,
        name: str,
        land: Land | str,
        services: Sequence[str | PlanService],
        *,
        planning_body: str | None = None,
        financing: str | None = None,
        checklist: Sequence[ChecklistItem] = (),
    ) -> Plan:
        """Start a plan without waves.

        :raises efa_core.model.InvalidField: a field breaks the model's rules.
        """
        return cls(
            plan=RolloutPlan(
                key=key,
                name=name,
                land=land if isinstance(land, Land) else Land.parse(land),
                services=[
                    s if isinstance(s, PlanService) else PlanService(key=s) for s in services
                ],
                planning_body=planning_body,
                financing=financing,
                checklist=checklist,
            )
        )

    def with_wave(
        self,
        name: str,
        targets: Iterable[Ars | str],
        *,
        kind: WaveKind | str = WaveKind.ROLLOUT,
        stichtag: date | None = None,
        target_golive: date | None = None,
        services: Sequence[str] = (),
    ) -> Plan:
        """Return the plan with the wave *name* added (or replaced).

        :raises PlanError: *services* names a service that is not in the plan.
        """
        unknown = [s for s in services if s not in self.service_keys]
        if unknown:
            raise PlanError(f"{', '.join(unknown)}: not a service of plan {self.key!r}")
        wave = Wave(
            plan_key=self.key,
            name=name,
            wave_kind=kind if isinstance(kind, WaveKind) else WaveKind(kind),
            targets=[t if isinstance(t, Ars) else Ars.parse(t) for t in targets],
            stichtag=stichtag,
            target_golive=target_golive,
            services=services,
        )
        return attrs.evolve(self, waves=[*(w for w in self.waves if w.name != name), wave])

    def without_wave(self, name: str) -> Plan:
        """Return the plan without the wave *name* (:raises PlanError: no such wave)."""
        self.wave(name)
        return attrs.evolve(self, waves=[w for w in self.waves if w.name != name])

    def tick(
        self,
        service: str,
        ars: Ars | str,
        item: str,
        state: ItemState | str = ItemState.DONE,
        *,
        on: date | None = None,
        by: str | None = None,
        value: str | None = None,
        note: str | None = None,
    ) -> Plan:
        """Return the plan with a checklist item recorded (replacing an earlier record of it).

        :raises PlanError: the service is not in the plan or the item not in its checklist.
        """
        if service not in self.service_keys:
            raise PlanError(f"{service!r} is not a service of plan {self.key!r}")
        keys = [i.key for i in self.checklist(service)]
        if item not in keys:
            raise PlanError(
                f"{item!r} is not an item of the checklist of {service!r}; items: {', '.join(keys)}"
            )
        record = OnboardingItem(
            plan_key=self.key,
            service_key=service,
            ars=ars if isinstance(ars, Ars) else Ars.parse(ars),
            item=item,
            state=state if isinstance(state, ItemState) else ItemState(state),
            on=on,
            by=by,
            value=value,
            note=note,
        )
        kept = [i for i in self.items if i.natural_key != record.natural_key]
        return attrs.evolve(self, items=[*kept, record])

    def write(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Path:
        """Write the plan as YAML, CSV or XLSX (by *format* or suffix) for a ``plan`` source.

        See :func:`efa_core.default_plugins.plan.write_plan_file` (the table forms hold
        waves, targets and checklist states; their header goes into the connector options).
        """
        from efa_core.default_plugins.plan import write_plan_file

        return write_plan_file(path, self.plan, self.waves, self.items, format=format, names=names)

    @classmethod
    def read(cls, path: str | Path, **options: Any) -> Plan:
        """Read a plan file directly (without a store), e.g. to edit it in Python.

        *options* are the ``plan`` connector's options (a table's header).

        :raises PlanError: the file has entries that do not fit the model (the message
            lists them), or holds no plan.
        """
        from efa_core.default_plugins.plan import PlanFileConfig, read_plan_file

        content = read_plan_file(PlanFileConfig(path=str(path), **options), label=str(path))
        if content.rejected:
            lines = [
                f"{r.position}: {'; '.join(f'{p} {m}' for p, m in r.problems)}"
                for r in content.rejected
            ]
            raise PlanError(f"{path}: {len(lines)} entries do not fit:\n" + "\n".join(lines))
        plans = [r for r in content.records if isinstance(r, RolloutPlan)]
        if len(plans) != 1:
            raise PlanError(f"{path}: holds no plan")
        return cls(
            plan=plans[0],
            waves=[r for r in content.records if isinstance(r, Wave)],
            items=[r for r in content.records if isinstance(r, OnboardingItem)],
        )


# -- reading plans from the store ----------------------------------------------------------


def _live(store: Store, kind: str) -> Iterator[tuple[str, Record]]:
    from efa_core.serialization import record_from_dict
    from efa_core.store import EvidenceReader

    # through the (source, kind) index: every report and finding run reads the plans
    for source, key, payload in EvidenceReader(store.backend).records_of_kind(kind):
        yield source, record_from_dict(payload, context=f"{source}/{kind}/{key}")


def _as_of(store: Store, kind: str, when: datetime) -> Iterator[tuple[str, Record]]:
    for entry in store.as_of(when, kind=kind):
        record = entry.to_record()
        if record is not None:
            yield entry.source, record


def _read(store: Store, kind: str, as_of: datetime | None) -> Iterator[tuple[str, Record]]:
    return _live(store, kind) if as_of is None else _as_of(store, kind, as_of)


def load_plans(store: Store, *, as_of: datetime | None = None) -> list[Plan]:
    """Return every plan in *store* (as it was at *as_of*, if given), by key.

    A plan's waves and items are those of the source that holds the plan record.

    :raises PlanError: two sources hold a plan with the same key.
    """
    plans: dict[str, tuple[str, RolloutPlan]] = {}
    for source, record in _read(store, RolloutPlan.KIND, as_of):
        assert isinstance(record, RolloutPlan)
        if record.key in plans and plans[record.key][0] != source:
            raise PlanError(
                f"plan {record.key!r} comes from two sources, {plans[record.key][0]!r} and "
                f"{source!r}; give one of them another plan key"
            )
        plans[record.key] = (source, record)
    waves: dict[str, list[Wave]] = {}
    for source, record in _read(store, Wave.KIND, as_of):
        assert isinstance(record, Wave)
        if plans.get(record.plan_key, ("",))[0] == source:
            waves.setdefault(record.plan_key, []).append(record)
    items: dict[str, list[OnboardingItem]] = {}
    for source, record in _read(store, OnboardingItem.KIND, as_of):
        assert isinstance(record, OnboardingItem)
        if plans.get(record.plan_key, ("",))[0] == source:
            items.setdefault(record.plan_key, []).append(record)
    return [
        Plan(plan=plan, waves=waves.get(key, ()), items=items.get(key, ()), source=source)
        for key, (source, plan) in sorted(plans.items())
    ]


def plan_keys(store: Store) -> list[str]:
    """Return the keys of the plans in *store*, sorted."""
    return sorted({str(r.natural_key) for r in store.records(kind=RolloutPlan.KIND)})


def load_plan(store: Store, key: str | None = None, *, as_of: datetime | None = None) -> Plan:
    """Return the plan *key* (the only plan when *key* is None), as of *as_of* if given.

    :raises PlanError: no such plan (the message lists the plans), or *key* is None and
        the store holds several plans or none.
    """
    plans = {p.key: p for p in load_plans(store, as_of=as_of)}
    when = "" if as_of is None else f" on {as_of.isoformat()}"
    if key is None:
        if len(plans) == 1:
            return next(iter(plans.values()))
        if not plans:
            raise PlanError(
                f"the store holds no plan{when}; configure a source of type 'plan' and sync it"
            )
        raise PlanError(f"the store holds several plans{when}: {', '.join(plans)}; name one")
    if key not in plans:
        raise PlanError(f"no plan {key!r}{when}; plans: {', '.join(plans) or 'none'}")
    return plans[key]
