"""Build small synthetic stores for the rollout tests."""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone

from efa_core.connectors import Delete, Upsert
from efa_core.i18n import Message, Text, Translator
from efa_core.ids import Ars, LeikaKey
from efa_core.model import (
    Agreement,
    AgreementState,
    Area,
    Availability,
    Record,
    Responsibility,
    Route,
    Service,
    Subscriber,
    SubscriberKind,
    TargetKind,
)
from efa_core.rollout import Finding
from efa_core.store import RunMode, RunStatus, Store
from efa_core.store._prepare import prepare


def _english_phrases(value: object) -> Iterator[str]:
    """Yield the English phrases (two words or more) of *value*'s templates, not in German."""
    text = value.text if isinstance(value, Message) else value
    if isinstance(text, Text):
        for literal, *_ in string.Formatter().parse(text.en):
            phrase = literal.strip(" ,;:()'")
            if re.search(r"[A-Za-z]{2,}\W+[A-Za-z]{2,}", phrase) and phrase not in text.de:
                yield phrase
    if isinstance(value, Message):
        for _, inner in value.values:
            for item in inner if isinstance(inner, tuple) else (inner,):
                yield from _english_phrases(item)


def german(finding: Finding) -> str:
    """Return *finding*'s German sentence, checked: no English phrase of its templates is
    left in it, no ISO date (dates are 01.03.2024), and English renders its stable message."""
    assert finding.text is not None, "a built-in rule gives a catalogue message"
    assert finding.render(Translator("en")) == finding.message
    text = finding.render(Translator("de"))
    left = [p for p in _english_phrases(finding.text) if p in text]
    assert not left, f"untranslated {left} in {text!r}"
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), text
    return text


L1 = LeikaKey("99115005104000")
L2 = LeikaKey("99115005104001")
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)

# A small Thüringen (16) and Sachsen-Anhalt (15)
REGISTER = [
    Area(ars=Ars("16"), name="Thüringen", area_type="Land", population=66000 + 1000 + 2000),
    Area(
        ars=Ars("16055"),
        name="Weimar",
        area_type="Kreisfreie Stadt",
        parent=Ars("16"),
        population=66000,
    ),
    Area(ars=Ars("160550000"), name="Weimar", parent=Ars("16055"), population=66000),
    Area(ars=Ars("160550000000"), name="Weimar, Stadt", parent=Ars("160550000"), population=66000),
    Area(
        ars=Ars("16061"), name="Eichsfeld", area_type="Landkreis", parent=Ars("16"), population=3000
    ),
    Area(ars=Ars("160615001"), name="VG Eins", parent=Ars("16061"), population=3000),
    Area(ars=Ars("160615001001"), name="Adorf", parent=Ars("160615001"), population=1000),
    Area(ars=Ars("160615001002"), name="Bdorf", parent=Ars("160615001"), population=2000),
    Area(ars=Ars("15"), name="Sachsen-Anhalt", area_type="Land", population=80000),
    Area(ars=Ars("15001"), name="Dessau", parent=Ars("15"), population=80000),
    Area(ars=Ars("150010000"), name="Dessau", parent=Ars("15001"), population=80000),
    Area(ars=Ars("150010000000"), name="Dessau-Roßlau", parent=Ars("150010000"), population=80000),
]


def put(
    store: Store,
    source: str,
    records: Iterable[Record] = (),
    deletes: Iterable[tuple[str, str]] = (),
) -> None:
    """Apply upserts and deletes to *source* as one change-feed run."""
    run = store.begin_run(source, RunMode.CHANGE_FEED)
    changes = [prepare(Upsert(r)) for r in records] + [
        prepare(Delete(k, key)) for k, key in deletes
    ]
    store.apply(run.run_id, source, changes, cursor=None, mode=RunMode.CHANGE_FEED)
    store.finish_run(run.run_id, RunStatus.SUCCEEDED)


def service(key: str = "anmeldung", *leika: LeikaKey) -> Service:
    return Service(key=key, name=key.title(), leika_keys=leika or (L1,))


def agreement(
    ars: str,
    state: AgreementState,
    *,
    service_key: str = "anmeldung",
    since: datetime | None = None,
) -> Agreement:
    kinds = {2: SubscriberKind.LAND, 5: SubscriberKind.KREIS, 9: SubscriberKind.GEMEINDEVERBAND}
    return Agreement(
        service_key=service_key,
        subscriber=Subscriber(
            subscriber_kind=kinds.get(len(ars), SubscriberKind.GEMEINDE),
            name=f"S{ars}",
            ars=Ars(ars),
        ),
        state=state,
        state_since=since or NOW - timedelta(days=10),
    )


def responsibility(
    ars: str, leika: LeikaKey = L1, target: str = "anmeldung", *, oe: bool = False
) -> Responsibility:
    return Responsibility(
        leika_key=leika,
        ars=Ars(ars),
        target_kind=TargetKind.ORGANISATIONSEINHEIT if oe else TargetKind.ONLINEDIENST,
        target_id=target,
    )


def route(ars: str, leika: LeikaKey = L1) -> Route:
    return Route(leika_key=leika, ars=Ars(ars), destination_id=uuid.UUID(int=int(ars) + 1))


def availability(ars: str, leika: LeikaKey = L1, *, online: bool = True) -> Availability:
    return Availability(
        leika_key=leika, ars=Ars(ars), online=online, url=f"https://x.example/{ars}"
    )
