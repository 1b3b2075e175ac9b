from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from efa_core.areas import import_areas
from efa_core.errors import EfaError
from efa_core.model import AgreementState
from efa_core.plugins import PluginRegistry
from efa_core.rollout import (
    Finding,
    FindingContext,
    RolloutView,
    Severity,
    builtin_rules,
    run_findings,
)
from efa_core.store import Store

from .helpers import (
    NOW,
    REGISTER,
    agreement,
    availability,
    german,
    put,
    responsibility,
    route,
    service,
)


@pytest.fixture
def rules() -> dict[str, object]:
    registry = PluginRegistry(bundled=(), entrypoints=False)
    registry.register(builtin_rules, name="efa_core.rollout.builtin_rules")
    return dict(registry.finding_rules())


def _findings(store: Store, rules: dict[str, object], **kwargs: object) -> list[Finding]:
    view = RolloutView(store)
    view.refresh()
    return list(run_findings(view, rules, now=NOW, **kwargs))  # type: ignore[arg-type]


def _by_rule(found: list[Finding]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in found:
        out.setdefault(f.rule, set()).add(str(f.area))
    return out


def test_builtin_rules_are_registered(rules: dict[str, object]) -> None:
    assert set(rules) == {
        "live-without-agreement",
        "contracted-not-published",
        "published-without-route",
        "dashboard-offline",
        "unknown-online-service",
        "unknown-area",
        "ambiguous-evidence",
        "sources-disagree",
        "unresolved-area",
    }


def test_live_without_agreement(store: Store, rules: dict[str, object]) -> None:
    put(
        store,
        "r",
        [
            service(),
            agreement("15", AgreementState.TERMINATED),
            agreement("16", AgreementState.CONTRACTED),
        ],
    )
    put(
        store, "d", [availability("150010000000"), availability("160550000000"), availability("12")]
    )
    found = _findings(store, rules, only=["live-without-agreement"])
    assert _by_rule(found) == {"live-without-agreement": {"150010000000", "12"}}
    terminated = next(f for f in found if str(f.area) == "150010000000")
    assert terminated.severity is Severity.ERROR
    assert "terminated" in terminated.message
    assert german(terminated) == (
        "anmeldung ist in 150010000000 online, aber die Vereinbarung ist gekündigt"
    )
    unknown = next(f for f in found if str(f.area) == "12")
    assert german(unknown).endswith("aber es gibt keine Vereinbarung")
    assert {e.kind for e in terminated.evidence} == {"availability", "agreement"}


def test_contracted_not_published_after_n_days(store: Store, rules: dict[str, object]) -> None:
    put(
        store,
        "r",
        [
            service(),
            agreement("16055", AgreementState.CONTRACTED, since=NOW - timedelta(days=120)),
            agreement("16061", AgreementState.CONTRACTED, since=NOW - timedelta(days=120)),
            agreement("15", AgreementState.CONTRACTED, since=NOW - timedelta(days=30)),
        ],
    )
    put(store, "p", [responsibility("160615001002")])  # something published inside 16061
    found = _findings(store, rules, only=["contracted-not-published"])
    assert _by_rule(found) == {"contracted-not-published": {"16055"}}
    assert "120 days" in found[0].message
    assert found[0].message.endswith(
        "(since 2025-02-01) but no responsibility is published for it (limit 90 days)"
    )
    assert german(found[0]) == (
        "anmeldung: 16055 hat vor 120 Tagen einen Vertrag geschlossen (seit 01.02.2025), "
        "aber keine Zuständigkeit dafür ist veröffentlicht (Grenze 90 Tage)"
    )
    shorter = _findings(
        store, rules, only=["contracted-not-published"], options={"contracted_days": 20}
    )
    assert _by_rule(shorter) == {"contracted-not-published": {"16055", "15"}}


def test_published_without_route(store: Store, rules: dict[str, object]) -> None:
    put(store, "r", [service()])
    put(store, "p", [responsibility("16055"), responsibility("16061")])
    put(store, "f", [route("160615001001")])
    found = _findings(store, rules, only=["published-without-route"])
    assert _by_rule(found) == {"published-without-route": {"16055"}}
    assert german(found[0]) == (
        "anmeldung ist für 16055 veröffentlicht, hat aber keinen FIT-Connect-Zustellpunkt"
    )
    # only where the row's stage is published: live without a route is not this finding
    put(store, "d", [availability("16055")])
    view = RolloutView(store)
    view.refresh()
    assert view.stage_at("anmeldung", "16055").value == "live"  # type: ignore[union-attr]
    assert _findings(store, rules, only=["published-without-route"]) == []


def test_dashboard_offline(store: Store, rules: dict[str, object]) -> None:
    put(store, "r", [service()])
    put(store, "d", [availability("16055", online=False), availability("16061")])
    found = _findings(store, rules, only=["dashboard-offline"])
    assert _by_rule(found) == {"dashboard-offline": {"16055"}}
    assert found[0].evidence[0].source == "d"
    assert german(found[0]) == "laut OZG-Dashboard ist anmeldung in 16055 offline"


def test_unknown_online_service(store: Store, rules: dict[str, object]) -> None:
    put(store, "r", [service()])
    put(
        store,
        "p",
        [
            responsibility("16055", target="S16_own_solution"),
            responsibility("16061", target="anmeldung"),
            responsibility("15", target="S15_known"),
            responsibility("12", target="OE_1", oe=True),
        ],
    )
    found = _findings(
        store,
        rules,
        only=["unknown-online-service"],
        options={"known_onlinedienste": ["S15_known"]},
    )
    assert _by_rule(found) == {"unknown-online-service": {"16055"}}
    assert "S16_own_solution" in found[0].message
    assert "für anmeldung allein über den Leistungsschlüssel gezählt" in german(found[0])


def test_unknown_area_needs_a_register_and_reports_mergers(
    store: Store, rules: dict[str, object]
) -> None:
    put(store, "r", [service()])
    put(store, "p", [responsibility("160615001001"), responsibility("160615009009")])
    assert _findings(store, rules, only=["unknown-area"]) == []  # no register: rule is off
    import_areas(store, REGISTER)
    merged = [a for a in REGISTER if a.natural_key != "160615001001"]
    import_areas(store, merged)  # a newer register without Adorf (merged)
    found = _findings(store, rules, only=["unknown-area"])
    messages = {str(f.area): f.message for f in found}
    assert set(messages) == {"160615001001", "160615009009"}
    assert "removed from the register" in messages["160615001001"]
    assert "not in the register" in messages["160615009009"]
    texts = {str(f.area): german(f) for f in found}
    assert texts["160615009009"] == "anmeldung: ARS 160615009009 ist nicht im Gemeindeverzeichnis"
    assert re.fullmatch(
        r"anmeldung: ARS 160615001001 wurde aus dem Gemeindeverzeichnis entfernt \(zuletzt "
        r"gesehen \d\d\.\d\d\.\d{4}; zusammengelegt oder aufgelöst\?\)",
        texts["160615001001"],
    )


def test_custom_rules_and_errors(store: Store) -> None:
    put(store, "r", [service()])

    def rule(context: FindingContext) -> Iterator[Finding]:
        yield Finding(
            rule="", severity=Severity.INFO, service=context.service.key, area=None, message="hi"
        )

    found = _findings(store, {"mine": rule})
    assert [(f.rule, f.message) for f in found] == [("mine", "hi")]
    with pytest.raises(EfaError, match="unknown finding rule"):
        _findings(store, {"mine": rule}, only=["other"])
    with pytest.raises(EfaError, match="yielded str"):
        _findings(store, {"bad": lambda ctx: ["x"]})
