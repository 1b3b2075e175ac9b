"""Source fingerprints: unchanged services and agreements are not built again (issue 15).

A sync with fingerprints must end exactly like one without (mirror, history, quarantine,
counts per kind) for any sequence of export versions, while the services and agreements
whose rows did not change are neither parsed nor built.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import efa_marktplatz.build as build
import pytest
from efa_marktplatz import plugin

from efa_core.config import parse_config
from efa_core.store import Store, open_store
from efa_core.sync import SourceReport, SyncEngine
from efa_core.testing import isolated_registry, registered

HEADER_OFFERS = "Angebots-ID;Leistung;LeiKa-Schlüssel;Umsetzendes Land;Betreiber;Anbieter;Preis\r\n"
HEADER_AGREEMENTS = "Angebots-ID;Leistung;Nachnutzer;ARS;Status;Datum;Referenz;Anbieter\r\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'fast.db'}") as opened:
        yield opened


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The positions of the rows the builders parsed whole."""
    seen: list[str] = []
    offer, agreement = build.parse_offer, build.parse_agreement_row

    def count_offer(row: Any, **kwargs: Any) -> Any:
        seen.append(row.position)
        return offer(row, **kwargs)

    def count_agreement(row: Any, **kwargs: Any) -> Any:
        seen.append(row.position)
        return agreement(row, **kwargs)

    monkeypatch.setattr(build, "parse_offer", count_offer)
    monkeypatch.setattr(build, "parse_agreement_row", count_agreement)
    return seen


def _sync(store: Store, offers: Path, agreements: Path, *, fingerprints: bool = True) -> Any:
    table = {
        "type": "marktplatz",
        "offers": str(offers),
        "agreements": str(agreements),
        "batch_size": 7,
        "fingerprints": fingerprints,
    }
    config = parse_config({"connectors": {"mp": table}}, env={})
    registry = isolated_registry()
    with registered(registry, plugin, "marktplatz"):
        engine = SyncEngine(store, registry, config)
        report: SourceReport = engine.run(allow_shrink=True)["mp"]
    assert report.ok, report.error
    return report


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.write_text(header + "".join(f"{row}\r\n" for row in rows), encoding="utf-8")


def _offer_rows(count: int) -> list[str]:
    return [
        f"MP-{n:03d};Leistung {n};{99000000000000 + n};Thüringen;Betreiber {n % 3};govdigital;"
        f"{n},00"
        for n in range(count)
    ]


def _agreement_rows(count: int) -> list[str]:
    return [
        f"MP-{n % 7:03d};;Stadt {n};{160510000000 + n * 1000};Interessenbekundung;"
        f"0{1 + n % 9}.02.2024;;FITKO"
        for n in range(count)
    ]


def test_unchanged_services_and_agreements_are_not_built(
    store: Store, tmp_path: Path, built: list[str]
) -> None:
    offers, agreements = tmp_path / "angebote.csv", tmp_path / "interessen.csv"
    offer_rows, agreement_rows = _offer_rows(10), _agreement_rows(30)
    _write(offers, HEADER_OFFERS, offer_rows)
    _write(agreements, HEADER_AGREEMENTS, agreement_rows)
    first = _sync(store, offers, agreements)
    assert first.added == 10 + 3 + 30 + 30  # services, providers, subscribers, agreements
    assert len(built) == 40
    built.clear()

    offer_rows[4] = offer_rows[4].replace("4,00", "5,00")  # one service changed
    agreement_rows[7] = agreement_rows[7].replace("Interessenbekundung", "Abstimmung")
    agreement_rows.append(agreement_rows[12].replace("Interessenbekundung", "Vertragsschluss"))
    del agreement_rows[20]  # one agreement gone
    _write(offers, HEADER_OFFERS, offer_rows)
    _write(agreements, HEADER_AGREEMENTS, agreement_rows)
    second = _sync(store, offers, agreements)
    assert (second.changed, second.deleted) == (3, 2)  # the subscriber of row 20 goes too
    assert second.by_kind["service"]["unchanged"] == 9
    assert second.by_kind["agreement"]["unchanged"] == 27
    row = f"{offers}:row "
    assert sorted(p for p in built if p.startswith(row)) == [f"{row}6"], "only changed rows"
    # rows 9 (changed) and 14 with the new row 31, its history
    assert sorted(p.rsplit(" ", 1)[1] for p in built if p.startswith(f"{agreements}:")) == [
        "14",
        "31",
        "9",
    ]
    assert second.skipped == 1  # the history row, also counted when its agreement is built

    built.clear()
    third = _sync(store, offers, agreements)
    assert third.unchanged == third.counts()["unchanged"]
    assert (third.added, third.changed, third.deleted) == (0, 0, 0)
    assert built == [], "everything unchanged: nothing parsed"
    assert third.skipped == 1, "the folded history row is still reported"


def test_fingerprints_can_be_turned_off(store: Store, tmp_path: Path, built: list[str]) -> None:
    offers, agreements = tmp_path / "angebote.csv", tmp_path / "interessen.csv"
    _write(offers, HEADER_OFFERS, _offer_rows(3))
    _write(agreements, HEADER_AGREEMENTS, _agreement_rows(3))
    _sync(store, offers, agreements, fingerprints=False)
    built.clear()
    _sync(store, offers, agreements, fingerprints=False)
    assert len(built) == 6


_MESSY_OFFERS = [
    "MP-900;Kaputt;9,91E+13;Thüringen;;;",  # rejected: identity
    "MP-901;Ohne Preis;99000000000901;Atlantis;X;Brieftaube;ca. 5 €",  # warnings
    ";;99000000000902;TH;;;",  # no key
    "MP-001;Leistung 1;99000000000001;Bayern;Betreiber 1;FITKO;1,00",  # contradicts MP-001
]
_MESSY_AGREEMENTS = [
    "MP-000;;Stadt 0;160510000000;zurückgezogen;01.01.2024;;",  # a lifecycle violation later
    "MP-000;;Stadt 0;160510000000;Vertragsschluss;01.03.2024;;",
    "MP-001;;Gemeinde Irgendwo;;Interessenbekundung;01.02.2024;;",  # no ARS: rejected
    "MP-002;;Zweckverband Ost;;Interessenbekundung;31.02.2024;;",  # warnings, organisation
    "MP-003;;Stadt 3;160510003000;Vertrag im Kühlschrank;01.02.2024;;",  # unknown status
    "MP-003;;Stadt 3;160510003000;Interessenbekundung;01.02.2024;R-1;",  # its own reference
]


def _version(
    rng: random.Random, pool: list[str], messy: list[str], previous: list[str]
) -> list[str]:
    rows = [row for row in previous if rng.random() > 0.1]
    rows = [
        row.replace("2024", "2023") if rng.random() < 0.1 and "2024" in row else row for row in rows
    ]
    rows += rng.sample(pool, 5) + rng.sample(messy, 2)
    rng.shuffle(rows)
    return rows


def _history(store: Store) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(h.kind, h.natural_key, h.op.value, h.old_hash, h.new_hash) for h in store.history()]


def _mirror(store: Store) -> dict[tuple[str, str], tuple[str, bool]]:
    return {
        (r.kind, r.natural_key): (r.content_hash, r.deleted)
        for r in store.records(include_deleted=True)
    }


def _quarantine(store: Store) -> list[tuple[str | None, tuple[tuple[str, str], ...]]]:
    return sorted((q.position, q.problems) for q in store.quarantine())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_sync_with_fingerprints_ends_like_one_without(
    store: Store, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    offers, agreements = tmp_path / "angebote.csv", tmp_path / "interessen.csv"
    offer_pool, agreement_pool = _offer_rows(40), _agreement_rows(80)
    offer_rows: list[str] = []
    agreement_rows: list[str] = []
    with open_store(f"sqlite:///{tmp_path / 'plain.db'}") as plain:
        for _ in range(6):
            offer_rows = _version(rng, offer_pool, _MESSY_OFFERS, offer_rows)
            agreement_rows = _version(rng, agreement_pool, _MESSY_AGREEMENTS, agreement_rows)
            _write(offers, HEADER_OFFERS, offer_rows)
            _write(agreements, HEADER_AGREEMENTS, agreement_rows)
            fast = _sync(store, offers, agreements)
            slow = _sync(plain, offers, agreements, fingerprints=False)
            assert fast.counts() == slow.counts()
            assert fast.by_kind == slow.by_kind
            assert fast.warnings == slow.warnings
            assert _mirror(store) == _mirror(plain)
            assert _history(store) == _history(plain)
            assert _quarantine(store) == _quarantine(plain)
            assert store.check_integrity() == []
