"""The pvog connector against the fake PVOG server: mapping, auth, faults, config."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

import httpx
import pytest
from efa_pvog import PvogConfig, PvogConnector, PvogFeedError
from efa_pvog.testing import FakePvog, PvogFault
from pvog_support import FAST_HTTP, make_config

from efa_core.config import build_connector, parse_config
from efa_core.connectors import Batch, Delete, Upsert, check_sync, pull_sync
from efa_core.errors import ConfigError, ConnectorError
from efa_core.http import HttpError, PagingError
from efa_core.model import Responsibility, TargetKind
from efa_core.plugins import PluginRegistry
from efa_core.secret import Secret
from efa_core.testing import RecordingTransport

Make = Callable[..., PvogConnector]


def changes(batches: list[Batch]) -> list[Upsert | Delete]:
    return [change for batch in batches for change in batch.changes]


def live_keys(batches: list[Batch]) -> dict[str, Responsibility]:
    live: dict[str, Responsibility] = {}
    for change in changes(batches):
        if isinstance(change, Upsert):
            assert isinstance(change.record, Responsibility)
            live[change.key] = change.record
        else:
            live.pop(change.key, None)
    return live


def test_the_feed_becomes_responsibilities_and_deletes(fake: FakePvog, make: Make) -> None:
    batches = list(pull_sync(make()))

    assert len(batches) == len(fake.page_starts())
    assert [b.complete for b in batches] == [False] * (len(batches) - 1) + [True]
    live = live_keys(batches)
    expected = fake.live_zustaendigkeiten()
    assert sorted(live) == sorted(f"{f.agency}_{f.scheme}_{f.id}" for f in expected.values())
    for facts in expected.values():
        record = live[f"{facts.agency}_{facts.scheme}_{facts.id}"]
        assert str(record.leika_key) == facts.leika_key
        assert str(record.ars) == facts.area
        assert record.role == facts.role
        assert record.leistung_id == f"{facts.leistung_agency}_Leistung_{facts.leistung}"
        online = facts.scheme == "ZustaendigkeitOnlinedienst"
        assert record.target_kind is (
            TargetKind.ONLINEDIENST if online else TargetKind.ORGANISATIONSEINHEIT
        )
    counts = fake.feed_counts()
    deletes = [c for c in changes(batches) if isinstance(c, Delete)]
    assert len(deletes) == counts.deleted + counts.orphan_deletes  # orphans are plain deletes
    assert {d.kind for d in deletes} == {"responsibility"}


def test_invalid_objects_are_rejected_not_raised(fake: FakePvog, make: Make) -> None:
    batches = list(pull_sync(make()))
    rejected = [r for b in batches for r in b.rejected]
    assert len(rejected) == fake.feed_counts().invalid == 2
    for entry in rejected:
        assert entry.kind == "responsibility"
        assert entry.position.startswith("pvog-test page index=")
        assert any("gebietID" in path for path, _ in entry.problems)
        assert "1234" in str(entry.raw)


def test_authenticates_with_client_credentials(fake: FakePvog, make: Make) -> None:
    list(pull_sync(make()))
    token_requests = [r for r in fake.requests if r.path == fake.token_path]
    assert [r.status for r in token_requests] == [200]  # one token for the whole pull
    assert all(r.status == 200 for r in fake.feed_requests())


def test_an_expired_token_is_refreshed_once(fake: FakePvog, make: Make) -> None:
    fake.inject(PvogFault.TOKEN_EXPIRED, index=fake.page_starts()[2])
    batches = list(pull_sync(make()))
    assert batches[-1].complete
    assert [r.status for r in fake.requests if r.path == fake.token_path] == [200, 200]


@pytest.mark.parametrize(
    "fault",
    [PvogFault.RATE_LIMITED, PvogFault.SERVER_ERROR, PvogFault.TIMEOUT, PvogFault.TRUNCATED],
)
def test_transient_faults_are_retried(fake: FakePvog, make: Make, fault: PvogFault) -> None:
    clean = list(pull_sync(make()))
    fake.requests.clear()
    fake.inject(fault, index=fake.page_starts()[1], times=2)
    faulty = list(pull_sync(make()))
    assert changes(faulty) == changes(clean)
    assert [r.fault for r in fake.requests if r.fault] == [fault, fault]


def test_exhausted_retries_fail_with_a_typed_error(fake: FakePvog, make: Make) -> None:
    broken = fake.page_starts()[2]
    fake.inject(PvogFault.TRUNCATED, index=broken, times=None)
    delivered: list[Batch] = []
    with pytest.raises(HttpError, match="while reading the body after 4 attempt"):
        delivered.extend(pull_sync(make()))
    assert len(delivered) == 2  # the pages before the broken one, nothing of it


def test_malformed_xml_fails_the_pull_before_the_page(fake: FakePvog, make: Make) -> None:
    starts = fake.page_starts()
    fake.inject(PvogFault.MALFORMED_XML, index=starts[3])
    delivered: list[Batch] = []
    with pytest.raises(PvogFeedError, match=f"index={starts[3]}.*not well-formed") as raised:
        delivered.extend(pull_sync(make()))
    assert raised.value.index == starts[3]
    assert f'"index":{starts[3]},' in (delivered[-1].cursor or "")
    # the page is fine again: resuming from the last cursor delivers the rest
    rest = list(pull_sync(make(), delivered[-1].cursor))
    assert changes(delivered) + changes(rest) == changes(list(pull_sync(make())))


def test_a_resumed_pull_learns_the_leistungen_before_the_cursor(fake: FakePvog, make: Make) -> None:
    full = list(pull_sync(make()))
    late = len(full) - 3
    connector = make()  # a new instance: no Leistung known yet
    resumed = list(pull_sync(connector, full[late - 1].cursor))
    assert changes(resumed) == changes(full[late:])
    assert connector.backfills == 1
    assert not [r for b in resumed for r in b.rejected if "leistungID" in str(r.problems)]


def test_the_cursor_follows_the_next_url_on_the_same_host(fake: FakePvog, make: Make) -> None:
    batches = list(pull_sync(make()))
    again = list(pull_sync(make(), batches[0].cursor))
    assert changes(again) == changes(batches[1:])


def test_a_next_url_on_another_host_is_not_followed(
    fake: FakePvog, make: Make, base_url: str
) -> None:
    from efa_pvog import FeedCursor

    foreign = FeedCursor(
        index=fake.page_starts()[1], url="https://elsewhere.example/steal?index=20", ars="%"
    ).encode()
    batches = list(pull_sync(make(), foreign))
    assert batches[-1].complete
    assert all(r.path.startswith("/bereitstelldienst") for r in fake.feed_requests())


def test_a_cursor_of_another_ars_restriction_is_refused(make: Make) -> None:
    cursor = next(iter(pull_sync(make(ars="16")))).cursor
    with pytest.raises(PvogFeedError, match=r"ars='16'.*ars='%'"):
        list(pull_sync(make(), cursor))


def test_check_reports_bad_credentials(fake: FakePvog, base_url: str) -> None:
    config = make_config(fake, base_url, client_secret=Secret("wrong-secret-0815"))
    result = check_sync(PvogConnector(config, name="bad"))
    assert not result.ok
    assert "401" in result.detail
    assert "wrong-secret-0815" not in result.detail
    with pytest.raises(ConnectorError, match="token request for client"):
        list(pull_sync(PvogConnector(config, name="bad")))


def test_check_reports_ok(make: Make) -> None:
    result = check_sync(make())
    assert result.ok
    assert "efa-test-client" in result.detail


def test_sends_index_ars_and_a_user_agent() -> None:
    mock = RecordingTransport()
    mock.add("POST", "/token", json={"access_token": "t0k3n-abc", "expires_in": 60})
    mock.add(
        "GET",
        "/bereitstelldienst/api/v2/verwaltungsobjekte",
        json={"xzufiObjekte": None, "vollstaendig": True, "naechsterIndex": 5},
    )
    config = PvogConfig(
        base_url="https://pvog.example",
        auth_url="https://pvog.example/token",
        client_id="efa",
        client_secret=Secret("s3cr3t-value"),
        ars="16055",
        start_index=5,
        http=FAST_HTTP,
    )
    batches = list(pull_sync(PvogConnector(config, name="x", transport=mock)))
    assert batches == [Batch((), batches[0].cursor, complete=True)]
    token, feed = mock.requests
    assert b"grant_type=client_credentials" in token.content
    assert b"client_secret=s3cr3t-value" in token.content
    assert feed.url.params["index"] == "5"
    assert feed.url.params["ars"] == "16055"
    assert feed.headers["authorization"] == "Bearer t0k3n-abc"
    assert "efa-pvog/" in feed.headers["user-agent"]


def test_a_page_that_does_not_advance_is_an_error() -> None:
    mock = RecordingTransport()
    mock.add("POST", "/token", json={"access_token": "t", "expires_in": 60})
    mock.add(
        "GET",
        "/bereitstelldienst/api/v2/verwaltungsobjekte",
        handler=lambda request: httpx.Response(
            200, json={"xzufiObjekte": "", "vollstaendig": False, "naechsterIndex": 0}
        ),
    )
    config = PvogConfig(
        base_url="https://pvog.example",
        auth_url="https://pvog.example/token",
        client_id="efa",
        client_secret=Secret("s3cr3t-value"),
        follow_next_url=False,
        http=FAST_HTTP,
    )
    with pytest.raises(PagingError, match="does not advance"):
        list(pull_sync(PvogConnector(config, name="x", transport=mock)))


def test_a_server_that_ignores_the_index_is_a_loop(fake: FakePvog) -> None:
    # Every request gets the first page's messages, with an advancing naechsterIndex: the
    # walk stops at the first repeat instead of running until killed.
    first = fake.message(fake.events[:3])
    mock = RecordingTransport()
    mock.add("POST", "/token", json={"access_token": "t", "expires_in": 60})

    def same_page(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params["index"])
        body = {"xzufiObjekte": first, "vollstaendig": False, "naechsterIndex": index + 3}
        return httpx.Response(200, json=body)

    mock.add("GET", "/bereitstelldienst/api/v2/verwaltungsobjekte", handler=same_page)
    config = PvogConfig(
        base_url="https://pvog.example",
        auth_url="https://pvog.example/token",
        client_id="efa",
        client_secret=Secret("s3cr3t-value"),
        http=FAST_HTTP,
    )
    connector = PvogConnector(config, name="x", transport=mock)
    batches: list[Batch] = []
    with pytest.raises(PagingError, match="page 1 repeats the items of page 0"):
        batches.extend(pull_sync(connector))
    assert len(mock.requests) == 3  # the token, page 0, page 1
    assert len(batches) == 1  # page 0 was delivered; nothing of page 1


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({}, "base_url"),
        ({"base_url": "http://pvog.example"}, "plain http"),
        ({"ars": "1605"}, "ars"),
        ({"ars": "16%%"}, "ars"),
        ({"start_index": -1}, "start_index"),
        ({"feed_path": "verwaltungsobjekte"}, "feed_path"),
        ({"http": {"attempts": 0}}, "attempts"),
    ],
)
def test_config_errors_name_the_table_and_key(options: dict[str, object], problem: str) -> None:
    table: dict[str, object] = {
        "type": "pvog",
        "base_url": "https://pvog.example",
        "auth_url": "https://pvog.example/token",
        "client_id": "efa",
        "client_secret": "${PVOG_SECRET}",
    }
    if options:
        table.update(options)
    else:
        del table["base_url"]
    registry = PluginRegistry(entrypoints=False, strict=True, env={})
    import efa_pvog.plugin

    registry.register(efa_pvog.plugin, name="pvog")
    config = parse_config({"connectors": {"pvog-th": table}}, env={"PVOG_SECRET": "x-secret"})
    with pytest.raises(ConfigError, match=problem) as raised:
        build_connector(registry, "pvog-th", config)
    assert "[connectors.pvog-th]" in str(raised.value)
    assert "x-secret" not in str(raised.value)


def test_discovered_through_its_entry_point() -> None:
    if not importlib.metadata.entry_points(group="efa_core", name="pvog"):
        pytest.skip("efa-pvog is not installed (pip install -e plugins/efa-pvog)")
    registry = PluginRegistry(strict=True, env={})
    assert registry.connector_class("pvog") is PvogConnector
