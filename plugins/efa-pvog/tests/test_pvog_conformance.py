"""efa-core's connector conformance suite against the pvog connector and the fake PVOG."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from efa_pvog import PvogConnector
from efa_pvog.testing import FakePvog
from pvog_support import make_config

from efa_core.secret import Secret
from efa_core.testing.conformance import ConnectorConformance


class TestPvogConformance(ConnectorConformance):
    @pytest.fixture
    def connector(self, make: Callable[..., PvogConnector]) -> PvogConnector:
        return make()  # 20 events per page: about a dozen pages, so resuming is checked

    @pytest.fixture
    def failing_connector(self, fake: FakePvog, base_url: str) -> PvogConnector:
        config = make_config(fake, base_url, client_secret=Secret("wrong-secret-0815"))
        return PvogConnector(config, name="pvog-wrong-secret")


class TestPvogConformanceRestricted(ConnectorConformance):
    """The same contract for a feed restricted to one Land, read through the v3 path."""

    @pytest.fixture
    def connector(self, make: Callable[..., PvogConnector]) -> PvogConnector:
        from efa_pvog import V3_FEED_PATH

        return make(ars="16", feed_path=V3_FEED_PATH)
