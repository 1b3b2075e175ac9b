"""End to end: the fake Routing API -> fitconnect connector -> SyncEngine -> SQLite store."""

from __future__ import annotations

import uuid

import orjson
import pytest
from efa_fitconnect import plugin as fitconnect_plugin
from efa_fitconnect.testing import RoutingApiFake

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
        "http": {"initial_backoff": 0.0, "max_backoff": 0.0},
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
    config = routing(efa_serve_asgi(fake) + "/v1", pairs=[f"{KEY_A}@16055", f"{KEY_B}@16051"])
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
    config = routing(efa_serve_asgi(fake) + "/v1", pairs=[f"{KEY_A}@16055", f"{KEY_B}@16051"])
    config["http"]["attempts"] = 1
    sync = engine(tmp_path, registry, {"routing": config})
    assert sync.run()["routing"].ok
    fake.fail(500, path="/v1/routes", times=5)
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
            "routing": routing(efa_serve_asgi(fake) + "/v1"),
        },
    )
    assert sync.run(["notes"])["notes"].ok
    report = sync.run(["routing"])["routing"]
    assert report.ok, report.error
    asked = sorted((dict(e.query)["leikaKey"], dict(e.query)["ars"]) for e in fake.exchanges)
    assert asked == [(KEY_A, "16055"), (KEY_B, "16051")]
    assert sync.store.count(source="routing", kind="route") == 2


class _HostileRouting(RoutingApiFake):
    """The fake Routing API with a broken ``totalCount`` or paging (issue 16 §1)."""

    def __init__(self, mode: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    def handle(self, method, path, query, headers):
        status, content_type, body, extra = super().handle(method, path, query, headers)
        if status == 200 and isinstance(body, dict) and "routes" in body:
            if self.mode == "string-total":
                body = {**body, "totalCount": str(body["totalCount"])}
            elif self.mode == "no-total":
                body = {k: v for k, v in body.items() if k != "totalCount"}
            elif self.mode == "ignore-offset":
                body = {**body, "routes": self.routes[(KEY_B, "ars", "16051")][:2]}
            elif self.mode == "ignore-limit":  # everything from the offset on
                offset = int(dict(query).get("offset", "0"))
                body = {**body, "routes": self.routes[(KEY_B, "ars", "16051")][offset:]}
        return status, content_type, body, extra


@pytest.mark.parametrize("mode", ["no-total", "ignore-offset"])
def test_a_snapshot_that_cannot_prove_its_end_fails_and_deletes_nothing(
    tmp_path, registry, efa_serve_asgi, mode
) -> None:
    fake = _HostileRouting("normal", page_limit=2)
    for n in range(5):
        fake.add_route(KEY_B, "16051", name=f"Amt {n}")
    config = routing(efa_serve_asgi(fake) + "/v1", pairs=[f"{KEY_B}@16051"])
    sync = engine(tmp_path, registry, {"routing": config})
    assert sync.run()["routing"].added == 5
    fake.mode = mode
    report = sync.run()["routing"]
    assert not report.ok
    assert report.deleted == 0
    expected = "cannot be proven" if mode == "no-total" else "loop: page 1 repeats"
    assert expected in (report.error or "")
    assert len(list(sync.store.records(source="routing", kind="route"))) == 5
    # A loop is detected at the first repeated page: two requests, not thousands.
    assert len([e for e in fake.exchanges if e.path == "/v1/routes"]) <= 2 + 3


def test_a_total_sent_as_a_string_still_reads_every_page(
    tmp_path, registry, efa_serve_asgi
) -> None:
    fake = _HostileRouting("string-total", page_limit=2)
    for n in range(5):
        fake.add_route(KEY_B, "16051", name=f"Amt {n}")
    sync = engine(
        tmp_path,
        registry,
        {"routing": routing(efa_serve_asgi(fake) + "/v1", pairs=[f"{KEY_B}@16051"])},
    )
    report = sync.run()["routing"]
    assert report.ok, report.error
    assert report.added == 5


def test_pages_larger_than_asked_are_cut_and_the_run_says_so(
    tmp_path, registry, efa_serve_asgi
) -> None:
    fake = _HostileRouting("ignore-limit", page_limit=2)
    for n in range(5):
        fake.add_route(KEY_B, "16051", name=f"Amt {n}")
    config = routing(efa_serve_asgi(fake) + "/v1", pairs=[f"{KEY_B}@16051"])
    sync = engine(tmp_path, registry, {"routing": config})
    report = sync.run()["routing"]
    assert report.ok, report.error
    assert report.added == 5
    assert [len(dict(e.body)["routes"]) for e in fake.exchanges] == [5, 3, 1]
    [run] = sync.store.runs(source="routing")
    cut = [w for w in run.warnings if "more than limit=2" in w]
    assert len(cut) == 1  # on the run, once
    assert "answered 5 items at offset=0, more than limit=2; kept the first 2" in cut[0]


def test_destination_details_and_signature_facts_reach_the_store(
    tmp_path, registry, efa_serve_asgi
) -> None:
    fake = RoutingApiFake(page_limit=2)
    fake.add_route(
        KEY_A,
        "16055",
        destination_id=DEST,
        name="Bürgeramt Weimar",
        privacyPolicyUrl="https://weimar.example/datenschutz",
        imprintUrl="https://weimar.example/impressum",
        accessibilityUrl="https://weimar.example/barrierefreiheit",
        contactFormUrl="https://weimar.example/kontakt",
        contactPersons=[
            {"name": "Frau Muster", "tel": "+49 3643 000", "email": "amt@weimar.example"}
        ],
        address={
            "street": "Schwanseestraße",
            "houseNumber": "17",
            "zip": "99423",
            "city": "Weimar",
        },
        postOfficeBox={"postOfficeBox": "Postfach 2012", "zip": "99401", "city": "Weimar"},
        processingDuration={"minDuration": 2, "maxDuration": 5, "unit": "workday"},
    )
    sync = engine(
        tmp_path,
        registry,
        {"routing": routing(efa_serve_asgi(fake) + "/v1", pairs=[f"{KEY_A}@16055"])},
    )
    assert sync.run()["routing"].ok
    (row,) = sync.store.records(source="routing", kind="route")
    payload = dict(row.payload)
    assert payload["privacy_policy_url"] == "https://weimar.example/datenschutz"
    assert payload["contact_form_url"] == "https://weimar.example/kontakt"
    assert payload["contacts"] == [
        {"name": "Frau Muster", "phone": "+49 3643 000", "fax": None, "email": "amt@weimar.example"}
    ]
    assert [a["usage"] for a in payload["addresses"]] == ["visit", "po-box"]
    assert payload["addresses"][1]["po_box"] == "Postfach 2012"
    assert payload["processing_duration"] == "2-5 workday"
    assert payload["signed_at"] == "2021-11-25T18:04:41+00:00"  # the fake's iat 1637863481
    assert payload["submission_host"] == "submission-api-testing.fit-connect.fitko.dev"
