"""The fake PVOG Bereitstelldienst that efa-pvog ships for tests (efa_pvog.testing)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import httpx
import pytest
from efa_pvog.testing import (
    V2_FEED_PATH,
    V3_FEED_PATH,
    FakePvog,
    PvogDataset,
    PvogFault,
)


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


@pytest.fixture
def fake() -> FakePvog:
    return FakePvog(PvogDataset(seed=5, invalid=2), page_size=15, retry_after=0)


@pytest.fixture
def client(fake: FakePvog, efa_serve_asgi: Callable[..., str]) -> httpx.Client:
    base_url = efa_serve_asgi(fake)
    with httpx.Client(base_url=base_url, timeout=5) as plain:
        answer = plain.post(
            fake.token_path,
            data={
                "grant_type": "client_credentials",
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
            },
        )
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == fake.token_lifetime
    client = httpx.Client(
        base_url=base_url,
        timeout=5,
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    yield client
    client.close()


def replay(client: httpx.Client, ars: str = "%", path: str = V2_FEED_PATH) -> dict[str, str]:
    """Read the whole feed by following naechsteAnfrageUrl; return live id -> gebietID."""
    live: dict[str, str] = {}
    url: str = f"{path}?index=0&ars={ars.replace('%', '%25')}"
    for _ in range(1000):
        page = client.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        root = ET.fromstring(body["xzufiObjekte"].encode())
        for entry in root:
            if local(entry.tag) == "schreibe":
                for obj in entry:
                    if local(obj.tag) == "zustaendigkeitTransferObjekt":
                        z = next(e for e in obj if local(e.tag) == "zustaendigkeit")
                        fields = {local(e.tag): (e.text or "") for e in z}
                        if len(fields["gebietID"]) != 4:  # the invalid ones have 4 digits
                            live[fields["id"]] = fields["gebietID"]
            elif local(entry.tag) == "loesche":
                assert entry.get("klasse") == "Zustaendigkeit"
                live.pop(entry[0].text or "", None)
        assert isinstance(body["naechsterIndex"], int)
        if body["vollstaendig"]:
            return live
        url = body["naechsteAnfrageUrl"]
    raise AssertionError("the feed does not end")


def test_the_feed_replays_to_the_live_set(fake: FakePvog, client: httpx.Client) -> None:
    live = replay(client)
    expected = fake.live_zustaendigkeiten()
    assert live == {z.id: z.area for z in expected.values()}
    counts = fake.feed_counts()
    assert counts.live == len(expected) > 0
    assert counts.deleted > 0
    assert counts.orphan_deletes > 0
    assert counts.invalid == 2


def test_ars_restriction_keeps_only_that_area(fake: FakePvog, client: httpx.Client) -> None:
    live = replay(client, "16%")
    assert live
    assert all(area.startswith("16") for area in live.values())
    assert live == {z.id: z.area for z in fake.live_zustaendigkeiten("16").values()}
    assert replay(client, "150020000000") == {
        z.id: z.area for z in fake.live_zustaendigkeiten("150020000000").values()
    }


def test_v3_path_serves_xzufi_2_3_1(client: httpx.Client) -> None:
    body = client.get(V3_FEED_PATH, params={"index": 0, "ars": "%"}).json()
    root = ET.fromstring(body["xzufiObjekte"].encode())
    assert root.get("xzufiVersion") == "2.3.1"
    assert root.tag.startswith("{http://xoev.de/schemata/xzufi/2_3_1}")


def test_pages_and_indexes(fake: FakePvog, client: httpx.Client) -> None:
    starts = fake.page_starts()
    assert starts[0] == 0
    assert starts == sorted(set(starts))
    last = client.get(V2_FEED_PATH, params={"index": starts[-1], "ars": "%"}).json()
    assert last["vollstaendig"] is True
    end = client.get(V2_FEED_PATH, params={"index": len(fake.events), "ars": "%"}).json()
    assert end["vollstaendig"] is True
    assert end["naechsterIndex"] == len(fake.events)


def test_the_dataset_is_deterministic() -> None:
    assert PvogDataset(seed=9).events() == PvogDataset(seed=9).events()
    assert PvogDataset(seed=9).events() != PvogDataset(seed=10).events()


def test_orphans_include_never_sent_and_already_deleted_ids() -> None:
    events = PvogDataset(seed=2, orphan_deletes=40).events()
    sent = {e.id for e in events if e.operation == "schreibe"}
    orphans = [e for e in events if e.operation == "loesche" and e.orphan]
    assert any(e.id not in sent for e in orphans)
    assert any(e.id in sent for e in orphans)


def test_every_zustaendigkeit_follows_its_leistung() -> None:
    seen: set[str] = set()
    for event in PvogDataset(seed=4).events():
        if event.kind == "leistung":
            seen.add(event.id)
        elif event.facts is not None:
            assert event.facts.leistung in seen


def test_requests_need_a_valid_token(fake: FakePvog, client: httpx.Client) -> None:
    anonymous = httpx.get(str(client.base_url.join(V2_FEED_PATH)), params={"index": 0})
    assert anonymous.status_code == 401
    fake.revoke_tokens()
    assert client.get(V2_FEED_PATH, params={"index": 0}).status_code == 401


def test_wrong_credentials_get_no_token(fake: FakePvog, client: httpx.Client) -> None:
    answer = httpx.post(
        str(client.base_url.join(fake.token_path)),
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    basic = httpx.post(
        str(client.base_url.join(fake.token_path)),
        data={"grant_type": "client_credentials"},
        auth=(fake.client_id, fake.client_secret),
    )
    assert basic.status_code == 200


def test_faults_fire_where_and_as_often_as_injected(fake: FakePvog, client: httpx.Client) -> None:
    fake.inject(PvogFault.SERVER_ERROR, index=15, times=2)
    fake.inject(PvogFault.RATE_LIMITED)
    assert client.get(V2_FEED_PATH, params={"index": 0}).status_code == 429
    assert client.get(V2_FEED_PATH, params={"index": 0}).status_code == 200
    assert client.get(V2_FEED_PATH, params={"index": 15}).status_code == 500
    assert client.get(V2_FEED_PATH, params={"index": 15}).status_code == 500
    assert client.get(V2_FEED_PATH, params={"index": 15}).status_code == 200
    limited = [r for r in fake.requests if r.fault is PvogFault.RATE_LIMITED]
    assert len(limited) == 1


def test_rate_limit_sends_retry_after(fake: FakePvog, client: httpx.Client) -> None:
    fake.retry_after = 7
    fake.inject(PvogFault.RATE_LIMITED)
    answer = client.get(V2_FEED_PATH, params={"index": 0})
    assert answer.headers["retry-after"] == "7"


def test_token_expiry_revokes_the_token(fake: FakePvog, client: httpx.Client) -> None:
    fake.inject(PvogFault.TOKEN_EXPIRED)
    answer = client.get(V2_FEED_PATH, params={"index": 0})
    assert answer.status_code == 401
    assert "invalid_token" in answer.headers["www-authenticate"]
    assert client.get(V2_FEED_PATH, params={"index": 0}).status_code == 401


def test_malformed_xml_and_not_json(fake: FakePvog, client: httpx.Client) -> None:
    fake.inject(PvogFault.MALFORMED_XML, times=None)
    for _ in range(2):
        body = client.get(V2_FEED_PATH, params={"index": 0}).json()
        with pytest.raises(ET.ParseError):
            ET.fromstring(body["xzufiObjekte"].encode())
    fake.clear_faults()
    ET.fromstring(client.get(V2_FEED_PATH, params={"index": 0}).json()["xzufiObjekte"])
    fake.inject(PvogFault.NOT_JSON)
    with pytest.raises(ValueError, match="Expecting value"):
        client.get(V2_FEED_PATH, params={"index": 0}).json()


def test_truncated_body_breaks_the_connection(fake: FakePvog, client: httpx.Client) -> None:
    fake.inject(PvogFault.TRUNCATED)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(V2_FEED_PATH, params={"index": 0})
    assert client.get(V2_FEED_PATH, params={"index": 0}).status_code == 200


def test_a_stall_outlasts_a_short_read_timeout(fake: FakePvog, client: httpx.Client) -> None:
    fake.stall_seconds = 1.0
    fake.inject(PvogFault.TIMEOUT)
    with pytest.raises(httpx.ReadTimeout):
        client.get(V2_FEED_PATH, params={"index": 0}, timeout=0.2)


def test_bad_parameters(fake: FakePvog, client: httpx.Client) -> None:
    assert client.get(V2_FEED_PATH, params={"index": "x"}).status_code == 400
    assert client.get(V2_FEED_PATH, params={"ars": "1234"}).status_code == 400
    assert client.get("/nowhere").status_code == 404
    with pytest.raises(ValueError, match="times"):
        fake.inject(PvogFault.SERVER_ERROR, times=0)
    with pytest.raises(ValueError, match="page_size"):
        FakePvog(page_size=0)
