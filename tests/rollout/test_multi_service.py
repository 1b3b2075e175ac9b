"""Incremental derivation equals a full one when many services share LeiKa keys and areas."""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efa_core.ids import LeikaKey
from efa_core.model import AgreementState, Record
from efa_core.rollout import RolloutView, Scope
from efa_core.store import Store, open_store

from .helpers import (
    L1,
    L2,
    REGISTER,
    agreement,
    availability,
    put,
    responsibility,
    route,
    service,
)

L3 = LeikaKey("99115005104002")
_LEIKA = [L1, L2, L3]
# services sharing LeiKa keys, so that one area's evidence belongs to several services
_SERVICES = {"a": (L1,), "b": (L2,), "c": (L1, L2), "d": (L3,), "e": (L1, L3), "f": (L2,)}
_AREAS = ["16", "16055", "160550000", "160550000000", "16061", "160615001", "160615001001"]
_AREAS += ["160615001002", "15", "15001", "150010000000", "11"]


def _record(draw: st.DrawFn) -> Record:
    kind = draw(st.sampled_from(["agreement", "responsibility", "route", "availability"]))
    ars = draw(st.sampled_from(_AREAS))
    leika = draw(st.sampled_from(_LEIKA))
    if kind == "agreement":
        return agreement(
            ars,
            draw(st.sampled_from(list(AgreementState))),
            service_key=draw(st.sampled_from(sorted(_SERVICES))),
        )
    if kind == "responsibility":
        return responsibility(ars, leika)
    if kind == "route":
        return route(ars, leika)
    return availability(ars, leika, online=draw(st.booleans()))


records = st.composite(_record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(records(), max_size=25),
    after=st.lists(records(), min_size=1, max_size=12),
    with_register=st.booleans(),
)
def test_refresh_with_services_sharing_keys_equals_full(
    before: list[Record], after: list[Record], with_register: bool
) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{os.path.join(tmp, 'e.db')}") as store,
    ):
        if with_register:
            put(store, "register", REGISTER)
        put(store, "catalogue", [service(k, *leika) for k, leika in _SERVICES.items()])
        put(store, "registry", list({(r.KIND, r.natural_key): r for r in before}.values()))
        view = RolloutView(store)
        view.derive()
        put(store, "registry", list({(r.KIND, r.natural_key): r for r in after}.values()))
        view.refresh()
        incremental = list(view.rows())
        view.derive()
        assert list(view.rows()) == incremental


def test_scoped_derive_of_many_services_with_coarse_scopes_equals_full(store: Store) -> None:
    keys = [f"svc{i:03d}" for i in range(70)]
    put(store, "register", REGISTER)
    put(store, "catalogue", [service(k, L1 if i % 2 else L2) for i, k in enumerate(keys)])
    put(store, "pvog", [responsibility(a, L1) for a in ("16061", "160615001001", "16055")])
    put(store, "pvog", [route(a, L2) for a in ("16", "160550000000", "150010000000")])
    view = RolloutView(store)
    view.derive()
    put(store, "dashboard", [availability(a, L2) for a in ("160615001", "16055")])
    put(store, "dashboard", [availability("16061", L1, online=False)])
    view.derive([Scope(service_key=k, ars=a) for k in keys for a in ("16061", "16055", "15")])
    scoped = list(view.rows())
    view.derive()
    assert list(view.rows()) == scoped
