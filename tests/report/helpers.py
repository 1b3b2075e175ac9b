"""Helpers of the report tests: a small store built from typed records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone

from efa_core.connectors import Upsert
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
from efa_core.store import RunMode, RunStatus, Store
from efa_core.store._prepare import prepare

ANMELDUNG = LeikaKey("99115005104000")
HUNDESTEUER = LeikaKey("99041006017000")
#: A service name that would run as a script if the HTML report did not escape it.
EVIL_NAME = "<script>document.title='pwned'</script> & \"Hund\""
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def at(year: int, month: int, day: int) -> datetime:
    """Return midnight UTC of a day."""
    return datetime(year, month, day, tzinfo=timezone.utc)


def put(store: Store, source: str, records: Iterable[Record]) -> None:
    """Apply *records* as one snapshot run of *source*."""
    run = store.begin_run(source, RunMode.SNAPSHOT)
    changes = [prepare(Upsert(r)) for r in records]
    store.apply(run.run_id, source, changes, cursor=None, complete=True, mode=RunMode.SNAPSHOT)
    store.finish_run(run.run_id, RunStatus.SUCCEEDED)


# Thüringen with Weimar (kreisfrei) and a Landkreis with two Gemeinden; one Gemeinde of
# Sachsen-Anhalt (outside --land TH).
REGISTER = [
    Area(ars=Ars("16"), name="Thüringen", area_type="Land", population=69000),
    Area(ars=Ars("16055"), name="Weimar", parent=Ars("16"), population=66000),
    Area(ars=Ars("160550000000"), name="Weimar, Stadt", parent=Ars("16055"), population=66000),
    Area(ars=Ars("16061"), name="Eichsfeld", parent=Ars("16"), population=3000),
    Area(ars=Ars("160610001001"), name="Adorf", parent=Ars("16061"), population=1000),
    Area(ars=Ars("160610001002"), name="Bdorf", parent=Ars("16061"), population=2000),
    Area(ars=Ars("15"), name="Sachsen-Anhalt", area_type="Land", population=80000),
    Area(ars=Ars("150010000000"), name="Dessau-Roßlau", parent=Ars("15"), population=80000),
]


def subscriber(ars: str, name: str) -> Subscriber:
    """Return a Gemeinde/Kreis subscriber."""
    kind = SubscriberKind.GEMEINDE if len(ars) == 12 else SubscriberKind.KREIS
    return Subscriber(subscriber_kind=kind, name=name, ars=Ars(ars))


def build_small_store(store: Store) -> None:
    """Fill *store*: Anmeldung live in Weimar, contracted in Eichsfeld, and an evil name.

    * ``anmeldung``: Weimar contracted (2024-01-10), published (2024-03-01), routed
      (2024-04-01) and online on the dashboard: live.  Eichsfeld (Kreis) contracted
      2024-02-01, nothing published: ``contracted-not-published`` at NOW.  Dessau-Roßlau
      (Sachsen-Anhalt) interested: outside ``--land TH``.
    * ``hund`` (the evil name): Weimar interested only.
    """
    put(store, "register", REGISTER)
    put(
        store,
        "registry",
        [
            Service(key="anmeldung", name="Wohnsitzanmeldung", leika_keys=(ANMELDUNG,)),
            Service(key="hund", name=EVIL_NAME, leika_keys=(HUNDESTEUER,)),
            Agreement(
                service_key="anmeldung",
                subscriber=subscriber("160550000000", "Weimar"),
                state=AgreementState.CONTRACTED,
                state_since=at(2024, 1, 10),
            ),
            Agreement(
                service_key="anmeldung",
                subscriber=subscriber("16061", "Eichsfeld"),
                state=AgreementState.CONTRACTED,
                state_since=at(2024, 2, 1),
            ),
            Agreement(
                service_key="anmeldung",
                subscriber=subscriber("150010000000", "Dessau-Roßlau"),
                state=AgreementState.INTERESTED,
                state_since=at(2024, 5, 1),
            ),
            Agreement(
                service_key="hund",
                subscriber=subscriber("160550000000", "Weimar"),
                state=AgreementState.INTERESTED,
                state_since=at(2024, 6, 1),
            ),
        ],
    )
    put(
        store,
        "lrs",
        [
            Responsibility(
                leika_key=ANMELDUNG,
                ars=Ars("160550000000"),
                target_kind=TargetKind.ONLINEDIENST,
                target_id="anmeldung",
                modified_at=at(2024, 3, 1),
            )
        ],
    )
    put(
        store,
        "fit",
        [
            Route(
                leika_key=ANMELDUNG,
                ars=Ars("160550000000"),
                destination_id=uuid.UUID("70c354a5-85c9-5142-915c-ecf664e3a116"),
                modified_at=at(2024, 4, 1),
            )
        ],
    )
    put(
        store,
        "dashboard",
        [
            Availability(
                leika_key=ANMELDUNG,
                ars=Ars("16055"),
                online=True,
                url="https://weimar.example/anmeldung",
                modified_at=at(2024, 5, 1),
            )
        ],
    )


def national_like(store: Store, services: int, gemeinden: int = 300) -> None:
    """*services* services, each published and contracted in every one of *gemeinden*."""
    kreise = [f"160{k:02d}" for k in range(1, 4)]
    register = [Area(ars=Ars("16"), name="Thüringen", area_type="Land", population=1)]
    register += [Area(ars=Ars(k), name=f"Kreis {k}", parent=Ars("16")) for k in kreise]
    places = [f"{kreise[i % 3]}0001{i:03d}" for i in range(gemeinden)]
    register += [
        Area(ars=Ars(a), name=f"Gemeinde {a}", parent=Ars(a[:5]), population=100) for a in places
    ]
    put(store, "register", register)
    leika = [LeikaKey(f"99115005{i:06d}") for i in range(services)]
    put(
        store,
        "registry",
        [Service(key=f"svc{i}", name=f"Service {i}", leika_keys=(k,)) for i, k in enumerate(leika)]
        + [
            Agreement(
                service_key=f"svc{i}",
                subscriber=subscriber(a, a),
                state=AgreementState.CONTRACTED,
                state_since=at(2024, 1 + n % 12, 1),
            )
            for i in range(services)
            for n, a in enumerate(places)
        ],
    )
    put(
        store,
        "lrs",
        [
            Responsibility(
                leika_key=k,
                ars=Ars(a),
                target_kind=TargetKind.ONLINEDIENST,
                target_id=f"od{i}",
                modified_at=at(2024, 6, 1 + n % 28),
            )
            for i, k in enumerate(leika)
            for n, a in enumerate(places)
        ],
    )
