"""Tests of the example connector, written the way a plugin author writes them.

The fixtures ``efa_serve_asgi``, ``efa_mock_transport`` and ``efa_registry`` come from
efa-core's pytest plugin, which pytest loads automatically.
"""

from __future__ import annotations

import importlib.metadata

import httpx
import pytest
from efa_connector_example import ExampleApiConfig, ExampleApiConnector
from example_api import API_KEY, ITEMS, app

from efa_core.config import build_connector, parse_config
from efa_core.connectors import check_sync, pull_sync
from efa_core.errors import ConnectorError
from efa_core.plugins import PluginRegistry
from efa_core.secret import Secret
from efa_core.testing.conformance import ConnectorConformance


def make(base_url: str, api_key: str = API_KEY, **options) -> ExampleApiConnector:
    config = ExampleApiConfig(base_url=base_url, api_key=Secret(api_key), **options)
    return ExampleApiConnector(config, name="example")


class TestConformance(ConnectorConformance):
    """efa-core's conformance suite, against the connector talking to a real socket."""

    @pytest.fixture
    def base_url(self, efa_serve_asgi) -> str:
        return efa_serve_asgi(app)

    @pytest.fixture
    def connector(self, base_url: str) -> ExampleApiConnector:
        return make(base_url, page_size=2)  # several pages, so resuming is checked

    @pytest.fixture
    def failing_connector(self, base_url: str) -> ExampleApiConnector:
        return make(base_url, api_key="wrong-key-0815")


def test_pages_are_batches_and_bad_items_are_rejected(efa_serve_asgi) -> None:
    batches = list(pull_sync(make(efa_serve_asgi(app), page_size=2)))

    assert [(b.cursor, b.complete) for b in batches] == [("1", False), ("2", False), ("3", True)]
    keys = [c.key for b in batches for c in b.changes]
    assert keys == [
        "99115005104000@16055->https://erfurt.example/anmeldung",
        "99115005104000@16053->https://jena.example/anmeldung",
        "99115005104000@16052",
        "99102007000000@16->https://th.example/kfz",
    ]
    [rejected] = [r for b in batches for r in b.rejected]
    assert rejected.position == "page 2 item 2"
    assert rejected.raw == ITEMS[3]
    assert rejected.problems[0][0] == "$.leika_key"


def test_sends_the_api_key_and_pages(efa_mock_transport) -> None:
    efa_mock_transport.add(
        "GET", "/availability", params={"page": "1"}, json={"items": ITEMS[:1], "next_page": 2}
    )
    efa_mock_transport.add(
        "GET", "/availability", params={"page": "2"}, json={"items": ["oops"], "next_page": None}
    )
    connector = ExampleApiConnector(
        ExampleApiConfig(base_url="https://api.example", api_key=Secret(API_KEY), page_size=1),
        name="example",
        transport=efa_mock_transport,
    )
    batches = list(pull_sync(connector))

    requests = efa_mock_transport.requests
    assert [r.url.params["page"] for r in requests] == ["1", "2"]
    assert {r.url.params["per_page"] for r in requests} == {"1"}
    assert {r.headers["x-api-key"] for r in requests} == {API_KEY}
    assert batches[1].rejected[0].problems == (("$", "expected an object, got str"),)


def test_wrong_key_fails_check_and_pull_with_typed_errors(efa_serve_asgi) -> None:
    connector = make(efa_serve_asgi(app), api_key="wrong-key-0815")
    result = check_sync(connector)
    assert not result.ok
    assert "401" in result.detail
    with pytest.raises(ConnectorError, match="401"):
        list(pull_sync(connector))


def test_server_errors_are_connector_errors(efa_mock_transport) -> None:
    efa_mock_transport.add("GET", "/availability", handler=lambda r: httpx.Response(404))
    connector = ExampleApiConnector(
        ExampleApiConfig(base_url="https://api.example", api_key=Secret(API_KEY)),
        name="example",
        transport=efa_mock_transport,
    )
    with pytest.raises(ConnectorError, match="404"):
        list(pull_sync(connector))


def test_configured_from_efa_toml(efa_registry, efa_serve_asgi) -> None:
    import efa_connector_example

    efa_registry.register(efa_connector_example, name="example")
    config = parse_config(
        {
            "connectors": {
                "th-dashboard": {
                    "type": "example-api",
                    "base_url": efa_serve_asgi(app),
                    "api_key": "${EXAMPLE_API_KEY}",
                }
            }
        },
        env={"EXAMPLE_API_KEY": API_KEY},
    )
    connector = build_connector(efa_registry, "th-dashboard", config)
    assert isinstance(connector, ExampleApiConnector)
    assert API_KEY not in repr(connector.config)
    assert sum(len(b.changes) for b in pull_sync(connector)) == 4


def test_discovered_through_its_entry_point() -> None:
    entry_points = importlib.metadata.entry_points(group="efa_core", name="example")
    if not entry_points:
        pytest.skip("efa-connector-example is not installed (pip install -e .)")
    registry = PluginRegistry(strict=True, env={})
    assert registry.connector_class("example-api") is ExampleApiConnector
    assert "example" in [info.name for info in registry.list_plugins()]


def test_listed_by_efa_plugins() -> None:
    entry_points = importlib.metadata.entry_points(group="efa_core", name="example")
    if not entry_points:
        pytest.skip("efa-connector-example is not installed (pip install -e .)")
    import json

    from click.testing import CliRunner

    from efa_core.cli import main

    result = CliRunner().invoke(main, ["plugins", "--json"], env={"EFA_LOAD_PLUGINS": None})
    assert result.exit_code == 0, result.output
    listed = {entry["name"]: entry for entry in json.loads(result.output)}
    assert listed["example"]["distribution"] == "efa-connector-example"
    assert "efa_register_connectors" in listed["example"]["hooks"]
