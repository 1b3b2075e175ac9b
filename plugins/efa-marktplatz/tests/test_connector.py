"""The marktplatz connector on the sample exports: records, rejected rows, lifecycle, options."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from efa_marktplatz import LIFECYCLE_PREFIX, MarktplatzConfig, MarktplatzConnector
from efa_marktplatz.build import JOINED_REASON, Offer, SourceRow, offer_items, parse_offer

from efa_core.config import structure_options
from efa_core.connectors import Rejected, Skipped, Upsert, check_sync, pull_sync
from efa_core.errors import ConfigError, ConnectorError, SourceNotUnderstood
from efa_core.ids import Ars, LeikaKey
from efa_core.model import AgreementState, Land, ReuseChannel, SubscriberKind
from efa_core.tabular import BERLIN, CellWarnings

OFFERS = "marktplatz_angebote_semikolon_bom.csv"
AGREEMENTS = "marktplatz_interessen_komma.csv"


def pull(**options):
    connector = MarktplatzConnector(MarktplatzConfig(**options), name="mp")
    upserts: dict[tuple[str, str], object] = {}
    rejected: dict[str, Rejected] = {}
    for batch in pull_sync(connector):
        for change in batch.changes:
            assert isinstance(change, Upsert)
            assert (change.kind, change.key) not in upserts
            upserts[change.kind, change.key] = change.record
        for item in batch.rejected:
            assert item.position not in rejected
            rejected[item.position] = item
    return upserts, rejected


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_offers_become_services_and_providers(data: Path):
    path = data / OFFERS
    upserts, rejected = pull(offers=str(path))
    services = {key: r for (kind, key), r in upserts.items() if kind == "service"}
    assert sorted(services) == ["MP-001", "MP-002", "MP-005"]
    anmeldung = services["MP-001"]
    # listed once per Anbieter on the Marktplatz: one service with both channels
    assert anmeldung.reuse_channels == (
        ReuseChannel.MARKTPLATZ_GOVDIGITAL,
        ReuseChannel.MARKTPLATZ_FITKO,
    )
    assert anmeldung.land is Land.HH
    assert anmeldung.operator == "dataport"
    assert anmeldung.modified_at == berlin(2024, 2, 3)  # the later of the two rows
    assert services["MP-002"].leika_keys == (
        LeikaKey("99041008012000"),
        LeikaKey("99041008013000"),
    )
    assert services["MP-005"].land is Land.TH  # "Freistaat Thüringen"
    providers = {key: r.name for (kind, key), r in upserts.items() if kind == "provider"}
    assert providers == {
        "dataport": "Dataport",
        "governikus": "Governikus",
        "thueringer-landesrechenzentrum": "Thüringer Landesrechenzentrum",
    }
    assert sorted(rejected) == [f"{path}:row 5", f"{path}:row 6", f"{path}:row 8"]
    bad = rejected[f"{path}:row 5"]
    assert bad.kind == "service"
    # only identity fields reject: the Land 'Atlantis' alone would be dropped with a warning
    assert [field for field, _ in bad.problems] == ["leika_keys"]
    assert "column 'Leistungsschlüssel': LeiKa key '12345' has 5 digits" in bad.problems[0][1]
    assert bad.raw["Leistung"] == "Hundesteuer"
    assert rejected[f"{path}:row 6"].problems == (
        ("service_name", "column 'Leistung': missing: the service has no name"),
    )
    (conflict,) = rejected[f"{path}:row 8"].problems
    assert conflict[0] == "land"
    assert f"contradicts '02' of {path}:row 2" in conflict[1]


def test_agreement_rows_fold_through_the_lifecycle(data: Path):
    path = data / AGREEMENTS
    upserts, rejected = pull(agreements=str(path))
    agreements = {key: r for (kind, key), r in upserts.items() if kind == "agreement"}
    assert sorted(agreements) == [
        "MP-001@ars:160510000000",
        "MP-002@ars:16",  # its date '31.02.2024' is dropped with a warning, the row is kept
        "MP-002@ars:160530000000#IB-2024-7",
        "MP-005@ars:16",
    ]
    assert agreements["MP-002@ars:16"].state_since is None
    # rows in file order interest, contract, alignment: replayed by date, all legal
    erfurt = agreements["MP-001@ars:160510000000"]
    assert erfurt.state is AgreementState.CONTRACTED
    assert erfurt.state_since == berlin(2024, 5, 12)
    assert erfurt.subscriber.subscriber_kind is SubscriberKind.GEMEINDE
    assert erfurt.channel is None  # Marktplatz rows without Anbieter: unknown channel
    # "Vertragsschluss" after "zurückgezogen": the agreement keeps the last legal state
    jena = agreements["MP-002@ars:160530000000#IB-2024-7"]
    assert (jena.state, jena.state_since) == (AgreementState.WITHDRAWN, berlin(2024, 2, 10))
    violation = rejected[f"{path}:row 7"]
    assert violation.kind == "agreement"
    ((field, message),) = violation.problems
    assert field == "state"
    assert message.startswith(LIFECYCLE_PREFIX)
    assert "'Vertragsschluss'" in message
    assert f"does not follow 'withdrawn' (2024-02-10, {path}:row 6)" in message
    assert "keeps the state 'withdrawn'" in message
    assert violation.raw["Status"] == "Vertragsschluss"
    land = agreements["MP-005@ars:16"]
    assert land.subscriber.subscriber_kind is SubscriberKind.LAND  # no ARS: a Land by name
    assert land.subscriber.ars == Ars("16")
    subscribers = sorted(key for kind, key in upserts if kind == "subscriber")
    assert subscribers == ["ars:16", "ars:160510000000", "ars:160530000000"]
    problems = {pos.rsplit(":", 1)[1]: r.problems for pos, r in rejected.items()}
    assert "row 8" not in problems
    assert problems["row 9"][0][0] == "state"
    assert "'Vertrag im Kühlschrank' is not a known status" in problems["row 9"][0][1]
    assert problems["row 11"][0][0] == "service_key"
    assert problems["row 12"][0][0] == "subscriber_ars"
    assert "'Gemeinde Irgendwo' is not a Land" in problems["row 12"][0][1]
    assert len(rejected) == 4


def test_states_option_maps_extra_status_texts(data: Path):
    upserts, rejected = pull(
        agreements=str(data / AGREEMENTS), states={"Vertrag im Kühlschrank": "contracted"}
    )
    weimar = upserts["agreement", "MP-001@ars:160550000000"]
    assert weimar.state is AgreementState.CONTRACTED
    assert len(rejected) == 3


def test_fit_store_cp1252_exports(data: Path):
    upserts, rejected = pull(
        offers=str(data / "fitstore_angebote_cp1252.csv"),
        agreements=str(data / "fitstore_interessen_cp1252.csv"),
        registry="fit-store",
    )
    assert not rejected
    services = {key: r for (kind, key), r in upserts.items() if kind == "service"}
    assert sorted(services) == [
        "aufenthaltstitel-verlaengerung",
        "fuehrungszeugnis-beantragen",
        "gewerbeanmeldung",
    ]
    assert services["fuehrungszeugnis-beantragen"].land is None  # "Bund"
    assert all(s.reuse_channels == (ReuseChannel.FIT_STORE,) for s in services.values())
    gera = upserts["agreement", "gewerbeanmeldung@ars:160520000000"]
    assert (gera.state, gera.state_since) == (AgreementState.CONTRACTED, berlin(2024, 5, 2))
    assert gera.channel is ReuseChannel.FIT_STORE
    assert gera.subscriber.name == "Stadt Gera"
    suhl = upserts["agreement", "aufenthaltstitel-verlaengerung@ars:160540000000"]
    assert suhl.state is AgreementState.DECLINED


def test_xlsx_export(xlsx_export: Path):
    upserts, rejected = pull(
        offers=str(xlsx_export),
        agreements=str(xlsx_export),
        offers_sheet="Angebote",
        agreements_sheet="Interessen",
    )
    bau = upserts["service", "MP-010"]
    assert bau.leika_keys == (LeikaKey("99009001000000"),)  # a number cell
    assert bau.land is Land.MV
    assert bau.modified_at == berlin(2024, 2, 1)
    assert upserts["service", "MP-011"].land is Land.TH  # 16 as a number
    assert upserts["service", "MP-011"].reuse_channels == (ReuseChannel.FIT_STORE,)
    bad = rejected[f"{xlsx_export}[Angebote]:row 6"]
    assert [field for field, _ in bad.problems] == ["leika_keys"]  # the identity field
    # Kiel's ARS lost its leading zero in Excel; the contract date comes from Vertragsbeginn
    kiel = upserts["agreement", "MP-010@ars:010020000000"]
    assert kiel.state is AgreementState.CONTRACTED
    assert kiel.state_since == berlin(2024, 4, 1)
    erfurt = upserts["agreement", "MP-011@ars:160510000000"]
    assert erfurt.state is AgreementState.NEGOTIATING  # rows replayed by date
    assert erfurt.state_since == berlin(2024, 3, 3)
    (problem,) = rejected[f"{xlsx_export}[Interessen]:row 6"].problems
    assert problem[0] == "subscriber_ars"
    assert "column 'Regionalschlüssel'" in problem[1]
    assert len(rejected) == 2


def test_first_sheet_positions_are_file_and_row(xlsx_export: Path):
    _, rejected = pull(offers=str(xlsx_export))
    assert list(rejected) == [f"{xlsx_export}:row 6"]


def test_price_and_price_model_are_stored_on_the_service():
    row = SourceRow(
        position="x:row 2",
        raw={},
        values={
            "service_name": "A",
            "leika_keys": "99018005000000",
            "price_model": "je Fall",
            "price": "1.234,56",
        },
    )
    offer = parse_offer(row)
    assert isinstance(offer, Offer)
    assert offer.price == Decimal("1234.56")
    assert offer.price_model == "je Fall"
    (item,) = offer_items([row])
    assert isinstance(item, Upsert)
    assert item.key == "a"
    assert item.record.price == Decimal("1234.56")
    assert item.record.price_model == "je Fall"


def test_onlinedienst_and_offer_ids_are_identifiers_of_the_service():
    rows = [
        SourceRow(
            position=f"x:row {n}",
            raw={},
            values={
                "service_key": "FS-17",
                "service_name": "Wohngeld",
                "leika_keys": "99108004000000",
                "onlinedienst_ids": ids,
                "offer_ids": other,
            },
        )
        for n, ids, other in (
            (2, "S01000_Onlinedienst_WG-SH; S02000_Onlinedienst_WG", "MP-7 FS-17"),
            (3, "S01000_Onlinedienst_WG-SH|S03000_Onlinedienst_WG", "FS/2024/9"),
        )
    ]
    item, joined = offer_items(rows)
    assert isinstance(item, Upsert)
    assert joined == Skipped("service", JOINED_REASON, count=1, position="x:row 3")
    # ';', '|' and spaces separate ids, '/' does not; the row's own key is no other id
    assert item.record.onlinedienst_ids == (
        "S01000_Onlinedienst_WG-SH",
        "S02000_Onlinedienst_WG",
        "S03000_Onlinedienst_WG",
    )
    assert item.record.offer_ids == ("MP-7", "FS/2024/9")


def test_a_negative_price_is_dropped_with_a_warning():
    row = SourceRow(
        position="x:row 2",
        raw={},
        values={"service_name": "A", "leika_keys": "99018005000000", "price": "-5,00"},
        labels={"price": "Preis"},
    )
    warnings = CellWarnings()
    offer = parse_offer(row, warnings=warnings)
    assert isinstance(offer, Offer)
    assert offer.price is None
    assert warnings.lines() == [
        "price (column 'Preis'): not a price (a number >= 0, 'kostenfrei' or 'auf Anfrage'); "
        "stored without one: 1 row (x:row 2 '-5,00')"
    ]


def test_missing_file_is_a_connector_error_and_check_says_so(tmp_path: Path):
    connector = MarktplatzConnector(MarktplatzConfig(offers=str(tmp_path / "fehlt.csv")), name="mp")
    result = check_sync(connector)
    assert not result.ok
    assert "fehlt.csv" in result.detail
    with pytest.raises(
        ConnectorError, match=r"marktplatz connector 'mp': offers file .*fehlt\.csv"
    ):
        list(pull_sync(connector))


def test_missing_column_error_names_connector_file_and_field(data: Path):
    path = data / "odd.csv"
    path.write_text("Titel;Schlüssel\nA;99018005000000\n", encoding="utf-8")
    with pytest.raises(SourceNotUnderstood) as raised:
        pull(offers=str(path))
    message = str(raised.value)
    assert message.startswith(f"source 'mp', offers file '{path}': no header row found")
    assert "no column for service_name" in message
    upserts, _ = pull(
        offers=str(path), columns={"service_name": "Titel", "leika_keys": "Schlüssel"}
    )
    assert upserts["service", "a"].name == "A"


def test_a_changed_file_restarts_the_snapshot(data: Path, caplog: pytest.LogCaptureFixture):
    path = data / OFFERS
    connector = MarktplatzConnector(MarktplatzConfig(offers=str(path), batch_size=2), name="mp")
    first = next(iter(pull_sync(connector)))
    assert not first.complete
    with path.open("ab") as file:
        file.write(b"MP-009;Neu;99018005000009;TH;;;;;;\r\n")
    caplog.set_level(logging.WARNING)
    resumed = list(pull_sync(connector, first.cursor))
    keys = [c.key for b in resumed for c in b.changes]
    assert keys[0] == "dataport"  # from the beginning again
    assert "MP-009" in keys
    assert "changed since cursor" in caplog.text
    with pytest.raises(ConnectorError, match="invalid cursor"):
        list(pull_sync(connector, "nonsense"))


CONTEXT = "efa.toml [connectors.mp]"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give at least one of 'offers' and 'agreements'"),
        ({"offers": "a.csv", "registry": "ebay"}, "registry must be one of"),
        ({"offers": "a.csv", "columns": {"servce_name": "X"}}, "unknown field(s) 'servce_name'"),
        ({"offers": "a.csv", "columns": {"service_name": " "}}, "columns.service_name"),
        ({"offers": "a.csv", "states": {"fertig": "done"}}, "'done' is not an agreement state"),
        ({"offers": "a.csv", "encoding": "klingonisch"}, "unknown encoding 'klingonisch'"),
        ({"offers": "a.csv", "delimiter": ";;"}, "delimiter must be one character"),
        ({"offers": "a.csv", "batch_size": 0}, "batch_size must be at least 1"),
        ({"offers": "a.csv", "batch_size": "10"}, "batch_size"),
    ],
)
def test_bad_options_are_config_errors_naming_the_table(options, message):
    with pytest.raises(ConfigError) as raised:
        structure_options(MarktplatzConfig, options, context=CONTEXT)
    assert CONTEXT in str(raised.value)
    assert message in str(raised.value)
