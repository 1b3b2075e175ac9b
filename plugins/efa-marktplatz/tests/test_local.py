"""The local connector: the user's own agreements and notes in YAML (or agreements in CSV)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from efa_marktplatz import LIFECYCLE_PREFIX, LocalConfig, LocalConnector

from efa_core.connectors import pull_sync
from efa_core.errors import ConnectorError
from efa_core.model import AgreementState, Note, ReuseChannel, SubscriberKind
from efa_core.tabular import BERLIN


def pull(path: Path, **options):
    connector = LocalConnector(LocalConfig(path=str(path), **options), name="own")
    batches = list(pull_sync(connector))
    upserts = {(c.kind, c.key): c.record for b in batches for c in b.changes}
    rejected = [r for b in batches for r in b.rejected]
    return upserts, rejected


def test_sample_yaml(data: Path):
    path = data / "local.yaml"
    upserts, rejected = pull(path)
    weimar = upserts["agreement", "MP-001@ars:160550000000#VA-TH-3"]
    assert weimar.state is AgreementState.CONTRACTED
    assert weimar.state_since.date().isoformat() == "2024-06-01"
    assert weimar.state_since.tzinfo is BERLIN
    assert weimar.channel is ReuseChannel.VERWALTUNGSABKOMMEN
    land = upserts["agreement", "MP-005@ars:16"]
    assert land.subscriber.subscriber_kind is SubscriberKind.LAND
    gotha = upserts["agreement", "MP-002@ars:16067"]
    assert gotha.subscriber.subscriber_kind is SubscriberKind.KREIS
    assert gotha.state is AgreementState.WITHDRAWN  # the history says withdrawn first
    by_line = {r.position: r for r in rejected}
    assert sorted(by_line) == [f"{path}:line 19", f"{path}:line 27"]
    ((field, message),) = by_line[f"{path}:line 19"].problems
    assert field == "state"
    assert message.startswith(LIFECYCLE_PREFIX)
    assert f"(2024-04-01, {path}:line 25)" in message
    ((field, message),) = by_line[f"{path}:line 27"].problems
    assert field == "staet"
    assert "unknown key 'staet'" in message
    note = upserts["note", "2024-05-12-kickoff-with-the-pilot-municipality"]
    assert note == Note(
        key="2024-05-12-kickoff-with-the-pilot-municipality",
        text="Kickoff with the pilot municipality",
        on=datetime(2024, 5, 12, tzinfo=BERLIN),
        service_key="MP-001",
        subscriber="ars:160550000000",  # Stadt Weimar, known from its agreement above
        agreement_key="MP-001@ars:160550000000",
    )


def test_yaml_entries_report_every_problem(tmp_path: Path):
    path = tmp_path / "own.yml"
    path.write_text(
        "agreements:\n"
        "  - service: x\n"
        "    subscriber: Niemandsland\n"
        "    state: vielleicht\n"
        "    date: 32.01.2024\n"
        "  - [not, a, mapping]\n"
        "  - service: y\n"
        "    subscriber: ITEBO\n"
        "    kind: Organisation\n"
        "    state: Interessenbekundung\n"
        "    channel: {nested: true}\n",
        encoding="utf-8",
    )
    upserts, rejected = pull(path)
    assert not upserts
    first, second, third = rejected
    assert first.position == f"{path}:line 2"
    # the bad date alone would be dropped with a warning: only identity fields reject
    assert [field for field, _ in first.problems] == ["subscriber_ars", "state"]
    assert second.position == f"{path}:line 6"
    assert third.problems == (("channel", "must be a single value, not a dict"),)


def test_organisation_subscribers_need_no_ars(tmp_path: Path):
    path = tmp_path / "own.yaml"
    path.write_text(
        "agreements:\n"
        "  - {service: y, subscriber: ITEBO, kind: Organisation, state: Interessenbekundung}\n",
        encoding="utf-8",
    )
    upserts, rejected = pull(path)
    assert not rejected
    agreement = upserts["agreement", "y@org:itebo"]
    assert agreement.subscriber.organisation_id == "itebo"
    assert agreement.state_since is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agreements: [\n", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("agreement: []\n", "unknown top-level key(s) 'agreement'"),
        ("agreements: 3\n", "'agreements' must be a list"),
    ],
)
def test_malformed_yaml_is_a_connector_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "own.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConnectorError) as raised:
        pull(path)
    assert f"local connector 'own': local file '{path}'" in str(raised.value)
    assert message in str(raised.value)


def test_empty_yaml_is_an_empty_snapshot(tmp_path: Path):
    path = tmp_path / "own.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    connector = LocalConnector(LocalConfig(path=str(path)), name="own")
    (batch,) = list(pull_sync(connector))
    assert batch.complete
    assert not batch.changes
    assert not batch.rejected


def test_local_csv_with_logical_headers(tmp_path: Path):
    path = tmp_path / "own.csv"
    path.write_bytes(
        "service,subscriber,ars,state,date\r\n"
        "MP-001,Stadt Gera,160520000000,interested,2024-01-01\r\n"
        "MP-001,Stadt Gera,160520000000,gekündigt,2024-02-01\r\n".encode("utf-8-sig")
    )
    upserts, rejected = pull(path)
    gera = upserts["agreement", "MP-001@ars:160520000000"]
    assert gera.state is AgreementState.INTERESTED
    ((field, message),) = rejected[0].problems
    assert rejected[0].position == f"{path}:row 3"
    assert field == "state"
    assert "the lifecycle allows negotiating, contracted, declined, withdrawn" in message


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "own.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_notes_become_note_records(tmp_path: Path):
    path = write(
        tmp_path,
        "agreements:\n"
        "  - {service: y, subscriber: ITEBO, kind: Organisation, state: interested}\n"
        "notes:\n"
        "  - key: kickoff-gera\n"
        "    date: 12.05.2024 14:30\n"
        "    text: |\n"
        "      Kickoff in Gera.\n"
        "      Second line.\n"
        "    service: MP-001\n"
        "    subscriber: Stadt Gera\n"
        "    ars: 16052\n"
        "    reference: NV-7\n"
        "    author: M. Muster\n"
        "    modified: 2024-05-13\n"
        "  - {text: Ohne Datum und Bezug}\n"
        "  - {text: Land by name, subscriber: Thüringen}\n"
        "  - {text: Area by ARS alone, ars: '160550000000'}\n"
        "  - {text: Organisation of an agreement, subscriber: itebo, service: y}\n"
        "  - {text: A new organisation, subscriber: KTZ, kind: Organisation}\n",
    )
    upserts, rejected = pull(path)
    assert not rejected
    notes = {key: record for (kind, key), record in upserts.items() if kind == "note"}
    gera = notes["kickoff-gera"]
    assert gera.text == "Kickoff in Gera.\nSecond line."
    assert gera.on == datetime(2024, 5, 12, 14, 30, tzinfo=BERLIN)
    assert (gera.service_key, gera.subscriber) == ("MP-001", "ars:16052")
    assert gera.agreement_key == "MP-001@ars:16052#NV-7"
    assert gera.author == "M. Muster"
    assert gera.modified_at == datetime(2024, 5, 13, tzinfo=BERLIN)
    plain = notes["ohne-datum-und-bezug"]
    assert (plain.on, plain.service_key, plain.subscriber, plain.agreement_key) == (
        None,
        None,
        None,
        None,
    )
    assert notes["land-by-name"].subscriber == "ars:16"
    assert notes["area-by-ars-alone"].subscriber == "ars:160550000000"
    itebo = notes["organisation-of-an-agreement"]
    assert (itebo.subscriber, itebo.agreement_key) == ("org:itebo", "y@org:itebo")
    assert notes["a-new-organisation"].subscriber == "org:ktz"
    assert len(notes) == 6


def test_derived_note_keys_are_stable_and_bounded(tmp_path: Path):
    long_text = "Abstimmung mit dem Landkreis über die Anbindung an das Fachverfahren " * 3
    path = write(tmp_path, f"notes:\n  - {{date: 2024-05-12, text: '{long_text}'}}\n")
    first, _ = pull(path)
    again, _ = pull(path)
    assert list(first) == list(again)
    ((kind, key),) = first
    assert kind == "note"
    assert key.startswith("2024-05-12-abstimmung-mit-dem-landkreis-ueber-die-")
    assert len(key) <= len("2024-05-12-") + 60
    digest = key.rsplit("-", 1)[1]
    assert len(digest) == 8
    assert int(digest, 16) >= 0  # hex digits
    other = write(tmp_path, f"notes:\n  - {{date: 2024-05-12, text: '{long_text}!'}}\n")
    assert list(pull(other)[0]) == list(first)  # punctuation does not change the slug
    changed = write(tmp_path, f"notes:\n  - {{date: 2024-05-12, text: '{long_text} 2'}}\n")
    assert list(pull(changed)[0]) != list(first)


def test_bad_notes_are_rejected_naming_their_yaml_keys(tmp_path: Path):
    path = write(
        tmp_path,
        "agreements:\n"
        "  - {service: x, subscriber: Erfurt, ars: '160510000000', state: interested}\n"
        "notes:\n"
        "  - {date: 2024-05-12}\n"
        "  - {text: Tippfehler, autor: ich}\n"
        "  - {text: Schlechtes Datum, date: 32.01.2024}\n"
        "  - {text: Wer ist das, subscriber: Stadt Suhl}\n"
        "  - {text: '!!!'}\n"
        "  - just text\n"
        "  - {text: Zweimal, key: k}\n"
        "  - {text: Zweimal anders, key: k}\n"
        "  - {text: Erfurt per Name, subscriber: Erfurt, service: x}\n",
    )
    upserts, rejected = pull(path)
    assert all(r.kind == "note" for r in rejected)
    problems = {r.position.rsplit(" ", 1)[1]: r.problems for r in rejected}
    assert problems["4"] == (("text", "missing: a note needs a text"),)
    ((field, message),) = problems["5"]
    assert field == "autor"
    assert message.startswith("unknown key 'autor'; known keys: key, date, text, service")
    ((field, message),) = problems["6"]
    assert field == "date"
    assert "32.01.2024" in message
    assert problems["7"] == (
        (
            "ars",
            "missing: 'Stadt Suhl' is neither a Land nor a subscriber of an agreement in this "
            "file; give its ARS (ars) or kind Organisation (kind)",
        ),
    )
    assert problems["8"] == (
        ("text", "'!!!' gives no key (it has no letters or digits); give the note a key"),
    )
    assert problems["9"] == (("$", "a note is a mapping with at least a text, not str"),)
    assert problems["11"] == (
        (
            "key",
            f"duplicate note key 'k' (also at {path}:line 10); give one of the notes its own key",
        ),
    )
    assert len(rejected) == 7
    assert upserts["note", "k"].text == "Zweimal"
    erfurt = upserts["note", "erfurt-per-name"]
    assert erfurt.agreement_key == "x@ars:160510000000"


# -- every entry accounted for (issue 10 §4) ---------------------------------------------------

#: A team's notes file as it grows in practice (not the demo's): a name with a line break,
#: an ARS YAML reads as a number, an empty entry, the same agreement twice, a Gemeinde
#: without ARS, a status nobody maps, a history the lifecycle forbids, a typo in a key,
#: notes without text, with a duplicate key, about an unknown subscriber, and empty.
MESSY_YAML = Path(__file__).parent / "data" / "real" / "local_referat_notizen.yaml"


def count_entries(path: Path) -> dict[str, int]:
    """Count the status rows (entries and their history) and notes with PyYAML alone."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    agreements = data["agreements"]
    rows = sum(1 + len((e or {}).get("history") or []) for e in agreements)
    return {"agreement": rows, "note": len(data["notes"])}


def test_every_entry_of_a_messy_file_is_accounted_for():
    from efa_core.testing.accounting import assert_accounted

    counts = count_entries(MESSY_YAML)
    assert counts == {"agreement": 11, "note": 7}
    # subscribers are named by the entries: those whose identity holds (Gera, the
    # Zweckverband, Greiz); 'Gemeinde Nirgendwo' has no ARS, 'Thüringen' only a bad status
    connector = LocalConnector(LocalConfig(path=str(MESSY_YAML), batch_size=3), name="own")
    accounting = assert_accounted(connector, {**counts, "subscriber": 3})
    assert accounting.stored == {"agreement": 3, "note": 3, "subscriber": 3}
    assert accounting.quarantined == {"agreement": 6, "note": 4}
    assert accounting.skipped == {"agreement": 2}  # history rows folded into their agreement


def test_a_messy_file_keeps_names_on_one_line_and_numbers_as_keys():
    upserts, rejected = pull(MESSY_YAML)
    gera = upserts["subscriber", "ars:160520000000"]  # the ARS YAML read as a number
    assert gera.name == "Stadt Gera"  # the line break inside the name is a space
    assert upserts["agreement", "wohngeld@ars:160520000000"].state is AgreementState.CONTRACTED
    problems = {r.position.rsplit(":", 1)[-1]: r.problems[0] for r in rejected}
    assert problems["line 33"][0] == "bemerkung"  # the typo is named, not ignored
    assert problems["line 15"] == ("$", "an agreement is a mapping (key: value), not NoneType")
