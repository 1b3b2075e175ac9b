"""The planning finding rules, each on a store made to trigger it (and not to)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import attrs
import pytest

from efa_core.areas import import_areas
from efa_core.ids import Ars
from efa_core.model import AgreementState, Area, ItemState
from efa_core.plugins import PluginRegistry
from efa_core.rollout import Finding, Severity, run_findings
from efa_core.rollout.planning import rules as planning_rules
from efa_core.store import Store
from rollout.helpers import (
    L1,
    agreement,
    availability,
    german,
    put,
    responsibility,
    route,
    service,
)

from .helpers import (
    ADORF,
    ARNSTADT,
    BDORF,
    ILM_KREIS,
    ILMENAU,
    NOW,
    WEIMAR,
    base_plan,
    fresh_view,
    setup,
)


@pytest.fixture
def rules() -> dict[str, object]:
    registry = PluginRegistry(bundled=(), entrypoints=False)
    registry.register(planning_rules, name="efa_core.rollout.planning.rules")
    return dict(registry.finding_rules())


def at(when: date) -> datetime:
    return datetime(when.year, when.month, when.day, 9, tzinfo=timezone.utc)


def found(store: Store, rules, rule: str, **options: object) -> list[Finding]:
    return list(
        run_findings(fresh_view(store), rules, only=[rule], now=NOW, options=options or None)
    )


def areas_of(findings: list[Finding]) -> list[tuple[str, str | None]]:
    return [(str(f.area), f.service) for f in findings]


def test_the_rules_are_a_bundled_plugin() -> None:
    names = set(PluginRegistry(entrypoints=False).finding_rules())
    assert {
        "behind-target",
        "stalled-onboarding",
        "pilot-without-uptake",
        "live-before-contract",
        "contradicted-tick",
        "outside-plan",
        "target-not-in-register",
    } <= names


def test_no_plan_no_planning_findings(store: Store, rules) -> None:
    setup(store, service(), availability(WEIMAR))
    assert list(run_findings(fresh_view(store), rules, now=NOW)) == []


def test_behind_target(store: Store, rules) -> None:
    setup(store, service(), availability(WEIMAR), responsibility(ADORF), plan=base_plan())
    result = found(store, rules, "behind-target")
    # the pilot was due on 2025-03-31: Adorf (published) is behind, Weimar is live;
    # wave 2 is due on 2025-12-31: nobody is behind yet
    assert areas_of(result) == [(ADORF, "anmeldung")]
    assert result[0].severity is Severity.WARNING
    assert "Adorf (160615001001) is published, not live" in result[0].message
    assert "by 2025-03-31 (62 days ago)" in result[0].message
    assert german(result[0]) == (
        "anmeldung: Adorf (160615001001) steht bei „veröffentlicht“, nicht online; Welle "
        "'Pilot' des Plans 'th' sollte bis 31.03.2025 online sein (vor 62 Tagen)"
    )
    assert result[0].evidence[0].kind == "responsibility"


def test_stalled_onboarding(store: Store, rules) -> None:
    plan = (
        base_plan()
        .tick("anmeldung", ADORF, "transport", on=date(2025, 2, 1), value="fit-connect")
        .tick("anmeldung", ARNSTADT, "transport", on=date(2025, 5, 20), value="fit-connect")
    )
    setup(
        store,
        service(),
        attrs.evolve(responsibility(ILMENAU), modified_at=at(date(2025, 1, 2))),
        # inherited evidence (the Land's contract) does not make a Gemeinde "started"
        agreement("16", AgreementState.CONTRACTED, since=at(date(2024, 1, 1))),
        plan=plan,
    )
    result = found(store, rules, "stalled-onboarding")
    assert areas_of(result) == [(ADORF, "anmeldung"), (ILMENAU, "anmeldung")]
    assert "has not moved for 120 days (last change 2025-02-01, limit 60)" in result[0].message
    assert result[0].message.endswith("next: Fachverfahren angebunden")
    assert german(result[0]) == (
        "anmeldung: das Onboarding in Adorf (160615001001) ruht seit 120 Tagen (letzte "
        "Änderung 01.02.2025, Grenze 60); als Nächstes: Fachverfahren angebunden"
    )
    assert areas_of(found(store, rules, "stalled-onboarding", stalled_days=130)) == [
        (ILMENAU, "anmeldung")
    ]


def test_stalled_onboarding_waits_for_the_stichtag(store: Store, rules) -> None:
    plan = base_plan().with_wave(
        "Später", [BDORF], stichtag=date(2025, 9, 1), target_golive=date(2026, 1, 1)
    )
    plan = plan.tick("anmeldung", BDORF, "interest", on=date(2024, 1, 1))
    setup(store, service(), plan=plan)
    assert found(store, rules, "stalled-onboarding") == []


def test_pilot_without_uptake(store: Store, rules) -> None:
    plan = base_plan().tick("anmeldung", ADORF, "contacts", ItemState.IN_PROGRESS)
    setup(store, service(), agreement("16", AgreementState.CONTRACTED), plan=plan)
    result = found(store, rules, "pilot-without-uptake")
    # Weimar has only the Land's contract: no uptake of its own; Adorf recorded something
    assert areas_of(result) == [(WEIMAR, "anmeldung")]
    assert "shows no uptake since the Stichtag 2025-01-15" in result[0].message
    assert "zeigt seit dem Stichtag 15.01.2025 keine Aufnahme" in german(result[0])
    put(store, "ev", [agreement(WEIMAR, AgreementState.INTERESTED)])
    assert found(store, rules, "pilot-without-uptake") == []


def test_pilot_without_uptake_only_after_the_stichtag_and_only_for_pilots(
    store: Store, rules
) -> None:
    plan = base_plan().with_wave(
        "Pilot", [WEIMAR], kind="pilot", stichtag=date(2025, 7, 1), target_golive=date(2025, 9, 1)
    )
    setup(store, service(), plan=plan)
    assert found(store, rules, "pilot-without-uptake") == []  # wave 2 is no pilot


def test_live_before_contract(store: Store, rules) -> None:
    setup(
        store,
        service(),
        attrs.evolve(availability(WEIMAR), modified_at=at(date(2025, 2, 1))),
        agreement(WEIMAR, AgreementState.CONTRACTED, since=at(date(2025, 3, 1))),
        attrs.evolve(availability(ARNSTADT), modified_at=at(date(2025, 2, 1))),
        agreement(ARNSTADT, AgreementState.INTERESTED),
        attrs.evolve(availability(ADORF), modified_at=at(date(2025, 4, 1))),
        agreement(ADORF, AgreementState.CONTRACTED, since=at(date(2025, 3, 1))),
        availability(ILMENAU),  # no agreement at all: live-without-agreement's case
        plan=base_plan(),
    )
    result = found(store, rules, "live-before-contract")
    assert areas_of(result) == [(WEIMAR, "anmeldung"), (ARNSTADT, "anmeldung")]
    assert result[0].message.endswith("it went live on 2025-02-01 but was contracted on 2025-03-01")
    assert result[1].message.endswith("but the agreement is only interested")
    assert german(result[0]).endswith(
        "online, aber der Vertrag wurde erst am 01.03.2025 geschlossen, nach dem Go-Live am "
        "01.02.2025"
    )
    assert german(result[1]).endswith("die Vereinbarung steht erst bei „Interesse bekundet“")
    assert {e.kind for e in result[0].evidence} == {"availability", "agreement"}


def test_contradicted_tick(store: Store, rules) -> None:
    plan = base_plan().tick("anmeldung", WEIMAR, "destination", on=date(2025, 2, 1), by="Frau M.")
    setup(store, service(), route(ARNSTADT), plan=plan)
    result = found(store, rules, "contradicted-tick")
    assert areas_of(result) == [(WEIMAR, "anmeldung")]
    assert result[0].message == (
        "anmeldung: 'FIT-Connect-Zustellpunkt' in Weimar, Stadt (160550000000) was ticked by "
        "Frau M. on 2025-02-01 (plan 'th'), but no FIT-Connect route exists for 160550000000"
    )
    assert german(result[0]) == (
        "anmeldung: 'FIT-Connect-Zustellpunkt' in Weimar, Stadt (160550000000) wurde von "
        "Frau M. am 01.02.2025 abgehakt (Plan 'th'), aber für 160550000000 gibt es keinen "
        "FIT-Connect-Zustellpunkt"
    )
    put(store, "ev", [route(WEIMAR)])
    assert found(store, rules, "contradicted-tick") == []


def test_outside_plan(store: Store, rules) -> None:
    setup(
        store,
        service(),
        agreement(BDORF, AgreementState.CONTRACTED),
        availability("150010000000"),
        agreement(ILM_KREIS, AgreementState.CONTRACTED),
        plan=base_plan(),
    )
    result = found(store, rules, "outside-plan")
    assert areas_of(result) == [(BDORF, "anmeldung")]
    assert result[0].severity is Severity.INFO
    assert result[0].message == (
        "anmeldung is contracted in Bdorf (160615001002), which no wave of plan 'th' targets"
    )
    assert german(result[0]) == (
        "anmeldung steht in Bdorf (160615001002) bei „Vertrag geschlossen“, doch keine Welle "
        "des Plans 'th' zielt auf dieses Gebiet"
    )


def test_target_not_in_register(store: Store, rules) -> None:
    plan = base_plan().with_wave("Fehler", ["160615001099"], target_golive=date(2026, 1, 1))
    setup(store, service(), plan=plan)
    import_areas(store, [Area(ars=Ars("160615001003"), name="Cdorf")], source="register-2")
    result = found(store, rules, "target-not-in-register")
    assert [(str(f.area), f.message) for f in result] == [
        (
            "160615001099",
            "wave 'Fehler' of plan 'th' targets 160615001099, which is not in the register",
        )
    ]
    assert german(result[0]) == (
        "Welle 'Fehler' des Plans 'th' zielt auf 160615001099, das nicht im "
        "Gemeindeverzeichnis steht"
    )


def test_target_removed_from_the_register(store: Store, rules) -> None:
    plan = base_plan().with_wave("Fusion", ["160615001099"], target_golive=date(2026, 1, 1))
    setup(store, service(), plan=plan)
    gone = Area(ars=Ars("160615001099"), name="Xdorf")
    import_areas(store, [Area(ars=Ars("160615001003"), name="Cdorf"), gone], source="reg")
    import_areas(store, [Area(ars=Ars("160615001003"), name="Cdorf")], source="reg")
    (finding,) = found(store, rules, "target-not-in-register")
    assert re.fullmatch(
        r"wave 'Fusion' of plan 'th' targets 160615001099, which was removed from the "
        r"register \(last seen \d{4}-\d\d-\d\d; merged\?\)",
        finding.message,
    )
    assert re.fullmatch(
        r"Welle 'Fusion' des Plans 'th' zielt auf 160615001099, das aus dem "
        r"Gemeindeverzeichnis entfernt wurde \(zuletzt gesehen \d\d\.\d\d\.\d{4}; "
        r"zusammengelegt\?\)",
        german(finding),
    )


def test_findings_within_an_area_keep_the_land_level_evidence(store: Store, rules) -> None:
    plan = base_plan().tick("anmeldung", WEIMAR, "contract", on=date(2025, 1, 1))
    setup(store, service(), agreement("16", AgreementState.CONTRACTED), plan=plan)
    everywhere = list(run_findings(fresh_view(store), rules, now=NOW))
    inside = list(run_findings(fresh_view(store), rules, now=NOW, within="16055"))
    assert inside == [f for f in everywhere if str(f.area).startswith("16055")]
    assert not [f for f in inside if f.rule == "contradicted-tick"]  # the Land's contract


def test_a_rule_sees_a_changed_plan_in_the_same_store(store: Store, rules) -> None:
    setup(store, service(), route(ARNSTADT), plan=base_plan())
    assert found(store, rules, "contradicted-tick") == []
    put(store, "plan", [base_plan().tick("anmeldung", WEIMAR, "destination").items[0]])
    assert len(found(store, rules, "contradicted-tick")) == 1


def test_the_rules_run_in_a_report_with_everything_else(store: Store) -> None:
    from efa_core.report import collect_report

    setup(store, service(), availability(WEIMAR), plan=base_plan())
    data = collect_report(
        store, PluginRegistry(entrypoints=False).finding_rules(), now=NOW, timeline=False
    )
    assert {f.rule for f in data.findings} >= {"behind-target", "pilot-without-uptake"}


def test_a_plan_may_name_the_offer_by_another_of_its_ids(store: Store, rules) -> None:
    from efa_core.model import Service

    plan = base_plan(services=("FIT-4711",))
    record = Service(key="anmeldung", name="Anmeldung", leika_keys=[L1], offer_ids=["FIT-4711"])
    setup(store, record, responsibility(ADORF), plan=plan)
    result = found(store, rules, "behind-target")
    assert areas_of(result) == [(WEIMAR, "anmeldung"), (ADORF, "anmeldung")]
    assert "Adorf (160615001001) is published" in result[1].message
