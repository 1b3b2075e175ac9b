"""The areas the derived view knows: the imported register, else what the sources mention."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from efa_core.store import EvidenceReader, Store

__all__ = ["AreaIndex", "AreaInfo"]


@attrs.frozen(kw_only=True, slots=True)
class AreaInfo:
    """What the view knows about one area (from an :class:`~efa_core.model.Area` record)."""

    ars: str
    name: str | None
    population: int | None
    area_type: str | None

    @property
    def inhabited(self) -> bool:
        """False for the register's uninhabited areas (gemeindefreie Gebiete, unbewohnt)."""
        return not (self.area_type or "").endswith("unbewohnt")


@attrs.frozen(kw_only=True)
class AreaIndex:
    """Live area records by ARS, plus the ARS that some source once had and deleted.

    :attr:`has_register` is false when no source delivered any area: then coverage counts
    only the Gemeinden the sources mention, without population.  The index is immutable
    (do not change the mappings after building it): :meth:`gemeinden` remembers its answers.
    """

    areas: Mapping[str, AreaInfo]
    #: ARS of area records that were deleted (e.g. Gemeinden merged away) and not live.
    removed: Mapping[str, str] = attrs.field(factory=dict)
    _gemeinden: dict[str, list[AreaInfo]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False
    )

    @property
    def has_register(self) -> bool:
        """Whether any area record is known."""
        return bool(self.areas)

    @classmethod
    def load(
        cls, store: Store, *, within: str | None = None, lengths: Iterable[int] | None = None
    ) -> AreaIndex:
        """Read the live and deleted area records of every source.

        :param within: only areas inside this ARS (filtered in SQL).
        :param lengths: only ARS of these lengths (e.g. ``(12, 5)``: Gemeinden and Kreise).
        """
        live: dict[str, AreaInfo] = {}
        removed: dict[str, str] = {}
        for row in EvidenceReader(store.backend).areas(within=within, lengths=lengths):
            if row.payload is None:
                removed[row.ars] = row.last_seen.date().isoformat()
                continue
            data = row.payload
            live.setdefault(
                row.ars,
                AreaInfo(
                    ars=row.ars,
                    name=data.get("name"),
                    population=data.get("population"),
                    area_type=data.get("area_type"),
                ),
            )
        return cls(areas=live, removed={k: v for k, v in removed.items() if k not in live})

    @classmethod
    def from_ars(cls, ars: Iterable[str]) -> AreaIndex:
        """Build an index of bare areas (no names, no population), e.g. from ARS in sources."""
        return cls(
            areas={a: AreaInfo(ars=a, name=None, population=None, area_type=None) for a in ars}
        )

    def gemeinden(self, within: str | None = None) -> list[AreaInfo]:
        """Return the Gemeinde-level areas (12-digit ARS), optionally inside *within*.

        The areas are scanned once per *within* (a report asks for every service).
        """
        prefix = within or ""
        found = self._gemeinden.get(prefix)
        if found is None:
            found = self._gemeinden[prefix] = [
                info
                for key, info in self.areas.items()
                if len(key) == 12 and key.startswith(prefix)
            ]
        return list(found)

    def name(self, ars: str) -> str | None:
        """Return the name of an area, if known."""
        info = self.areas.get(ars)
        return None if info is None else info.name

    def population(self, ars: str) -> int | None:
        """Return the population of an area, if known."""
        info = self.areas.get(ars)
        return None if info is None else info.population
