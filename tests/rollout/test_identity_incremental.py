"""Incremental refresh equals a full derivation after identity changes (property test).

Services change their ids, Onlinedienste and URLs, sources link and unlink offers, the
configuration joins and separates them and changes the source priority; evidence names
the offers by Onlinedienst id, by URL and by nothing at all.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efa_core.ids import Ars, LeikaKey
from efa_core.model import (
    AgreementState,
    Availability,
    Record,
    Responsibility,
    Route,
    Service,
    TargetKind,
)
from efa_core.rollout import IdentityRules, RolloutView, Via
from efa_core.store import open_store

from .helpers import REGISTER, agreement, put

L1, L2 = LeikaKey("99108004000000"), LeikaKey("99108004000001")
_KEYS = ["MP-1", "MP-2", "FS-1", "OD-1", "OD-2", "OD-3"]
_URLS = [None, "https://a.example/", "https://a.example/x", "https://b.example/"]
_AREAS = ["16", "16055", "160550000000", "16061", "160615001001", "15", "150010000000"]
_AREAS += ["160610000000", "160000000000"]


def _service(draw: st.DrawFn) -> Service:
    key = draw(st.sampled_from(_KEYS))
    others = [k for k in _KEYS if k != key]
    return Service(
        key=key,
        name=key,
        leika_keys=draw(st.sampled_from([(L1,), (L2,), (L1, L2)])),
        onlinedienst_ids=draw(st.lists(st.sampled_from(["OD-1", "OD-2", "OD-3"]), unique=True)),
        offer_ids=draw(st.lists(st.sampled_from(others), unique=True, max_size=1)),
        url=draw(st.sampled_from(_URLS)),
    )


def _record(draw: st.DrawFn) -> Record:
    kind = draw(
        st.sampled_from(["service", "responsibility", "availability", "route", "agreement"])
    )
    if kind == "service":
        return _service(draw)
    ars = draw(st.sampled_from(_AREAS))
    leika = draw(st.sampled_from([L1, L2]))
    if kind == "responsibility":
        oe = draw(st.booleans())
        return Responsibility(
            leika_key=leika,
            ars=Ars(ars),
            target_kind=TargetKind.ORGANISATIONSEINHEIT if oe else TargetKind.ONLINEDIENST,
            target_id=draw(st.sampled_from(["OD-1", "OD-2", "OD-3", "OD-X"])),
        )
    if kind == "availability":
        return Availability(
            leika_key=leika,
            ars=Ars(ars),
            url=draw(st.sampled_from([*_URLS, "https://a.example/x/y", "https://c.example/"])),
            online=draw(st.booleans()),
        )
    if kind == "route":
        return Route(leika_key=leika, ars=Ars(ars), destination_id=uuid.UUID(int=int(ars)))
    return agreement(
        ars,
        draw(st.sampled_from(list(AgreementState))),
        service_key=draw(st.sampled_from(_KEYS)),
    )


records = st.composite(_record)
rules = st.builds(
    IdentityRules,
    same=st.lists(
        st.lists(st.sampled_from(_KEYS), min_size=2, max_size=3, unique=True).map(tuple),
        max_size=1,
    ).map(tuple),
    distinct=st.lists(
        st.lists(st.sampled_from(_KEYS), min_size=2, max_size=2, unique=True).map(tuple),
        max_size=1,
    ).map(tuple),
    source_priority=st.sampled_from([(), ("a",), ("b", "a")]),
)


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(records(), max_size=20),
    after=st.lists(records(), max_size=8),
    delete_count=st.integers(min_value=0, max_value=4),
    rules_before=rules,
    rules_after=rules,
    with_register=st.booleans(),
)
def test_refresh_after_identity_changes_equals_full(
    before: list[Record],
    after: list[Record],
    delete_count: int,
    rules_before: IdentityRules,
    rules_after: IdentityRules,
    with_register: bool,
) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{os.path.join(tmp, 'e.db')}") as store,
    ):
        if with_register:
            put(store, "register", REGISTER)
        unique = {(r.KIND, r.natural_key): r for r in before}
        put(store, "a", list(unique.values()))
        put(store, "b", list(unique.values())[::3])  # a second source of some records
        view = RolloutView(store, rules_before)
        view.refresh()
        changed = {(r.KIND, r.natural_key): r for r in after}
        deletes = [k for k in unique if k not in changed][:delete_count]
        put(store, "a", list(changed.values()), deletes=deletes)
        view = RolloutView(store, rules_after)
        view.refresh()
        incremental = list(view.rows())
        view.derive()
        assert list(view.rows()) == incremental


def test_a_new_link_re_derives_only_the_services_it_touches() -> None:
    """Issue 11 §1: identity is incremental; a link re-derives only the affected services."""
    l3 = LeikaKey("99108004000002")
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{os.path.join(tmp, 'e.db')}") as store,
    ):
        put(
            store,
            "marktplatz",
            [
                Service(key="MP-1", name="A", leika_keys=(L1,)),
                Service(key="MP-2", name="B", leika_keys=(L2,)),
                Service(key="MP-3", name="C", leika_keys=(l3,)),
                *(
                    agreement("16", AgreementState.CONTRACTED, service_key=k)
                    for k in ("MP-1", "MP-2", "MP-3")
                ),
            ],
        )
        put(
            store,
            "pvog",
            [
                Responsibility(
                    leika_key=leika,
                    ars=Ars("16055"),
                    target_kind=TargetKind.ONLINEDIENST,
                    target_id=f"OD-{n}",
                )
                for n, leika in enumerate((L1, L2, l3), start=1)
            ],
        )
        marktplatz_first = ("marktplatz",)  # MP-1 stays the key when FS-1 joins it
        view = RolloutView(store, IdentityRules(source_priority=marktplatz_first))
        view.refresh()
        before = {k: list(view.rows(k)) for k in ("MP-2", "MP-3")}
        # the FIT-Store names MP-1's offer id: one new link, for MP-1
        put(
            store,
            "fitstore",
            [Service(key="FS-1", name="A", leika_keys=(L1,), offer_ids=("MP-1",))],
        )
        stats = view.refresh()
        assert not stats.full
        assert stats.services == 1  # MP-1 alone: no other service shares its LeiKa key
        assert view.services()["MP-1"].aliases == ("FS-1", "MP-1")
        assert {k: list(view.rows(k)) for k in ("MP-2", "MP-3")} == before
        # configuration links work the same way: MP-2's Onlinedienst, named in efa.toml
        view = RolloutView(
            store,
            IdentityRules(onlinedienste={"MP-2": ("OD-2",)}, source_priority=marktplatz_first),
        )
        stats = view.refresh()
        assert (stats.full, stats.services) == (False, 1)
        row = view.row("MP-2", "16055")
        assert row is not None
        assert [e.via for e in row.evidence if e.kind == "responsibility"] == [Via.ONLINEDIENST]
        incremental = list(view.rows())
        view.derive()
        assert list(view.rows()) == incremental
