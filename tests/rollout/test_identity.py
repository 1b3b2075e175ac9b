"""Service identity and attribution: evidence belongs to the right offer.

The scenario of issue 11's "done when": two Wohngeld offers (Schleswig-Holstein's and
Hamburg's) for the same LeiKa key, a municipality's own non-EfA Onlinedienst, dashboard
rows placed by URL and routes placed by what is published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone

import pytest

from efa_core import hookimpl
from efa_core.errors import EfaError
from efa_core.ids import Ars, Land, LeikaKey
from efa_core.model import AgreementState, Availability, Responsibility, Route, Service, Stage
from efa_core.plugins import PluginRegistry
from efa_core.rollout import (
    IdentityLink,
    IdentityRules,
    Role,
    RolloutView,
    ServiceRecord,
    Via,
    builtin_rules,
    coverage,
    normalise_url,
    run_findings,
)
from efa_core.store import Store

from .helpers import NOW, REGISTER, agreement, german, put

WG = LeikaKey("99108004000000")  # Wohngeld
WEIMAR, ADORF, BDORF, DESSAU = "160550000000", "160615001001", "160615001002", "150010000000"


def wohngeld(key: str, land: Land, od: str, url: str, **changes: object) -> Service:
    fields: dict[str, object] = {
        "key": key,
        "name": f"Wohngeld {land.name}",
        "leika_keys": (WG,),
        "land": land,
        "onlinedienst_ids": (od,),
        "url": url,
    }
    fields.update(changes)
    return Service(**fields)  # type: ignore[arg-type]


def zustaendigkeit(ars: str, target: str, *, oe: bool = False) -> Responsibility:
    from efa_core.model import TargetKind

    return Responsibility(
        leika_key=WG,
        ars=Ars(ars),
        target_kind=TargetKind.ORGANISATIONSEINHEIT if oe else TargetKind.ONLINEDIENST,
        target_id=target,
    )


def dashboard(ars: str, url: str | None, online: bool = True) -> Availability:
    return Availability(leika_key=WG, ars=Ars(ars), url=url, online=online)


def routed(ars: str) -> Route:
    return Route(leika_key=WG, ars=Ars(ars), destination_id=uuid.uuid5(uuid.NAMESPACE_URL, ars))


def two_offers(store: Store) -> RolloutView:
    from efa_core.areas import import_areas

    import_areas(store, REGISTER)
    put(
        store,
        "marktplatz",
        [
            wohngeld("WG-SH", Land.SH, "S01000_OD-WG", "https://wohngeld.sh.example/antrag"),
            wohngeld("WG-HH", Land.HH, "S02000_OD-WG", "https://wohngeld.hh.example/"),
        ],
    )
    put(
        store,
        "pvog",
        [
            zustaendigkeit("16061", "S01000_OD-WG"),  # SH's offer in the Eichsfeld
            zustaendigkeit(WEIMAR, "S02000_OD-WG"),  # HH's offer in Weimar
            zustaendigkeit(DESSAU, "S15001_OD-WG-DESSAU"),  # Dessau's own Onlinedienst
            zustaendigkeit(ADORF, "S16_OE-ADORF", oe=True),  # an authority: which offer?
        ],
    )
    put(
        store,
        "dashboard",
        [
            dashboard(WEIMAR, "https://www.wohngeld.hh.example/weimar?v=17"),  # HH, by URL
            dashboard(BDORF, "https://wohngeld.sh.example/antrag/"),  # SH, by URL
            dashboard(DESSAU, "https://wohngeld.dessau.example/"),  # nobody's URL
            dashboard("15", None),  # no URL: cannot say which offer
        ],
    )
    put(store, "fitconnect", [routed(WEIMAR), routed("16061"), routed(DESSAU)])
    view = RolloutView(store)
    view.refresh()
    return view


def _stages(view: RolloutView, key: str) -> dict[str, Stage]:
    return {str(r.ars): r.stage for r in view.rows(key)}


def test_each_offer_gets_only_its_own_evidence(store: Store) -> None:
    view = two_offers(store)
    assert _stages(view, "WG-HH") == {
        WEIMAR: Stage.LIVE,  # its Onlinedienst, its URL, the route where only it is published
        ADORF: Stage.OFFERED,  # the authority's responsibility could be either offer
        DESSAU: Stage.OFFERED,  # Dessau uses its own solution
        "15": Stage.OFFERED,  # a dashboard row without URL
    }
    assert _stages(view, "WG-SH") == {
        "16061": Stage.ROUTABLE,  # its Onlinedienst for the Kreis, and the Kreis's route
        ADORF: Stage.ROUTABLE,
        BDORF: Stage.LIVE,  # its URL (trailing slash and scheme do not matter)
        DESSAU: Stage.OFFERED,
        "15": Stage.OFFERED,
    }
    weimar = view.row("WG-HH", WEIMAR)
    assert weimar is not None
    assert {(e.kind, e.via) for e in weimar.evidence if e.raises} == {
        ("service", Via.SERVICE),
        ("responsibility", Via.ONLINEDIENST),
        ("availability", Via.URL),
        ("route", Via.PUBLISHED),
    }
    # SH's offer has no row in Weimar at all: HH's evidence is not its business
    assert view.row("WG-SH", WEIMAR) is None
    assert view.stage_at("WG-SH", WEIMAR) is Stage.OFFERED


def test_another_solution_is_visible_and_raises_nothing(store: Store) -> None:
    view = two_offers(store)
    for key in ("WG-SH", "WG-HH"):
        dessau = view.row(key, DESSAU)
        assert dessau is not None
        assert dessau.other_solution
        assert not dessau.published
        assert not dessau.live
        assert {(e.kind, e.via) for e in dessau.evidence_with(Role.OTHER_SOLUTION)} == {
            ("responsibility", Via.ONLINEDIENST),
            ("availability", Via.URL),
            ("route", Via.PUBLISHED),  # the route serves what is published there
        }
        report = coverage(view, key, within="15")
        assert report.total.other_solution.gemeinden == 1
        assert report.total.other_solution.population == 80000


def test_the_report_and_efa_coverage_show_each_offer_and_the_other_cases(
    store: Store, db_url: str
) -> None:
    import csv
    import io
    import json

    from click.testing import CliRunner

    from efa_core.cli.rollout import coverage as coverage_command
    from efa_core.model import Agreement, Note
    from efa_core.report import collect_report, render_csv, render_html, render_json

    two_offers(store)
    dated = agreement(WEIMAR, AgreementState.CONTRACTED, service_key="WG-HH")
    put(
        store,
        "registry",
        [Agreement(service_key="WG-HH", subscriber=dated.subscriber, state=dated.state)],
    )
    put(store, "notes", [Note(key="n1", text="Kickoff <Weimar>", agreement_key=dated.natural_key)])
    data = collect_report(
        store, PluginRegistry(entrypoints=False).finding_rules(), now=NOW, timeline=False
    )
    doc = json.loads(render_json(data))
    rows = {(r["service"], r["ars"]): r for r in doc["rows"]}
    assert rows["WG-HH", WEIMAR]["stage"] == "live"
    assert rows["WG-HH", WEIMAR]["agreement_since"] is None
    assert rows["WG-HH", WEIMAR]["notes"] == [
        {"text": "Kickoff <Weimar>", "source": "notes", "at": None}
    ]
    assert rows["WG-SH", "16061"]["stage"] == "routable"
    assert rows["WG-HH", DESSAU]["other_solution"] is True
    assert rows["WG-HH", ADORF]["ambiguous"] is True
    (ambiguous,) = [e for e in rows["WG-HH", ADORF]["evidence"] if e["role"] == "ambiguous"]
    assert ambiguous["candidates"] == ["WG-HH", "WG-SH"]
    found = {(f["rule"], f["service"], f["area"]) for f in doc["findings"]}
    assert ("ambiguous-evidence", "WG-HH", ADORF) in found
    assert ("unknown-online-service", "WG-HH", DESSAU) in found
    totals = {c["total"]["service"]: c["total"] for c in doc["coverage"]}
    assert totals["WG-HH"]["other_solution"] == {"gemeinden": 1, "population": 80000}
    # Adorf, and Dessau by the Land-level dashboard row without a URL
    assert totals["WG-HH"]["ambiguous"]["gemeinden"] == 2

    page = render_html(data, lang="en")
    assert "contracted (date unknown)" in page
    assert "note: Kickoff &lt;Weimar&gt; (notes)" in page
    assert "other-solution: responsibility" in page
    assert "ambiguous, any of WG-HH, WG-SH: responsibility" in page
    assert "<em>(another solution in use)</em>" in page
    assert "<th>another solution</th><th>ambiguous</th>" in page
    page = render_html(data)  # German, the default
    assert "Vertrag geschlossen (Datum unbekannt)" in page
    assert "Notiz: Kickoff &lt;Weimar&gt; (notes)" in page
    assert "andere Lösung: Zuständigkeit" in page
    assert "mehrdeutig, eines von WG-HH, WG-SH: Zuständigkeit" in page
    assert "<em>(andere Lösung im Einsatz)</em>" in page
    assert "<th>andere Lösung</th><th>mehrdeutig</th>" in page
    csv_rows = {(r[0], r[2]): r for r in csv.reader(io.StringIO(render_csv(data)))}
    assert csv_rows["WG-HH", WEIMAR][-3:] == ["false", "false", "Kickoff <Weimar>"]
    assert csv_rows["WG-HH", DESSAU][-3:] == ["true", "true", ""]

    result = CliRunner().invoke(coverage_command, ["WG-SH", "--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    total = json.loads(result.output)[0]["total"]
    assert total["other_solution"] == {"gemeinden": 1, "population": 80000}  # Dessau
    assert total["ambiguous"]["gemeinden"] == 2  # Adorf's authority, Dessau's Land-level row
    assert total["reached"]["routable"]["gemeinden"] == 2  # Adorf, Bdorf (the Kreis route)


def test_ambiguous_evidence_raises_no_stage_and_names_the_candidates(store: Store) -> None:
    view = two_offers(store)
    adorf = view.row("WG-HH", ADORF)
    assert adorf is not None
    assert adorf.ambiguous
    assert not adorf.published
    (ambiguous,) = adorf.evidence_with(Role.AMBIGUOUS)
    assert (ambiguous.kind, ambiguous.via, ambiguous.candidates) == (
        "responsibility",
        Via.LEIKA,
        ("WG-HH", "WG-SH"),
    )
    # SH is published in Adorf by its Kreis-level responsibility; the authority's own
    # responsibility stays ambiguous there too
    sh = view.row("WG-SH", ADORF)
    assert sh is not None
    assert sh.published
    assert sh.ambiguous
    found = list(
        run_findings(view, {"ambiguous-evidence": builtin_rules.ambiguous_evidence}, now=NOW)
    )
    assert sorted((f.service, str(f.area)) for f in found) == [
        ("WG-HH", "15"),
        ("WG-HH", ADORF),
        ("WG-SH", "15"),
        ("WG-SH", ADORF),
    ]
    assert "could be evidence for any of WG-HH, WG-SH" in found[0].message
    assert german(found[0]).startswith(
        "Belege (1: Verfügbarkeit) in 15 könnten zu jedem von WG-HH, WG-SH gehören; keiner "
        "wird für WG-HH gezählt"
    )
    assert coverage(view, "WG-HH", within="16061").total.ambiguous.gemeinden == 1
    assert coverage(view, "WG-HH", within="15").total.ambiguous.gemeinden == 1


def test_a_route_where_two_offers_are_published_is_ambiguous(store: Store) -> None:
    view = two_offers(store)
    put(store, "pvog", [zustaendigkeit(WEIMAR, "S01000_OD-WG")])  # SH published there too
    view.refresh()
    weimar = view.row("WG-HH", WEIMAR)
    assert weimar is not None
    assert weimar.stage is Stage.LIVE  # its own URL still says so
    (route,) = [e for e in weimar.evidence if e.kind == "route"]
    assert (route.role, route.candidates) == (Role.AMBIGUOUS, ("WG-HH", "WG-SH"))
    assert not weimar.routable


def test_one_offer_for_a_leistung_takes_evidence_that_names_no_offer(store: Store) -> None:
    # an offer that never said its Onlinedienst: the Onlinedienst cannot decide, the
    # LeiKa key does (the only candidate), and the finding says how to link it
    put(store, "marktplatz", [Service(key="WG-SH", name="Wohngeld", leika_keys=(WG,))])
    put(store, "pvog", [zustaendigkeit(WEIMAR, "S16_OD-X"), zustaendigkeit(ADORF, "OE", oe=True)])
    view = RolloutView(store)
    view.refresh()
    assert _stages(view, "WG-SH") == {WEIMAR: Stage.PUBLISHED, ADORF: Stage.PUBLISHED}
    row = view.row("WG-SH", WEIMAR)
    assert row is not None
    assert [e.via for e in row.evidence_for(Stage.PUBLISHED)] == [Via.LEIKA]
    (finding,) = run_findings(
        view, {"unknown-online-service": builtin_rules.unknown_online_service}, now=NOW
    )
    assert "add it to [identity.onlinedienste]" in finding.message
    assert "gehört er zu WG-SH, in efa.toml unter [identity.onlinedienste]" in german(finding)
    # once the offer's Onlinedienst is known, the other one is another solution
    put(store, "marktplatz", [attrs_evolve_od("S01000_OD-WG")])
    view.refresh()
    assert _stages(view, "WG-SH") == {WEIMAR: Stage.OFFERED, ADORF: Stage.PUBLISHED}
    assert view.row("WG-SH", WEIMAR).other_solution  # type: ignore[union-attr]


def attrs_evolve_od(od: str) -> Service:
    return Service(key="WG-SH", name="Wohngeld", leika_keys=(WG,), onlinedienst_ids=(od,))


# -- identity -------------------------------------------------------------------------------


def test_records_of_one_offer_from_several_sources_are_one_service(store: Store) -> None:
    put(
        store,
        "marktplatz",
        [Service(key="MP-7", name="Wohngeld", leika_keys=(WG,), land=Land.SH)],
    )
    # the FIT-Store names the Marktplatz offer; the editorial system's Onlinedienst is
    # named by the FIT-Store row
    put(
        store,
        "fitstore",
        [
            Service(
                key="FS-17",
                name="Wohngeld digital",
                leika_keys=(WG,),
                offer_ids=("MP-7",),
                onlinedienst_ids=("S01000_OD-WG",),
            )
        ],
    )
    put(
        store,
        "lrs-sh",
        [
            Service(
                key="S01000_OD-WG",
                name="Wohngeld-Antrag",
                leika_keys=(WG,),
                url="https://wohngeld.sh.example/",
                onlinedienst_ids=("S01000_OD-WG",),
            )
        ],
    )
    put(store, "registry", [agreement(WEIMAR, AgreementState.CONTRACTED, service_key="FS-17")])
    put(store, "pvog", [zustaendigkeit(WEIMAR, "S01000_OD-WG")])
    view = RolloutView(store)
    view.refresh()
    assert list(view.services()) == ["FS-17"]  # registry keys first, then by name
    info = view.services()["FS-17"]
    assert info.aliases == ("FS-17", "MP-7", "S01000_OD-WG")
    assert info.urls == ("wohngeld.sh.example",)
    assert {link.reason for link in info.links} == {
        "fitstore FS-17 names offer id MP-7",
        "fitstore FS-17 names Onlinedienst S01000_OD-WG",
    }
    for alias in info.aliases:
        assert view.service(alias) is info
    row = view.row("MP-7", WEIMAR)  # any id finds the rows
    assert row is not None
    assert row.service_key == "FS-17"
    assert row.stage is Stage.PUBLISHED
    assert row.agreement_state is AgreementState.CONTRACTED


def test_a_shared_url_joins_only_offers_with_a_common_leika_key(store: Store) -> None:
    portal = "https://portal.example/antrag"
    put(
        store,
        "a",
        [
            Service(key="A-1", name="Wohngeld", leika_keys=(WG,), url=portal),
            Service(key="A-2", name="Hundesteuer", leika_keys=(LeikaKey("99041006017000"),)),
        ],
    )
    put(
        store,
        "b",
        [
            Service(key="B-1", name="Wohngeld", leika_keys=(WG,), url=portal + "/"),
            Service(
                key="A-2x",
                name="Hundesteuer (Portal)",
                leika_keys=(LeikaKey("99041006017001"),),
                url=portal,
            ),
        ],
    )
    view = RolloutView(store)
    view.refresh()
    assert sorted(view.services()) == ["A-1", "A-2", "A-2x"]
    assert view.services()["A-1"].aliases == ("A-1", "B-1")
    assert [link.reason for link in view.services()["A-2x"].refused] == [
        "both have the URL portal.example/antrag but no LeiKa key in common"
    ] * 2


def test_configured_links_choose_the_key_and_forbidden_ones_are_refused(store: Store) -> None:
    put(store, "marktplatz", [Service(key="MP-7", name="Wohngeld", leika_keys=(WG,))])
    put(
        store,
        "fitstore",
        [Service(key="FS-17", name="Wohngeld", leika_keys=(WG,), offer_ids=("MP-7",))],
    )
    view = RolloutView(store, IdentityRules(same=(("MP-7", "FS-17"),)))
    view.refresh()
    assert list(view.services()) == ["MP-7"]  # the first id of a `same` group
    view = RolloutView(store, IdentityRules(distinct=(("MP-7", "FS-17"),)))
    view.refresh()
    assert sorted(view.services()) == ["FS-17", "MP-7"]
    (refused,) = view.services()["FS-17"].refused
    assert refused.reason == (
        "fitstore FS-17 names offer id MP-7 (refused: efa.toml [identity] distinct)"
    )


def test_conflicting_attributes_are_a_finding_with_the_governing_value(store: Store) -> None:
    put(store, "a", [Service(key="X", name="Wohngeld", leika_keys=(WG,), land=Land.SH)])
    put(
        store,
        "b",
        [
            Service(
                key="X",
                name="Wohngeld",
                leika_keys=(WG,),
                land=Land.HH,
                modified_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
            )
        ],
    )
    rules = {"sources-disagree": builtin_rules.sources_disagree}
    view = RolloutView(store)
    view.refresh()
    # without priority the most recent record governs (b has a date, a none)
    assert view.services()["X"].land is Land.HH
    (finding,) = run_findings(view, rules, now=NOW)
    assert finding.area is None
    assert "disagree on the land: '02' (b X); '01' (a X)" in finding.message
    assert "'02' of b governs" in finding.message
    assert german(finding) == (
        "X: die Datensätze widersprechen sich beim Feld Land des Anbieters: '02' (b X); "
        "'01' (a X); es gilt '02' von b (Vorrang der Quelle, dann der jüngste)"
    )
    # both records are its evidence: the governing one and the overruled one
    assert [(e.source, e.natural_key, e.detail, e.role) for e in finding.evidence] == [
        ("b", "X", "land 02", Role.SUPPORTS),
        ("a", "X", "land 01", Role.OVERRULED),
    ]
    assert finding.evidence[0].at == datetime(2025, 1, 1, tzinfo=timezone.utc)
    view = RolloutView(store, IdentityRules(source_priority=("a",)))
    view.refresh()
    assert view.services()["X"].land is Land.SH
    (finding,) = run_findings(view, rules, now=NOW)
    assert "'01' of a governs" in finding.message


def test_operator_and_url_conflicts_and_what_is_not_one(store: Store) -> None:
    # one offer (a names b's id); the operator differs only in case, the URL in its host
    put(
        store,
        "a",
        [
            Service(
                key="A-1",
                name="Wohngeld",
                leika_keys=(WG,),
                operator="dataport",
                url="https://wohngeld.a.example/antrag",
                offer_ids=("B-1",),
            )
        ],
    )
    put(
        store,
        "b",
        [
            Service(
                key="B-1",
                name="Wohngeld",
                leika_keys=(WG,),
                operator="Dataport",
                url="https://wohngeld.b.example/antrag",
            )
        ],
    )
    view = RolloutView(store, IdentityRules(source_priority=("b",)))
    view.refresh()
    (info,) = view.services().values()
    assert [c.field for c in info.conflicts] == ["url"]
    assert (info.operator, info.url) == ("Dataport", "https://wohngeld.b.example/antrag")
    (finding,) = run_findings(view, {"d": builtin_rules.sources_disagree}, now=NOW)
    assert "disagree on the url" in finding.message
    assert "widersprechen sich beim Feld URL" in german(finding)
    assert [(e.source, e.role) for e in finding.evidence] == [
        ("b", Role.SUPPORTS),
        ("a", Role.OVERRULED),
    ]
    # another path on the same host is no conflict
    put(store, "a", [attrs_evolve_url("https://wohngeld.b.example/other")])
    view.refresh()
    assert view.services()["B-1"].conflicts == ()


def attrs_evolve_url(url: str) -> Service:
    return Service(key="A-1", name="Wohngeld", leika_keys=(WG,), url=url, offer_ids=("B-1",))


def test_hook_efa_register_identity_matchers(store: Store) -> None:
    seen: list[Sequence[ServiceRecord]] = []

    def fit_store_ids(records: Sequence[ServiceRecord]) -> Iterable[IdentityLink]:
        seen.append(records)
        keys = {r.key for r in records}
        for r in records:
            if r.key.startswith("FS-") and r.key[3:] in keys:
                yield IdentityLink(r.key, r.key[3:], "FIT-Store key names the Marktplatz id")

    class Matchers:
        @hookimpl
        def efa_register_identity_matchers(self, register: Callable[..., None]) -> None:
            register("fit-store-ids", fit_store_ids)

    registry = PluginRegistry(entrypoints=False)
    registry.register(Matchers(), name="matchers")
    assert dict(registry.identity_matchers()) == {"fit-store-ids": fit_store_ids}
    put(store, "marktplatz", [Service(key="MP-7", name="Wohngeld", leika_keys=(WG,))])
    put(store, "fitstore", [Service(key="FS-MP-7", name="Wohngeld", leika_keys=(WG,))])
    from efa_core.config import EfaConfig

    rules = IdentityRules.from_config(EfaConfig(), registry)
    view = RolloutView(store, rules)
    view.refresh()
    assert list(view.services()) == ["FS-MP-7"]
    (link,) = view.services()["FS-MP-7"].links
    assert link.reason == "matcher fit-store-ids: FIT-Store key names the Marktplatz id"
    assert all(isinstance(r.record, Service) for r in seen[-1])

    def broken(records: Sequence[ServiceRecord]) -> Iterable[object]:
        return ["not a link"]

    with pytest.raises(EfaError, match="identity matcher 'broken' returned str"):
        RolloutView(store, IdentityRules(matchers={"broken": broken})).refresh()


def test_urls_are_compared_without_scheme_www_query_and_trailing_slash() -> None:
    assert normalise_url("https://www.Example.org:443/Antrag/?v=1#top") == "example.org/Antrag"
    assert normalise_url("http://example.org//a//b/") == "example.org/a/b"
    assert normalise_url("https://example.org:8443/") == "example.org:8443"
    assert normalise_url("ftp://example.org/") is None
    assert normalise_url(None) is None


# -- disagreements, dates and notes ---------------------------------------------------------


def test_disagreeing_sources_keep_both_and_the_rule_chooses(store: Store) -> None:
    from datetime import timedelta

    put(store, "marktplatz", [Service(key="anmeldung", name="A", leika_keys=(WG,))])
    put(
        store,
        "marktplatz",
        [agreement(WEIMAR, AgreementState.CONTRACTED, since=NOW - timedelta(days=100))],
    )
    put(
        store,
        "verwaltungsabkommen",
        [agreement(WEIMAR, AgreementState.WITHDRAWN, since=NOW - timedelta(days=20))],
    )
    view = RolloutView(store)
    view.refresh()
    row = view.row("anmeldung", WEIMAR)
    assert row is not None
    # no priority: the most recent date governs
    assert row.agreement_state is AgreementState.WITHDRAWN
    assert row.disagreement
    assert {(e.source, e.role) for e in row.evidence if e.kind == "agreement"} == {
        ("verwaltungsabkommen", Role.SUPPORTS),
        ("marktplatz", Role.OVERRULED),
    }
    (finding,) = run_findings(view, {"d": builtin_rules.sources_disagree}, now=NOW)
    assert finding.area == Ars(WEIMAR)
    assert "verwaltungsabkommen says withdrawn, marktplatz says contracted" in finding.message
    assert german(finding) == (
        f"anmeldung in {WEIMAR}: verwaltungsabkommen meldet zurückgezogen, marktplatz meldet "
        "Vertrag geschlossen; es gilt 'zurückgezogen' von verwaltungsabkommen (Vorrang der "
        "Quelle, dann das jüngste Datum)"
    )
    assert len(finding.evidence) == 2
    # a source priority overrides the date
    view = RolloutView(store, IdentityRules(source_priority=("marktplatz",)))
    view.refresh()
    row = view.row("anmeldung", WEIMAR)
    assert row is not None
    assert row.agreement_state is AgreementState.CONTRACTED
    assert row.stage is Stage.CONTRACTED


def test_an_agreement_without_a_date_says_date_unknown(store: Store) -> None:
    from efa_core.model import Agreement

    put(store, "marktplatz", [Service(key="anmeldung", name="A", leika_keys=(WG,))])
    dated = agreement(WEIMAR, AgreementState.CONTRACTED)
    put(
        store,
        "marktplatz",
        [
            Agreement(
                service_key="anmeldung",
                subscriber=dated.subscriber,
                state=AgreementState.CONTRACTED,
            )
        ],
    )
    view = RolloutView(store)
    view.refresh()
    row = view.row("anmeldung", WEIMAR)
    assert row is not None
    assert row.agreement_since is None
    (evidence,) = [e for e in row.evidence if e.kind == "agreement"]
    assert evidence.at is None  # never the time it was synced
    # without a date, no age: no contracted-not-published finding
    found = run_findings(view, {"c": builtin_rules.contracted_not_published}, now=NOW)
    assert list(found) == []


def test_notes_appear_on_the_rows_they_are_about(store: Store) -> None:
    from efa_core.model import Note

    put(store, "marktplatz", [Service(key="anmeldung", name="A", leika_keys=(WG,))])
    put(
        store,
        "notes",
        [
            Note(
                key="n1",
                text="Kickoff mit Weimar",
                service_key="anmeldung",
                subscriber=f"ars:{WEIMAR}",
                on=datetime(2025, 5, 12, tzinfo=timezone.utc),
            ),
            Note(key="n2", text="Vertrag liegt beim Land", agreement_key="anmeldung@ars:16"),
            Note(key="n3", text="Preis verhandeln", service_key="anmeldung"),
        ],
    )
    view = RolloutView(store)
    view.refresh()
    weimar = view.row("anmeldung", WEIMAR)
    assert weimar is not None
    assert weimar.stage is Stage.OFFERED
    (note,) = weimar.evidence_with(Role.NOTE)
    assert (note.detail, note.at) == (
        "Kickoff mit Weimar",
        datetime(2025, 5, 12, tzinfo=timezone.utc),
    )
    land = view.row("anmeldung", "16")
    assert land is not None
    assert [e.detail for e in land.evidence_with(Role.NOTE)] == ["Vertrag liegt beim Land"]
    assert [e.detail for e in view.notes("anmeldung")] == ["Preis verhandeln"]
