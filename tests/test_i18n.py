"""The message catalogue (efa_core.i18n) and how the CLI chooses its language."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from efa_core.cli._common import choose_lang, lang_option
from efa_core.config import load_config, parse_config
from efa_core.errors import ConfigError
from efa_core.i18n import (
    AGREEMENT_NAMES,
    FIELD_NAMES,
    RECORD_KIND_NAMES,
    SEVERITY_NAMES,
    STAGE_NAMES,
    WAVE_KIND_NAMES,
    M,
    Text,
    Translator,
    translator,
)
from efa_core.ids import Ars
from efa_core.model import RECORD_TYPES, AgreementState, Stage, WaveKind
from efa_core.rollout.findings import Finding, Severity

MESSAGES = {name: value for name, value in vars(M).items() if isinstance(value, Text)}


def _fields(template: str) -> set[tuple[str, str | None]]:
    """The placeholders of *template* with their conversion (``!r``) if any."""
    return {(name, conv) for _, name, _, conv in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_both_languages_have_the_same_placeholders(name: str) -> None:
    text = MESSAGES[name]
    assert text.de.strip()
    assert text.en.strip()
    assert _fields(text.de) == _fields(text.en), name


def test_every_stage_state_severity_and_record_kind_has_a_name() -> None:
    assert set(STAGE_NAMES) == set(Stage)
    assert set(AGREEMENT_NAMES) == set(AgreementState)
    assert set(SEVERITY_NAMES) == {s.value for s in Severity}
    assert set(RECORD_KIND_NAMES) == set(RECORD_TYPES)
    assert set(WAVE_KIND_NAMES) == set(WaveKind)
    assert [Translator("en").wave_kind(k) for k in WaveKind] == [k.value for k in WaveKind]
    assert Translator("de").wave_kind(WaveKind.PILOT) == "Pilotwelle"
    names = [*RECORD_KIND_NAMES.values(), *FIELD_NAMES.values()]
    assert all(t.de.strip() and t.en.strip() and "{" not in t.de + t.en for t in names)
    assert [t.en for t in RECORD_KIND_NAMES.values()] == list(RECORD_KIND_NAMES)
    assert Translator("de").kind("responsibility") == "Zuständigkeit"
    assert Translator("de").kind("custom-kind") == "custom-kind"  # a plugin's own kind
    for lang in ("de", "en"):
        names = [t.get(lang) for t in STAGE_NAMES.values()]
        assert len(set(names)) == len(names), f"two stages share a name in {lang}"


def test_german_uses_the_ozg_vocabulary_english_the_stage_values() -> None:
    de, en = Translator("de"), Translator("en")
    assert de.stage(Stage.LIVE) == "online"  # the OZG-Dashboard's word
    assert de.stage(Stage.CONTRACTED) == "Vertrag geschlossen"
    assert de.stage(Stage.INTERESTED) == "Interesse bekundet"
    assert de.stage(Stage.TERMINATED) == "gekündigt"
    assert [en.stage(s) for s in Stage] == [s.value for s in Stage]
    assert de.agreement(AgreementState.WITHDRAWN) == "zurückgezogen"
    assert de.severity(Severity.WARNING) == "Warnung"
    assert en.severity("error") == "error"
    assert de.severity("custom") == "custom"  # a plugin's own severity stays as it is


def test_dates_and_numbers() -> None:
    de, en = translator("de"), translator("EN ")
    day = dt.date(2024, 3, 1)
    at = dt.datetime(2024, 3, 1, 9, 5, tzinfo=dt.timezone.utc)
    assert (de.date(day), en.date(day)) == ("01.03.2024", "2024-03-01")
    assert (de.date(at), de.datetime(at)) == ("01.03.2024", "01.03.2024 09:05")
    assert en.datetime(at) == "2024-03-01 09:05"
    assert (de.number(1234), en.number(1234)) == ("1.234", "1,234")
    assert (de.number(726682), de.number(12)) == ("726.682", "12")
    assert (de.number(1234.5, 1), en.number(1234.5, 1)) == ("1.234,5", "1,234.5")
    assert de(M.FINDINGS_N, n=de.number(1200)) == "Befunde (1.200)"
    assert en(M.FINDINGS_N, n=en.number(1200)) == "Findings (1,200)"


def test_default_and_unknown_language() -> None:
    assert translator(None).lang == "de"
    with pytest.raises(ValueError, match="unknown language 'fr'; known: de, en"):
        translator("fr")


def test_report_lang_in_the_configuration(tmp_path: Path) -> None:
    assert parse_config({}).lang is None
    assert parse_config({"report": {"lang": "EN"}}).lang == "en"
    with pytest.raises(ConfigError, match=r"\[report\]: key 'lang' must be one of de, en"):
        parse_config({"report": {"lang": "fr"}})
    with pytest.raises(ConfigError, match=r"\[report\].*unknown key 'langs'"):
        parse_config({"report": {"langs": "en"}})
    file = tmp_path / "efa.toml"
    file.write_text('[report]\nlang = "en"\n', encoding="utf-8")
    assert load_config(str(file)).lang == "en"


def test_lang_option_wins_over_the_environment_and_the_configuration() -> None:
    english = parse_config({"report": {"lang": "en"}})

    @click.command()
    @lang_option
    def show(lang: str | None) -> None:
        click.echo(choose_lang(lang, english).lang)

    runner = CliRunner()
    assert runner.invoke(show, [], env={"EFA_LANG": None}).output == "en\n"
    assert runner.invoke(show, [], env={"EFA_LANG": "de"}).output == "de\n"
    assert runner.invoke(show, ["--lang", "EN"], env={"EFA_LANG": "de"}).output == "en\n"
    bad = runner.invoke(show, ["--lang", "fr"])
    assert bad.exit_code == 2
    assert "'fr' is not one of 'de', 'en'" in bad.output
    assert choose_lang(None, parse_config({})).lang == "de"


def test_a_message_renders_its_values_by_type_in_either_language() -> None:
    text = Text(
        de="{who}: {n} Tage seit {on} im Stand {stage!r} ({state}; {items}; {sub})",
        en="{who}: {n} days since {on} at {stage!r} ({state}; {items}; {sub})",
    )
    message = text.fill(
        who=Ars("16055"),
        n=1234,
        on=dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone.utc),
        stage=Stage.CONTRACTED,
        state=AgreementState.TERMINATED,
        items=(M.NO_AGREEMENT, "x", Decimal("2.69470")),
        sub=M.AGREEMENT_IS.fill(state=AgreementState.WITHDRAWN),
    )
    assert Translator("de").render(message) == (
        "16055: 1.234 Tage seit 01.03.2024 im Stand 'Vertrag geschlossen' (gekündigt; "
        "es gibt keine Vereinbarung, x, 2,69470; die Vereinbarung ist zurückgezogen)"
    )
    # English keeps the stable form: plain digits, ISO dates, the values' own names
    english = (
        "16055: 1234 days since 2024-03-01 at 'contracted' (terminated; no agreement, x, 2.69470; "
        "the agreement is withdrawn)"
    )
    assert Translator("en").render(message) == str(message) == english


def test_a_finding_with_a_catalogue_message_or_a_plain_one() -> None:
    text = M.DASHBOARD_OFFLINE.fill(service="MP-1", area=Ars("16055"))
    found = Finding(rule="r", severity=Severity.WARNING, service="MP-1", area=None, text=text)
    assert found.message == "the OZG-Dashboard says MP-1 is offline in 16055"
    assert found.to_dict()["message"] == found.message
    assert found.render(Translator("de")) == "laut OZG-Dashboard ist MP-1 in 16055 offline"
    assert found.render(Translator("en")) == found.message
    # a third-party rule that gives only a message: shown as it is in either language
    plain = Finding(rule="r", severity=Severity.INFO, service=None, area=None, message="hi")
    assert (plain.text, plain.render(Translator("de"))) == (None, "hi")
    with pytest.raises(TypeError, match="a Finding needs a message or a text"):
        Finding(rule="r", severity=Severity.INFO, service=None, area=None)


def test_a_cost_share_with_a_catalogue_basis_or_a_plain_one() -> None:
    from fractions import Fraction

    from efa_core.rollout.costs import CostShare

    text = M.BASIS_LAND_PAYS.fill(n=726682)
    share = CostShare(payer="16", name="Thüringen", share=Fraction(1), basis_text=text)
    assert share.basis == "population 726682 (the Land pays for its Kommunen)"
    assert share.render_basis(Translator("de")) == (
        "Einwohner 726.682 (das Land zahlt für seine Kommunen)"
    )
    plain = CostShare(payer="16", name=None, share=Fraction(1), basis="by hand")
    assert plain.render_basis(Translator("de")) == "by hand"
    with pytest.raises(TypeError, match="a CostShare needs a basis or a basis_text"):
        CostShare(payer="16", name=None, share=Fraction(1))


def test_every_run_state_mode_operation_via_and_row_flag_has_a_name() -> None:
    from efa_core.i18n import (
        ITEM_STATE_NAMES,
        OPERATION_NAMES,
        ROW_FLAG_NAMES,
        RUN_MODE_NAMES,
        RUN_STATUS_NAMES,
        VIA_NAMES,
    )
    from efa_core.model import ItemState
    from efa_core.rollout import RowFlag, Via
    from efa_core.store import RunMode, RunStatus
    from efa_core.store.types import Operation

    assert set(RUN_STATUS_NAMES) == {s.value for s in RunStatus}
    assert set(ITEM_STATE_NAMES) == {s.value for s in ItemState}
    assert set(RUN_MODE_NAMES) == {m.value for m in RunMode}
    assert {o.value for o in Operation} | {"added", "changed", "deleted"} == set(OPERATION_NAMES)
    assert set(VIA_NAMES) == {v.value for v in Via}
    flags = {(f.name or "").lower().replace("_", "-") for f in RowFlag}
    assert set(ROW_FLAG_NAMES) == flags
    tables = (RUN_STATUS_NAMES, RUN_MODE_NAMES, OPERATION_NAMES, VIA_NAMES, ROW_FLAG_NAMES)
    for names in (*tables, ITEM_STATE_NAMES):
        assert all(key == text.en for key, text in names.items())  # English: the values
    de = Translator("de")
    assert de.name(RUN_STATUS_NAMES, RunStatus.FAILED) == "fehlgeschlagen"
    assert de.name(RUN_STATUS_NAMES, "paused") == "paused"  # unknown: as it is
    at = dt.datetime(2024, 3, 1, 9, 5, 7)
    assert (de.datetime(at, seconds=True), Translator("en").datetime(at, seconds=True)) == (
        "01.03.2024 09:05:07",
        "2024-03-01 09:05:07",
    )
