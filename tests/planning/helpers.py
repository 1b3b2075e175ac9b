"""Small synthetic stores and plans for the planning tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

from efa_core.areas import import_areas
from efa_core.ids import Ars
from efa_core.model import Area, Record
from efa_core.rollout import RolloutView
from efa_core.rollout.planning import Plan
from efa_core.store import Store
from rollout.helpers import L1, put

TODAY = date(2025, 6, 1)
NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)

#: Thüringen with Weimar (kreisfrei), Eichsfeld (2 Gemeinden) and Ilm-Kreis (3 Gemeinden),
#: and Sachsen-Anhalt with Dessau-Roßlau (another Land).
REGISTER = [
    Area(ars=Ars("16"), name="Thüringen", area_type="Land", population=75000),
    Area(ars=Ars("16055"), name="Weimar", area_type="Kreisfreie Stadt", parent=Ars("16")),
    Area(ars=Ars("160550000"), name="Weimar", parent=Ars("16055")),
    Area(ars=Ars("160550000000"), name="Weimar, Stadt", parent=Ars("160550000"), population=65000),
    Area(ars=Ars("16061"), name="Eichsfeld", area_type="Landkreis", parent=Ars("16")),
    Area(ars=Ars("160615001"), name="VG Eins", parent=Ars("16061")),
    Area(ars=Ars("160615001001"), name="Adorf", parent=Ars("160615001"), population=1000),
    Area(ars=Ars("160615001002"), name="Bdorf", parent=Ars("160615001"), population=2000),
    Area(ars=Ars("16070"), name="Ilm-Kreis", area_type="Landkreis", parent=Ars("16")),
    Area(ars=Ars("160700004"), name="Arnstadt", parent=Ars("16070")),
    Area(ars=Ars("160700004004"), name="Arnstadt, Stadt", parent=Ars("160700004"), population=4000),
    Area(ars=Ars("160700029"), name="Ilmenau", parent=Ars("16070")),
    Area(ars=Ars("160700029029"), name="Ilmenau, Stadt", parent=Ars("160700029"), population=2000),
    Area(ars=Ars("160705002"), name="VG Drei", parent=Ars("16070")),
    Area(ars=Ars("160705002011"), name="Elgersburg", parent=Ars("160705002"), population=1000),
    Area(ars=Ars("15"), name="Sachsen-Anhalt", area_type="Land", population=80000),
    Area(ars=Ars("15001"), name="Dessau-Roßlau", parent=Ars("15")),
    Area(ars=Ars("150010000"), name="Dessau-Roßlau", parent=Ars("15001")),
    Area(ars=Ars("150010000000"), name="Dessau-Roßlau", parent=Ars("150010000"), population=80000),
]
WEIMAR = "160550000000"
ADORF, BDORF = "160615001001", "160615001002"
ARNSTADT, ILMENAU, ELGERSBURG = "160700004004", "160700029029", "160705002011"
ILM_KREIS = "16070"

__all__ = [
    "ADORF",
    "ARNSTADT",
    "BDORF",
    "ELGERSBURG",
    "ILMENAU",
    "ILM_KREIS",
    "L1",
    "NOW",
    "REGISTER",
    "TODAY",
    "WEIMAR",
    "base_plan",
    "fresh_view",
    "setup",
]


def base_plan(*, services: Iterable[str] = ("anmeldung",)) -> Plan:
    """A plan for Thüringen: a pilot (Weimar, Adorf) and a wave with the Ilm-Kreis."""
    return (
        Plan.build("th", "Rollout Thüringen", "TH", list(services), planning_body="Roll-In TH")
        .with_wave(
            "Pilot",
            [WEIMAR, ADORF],
            kind="pilot",
            stichtag=date(2025, 1, 15),
            target_golive=date(2025, 3, 31),
        )
        .with_wave(
            "Welle 2", [ILM_KREIS], stichtag=date(2025, 4, 1), target_golive=date(2025, 12, 31)
        )
    )


def setup(store: Store, *records: Record, plan: Plan | None = None, register: bool = True) -> None:
    """Import the register, put the evidence records (source ``ev``) and the plan."""
    if register:
        import_areas(store, REGISTER)
    if records:
        put(store, "ev", records)
    if plan is not None:
        put(store, "plan", list(plan.records()))


def fresh_view(store: Store) -> RolloutView:
    """Return a current rollout view of *store*."""
    view = RolloutView(store)
    view.refresh()
    return view
