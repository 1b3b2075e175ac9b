"""What users need from routes and dashboard rows reaches the evidence and ``efa history``.

Issue 16 §4: the signature's ``iat`` and ``submissionHost``, the destination's privacy
policy, imprint and contact form, its contact persons; the dashboard row's OZG name and
area name.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import attrs
import click
from click.testing import CliRunner

from efa_core.cli.sync import history
from efa_core.ids import Ars
from efa_core.model import AgreementState, Availability, Contact, Route, Stage
from efa_core.plugins import PluginRegistry
from efa_core.rollout import RolloutView
from efa_core.store import Store, record_facts

from .helpers import L1, agreement, put, service

SIGNED = datetime(2021, 11, 25, 18, 4, 41, tzinfo=timezone.utc)
ROUTE = Route(
    leika_key=L1,
    ars=Ars("16055"),
    destination_id=uuid.UUID(int=7),
    name="Bürgeramt Weimar",
    signed_at=SIGNED,
    submission_host="submission-api-testing.fit-connect.fitko.dev",
    privacy_policy_url="https://weimar.example/datenschutz",
    imprint_url="https://weimar.example/impressum",
    contact_form_url="https://weimar.example/kontakt",
    contacts=(Contact(name="Erika Muster", email="erika@weimar.example"), Contact(fax="+49 1")),
)
ROW = Availability(
    leika_key=L1,
    ars=Ars("160550000000"),
    online=False,
    url="https://weimar.example/antrag",
    ozg_name="Meldebescheinigung",
    area_name="Weimar, Stadt",
)


def test_record_facts_say_what_people_need() -> None:
    from efa_core.serialization import record_to_dict

    assert record_facts("route", record_to_dict(ROUTE)) == (
        "signed 2021-11-25; submission host submission-api-testing.fit-connect.fitko.dev; "
        "privacy https://weimar.example/datenschutz; imprint https://weimar.example/impressum; "
        "contact form https://weimar.example/kontakt; contact Erika Muster erika@weimar.example"
    )
    assert record_facts("availability", record_to_dict(ROW)) == (
        "OZG Meldebescheinigung; area Weimar, Stadt"
    )
    bare = attrs.evolve(ROUTE, signed_at=None, submission_host=None, privacy_policy_url=None)
    bare = attrs.evolve(bare, imprint_url=None, contact_form_url=None, contacts=())
    assert record_facts("route", record_to_dict(bare)) is None
    assert record_facts("responsibility", {"target_id": "x"}) is None
    assert record_facts("route", None) is None


def test_the_evidence_carries_them(store: Store) -> None:
    put(store, "registry", [service(), agreement("16", AgreementState.CONTRACTED)])
    put(store, "fitconnect", [ROUTE])
    put(store, "dashboard", [ROW])
    view = RolloutView(store)
    view.derive()
    row = view.row("anmeldung", "160550000000")
    assert row is not None
    found = {e.kind: e.to_dict() for e in row.evidence}
    assert found["route"]["stage"] == Stage.ROUTABLE.value
    assert "signed 2021-11-25" in found["route"]["detail"]
    assert "privacy https://weimar.example/datenschutz" in found["route"]["detail"]
    assert "contact Erika Muster erika@weimar.example" in found["route"]["detail"]
    # an offline row still says so first
    assert found["availability"]["detail"] == "offline; OZG Meldebescheinigung; area Weimar, Stadt"


def test_efa_history_shows_them(store: Store, db_url: str, tmp_path: Path, monkeypatch) -> None:
    put(store, "fitconnect", [ROUTE])
    store.close()
    monkeypatch.chdir(tmp_path)

    @click.group()
    def efa() -> None:
        """The command under test."""

    efa.add_command(history)
    registry = PluginRegistry(entrypoints=False, env={})
    runner = CliRunner()
    text = runner.invoke(
        efa, ["history", ROUTE.natural_key, "--db", db_url, "--lang", "en"], obj=registry
    )
    assert text.exit_code == 0, text.output
    header, line = text.stdout.splitlines()[:2]
    assert header.split()[-1] == "DETAILS"
    assert "signed 2021-11-25; submission host submission-api-testing" in line
    as_json = runner.invoke(
        efa, ["history", ROUTE.natural_key, "--db", db_url, "--json"], obj=registry
    )
    [entry] = json.loads(as_json.stdout)
    assert entry["facts"].startswith("signed 2021-11-25")
