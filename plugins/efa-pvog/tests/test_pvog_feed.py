"""The envelope checks and the cursor format."""

from __future__ import annotations

import pytest
from efa_pvog import FeedCursor, PvogFeedError, parse_envelope

from efa_core.errors import ConnectorError


def test_a_v2_page_is_read() -> None:
    page = parse_envelope(
        {
            "xzufiObjekte": "<?xml version='1.0' encoding='ISO-8859-1'?><m>Gemeinde Nöda</m>",
            "vollstaendig": False,
            "naechsterIndex": 40,
            "naechsteAnfrageUrl": "https://pvog.example/verwaltungsobjekte?index=40&ars=%25",
        },
        index=20,
        where="page 20",
    )
    assert page.index == 20
    assert page.next_index == 40
    assert not page.complete
    # the JSON string is text: re-encoded as UTF-8, with a declaration that says so
    assert page.messages == ("<?xml version='1.0' encoding='UTF-8'?><m>Gemeinde Nöda</m>".encode(),)


@pytest.mark.parametrize("objects", [None, ""])
def test_an_empty_page_has_no_messages(objects: object) -> None:
    body = {"xzufiObjekte": objects, "vollstaendig": True, "naechsterIndex": 7}
    page = parse_envelope(body, index=7, where="p")
    assert page.messages == ()
    assert page.complete


def test_next_index_falls_back_to_the_next_url() -> None:
    body = {"xzufiObjekte": "<m/>", "vollstaendig": False, "naechsteAnfrageUrl": "/x?index=9"}
    assert parse_envelope(body, index=3, where="p").next_index == 9


def test_a_finished_feed_without_next_index_resumes_where_it_ended() -> None:
    page = parse_envelope({"xzufiObjekte": "<m/>", "vollstaendig": True}, index=5, where="p")
    assert page.next_index == 5


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "expected a JSON object"),
        ({"xzufiObjekte": 3, "vollstaendig": False, "naechsterIndex": 1}, "'xzufiObjekte'"),
        ({"xzufiObjekte": "<m/>", "vollstaendig": "nein", "naechsterIndex": 1}, "'vollstaendig'"),
        ({"xzufiObjekte": "<m/>", "vollstaendig": False}, "neither 'naechsterIndex'"),
        ({"xzufiObjekte": "<m/>", "vollstaendig": False, "naechsterIndex": 2}, "goes back"),
        ({"xzufiObjekte": "<m/>", "vollstaendig": False, "naechsterIndex": "x"}, "integer"),
    ],
)
def test_unusable_envelopes_are_typed_errors(body: object, problem: str) -> None:
    with pytest.raises(PvogFeedError, match=problem) as raised:
        parse_envelope(body, index=4, where="pvog page index=4")
    assert isinstance(raised.value, ConnectorError)
    assert "pvog page index=4" in str(raised.value)
    assert raised.value.index == 4


def test_cursor_round_trips() -> None:
    cursor = FeedCursor(index=1200, url="https://pvog.example/v?index=1200&ars=16", ars="16")
    text = cursor.encode()
    assert text.startswith("pvog1:")
    assert FeedCursor.decode(text, where="c") == cursor


@pytest.mark.parametrize(
    "text", ["17", "pvog1:{", 'pvog1:{"index": -1, "ars": "%"}', 'pvog1:{"index": 3}']
)
def test_foreign_cursors_are_refused(text: str) -> None:
    with pytest.raises(PvogFeedError, match="invalid cursor"):
        FeedCursor.decode(text, where="pvog connector 'x'")
