"""The xzufi-dir connector: conformance, collector semantics, HTTP, push."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import attrs
import pytest
from efa_xzufi import LeistungIndex, parse_transfer_message
from efa_xzufi.connector import XZuFiDirConfig, XZuFiDirConnector
from test_real_exports import count_input

from efa_core.config import build_connector, parse_config
from efa_core.connectors import Delete, Rejected, Upsert, check_sync, pull_sync, push_sync
from efa_core.errors import ConnectorError
from efa_core.plugins import PluginRegistry
from efa_core.testing.conformance import ConnectorConformance

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = FIXTURES / "export"


def make(path: str | Path, **options) -> XZuFiDirConnector:
    return XZuFiDirConnector(XZuFiDirConfig(path=str(path), **options), name="lrs-th")


def pulled(connector):
    batches = list(pull_sync(connector))
    changes = [c for b in batches for c in b.changes]
    rejected = [r for b in batches for r in b.rejected]
    return batches, changes, rejected


@pytest.fixture
def export(tmp_path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(EXPORT, target)
    return target


def directory_app(root: Path):
    """A tiny ASGI app serving the files of *root* (404 for anything else)."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        path = root / scope["path"].lstrip("/")
        if path.is_file():
            status, body = 200, path.read_bytes()
        else:
            status, body = 404, b"not found"
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


class TestConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, export, tmp_path):
        outbox = tmp_path / "outbox"
        outbox.mkdir()
        return make(export, batch_size=2, output_dir=str(outbox))

    @pytest.fixture
    def failing_connector(self, tmp_path):
        return make(tmp_path / "no-such-export")

    @pytest.fixture
    def input_counts(self, export):
        return count_input(export)  # with lxml, independently of efa-xzufi


class TestConformanceOverHttp(ConnectorConformance):
    @pytest.fixture
    def connector(self, efa_serve_asgi, export, tmp_path):
        base = efa_serve_asgi(directory_app(export)) + "/"
        return make(base, batch_size=3, output_dir=str(tmp_path))

    @pytest.fixture
    def failing_connector(self, efa_serve_asgi, tmp_path):
        return make(efa_serve_asgi(directory_app(tmp_path)))

    @pytest.fixture
    def input_counts(self, export):
        return count_input(export)


def test_pull_maps_the_whole_directory(export):
    batches, changes, rejected = pulled(make(export, batch_size=4))
    assert batches[-1].complete
    assert not any(b.complete for b in batches[:-1])
    kinds = sorted((type(c).__name__, c.kind) for c in changes)
    assert kinds.count(("Upsert", "responsibility")) == 5
    assert kinds.count(("Upsert", "service")) == 2
    assert kinds.count(("Upsert", "organisation-unit")) == 1
    assert kinds.count(("Upsert", "xzufi-object")) == 6  # 3 leistung, 2 spezialisierung, formular
    # a snapshot delivers no deletes: the loesche entries are counted as skipped
    assert not [c for c in changes if isinstance(c, Delete)]
    skipped = [s for b in batches for s in b.skipped]
    assert {s.kind for s in skipped} == {"loesche"}
    assert sum(s.count for s in skipped) == 4
    # both Länder's ids stay apart
    services = {c.key for c in changes if isinstance(c, Upsert) and c.kind == "service"}
    assert services == {"S16000_Onlinedienst_OD-4711", "S14000_Onlinedienst_OD-1"}
    positions = sorted(r.position for r in rejected)
    assert positions == [
        "XZUFI20260301060000000000000001.xml:line 109",
        "XZUFI20260302060000000000000002.xml:line 39",
        "XZUFI20260302060000000000000002.xml:line 52",
    ]


def test_organisation_units_and_raw_objects_can_be_switched_off(export):
    _, changes, _ = pulled(make(export, organisation_units=False, raw_objects=False))
    assert {c.kind for c in changes} == {"responsibility", "service"}
    with pytest.raises(ValueError, match="max_raw_chars must be an integer from 1 to 1048576"):
        make(export, max_raw_chars=2_000_000)


def test_raw_objects_over_the_configured_limit_are_quarantined(export):
    _, changes, rejected = pulled(make(export, max_raw_chars=200))
    too_big = [
        r
        for r in rejected
        if r.kind == "xzufi-object" and isinstance(r.raw, dict) and r.raw["chars"] > 200
    ]
    assert too_big  # the leistungen with text modules
    kept = {c.key for c in changes if c.kind == "xzufi-object" and isinstance(c, Upsert)}
    assert kept  # small objects are still kept
    assert not kept & {f"{r.raw['object_class']}:{r.raw['object_id']}" for r in too_big}


def test_same_records_over_http_as_from_disk(efa_serve_asgi, export):
    _, local, _ = pulled(make(export))
    _, remote, rejected = pulled(make(efa_serve_asgi(directory_app(export))))
    assert remote == local
    assert len(rejected) == 3


def test_empty_index_aborts(export):
    (export / "index.txt").write_text("# nothing yet\n\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"index\.txt lists no files; an empty index aborts"):
        pulled(make(export))
    assert not check_sync(make(export)).ok


def test_missing_listed_file_aborts(export):
    (export / "XZUFI20260302060000000000000002.xml").unlink()
    with pytest.raises(ConnectorError, match=r"lists 'XZUFI20260302060000000000000002.xml'"):
        pulled(make(export))


def test_missing_file_over_http_aborts(efa_serve_asgi, export):
    (export / "XZUFI20260302060000000000000002.xml").unlink()
    with pytest.raises(ConnectorError, match="404"):
        pulled(make(efa_serve_asgi(directory_app(export))))


def test_malformed_file_aborts_before_any_batch(export):
    broken = export / "XZUFI20260302060000000000000002.xml"
    broken.write_bytes(broken.read_bytes()[:-200])
    seen = []

    def pull() -> None:
        for batch in pull_sync(make(export, batch_size=1)):
            seen.append(batch)

    with pytest.raises(ConnectorError, match=r"XZUFI20260302060000000000000002\.xml:line"):
        pull()
    assert seen == []  # nothing was delivered, so nothing can be tombstoned


def test_index_entries_must_stay_inside_the_directory(export):
    (export / "index.txt").write_text("../etc/passwd\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match="not a relative file name"):
        pulled(make(export))


def test_cursor_of_another_index_is_refused(export):
    batches, _, _ = pulled(make(export, batch_size=2))
    (export / "index.txt").write_text("XZUFI20260301060000000000000001.xml\n", encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"taken from another index\.txt"):
        list(pull_sync(make(export, batch_size=2), batches[0].cursor))


def test_push_writes_a_message_that_reads_back(export, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    _, changes, _ = pulled(make(export))
    upserts = [
        c for c in changes if isinstance(c, Upsert) and c.kind in ("responsibility", "service")
    ]
    others = [c for c in changes if isinstance(c, Upsert) and c not in upserts]
    to_push = [*upserts, Delete("responsibility", "S16000_ZustaendigkeitOnlinedienst_Z-OLD")]
    result = push_sync(make(export, output_dir=str(outbox)), [*others, *to_push])
    [path] = result.paths
    assert Path(path).parent == outbox
    assert Path(path).name.startswith("XZUFI")
    assert result.written == len(to_push)
    # organisation units and raw objects are not written back, and the result says so
    assert result.messages == (
        "1 organisation-unit change(s) skipped",
        "6 xzufi-object change(s) skipped",
    )
    # the message refers to the editorial system's Leistungen, which the Land knows
    leistungen = LeistungIndex.from_sources(
        [(p, p.name) for p in sorted(export.glob("XZUFI*.xml"))]
    )
    back = list(parse_transfer_message(path, leistungen=leistungen))
    assert [c for c in back if isinstance(c, Rejected)] == []
    assert [c for c in back if isinstance(c, Delete)] == [to_push[-1]]
    records = [c.record for c in back if isinstance(c, Upsert)]
    expected = [c.record for c in upserts]
    # the one responsibility without an id of its own (embedded in a 2.2
    # organisationseinheit) gets an invented, stable one
    [invented] = [
        r
        for r in records
        if r.natural_key.startswith("S16000_ZustaendigkeitOrg") and "efa-" in r.natural_key
    ]
    assert sorted(records, key=repr) == sorted(
        [
            r
            if getattr(r, "responsibility_id", "") is not None
            else attrs.evolve(r, responsibility_id=invented.responsibility_id)
            for r in expected
        ],
        key=repr,
    )


def test_push_needs_an_output_dir(export):
    with pytest.raises(ConnectorError, match="set output_dir"):
        push_sync(make(export), [])


def test_configured_from_efa_toml(efa_registry, export):
    import efa_xzufi.plugin

    efa_registry.register(efa_xzufi.plugin, name="xzufi")
    config = parse_config(
        {"connectors": {"lrs-th": {"type": "xzufi-dir", "path": str(export), "batch_size": 5}}},
        env={},
    )
    connector = build_connector(efa_registry, "lrs-th", config)
    assert isinstance(connector, XZuFiDirConnector)
    assert check_sync(connector).ok


def test_discovered_through_its_entry_point():
    if not importlib.metadata.entry_points(group="efa_core", name="xzufi"):
        pytest.skip("efa-xzufi is not installed (pip install -e plugins/efa-xzufi)")
    registry = PluginRegistry(strict=True, env={})
    assert registry.connector_class("xzufi-dir") is XZuFiDirConnector


def test_source_fingerprints_cover_every_field_of_every_record_kind():
    """A change of any field, shown in the repr or not (xml), changes the fingerprint."""
    from datetime import datetime, timezone

    from efa_xzufi.connector import record_fingerprint

    from efa_core.ids import Ars, LeikaKey
    from efa_core.model import OrganisationUnit, Responsibility, Service, TargetKind, XZuFiObject

    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    samples = [
        (
            Responsibility(
                leika_key=LeikaKey("99115005104000"),
                ars=Ars("16055"),
                target_kind=TargetKind.ONLINEDIENST,
                target_id="S_Onlinedienst_OD",
                responsibility_id="S_ZustaendigkeitOnlinedienst_Z",
                leistung_id="S_Leistung_L",
                role="01",
                modified_at=when,
            ),
            {
                "leika_key": LeikaKey("99115005104001"),
                "ars": Ars("16056"),
                "target_kind": TargetKind.ORGANISATIONSEINHEIT,
                "target_id": "S_Organisationseinheit_OE",
                "responsibility_id": "S_ZustaendigkeitOrganisationseinheit_Z2",
                "leistung_id": None,
                "role": None,
                "modified_at": None,
            },
        ),
        (
            Service(
                key="S_Onlinedienst_OD",
                name="Dienst",
                leika_keys=(LeikaKey("99115005104000"),),
                url="https://a.example.org/",
                onlinedienst_ids=("S_Onlinedienst_OD",),
            ),
            {
                "name": "Dienst 2",
                "leika_keys": (LeikaKey("99115005104001"),),
                "url": None,
                "onlinedienst_ids": (),
                "modified_at": when,
            },
        ),
        (
            OrganisationUnit(key="S_Organisationseinheit_OE", name="Amt", ars=Ars("16")),
            {"key": "S_Organisationseinheit_OE2", "name": "Amt 2", "ars": None},
        ),
        (
            XZuFiObject(object_class="leistung", object_id="S_Leistung_L", xml="<leistung/>"),
            {"xml": "<leistung><id>L</id></leistung>", "object_class": "formular"},
        ),
    ]
    for record, changes in samples:
        base = record_fingerprint("salt", record)
        assert base == record_fingerprint("salt", attrs.evolve(record))
        assert base != record_fingerprint("other salt", record)
        for field, value in changes.items():
            changed = attrs.evolve(record, **{field: value})
            assert record_fingerprint("salt", changed) != base, (type(record).__name__, field)
