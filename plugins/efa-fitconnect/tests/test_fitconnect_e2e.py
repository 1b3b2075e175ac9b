"""End to end: the fake Routing API -> fitconnect connector -> SyncEngine -> SQLite store."""

from __future__ import annotations

import uuid

import orjson
import pytest
from efa_fitconnect import plugin as fitconnect_plugin

from efa_core.config import parse_config
from efa_core.ids import Ars, LeikaKey
from efa_core.model import (
    Agreement,
    AgreementState,
    Responsibility,
    Service,
    Subscriber,
    SubscriberKind,
    TargetKind,
)
from efa_core.serialization import record_to_dict
from efa_core.store import open_store
from efa_core.sync import SyncEngine
from efa_core.testing.fakes.routing import RoutingApiFake

KEY_A = "99123456760610"
KEY_B = "99134005017000"
DEST = uuid.UUID("3fa85f64-5717-4562-b3fc-2c963f66afa6")


@pytest.fixture
def registry(efa_registry):
    efa_registry.register(fitconnect_plugin, name="fitconnect")
    return efa_registry


def engine(tmp_path, registry, connectors: dict) -> SyncEngine:
    store = open_store(f"sqlite:///{tmp_path / 'efa.db'}")
    return SyncEngine(store, registry, parse_config({"connectors": connectors}))


def routing(base_url: str, **options) -> dict:
    return {
        "type": "fitconnect",
        "base_url": base_url,
        "page_size": 2,
        "initial_backoff": 0.0,
        "max_backoff": 0.0,
        **options,
    }


def test_sync_with_explicit_pairs_tombstones_vanished_routes(
    tmp_path, registry, efa_serve_asgi
) -> None:
    fake = RoutingApiFake(page_limit=2)
    fake.add_route(KEY_A, "16055", destination_id=DEST, name="Bürgeramt Weimar")
    gone = fake.add_route(KEY_A, "16055", name="Altes Amt")
    for n in range(3):
        fake.add_route(KEY_B, "16051", name=f"Amt {n}")
    config = routing(efa_serve_asgi(fake), pairs=[f"{KEY_A}@16055", f"{KEY_B}@16051"])
    sync = engine(tmp_path, registry, {"routing": config})

    first = sync.run()["routing"]
    assert first.ok, first.error
    assert (first.added, first.deleted) == (5, 0)
    stored = {r.natural_key: r for r in sync.store.records(source="routing", kind="route")}
    assert f"{KEY_A}@16055->{DEST}" in stored
    weimar = stored[f"{KEY_A}@16055->{DEST}"].to_record()
    assert weimar.name == "Bürgeramt Weimar"
    # the destinationSignature evidence is stored with the route
    assert weimar.signed_areas == (Ars("16055"),)
    assert weimar.signed_leika_keys == (LeikaKey(KEY_A),)
    assert weimar.signature_verified is None

    fake.routes[KEY_A, "ars", "16055"].remove(gone)
    second = sync.run()["routing"]
    assert second.ok, second.error
    assert (second.added, second.deleted, second.unchanged) == (0, 1, 4)
    assert sync.store.count(source="routing", kind="route") == 4
    assert f"{KEY_A}@16055->{gone['destinationId']}" not in {
        r.natural_key for r in sync.store.records(source="routing", kind="route")
    }


def test_a_failing_api_deletes_nothing(tmp_path, registry, efa_serve_asgi) -> None:
    fake = RoutingApiFake(page_limit=2)
    fake.add_route(KEY_A, "16055", destination_id=DEST)
    fake.add_route(KEY_B, "16051")
    config = routing(efa_serve_asgi(fake), pairs=[f"{KEY_A}@16055", f"{KEY_B}@16051"], attempts=1)
    sync = engine(tmp_path, registry, {"routing": config})
    assert sync.run()["routing"].ok
    fake.fail(500, path="/routes", times=5)
    fake.routes.clear()
    failed = sync.run()["routing"]
    assert not failed.ok
    assert "500" in (failed.error or "")
    assert sync.store.count(source="routing", kind="route") == 2


def test_pairs_come_from_the_store(tmp_path, registry, efa_serve_asgi) -> None:
    """Agreements and responsibilities synced from another source decide what is asked."""
    notes = tmp_path / "notes.jsonl"
    records = [
        Service(key="kfz", name="KFZ", leika_keys=(LeikaKey(KEY_A),)),
        Agreement(
            service_key="kfz",
            subscriber=Subscriber(
                subscriber_kind=SubscriberKind.KREISFREIE_STADT, name="Weimar", ars=Ars("16055")
            ),
            state=AgreementState.CONTRACTED,
        ),
        Responsibility(
            leika_key=LeikaKey(KEY_B),
            ars=Ars("16051"),
            target_kind=TargetKind.ONLINEDIENST,
            target_id="S16_1",
        ),
    ]
    notes.write_bytes(b"\n".join(orjson.dumps(record_to_dict(r)) for r in records) + b"\n")
    fake = RoutingApiFake(page_limit=2)
    fake.add_route(KEY_A, "16055", destination_id=DEST)
    fake.add_route(KEY_B, "16051", name="Erfurt")
    fake.add_route(KEY_B, "16055", name="not worth asking")
    sync = engine(
        tmp_path,
        registry,
        {
            "notes": {"type": "records-file", "path": str(notes)},
            "routing": routing(efa_serve_asgi(fake)),
        },
    )
    assert sync.run(["notes"])["notes"].ok
    report = sync.run(["routing"])["routing"]
    assert report.ok, report.error
    asked = sorted((dict(e.query)["leikaKey"], dict(e.query)["ars"]) for e in fake.exchanges)
    assert asked == [(KEY_A, "16055"), (KEY_B, "16051")]
    assert sync.store.count(source="routing", kind="route") == 2
