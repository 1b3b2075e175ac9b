"""The ``plan`` connector: YAML, CSV and XLSX plans, messy input, round trips, history, as-of."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from efa_core.config import parse_config
from efa_core.connectors import pull_sync
from efa_core.default_plugins.plan import (
    PlanFileConfig,
    PlanFileConnector,
    read_plan_file,
    table_options,
)
from efa_core.errors import ConfigError, ConnectorError, SourceNotUnderstood
from efa_core.ids import Ars
from efa_core.model import ItemState, WaveKind
from efa_core.plugins import PluginRegistry
from efa_core.rollout.planning import Plan, PlanError, load_plan, load_plans
from efa_core.store import Store
from efa_core.sync import SyncEngine
from efa_core.testing.accounting import assert_accounted
from efa_core.testing.conformance import ConnectorConformance

from .helpers import ADORF, ARNSTADT, ILM_KREIS, WEIMAR, base_plan

FIXTURES = Path(__file__).parent / "fixtures"


def rich_plan() -> Plan:
    """The helper plan with checklist states of every kind, by two people."""
    return (
        base_plan(services=("anmeldung", "hund"))
        .tick("anmeldung", WEIMAR, "transport", on=date(2025, 1, 20), value="fit-connect", by="A")
        .tick("anmeldung", WEIMAR, "contract", on=date(2025, 1, 15), by="A")
        .tick("anmeldung", ADORF, "destination", ItemState.NOT_APPLICABLE, by="B", note="n/a")
        .tick("hund", ADORF, "fachverfahren", ItemState.IN_PROGRESS, on=date(2025, 2, 3))
        .tick("anmeldung", ARNSTADT, "contacts")
        .tick("anmeldung", "16061", "interest", ItemState.OPEN)  # outside every wave
    )


class TestPlanFileConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, tmp_path: Path) -> PlanFileConnector:
        path = rich_plan().write(tmp_path / "plan.yaml")
        return PlanFileConnector(PlanFileConfig(path=str(path)), name="plan-th")

    @pytest.fixture
    def failing_connector(self, tmp_path: Path) -> PlanFileConnector:
        return PlanFileConnector(
            PlanFileConfig(path=str(tmp_path / "missing.yaml")), name="plan-th"
        )


def test_is_registered_as_a_bundled_plugin() -> None:
    assert PluginRegistry(entrypoints=False).connector_class("plan") is PlanFileConnector


# -- YAML -------------------------------------------------------------------------------------


def test_yaml_fixture_is_read_with_every_bad_entry_quarantined_alone() -> None:
    connector = PlanFileConnector(
        PlanFileConfig(path=str(FIXTURES / "plan-thueringen.yaml")), name="plan-th"
    )
    accounting = assert_accounted(
        connector, {"rollout-plan": 1, "plan-wave": 2, "onboarding-item": 9}
    )
    assert accounting.quarantined == {"onboarding-item": 5}
    batch = next(iter(pull_sync(connector)))
    plan = batch.changes[0].record
    assert plan.land.code == "16"
    assert [i.key for i in plan.checklist_for("MP-101")][-2:] == ["kickoff", "go-live"]
    assert plan.service("MP-102").fees is True
    waves = {c.record.name: c.record for c in batch.changes if c.kind == "plan-wave"}
    assert waves["Pilot"].targets == (Ars(WEIMAR), Ars(ADORF))  # unquoted: still text
    assert waves["Pilot"].wave_kind is WaveKind.PILOT
    assert waves["Welle 2"].services == ("MP-101",)
    transport = next(c.record for c in batch.changes if c.key.endswith("#transport"))
    assert (transport.state, transport.value) == (ItemState.DONE, "osci-xta")
    problems = {r.position.rsplit(":", 1)[1]: r.problems for r in batch.rejected}
    assert problems["line 48"] == (
        ("$.items[4].ars", "ARS '1605500' has 7 digits; an ARS has 2, 3, 5, 9 or 12 digits"),
    )
    assert problems["line 50"] == (
        ("$.items[6].on", "'31.02.2025' is not a valid date: day is out of range for month"),
    )
    assert problems["line 51"] == (("$.items[7]", "extra fields found: bogus"),)
    assert "duplicate onboarding-item" in problems["line 52"][0][1]


def test_yaml_items_must_fit_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        "plan: p\nname: P\nland: TH\nservices: [a, {key: b, checklist: [interest]}]\n"
        "waves:\n  - {name: W, targets: ['16'], services: [a, c]}\n"
        "items:\n  - {service: c, ars: '16', item: interest, state: done}\n"
        "  - {service: b, ars: '16', item: contract, state: done}\n"
        "  - {service: a, ars: '16', item: interest, state: done, state: open}\n",
        encoding="utf-8",
    )
    content = read_plan_file(PlanFileConfig(path=str(path)))
    assert [r.problems for r in content.rejected] == [
        (("$.waves[0].services[1]", "'c' is not a service of plan 'p'"),),
        (("$.items[0].service", "'c' is not a service of plan 'p'"),),
        (("$.items[1].item", "'contract' is not in the checklist of 'b' (interest)"),),
        (("$.items[2].state", "given twice (also at line 10)"),),
    ]


def test_a_broken_plan_header_is_quarantined_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        "plan: p\nname: P\nland: XX\nservices: [a]\nwaves:\n  - {name: W, targets: ['16']}\n",
        encoding="utf-8",
    )
    content = read_plan_file(PlanFileConfig(path=str(path)))
    assert [r.kind for r in content.rejected] == ["rollout-plan"]
    assert content.rejected[0].problems[0][0] == "$.land"
    assert [r.natural_key for r in content.records] == ["p/W"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<html><body>Wartungsarbeiten</body></html>", "not a plan file"),
        ("plan: [unclosed", "not YAML"),
        ("- just\n- a list\n", "not a plan file"),
        ("", "not a plan file"),
        ("plan: p\nwave:\n  - {name: W}\n", "unknown key(s) 'wave' (line 2)"),
    ],
)
def test_what_is_no_plan_is_not_understood(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceNotUnderstood, match=re.escape(reason)) as info:
        read_plan_file(PlanFileConfig(path=str(path)), label="plan-th")
    assert info.value.source == "plan-th"


def test_a_missing_file_is_a_connector_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match=r"plan file .*missing\.yaml' does not exist"):
        read_plan_file(PlanFileConfig(path=str(tmp_path / "missing.yaml")))


# -- tables --------------------------------------------------------------------------------------

TABLE_OPTIONS = {"plan": "th", "name": "TH", "land": "TH", "services": ("MP-101", "MP-102")}


def test_messy_csv_in_cp1252_with_title_footer_and_unknown_columns() -> None:
    connector = PlanFileConnector(
        PlanFileConfig(path=str(FIXTURES / "wellenplan-cp1252.csv"), **TABLE_OPTIONS), name="t"
    )
    accounting = assert_accounted(
        connector,
        {
            "rollout-plan": 1,
            "plan-wave": 2,
            "onboarding-item": 10,
            "plan-row": 2,
            "title-line": 2,
            "blank-line": 2,
            "footer-line": 1,
            "column": 1,
        },
    )
    assert accounting.quarantined == {"plan-row": 2, "onboarding-item": 1}
    batch = next(iter(pull_sync(connector)))
    records = {c.key: c.record for c in batch.changes}
    pilot = records["th/Pilot"]
    assert pilot.wave_kind is WaveKind.PILOT
    assert (pilot.stichtag, pilot.target_golive) == (date(2025, 1, 15), date(2025, 3, 31))
    assert records["th/Welle 2"].targets == (Ars(ILM_KREIS),)  # Arnstadt lies inside
    contract = records[f"th/MP-101@{WEIMAR}#contract"]
    assert (contract.state, contract.on, contract.by) == (
        ItemState.DONE,
        date(2025, 1, 15),
        "Frau Müller",
    )
    assert records[f"th/MP-101@{WEIMAR}#transport"].value == "fit-connect"
    assert records[f"th/MP-101@{WEIMAR}#destination"].state is ItemState.IN_PROGRESS
    assert records[f"th/MP-101@{ADORF}#destination"].state is ItemState.NOT_APPLICABLE
    reasons = {r.position.rsplit(":", 1)[1]: r.problems[0] for r in batch.rejected}
    assert reasons["row 10"] == (
        "Stichtag",
        f"wave 'Welle 2' has Stichtag 2025-04-01 at {FIXTURES / 'wellenplan-cp1252.csv'}:row 8",
    )
    # a Thüringen ARS cut short could be read as Schleswig-Holstein's: not in this plan's Land
    assert reasons["row 11"] == ("ARS", "01605 (given as 1605) does not lie in Thüringen (16)")
    assert reasons["row 12"][0] == "Interesse bekundet"  # the header as written
    assert "unknown column 'Telefon'" in {s.reason for s in batch.skipped}


def test_xlsx_with_merged_wave_cells_numbers_for_ars_and_date_cells(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Übersicht"
    ws.append(["Wellenplan EfA Thüringen"])
    ws.append(
        ["Welle", "Stichtag", "Ziel Go-Live", "ARS", "Gemeinde", "Leistung", "Vertrag", "Go-Live"]
    )
    ws.append(
        [
            "Pilot",
            datetime(2025, 1, 15),
            datetime(2025, 3, 31),
            160550000000,
            "Weimar",
            "MP-101",
            "x",
            None,
        ]
    )
    ws.append(
        [None, None, None, 160615001001.0, "Adorf", "MP-101", datetime(2025, 2, 1), "in Arbeit"]
    )
    ws.append(["Welle 2", None, datetime(2025, 12, 31), 16070, "Ilm-Kreis", None, None, None])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.merge_cells("C3:C4")
    other = workbook.create_sheet("Notizen")
    other.append(["nichts"])
    path = tmp_path / "wellenplan.xlsx"
    workbook.save(path)
    content = read_plan_file(PlanFileConfig(path=str(path), **TABLE_OPTIONS))
    assert content.rejected == []
    records = {r.natural_key: r for r in content.records}
    assert records["th/Pilot"].targets == (Ars(WEIMAR), Ars(ADORF))
    assert records["th/Pilot"].target_golive == date(2025, 3, 31)
    assert records[f"th/MP-101@{ADORF}#contract"].on == date(2025, 2, 1)
    assert records[f"th/MP-101@{ADORF}#go-live"].state is ItemState.IN_PROGRESS
    assert records["th/Welle 2"].targets == (Ars(ILM_KREIS),)
    with pytest.raises(SourceNotUnderstood, match="no header row"):
        read_plan_file(PlanFileConfig(path=str(path), sheet="Notizen", **TABLE_OPTIONS))
    with pytest.raises(
        SourceNotUnderstood, match="no sheet named 'Plan'; sheets: 'Übersicht', 'Notizen'"
    ):
        read_plan_file(PlanFileConfig(path=str(path), sheet="Plan", **TABLE_OPTIONS))


def test_a_lost_leading_zero_of_an_ars_number_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("Welle;ARS\nW;1001000\nW;1001\nW;0001\n", encoding="utf-8")
    options = {"plan": "p", "name": "P", "land": "SH", "services": ("a",)}
    content = read_plan_file(PlanFileConfig(path=str(path), **options))
    assert [str(t) for t in content.records[1].targets] == ["01001"]
    # 7 digits: no ARS is one digit longer; 00001 is no Land
    assert [r.problems[0][0] for r in content.rejected] == ["ARS", "ARS"]


def test_a_maintenance_page_saved_as_the_plan_is_not_understood(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_text("<html>Wartung</html>", encoding="utf-8")
    with pytest.raises(SourceNotUnderstood, match=r"is a web page \(HTML\), not a table"):
        read_plan_file(PlanFileConfig(path=str(path), **TABLE_OPTIONS))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"path": "p.yaml", "plan": "x"}, "plan: these options are for CSV/XLSX plans"),
        ({"path": "p.csv"}, "a CSV plan needs the options plan, name, land, services"),
        ({"path": "p.ods"}, "cannot tell the format of 'p.ods'"),
        (
            {"path": "p.csv", **TABLE_OPTIONS, "fee_services": ["MP-9"]},
            "MP-9: not in services",
        ),
    ],
)
def test_invalid_options_are_config_errors(options: dict[str, object], message: str) -> None:
    config = parse_config({"connectors": {"plan-th": {"type": "plan", **options}}})
    from efa_core.config import build_connector

    with pytest.raises(ConfigError, match=message):
        build_connector(PluginRegistry(entrypoints=False), "plan-th", config)


# -- round trips through the engine, with history and as-of --------------------------------------


def sync(store: Store, path: Path, **options: object) -> None:
    table = {"type": "plan", "path": str(path), **options}
    config = parse_config({"connectors": {"plan-th": table}})
    report = SyncEngine(store, PluginRegistry(entrypoints=False), config).run()
    assert report.ok, [r.error for r in report.reports]


@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".xlsx"])
def test_round_trip_through_the_store(store: Store, tmp_path: Path, suffix: str) -> None:
    plan = rich_plan()
    path = plan.write(tmp_path / f"plan{suffix}", names={WEIMAR: "Weimar"})
    options = table_options(plan.plan) if suffix != ".yaml" else {}
    sync(store, path, **options)
    loaded = load_plan(store)
    assert loaded.source == "plan-th"
    assert (loaded.plan, loaded.waves, loaded.items) == (plan.plan, plan.waves, plan.items)
    # and back out again: the same file
    again = loaded.write(tmp_path / f"again{suffix}", names={WEIMAR: "Weimar"})
    if suffix != ".xlsx":  # a workbook's bytes carry its creation time
        assert again.read_bytes() == path.read_bytes()


def test_history_and_as_of_answer_what_the_target_was(store: Store, tmp_path: Path) -> None:
    plan = base_plan()
    path = plan.write(tmp_path / "plan.yaml")
    sync(store, path)
    first = datetime.now(timezone.utc)
    time.sleep(0.01)
    moved = plan.with_wave(
        "Pilot",
        [WEIMAR, ADORF],
        kind="pilot",
        stichtag=date(2025, 1, 15),
        target_golive=date(2025, 6, 30),
    ).tick("anmeldung", WEIMAR, "contract")
    moved.write(path)
    sync(store, path)
    assert load_plan(store).wave("Pilot").target_golive == date(2025, 6, 30)
    then = load_plan(store, as_of=first)
    assert then.wave("Pilot").target_golive == date(2025, 3, 31)
    assert then.items == ()
    history = list(store.history("th/Pilot", kind="plan-wave"))
    assert [h.op.value for h in history] == ["upsert", "upsert"]
    with pytest.raises(PlanError, match="the store holds no plan on 2000-01-01"):
        load_plan(store, as_of=datetime(2000, 1, 1, tzinfo=timezone.utc))


def test_load_plan_names_the_plans(store: Store, tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="the store holds no plan; configure a source"):
        load_plan(store)
    sync(store, base_plan().write(tmp_path / "a.yaml"))
    with pytest.raises(PlanError, match="no plan 'x'; plans: th"):
        load_plan(store, "x")
    assert [p.key for p in load_plans(store)] == ["th"]


def test_python_api_edits(tmp_path: Path) -> None:
    plan = base_plan()
    with pytest.raises(PlanError, match="'nope' is not an item of the checklist"):
        plan.tick("anmeldung", WEIMAR, "nope")
    with pytest.raises(PlanError, match="'x' is not a service of plan 'th'"):
        plan.tick("x", WEIMAR, "interest")
    edited = plan.tick("anmeldung", WEIMAR, "interest").tick(
        "anmeldung", WEIMAR, "interest", ItemState.IN_PROGRESS
    )
    assert [i.state for i in edited.items] == [ItemState.IN_PROGRESS]
    assert [w.name for w in edited.without_wave("Pilot").waves] == ["Welle 2"]
    path = edited.write(tmp_path / "plan.yaml")
    assert Plan.read(path) == edited
    with pytest.raises(ValueError, match="names its own services"):
        plan.with_wave("X", ["16"], services=["anmeldung"]).write(tmp_path / "p.csv")


def test_a_csv_export_opens_no_formula_and_reads_back_as_written(
    store: Store, tmp_path: Path
) -> None:
    # issue 14 §3: the plan's CSV is for spreadsheets too; notes and names are free text
    plan = base_plan().tick(
        "anmeldung",
        WEIMAR,
        "contract",
        by="@team; =cmd|' /C calc'!A0",
        note='=HYPERLINK("http://example.invalid","klick") - \uff1d1, +2',
    )
    path = plan.write(tmp_path / "plan.csv", names={WEIMAR: "-Weimar"})
    text = path.read_text(encoding="utf-8-sig")
    for piece in re.split("[;,\t\r\n]", text):
        assert not re.match('^[\\s"\u00a0]*[=+\\-@\uff1d]', piece), piece
    sync(store, path, **table_options(plan.plan))
    loaded = load_plan(store)
    assert loaded.items == plan.items
    assert loaded.write(tmp_path / "again.csv", names={WEIMAR: "-Weimar"}).read_bytes() == (
        path.read_bytes()
    )
