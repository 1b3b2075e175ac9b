"""Plan vs actual in the rollout report: HTML section, JSON, and which plans a report shows."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import attrs
import pytest
from lxml import html as lxml_html

from efa_core.model import AgreementState
from efa_core.report.data import collect_report
from efa_core.report.html import render_html
from efa_core.report.plan import burnup_svg, render_plan_section
from efa_core.rollout.planning import load_plan, plan_status
from efa_core.store import Store
from rollout.helpers import agreement, availability, route, service

from .helpers import ADORF, ARNSTADT, NOW, TODAY, WEIMAR, base_plan, fresh_view, setup


def at(when: date) -> datetime:
    return datetime(when.year, when.month, when.day, 9, tzinfo=timezone.utc)


@pytest.fixture
def planned(store: Store) -> Store:
    """Weimar live since 1 March; Adorf's destination ticked by hand, but routing knows none."""
    plan = base_plan().tick("anmeldung", ADORF, "destination", on=date(2025, 2, 2), by="Roll-In")
    setup(
        store,
        service(),
        agreement(WEIMAR, AgreementState.CONTRACTED),
        attrs.evolve(availability(WEIMAR), modified_at=at(date(2025, 3, 1))),
        route(WEIMAR),
        route(ARNSTADT),
        plan=plan,
    )
    return store


def test_the_html_report_has_plan_vs_actual(planned: Store) -> None:
    data = collect_report(planned, {}, land="TH", now=NOW, timeline=False)
    [status] = data.plans
    assert status.today == TODAY
    german = lxml_html.fromstring(render_html(data))
    [section] = german.xpath('//section[@id="plan-th"]')
    assert section.xpath("h2")[0].text_content() == "Plan und Ist: Rollout Thüringen"
    assert section.xpath("h3")[0].text_content().endswith("Ziel Go-Live 31.03.2025 – überschritten")
    assert "Hindernisse: Interesse bekundet (als Nächstes für 1" in section.text_content()
    legend = section.xpath(".//*[local-name()='svg']//*[local-name()='text']/text()")
    assert {"Ziel", "online"} <= set(legend)
    page = lxml_html.fromstring(render_html(data, lang="en"))
    [section] = page.xpath('//section[@id="plan-th"]')
    assert section.xpath("h2")[0].text_content() == "Plan vs actual: Rollout Thüringen"
    titles = [h.text_content() for h in section.xpath("h3")]
    assert [t.split(" (")[0] for t in titles] == ["Pilot", "Welle 2"]
    assert titles[0].endswith("target go-live 2025-03-31 – passed")
    # a burn-up chart per wave, with the target line and the reached line
    charts = section.xpath(".//*[local-name()='svg'][contains(@class, 'burnup')]")
    assert len(charts) == 2
    for chart in charts:
        assert chart.xpath(".//*[@class='target']")
        assert chart.xpath(".//*[@class='reached']")
    # the heat map: one row per service × municipality of the wave, one column per item
    pilot_map, wave2_map = section.xpath(".//table[@class='heatmap']")
    rows = pilot_map.xpath("tbody/tr")
    assert [r.xpath("td")[1].text_content() for r in rows] == [
        f"{WEIMAR} Weimar, Stadt",
        f"{ADORF} Adorf",
    ]
    assert len(wave2_map.xpath("tbody/tr")) == 3  # the Ilm-Kreis's three Gemeinden
    header = [th.text_content() for th in pilot_map.xpath("thead/tr/th")]
    destination = header.index("destination")
    weimar, adorf = (r.xpath("td")[destination] for r in rows)
    assert weimar.get("class") == "done"
    assert adorf.get("class") == "done manual contradicted"
    assert f"no FIT-Connect route exists for {ADORF}" in adorf.get("title")
    assert re.fullmatch(
        rf"FIT-Connect-Zustellpunkt: done \(\d{{4}}-\d\d-\d\d\) – no FIT-Connect route exists "
        rf"for {ADORF}",
        adorf.get("title"),
    )
    # in German the heat map's tooltips too: state, date, and why the tick is contradicted
    [german_section] = german.xpath('//section[@id="plan-th"]')
    german_map = german_section.xpath(".//table[@class='heatmap']")[0]
    german_adorf = german_map.xpath("tbody/tr")[1].xpath("td")[destination]
    assert re.fullmatch(
        rf"FIT-Connect-Zustellpunkt: erledigt \(\d\d\.\d\d\.\d{{4}}\) – für {ADORF} gibt es "
        r"keinen FIT-Connect-Zustellpunkt",
        german_adorf.get("title"),
    )
    # the blockers and the progress table
    text = section.text_content()
    assert "Blockers: Interesse bekundet (next for 1" in text
    progress = section.xpath(".//table[not(@class)]")[0]
    assert [td.text_content() for td in progress.xpath("tbody/tr/td")][:7] == [
        "2 (66,000)",  # English thousands separator (German: 66.000)
        "1/2",
        "1/2",
        "1/2",  # published: Weimar is routable and live, which counts for it
        "1/2",
        "1/2",
        "30 %",
    ]
    # its styles go into the page's head, not into the section
    assert not section.xpath(".//style")
    assert ".plan table.heatmap" in page.xpath("//head/style")[0].text_content()


def test_the_json_report_holds_the_plans_with_their_cells(planned: Store) -> None:
    data = collect_report(planned, {}, now=NOW, timeline=False)
    [plan] = data.to_dict()["plans"]
    assert plan["plan"] == "th"
    pilot = plan["waves"][0]
    assert pilot["name"] == "Pilot"
    assert {c["ars"]: c["stage"] for c in pilot["cells"]} == {WEIMAR: "live", ADORF: "offered"}


def test_the_report_shows_the_same_status_as_plan_status(planned: Store) -> None:
    data = collect_report(planned, {}, land="TH", now=NOW, timeline=False)
    alone = plan_status(fresh_view(planned), load_plan(planned), today=TODAY)
    [status] = data.plans
    assert [w.progress for w in status.waves] == [w.progress for w in alone.waves]


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ({"land": "ST"}, False),  # the plan is Thüringen's
        ({"services": ["hund"]}, False),  # none of the plan's services
        ({"services": ["anmeldung"]}, True),
        ({"plans": False}, False),
    ],
    ids=["other-land", "other-service", "its-service", "not-asked"],
)
def test_which_plans_a_report_shows(planned: Store, options, shown: bool) -> None:
    setup(planned, service("hund"), register=False)
    data = collect_report(planned, {}, now=NOW, timeline=False, **options)
    assert bool(data.plans) is shown
    assert ('<section class="plan"' in render_html(data)) is shown


def test_a_report_without_plans_has_no_section(store: Store) -> None:
    setup(store, service(), availability(WEIMAR))
    data = collect_report(store, {}, now=NOW, timeline=False)
    assert data.plans == ()
    assert data.to_dict()["plans"] == []
    page = render_html(data)
    assert "Plan vs actual" not in page
    assert 'class="plan"' not in page


def _points(svg: str, css: str) -> list[tuple[float, float]]:
    [line] = lxml_html.fromstring(svg).xpath(f"//*[@class='{css}']")
    return [tuple(map(float, p.split(","))) for p in line.get("points").split()]  # type: ignore[misc]


def test_the_burnup_chart_rises_to_the_target_and_steps_at_each_go_live(planned: Store) -> None:
    status = plan_status(fresh_view(planned), base_plan(), today=TODAY)
    pilot = status.wave("Pilot")
    svg = burnup_svg(pilot, TODAY, width=480, height=200)
    # 30 px padding: y is 170 for 0 cells and 30 for all 2; one go-live reaches y 100
    target = _points(svg, "target")
    assert [y for _, y in target] == [170.0, 30.0, 30.0]
    assert target[0][0] < target[1][0] < target[2][0]
    reached = _points(svg, "reached")
    assert [y for _, y in reached] == [170.0, 170.0, 100.0, 100.0]
    # the step is at the go-live date, between the Stichtag and the target date
    assert target[0][0] < reached[1][0] == reached[2][0] < target[1][0]
    # a section on its own carries its styles
    assert "<style>" in render_plan_section(status)
