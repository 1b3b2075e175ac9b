"""The onboarding package of a wave: Zuständigkeiten through the writer hook, questionnaires."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pytest

from efa_core import hookimpl
from efa_core.ids import Ars
from efa_core.model import (
    Contact,
    OrganisationUnit,
    PlanService,
    Responsibility,
    TargetKind,
)
from efa_core.plugins import PluginLoadWarning, PluginRegistry
from efa_core.rollout.planning import Plan
from efa_core.rollout.planning.onboarding import (
    QUESTIONNAIRE_COLUMNS,
    QUESTIONNAIRE_FIELDS,
    OnboardingError,
    write_onboarding,
)
from efa_core.store import Store
from rollout.helpers import L1, L2, availability, put, responsibility, route, service

from .helpers import ADORF, TODAY, WEIMAR, base_plan, fresh_view, setup

ONLINEDIENST = "S16000_Onlinedienst_OD-EWA"


def plan_with_onlinedienst() -> Plan:
    plan = base_plan()
    entry = PlanService(key="anmeldung", onlinedienst=ONLINEDIENST)
    return attrs.evolve(plan, plan=attrs.evolve(plan.plan, services=[entry]))


def recording_writer(
    calls: list[tuple[list[Responsibility], Path, str]],
) -> Callable[..., list[Path]]:
    def writer(
        responsibilities: Sequence[Responsibility], *, directory: Path, sender: str
    ) -> list[Path]:
        calls.append((list(responsibilities), directory, sender))
        path = directory / "z.txt"
        path.write_text("\n".join(r.natural_key for r in responsibilities), encoding="utf-8")
        return [path]

    return writer


def test_hook_efa_register_responsibility_writers() -> None:
    class Broken:
        @hookimpl
        def efa_register_responsibility_writers(self, register: Callable[..., None]) -> None:
            register("good", len)
            register("bad", writer=42)

    registry = PluginRegistry(bundled=(), entrypoints=False, env={})
    registry.register(Broken(), name="broken")
    with pytest.warns(PluginLoadWarning, match="'bad' as 42, which is not callable"):
        assert registry.responsibility_writers() == {}

    class Fine:
        @hookimpl
        def efa_register_responsibility_writers(self, register: Callable[..., None]) -> None:
            register("csv", len)

    registry = PluginRegistry(bundled=(), entrypoints=False, env={})
    registry.register(Fine(), name="fine")
    assert dict(registry.responsibility_writers()) == {"csv": len}
    assert registry.list_plugins(all=True)[0].responsibility_writers == ("csv",)


def test_the_package_holds_what_the_editorial_system_still_needs(
    store: Store, tmp_path: Path
) -> None:
    plan = plan_with_onlinedienst()
    setup(store, service("anmeldung", L1, L2), responsibility(WEIMAR), plan=plan)
    calls: list[tuple[list[Responsibility], Path, str]] = []
    package = write_onboarding(
        fresh_view(store),
        plan,
        "Pilot",
        tmp_path / "out",
        writers={"rec": recording_writer(calls)},
        format="rec",
        today=TODAY,
    )
    [(written, directory, sender)] = calls
    assert directory == tmp_path / "out"
    assert sender == "Roll-In TH"
    # Weimar is published already; Adorf needs one Zuständigkeit per LeiKa key
    assert {(str(r.leika_key), str(r.ars), r.target_id) for r in written} == {
        (str(L1), ADORF, ONLINEDIENST),
        (str(L2), ADORF, ONLINEDIENST),
    }
    assert package.responsibilities == 2
    assert package.responsibility_files == (tmp_path / "out" / "z.txt",)
    assert package.notes == ("1 service × municipality pairs are published already",)
    assert len(package.questionnaires) == 4  # CSV and XLSX for Weimar and Adorf


def test_without_an_onlinedienst_id_the_store_names_it_or_nothing_is_written(
    store: Store, tmp_path: Path
) -> None:
    plan = base_plan()
    setup(store, service(), plan=plan)
    calls: list[tuple[list[Responsibility], Path, str]] = []
    writers = {"rec": recording_writer(calls)}
    package = write_onboarding(
        fresh_view(store), plan, "Pilot", tmp_path, writers=writers, format="rec", today=TODAY
    )
    assert calls == []
    assert package.notes == (
        "anmeldung: no Onlinedienst id (give one in the plan); no Zuständigkeiten written",
    )
    # a Zuständigkeit elsewhere in the Land names the Onlinedienst: that one is used
    put(store, "ev", [responsibility("16061", target=ONLINEDIENST)])
    package = write_onboarding(
        fresh_view(store), plan, "Welle 2", tmp_path, writers=writers, format="rec", today=TODAY
    )
    assert {r.target_id for r in calls[0][0]} == {ONLINEDIENST}


def test_an_unknown_format_names_the_known_ones(store: Store, tmp_path: Path) -> None:
    setup(store, service(), plan=base_plan())
    with pytest.raises(OnboardingError, match=re.escape("for format 'xzufi-2.2.0'; known: csv")):
        write_onboarding(fresh_view(store), base_plan(), "Pilot", tmp_path, writers={"csv": len})


def test_xzufi_message_parses_back_and_questionnaires_open_in_openpyxl(
    store: Store, tmp_path: Path
) -> None:
    xzufi = pytest.importorskip("efa_xzufi")
    openpyxl = pytest.importorskip("openpyxl")
    from efa_xzufi.plugin import write_responsibilities

    plan = (
        plan_with_onlinedienst()
        .tick("anmeldung", ADORF, "dvdv", value="bab:16061001")
        .tick("anmeldung", ADORF, "transport", value="osci-xta")
    )
    weimar_route = attrs.evolve(
        route(WEIMAR),
        privacy_policy_url="https://weimar.example.org/datenschutz",
        contacts=[Contact(name="Frau Beispiel", email="ewa@weimar.example.org")],
    )
    setup(
        store,
        service(),
        weimar_route,
        availability(WEIMAR),
        OrganisationUnit(key="S16000_OE_ADORF", name="Gemeinde Adorf", ars=Ars(ADORF)),
        plan=plan,
    )
    registry = PluginRegistry(entrypoints=False)
    registry.register(xzufi.plugin, name="efa_xzufi.plugin")
    writers = registry.responsibility_writers()
    assert writers["xzufi-2.2.0"] is write_responsibilities
    package = write_onboarding(
        fresh_view(store), plan, "Pilot", tmp_path, writers=writers, today=TODAY
    )
    [message] = package.responsibility_files
    back = [
        c.record
        for c in xzufi.parse_transfer_message(message)
        if getattr(c, "kind", None) == "responsibility"
    ]
    assert {(str(r.ars), r.target_kind, r.target_id) for r in back} == {
        (WEIMAR, TargetKind.ONLINEDIENST, ONLINEDIENST),
        (ADORF, TargetKind.ONLINEDIENST, ONLINEDIENST),
    }
    assert {str(r.leika_key) for r in back} == {str(L1)}
    weimar = next(p for p in package.questionnaires if WEIMAR in p.name and p.suffix == ".xlsx")
    book = openpyxl.load_workbook(weimar, read_only=True)
    try:  # a read-only workbook keeps its file open until closed
        rows = list(book.active.iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[0] == QUESTIONNAIRE_COLUMNS
    assert [r[3] for r in rows[1:]] == [key for key, _ in QUESTIONNAIRE_FIELDS]
    answers = {r[3]: (r[5], r[6]) for r in rows[1:]}
    assert answers["destination_id"][0] == str(weimar_route.destination_id)
    assert answers["destination_id"][1].startswith("ev: route ")
    assert answers["privacy_policy"][0] == "https://weimar.example.org/datenschutz"
    assert answers["contacts_destination"][0] == "Frau Beispiel, ewa@weimar.example.org"
    assert answers["portal_link"][0] == f"https://x.example/{WEIMAR}"
    assert answers["transport"][0] == "fit-connect"
    assert answers["contact_project_lead"] == (None, None)  # asked, not known
    adorf = next(p for p in package.questionnaires if ADORF in p.name and p.suffix == ".csv")
    with adorf.open(encoding="utf-8-sig", newline="") as file:
        table = list(csv.reader(file, delimiter=";"))
    assert tuple(table[0]) == QUESTIONNAIRE_COLUMNS
    found = {r[3]: (r[5], r[6]) for r in table[1:]}
    assert found["oe_id"] == ("S16000_OE_ADORF", "ev: organisation-unit S16000_OE_ADORF")
    assert found["dvdv_key"][0] == "bab:16061001"
    assert found["transport"][0] == "osci-xta"
    assert found["destination_id"] == ("", "")


def test_a_writer_that_refuses_the_records_is_an_onboarding_error(
    store: Store, tmp_path: Path
) -> None:
    pytest.importorskip("efa_xzufi")
    from efa_xzufi.plugin import write_responsibilities

    plan = base_plan()
    entry = PlanService(key="anmeldung", onlinedienst="OD-EWA")  # no composite XZuFi id
    plan = attrs.evolve(plan, plan=attrs.evolve(plan.plan, services=[entry]))
    setup(store, service(), plan=plan)
    with pytest.raises(OnboardingError, match=re.escape("the xzufi-2.2.0 writer refused")):
        write_onboarding(
            fresh_view(store),
            plan,
            "Pilot",
            tmp_path,
            writers={"xzufi-2.2.0": write_responsibilities},
        )
