"""The connector conformance suite of efa-core, against every kind of input."""

from __future__ import annotations

from pathlib import Path

import pytest
from efa_marktplatz import LocalConfig, LocalConnector, MarktplatzConfig, MarktplatzConnector

from efa_core.testing.conformance import ConnectorConformance


class TestMarktplatzCsv(ConnectorConformance):
    @pytest.fixture
    def connector(self, data: Path):
        config = MarktplatzConfig(
            offers=str(data / "marktplatz_angebote_semikolon_bom.csv"),
            agreements=str(data / "marktplatz_interessen_komma.csv"),
            states={"Vertrag im Kühlschrank": "contracted"},
            batch_size=3,
        )
        return MarktplatzConnector(config, name="marktplatz")

    @pytest.fixture
    def failing_connector(self, tmp_path: Path):
        return MarktplatzConnector(
            MarktplatzConfig(agreements=str(tmp_path / "missing.csv")), name="marktplatz"
        )


class TestFitStoreCp1252(ConnectorConformance):
    @pytest.fixture
    def connector(self, data: Path):
        config = MarktplatzConfig(
            offers=str(data / "fitstore_angebote_cp1252.csv"),
            agreements=str(data / "fitstore_interessen_cp1252.csv"),
            registry="fit-store",
            encoding="cp1252",
            delimiter=";",
            batch_size=2,
        )
        return MarktplatzConnector(config, name="fit-store")


class TestMarktplatzXlsx(ConnectorConformance):
    @pytest.fixture
    def connector(self, xlsx_export: Path):
        config = MarktplatzConfig(
            offers=str(xlsx_export),
            agreements=str(xlsx_export),
            offers_sheet="Angebote",
            agreements_sheet="Interessen",
            columns={"subscriber_ars": "Regionalschlüssel"},
            batch_size=2,
        )
        return MarktplatzConnector(config, name="marktplatz-xlsx")

    @pytest.fixture
    def failing_connector(self, tmp_path: Path):
        broken = tmp_path / "broken.xlsx"
        broken.write_bytes(b"PK\x03\x04 not really a workbook")
        return MarktplatzConnector(MarktplatzConfig(offers=str(broken)), name="broken")


class TestLocalYaml(ConnectorConformance):
    @pytest.fixture
    def connector(self, data: Path):
        return LocalConnector(LocalConfig(path=str(data / "local.yaml"), batch_size=2), name="own")

    @pytest.fixture
    def failing_connector(self, tmp_path: Path):
        return LocalConnector(LocalConfig(path=str(tmp_path / "missing.yaml")), name="own")


class TestLocalMessyYaml(ConnectorConformance):
    """A messy notes file: every entry must end stored, quarantined or skipped."""

    @pytest.fixture
    def connector(self, data: Path):
        path = data / "real" / "local_referat_notizen.yaml"
        return LocalConnector(LocalConfig(path=str(path), batch_size=2), name="own")

    @pytest.fixture
    def input_counts(self) -> dict[str, int]:
        # 8 agreement entries with 3 history rows, 7 notes (see test_local.count_entries),
        # 3 subscribers of a valid identity
        return {"agreement": 11, "note": 7, "subscriber": 3}
