"""The narrowed reads: agreements by service key, batched history, rows inside an area."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efa_core.areas import import_areas
from efa_core.connectors import Upsert
from efa_core.ids import Ars
from efa_core.model import Agreement, AgreementState, Record, Subscriber, SubscriberKind
from efa_core.plugins import PluginRegistry
from efa_core.rollout import (
    AreaIndex,
    FindingContext,
    RolloutView,
    RowFlag,
    Scope,
    builtin_rules,
    coverage,
    run_findings,
)
from efa_core.store import Store, open_store

from .helpers import (
    NOW,
    REGISTER,
    agreement,
    availability,
    put,
    responsibility,
    route,
    service,
)

# service keys that share prefixes, one with "@" in it (an agreement key is "<key>@...")
_SERVICES = ["anmeldung", "anmeldung-x", "anmeldung@ars:16"]
_AREAS = ["16", "16055", "160550000000", "16061", "160615001", "160615001001", "15", "11"]


def _agreement(
    service_key: str,
    ars: str,
    state: AgreementState,
    *,
    org: str | None = None,
    reference: str | None = None,
) -> Agreement:
    if org is None:
        subscriber = agreement(ars, state, service_key=service_key).subscriber
    else:
        subscriber = Subscriber(
            subscriber_kind=SubscriberKind.ORGANISATION,
            name=org,
            organisation_id=org,
            ars=Ars(ars),
        )
    return Agreement(
        service_key=service_key,
        subscriber=subscriber,
        state=state,
        state_since=NOW - timedelta(days=10),
        reference=reference,
    )


def _record(draw: st.DrawFn) -> Record:
    kind = draw(st.sampled_from(["agreement", "agreement", "responsibility", "availability"]))
    ars = draw(st.sampled_from(_AREAS))
    if kind == "agreement":
        return _agreement(
            draw(st.sampled_from(_SERVICES)),
            ars,
            draw(st.sampled_from(list(AgreementState))),
            org=draw(st.sampled_from([None, None, "ktz", "zv-nord"])),
            reference=draw(st.sampled_from([None, None, "IB-1", "V-2"])),
        )
    if kind == "responsibility":
        return responsibility(ars)
    return availability(ars, online=draw(st.booleans()))


records = st.composite(_record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(records(), max_size=20),
    after=st.lists(records(), max_size=10),
    again=st.lists(records(), max_size=6),
    delete_count=st.integers(min_value=0, max_value=4),
)
def test_incremental_equals_full_with_organisations_references_and_look_alike_keys(
    before: list[Record], after: list[Record], again: list[Record], delete_count: int
) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{os.path.join(tmp, 'e.db')}") as store,
    ):
        put(store, "catalogue", [service(key) for key in _SERVICES])
        unique = {(r.KIND, r.natural_key): r for r in before}
        put(store, "registry", list(unique.values()))
        put(store, "fitstore", list(unique.values())[::2])  # a second agreement source
        view = RolloutView(store)
        view.derive()
        changed = {(r.KIND, r.natural_key): r for r in after}
        deletes = [k for k in unique if k not in changed][:delete_count]
        put(store, "registry", list(changed.values()), deletes=deletes)
        # a second change of the same keys in the same refresh window
        put(store, "registry", again)
        view.refresh()
        incremental = list(view.rows())
        view.derive()
        assert list(view.rows()) == incremental


def test_agreements_of_a_look_alike_service_key_stay_apart(store: Store) -> None:
    put(store, "catalogue", [service(key) for key in _SERVICES])
    put(
        store,
        "registry",
        [
            _agreement("anmeldung@ars:16", "160615001001", AgreementState.CONTRACTED),
            _agreement("anmeldung-x", "160615001001", AgreementState.TERMINATED),
            _agreement("anmeldung", "160615001001", AgreementState.INTERESTED, org="ktz"),
        ],
    )
    view = RolloutView(store)
    view.derive()
    put(store, "pvog", [responsibility("160615001001")])
    assert not view.refresh().full
    states = {r.service_key: r.agreement_state for r in view.rows()}
    assert states == {
        "anmeldung": AgreementState.INTERESTED,  # the organisation's agreement, by its ARS
        "anmeldung-x": AgreementState.TERMINATED,
        "anmeldung@ars:16": AgreementState.CONTRACTED,
    }
    row = view.row("anmeldung", "160615001001")
    assert row is not None
    assert [e.natural_key for e in row.evidence if e.kind == "agreement"] == ["anmeldung@org:ktz"]


def test_a_key_changed_twice_in_one_window_re_derives_every_place_it_was(store: Store) -> None:
    put(store, "catalogue", [service()])
    put(store, "registry", [_agreement("anmeldung", "160615001001", AgreementState.CONTRACTED)])
    view = RolloutView(store)
    view.derive()
    # the organisation's agreement moves twice before the next refresh
    first = _agreement("anmeldung", "160615001001", AgreementState.CONTRACTED, org="ktz")
    put(store, "registry", [first])
    put(store, "registry", [_agreement("anmeldung", "16055", AgreementState.INTERESTED, org="ktz")])
    put(store, "registry", [_agreement("anmeldung", "15", AgreementState.INTERESTED, org="ktz")])
    assert not view.refresh().full
    incremental = list(view.rows())
    view.derive()
    assert list(view.rows()) == incremental
    assert {str(r.ars) for r in incremental} == {"15", "160615001001"}


def test_scopes_for_changes_reads_the_previous_payloads_of_many_keys(store: Store) -> None:
    put(store, "catalogue", [service()])
    old = [_agreement("anmeldung", a, AgreementState.INTERESTED, org=f"o{a}") for a in _AREAS]
    put(store, "registry", old)
    new = [_agreement("anmeldung", "15", AgreementState.CONTRACTED, org=f"o{a}") for a in _AREAS]
    put(store, "registry", new)
    view = RolloutView(store)
    scopes = view.scopes_for_changes("registry", [Upsert(r) for r in new])
    assert scopes == {Scope(service_key="anmeldung", ars=a) for a in _AREAS}


def _rules() -> dict[str, object]:
    registry = PluginRegistry(bundled=(), entrypoints=False)
    registry.register(builtin_rules, name="efa_core.rollout.builtin_rules")
    return dict(registry.finding_rules())


def _findings_store(store: Store) -> RolloutView:
    import_areas(store, REGISTER)
    put(store, "registry", [service(), service("hund")])
    put(
        store,
        "registry",
        [
            agreement("160615001001", AgreementState.CONTRACTED, since=NOW - timedelta(days=400)),
            agreement("150010000000", AgreementState.CONTRACTED, since=NOW - timedelta(days=400)),
            agreement("16", AgreementState.TERMINATED, service_key="hund"),
        ],
    )
    put(
        store,
        "pvog",
        [responsibility("16061"), responsibility("15001", target="ghost"), responsibility("12")],
    )
    put(store, "fitconnect", [route("160615001002")])
    put(
        store,
        "dashboard",
        [availability("160550000000"), availability("15001", online=False)],
    )
    view = RolloutView(store)
    view.refresh()
    return view


def test_run_findings_within_equals_the_findings_inside(store: Store) -> None:
    view = _findings_store(store)
    rules = _rules()
    everything = list(run_findings(view, rules, now=NOW))  # type: ignore[arg-type]
    for within in ("16", "15", "16061", "12"):
        inside = [f for f in everything if f.area is None or str(f.area).startswith(within)]
        assert list(run_findings(view, rules, now=NOW, within=within)) == inside  # type: ignore[arg-type]
    assert {f.area for f in everything if not str(f.area).startswith("16")}  # some outside


def test_run_findings_uses_the_rows_given_and_says_what_it_is_limited_to(store: Store) -> None:
    view = _findings_store(store)
    seen: list[tuple[str, str | None, int]] = []

    def spy(context: FindingContext) -> list[object]:
        seen.append((context.service.key, context.within, len(context.rows)))
        return []

    given = {"anmeldung": list(view.rows("anmeldung", within="16"))[:1]}
    list(run_findings(view, {"spy": spy}, now=NOW, within="16", rows=given))
    assert seen == [
        ("anmeldung", "16", 1),  # the rows given, as given
        ("hund", "16", len(list(view.rows("hund", within="16")))),  # read from the view
    ]
    seen.clear()
    list(run_findings(view, {"spy": spy}, now=NOW))
    assert seen == [
        ("anmeldung", None, len(list(view.rows("anmeldung")))),
        ("hund", None, len(list(view.rows("hund")))),
    ]


def test_stage_rows_within_keeps_the_rows_inside_and_the_containing_ones(store: Store) -> None:
    view = _findings_store(store)
    everything = dict(view.stage_rows("hund") + view.stage_rows("anmeldung"))
    assert "16" in dict(view.stage_rows("hund", within="16061"))  # the Land's row contains it
    for within in ("16", "16061", "160615001001", "15", "1606"):
        got = dict(view.stage_rows("anmeldung", within=within))
        assert got == {
            a: r
            for a, r in view.stage_rows("anmeldung")
            if a.startswith(within) or within.startswith(a)
        }
        assert set(got) <= set(everything)


def test_coverage_within_is_unchanged_by_the_narrower_read(store: Store) -> None:
    view = _findings_store(store)
    index = AreaIndex.load(store)
    for within in ("16", "16061", "15"):
        narrow = coverage(view, "anmeldung", within=within, by="kreis", areas=index)
        # the same answer from every row of the service (a view that ignores within)
        full_rows = view.flag_rows("anmeldung")
        wide_view = _AllRows(view, full_rows)
        wide = coverage(wide_view, "anmeldung", within=within, by="kreis", areas=index)  # type: ignore[arg-type]
        assert narrow == wide


class _AllRows:
    """A view whose flag_rows ignores *within* (what coverage read before)."""

    def __init__(self, view: RolloutView, rows: list[tuple[str, int, RowFlag]]) -> None:
        self.store = view.store
        self._rows = rows
        self.service = view.service

    def flag_rows(
        self, service_key: str, *, within: object = None
    ) -> list[tuple[str, int, RowFlag]]:
        return list(self._rows)


def test_area_index_gemeinden_are_remembered_but_returned_as_copies(store: Store) -> None:
    import_areas(store, REGISTER)
    index = AreaIndex.load(store)
    first = index.gemeinden("16")
    assert [a.ars for a in first] == ["160550000000", "160615001001", "160615001002"]
    first.clear()
    assert [a.ars for a in index.gemeinden("16")] == [
        "160550000000",
        "160615001001",
        "160615001002",
    ]
    assert len(index.gemeinden()) == 4
    assert index == AreaIndex.load(store)  # the remembered answers are not part of equality


def test_reads_by_kind_use_the_source_kind_index_on_sqlite(store: Store) -> None:
    """Services and the register are found through the (source, kind, natural_key) index.

    The partial live-rows index ``(source, id, …) WHERE deleted = FALSE`` made SQLite
    walk every record of every source for these (about 0.2 s each on the rollout
    benchmark's store, on every refresh, coverage and report).
    """
    import re

    from efa_core.store import EvidenceReader

    if store.backend.dialect.value != "sqlite":
        pytest.skip("SQLite's planner")
    put(store, "register", REGISTER)
    put(store, "registry", [service(), *(service(f"s{n}") for n in range(3))])
    put(store, "pvog", [responsibility(ars) for ars in ("16055", "16061", "15")])
    sent: list[tuple[str, tuple[object, ...]]] = []
    db = store.backend
    real_all, real_one = db.fetchall, db.fetchone

    def fetchall(sql: str, params: object = ()) -> list[object]:
        sent.append((sql, tuple(params)))  # type: ignore[arg-type]
        return real_all(sql, params)  # type: ignore[arg-type,no-any-return]

    def fetchone(sql: str, params: object = ()) -> object:
        sent.append((sql, tuple(params)))  # type: ignore[arg-type]
        return real_one(sql, params)  # type: ignore[arg-type]

    db.fetchall, db.fetchone = fetchall, fetchone  # type: ignore[method-assign]
    try:
        reader = EvidenceReader(db)
        assert [r.key for r in reader.services()] == ["anmeldung", "s0", "s1", "s2"]
        assert reader.has_register()
        assert "16055" in reader.register()
        assert [a.ars for a in reader.areas(lengths=(2,))] == ["16", "15"]
        # the plans' reader (planning.load_plans, on every report)
        assert [k for _, k, _ in reader.records_of_kind("service")] == [
            "anmeldung",
            "s0",
            "s1",
            "s2",
        ]
    finally:
        db.fetchall, db.fetchone = real_all, real_one  # type: ignore[method-assign]
    assert len(sent) == 5
    for sql, params in sent:
        plan = " ".join(str(row[-1]) for row in real_all("EXPLAIN QUERY PLAN " + sql, params))
        assert re.search(r"USING INDEX sqlite_autoindex_records_1 \(source=\? AND kind=\?", plan), (
            sql,
            plan,
        )
