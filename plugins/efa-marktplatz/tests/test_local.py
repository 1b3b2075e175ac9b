"""The local connector: the user's own agreements in YAML (or CSV), notes not synced yet."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from efa_marktplatz import LIFECYCLE_PREFIX, LocalConfig, LocalConnector
from efa_marktplatz.values import BERLIN

from efa_core.connectors import pull_sync
from efa_core.errors import ConnectorError
from efa_core.model import AgreementState, ReuseChannel, SubscriberKind


def pull(path: Path, **options):
    connector = LocalConnector(LocalConfig(path=str(path), **options), name="own")
    batches = list(pull_sync(connector))
    upserts = {(c.kind, c.key): c.record for b in batches for c in b.changes}
    rejected = [r for b in batches for r in b.rejected]
    return upserts, rejected


def test_sample_yaml(data: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    path = data / "local.yaml"
    upserts, rejected = pull(path)
    weimar = upserts["agreement", "MP-001@ars:160550000000#VA-TH-3"]
    assert weimar.state is AgreementState.CONTRACTED
    assert weimar.state_since.date().isoformat() == "2024-06-01"
    assert weimar.state_since.tzinfo is BERLIN
    assert weimar.channel is ReuseChannel.VERWALTUNGSABKOMMEN
    land = upserts["agreement", "MP-005@ars:16"]
    assert land.subscriber.subscriber_kind is SubscriberKind.LAND
    gotha = upserts["agreement", "MP-002@ars:16067"]
    assert gotha.subscriber.subscriber_kind is SubscriberKind.KREIS
    assert gotha.state is AgreementState.WITHDRAWN  # the history says withdrawn first
    by_line = {r.position: r for r in rejected}
    assert sorted(by_line) == [f"{path}:line 19", f"{path}:line 27"]
    ((field, message),) = by_line[f"{path}:line 19"].problems
    assert field == "state"
    assert message.startswith(LIFECYCLE_PREFIX)
    assert f"(2024-04-01, {path}:line 25)" in message
    ((field, message),) = by_line[f"{path}:line 27"].problems
    assert field == "staet"
    assert "unknown key 'staet'" in message
    assert "1 note(s) read but not synced" in caplog.text


def test_yaml_entries_report_every_problem(tmp_path: Path):
    path = tmp_path / "own.yml"
    path.write_text(
        "agreements:\n"
        "  - service: x\n"
        "    subscriber: Niemandsland\n"
        "    state: vielleicht\n"
        "    date: 32.01.2024\n"
        "  - [not, a, mapping]\n"
        "  - service: y\n"
        "    subscriber: ITEBO\n"
        "    kind: Organisation\n"
        "    state: Interessenbekundung\n"
        "    channel: {nested: true}\n",
        encoding="utf-8",
    )
    upserts, rejected = pull(path)
    assert not upserts
    first, second, third = rejected
    assert first.position == f"{path}:line 2"
    assert [field for field, _ in first.problems] == ["subscriber_ars", "state", "date"]
    assert second.position == f"{path}:line 6"
    assert third.problems == (("channel", "must be a single value, not a dict"),)


def test_organisation_subscribers_need_no_ars(tmp_path: Path):
    path = tmp_path / "own.yaml"
    path.write_text(
        "agreements:\n"
        "  - {service: y, subscriber: ITEBO, kind: Organisation, state: Interessenbekundung}\n",
        encoding="utf-8",
    )
    upserts, rejected = pull(path)
    assert not rejected
    agreement = upserts["agreement", "y@org:itebo"]
    assert agreement.subscriber.organisation_id == "itebo"
    assert agreement.state_since is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agreements: [\n", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("agreement: []\n", "unknown top-level key(s) 'agreement'"),
        ("agreements: 3\n", "'agreements' must be a list"),
    ],
)
def test_malformed_yaml_is_a_connector_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "own.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConnectorError) as raised:
        pull(path)
    assert f"local connector 'own': local file '{path}'" in str(raised.value)
    assert message in str(raised.value)


def test_empty_yaml_is_an_empty_snapshot(tmp_path: Path):
    path = tmp_path / "own.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    connector = LocalConnector(LocalConfig(path=str(path)), name="own")
    (batch,) = list(pull_sync(connector))
    assert batch.complete
    assert not batch.changes
    assert not batch.rejected


def test_local_csv_with_logical_headers(tmp_path: Path):
    path = tmp_path / "own.csv"
    path.write_bytes(
        "service,subscriber,ars,state,date\r\n"
        "MP-001,Stadt Gera,160520000000,interested,2024-01-01\r\n"
        "MP-001,Stadt Gera,160520000000,gekündigt,2024-02-01\r\n".encode("utf-8-sig")
    )
    upserts, rejected = pull(path)
    gera = upserts["agreement", "MP-001@ars:160520000000"]
    assert gera.state is AgreementState.INTERESTED
    ((field, message),) = rejected[0].problems
    assert rejected[0].position == f"{path}:row 3"
    assert field == "state"
    assert "the lifecycle allows negotiating, contracted, declined, withdrawn" in message
