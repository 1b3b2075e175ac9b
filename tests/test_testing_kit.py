"""The test kit: RecordingTransport, isolated registries, the pytest plugin, conformance."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import pytest

from efa_core.errors import PluginError
from efa_core.hookspecs import hookimpl
from efa_core.http import create_client
from efa_core.testing import (
    RecordingTransport,
    UnmatchedRequestError,
    isolated_registry,
    registered,
)

pytest_plugins = ["pytester"]


# -- RecordingTransport -----------------------------------------------------------------------


def test_routes_answer_and_requests_are_recorded() -> None:
    mock = RecordingTransport()
    items = mock.add("GET", "/items", json={"page": 1})
    page_two = mock.add("GET", "/items", params={"page": "2"}, json={"page": 2})
    mock.add(
        "POST", "/items", handler=lambda request: httpx.Response(201, json=request.content.decode())
    )
    with httpx.Client(base_url="https://api.example", transport=mock) as client:
        assert client.get("/items").json() == {"page": 1}
        assert client.get("/items", params={"page": "2", "size": "5"}).json() == {"page": 2}
        created = client.post("/items", content=b"new")
    assert created.status_code == 201
    assert created.json() == "new"
    assert [str(r.url) for r in mock.requests] == [
        "https://api.example/items",
        "https://api.example/items?page=2&size=5",
        "https://api.example/items",
    ]
    assert len(items.calls) == 1
    assert len(page_two.calls) == 1
    assert mock.requests[2].content == b"new"
    mock.reset()
    assert mock.requests == []
    assert items.calls == []


def test_unmatched_requests_fail_loudly_listing_routes() -> None:
    mock = RecordingTransport()
    mock.add("GET", "/items", status=204)
    with httpx.Client(transport=mock) as client, pytest.raises(UnmatchedRequestError) as raised:
        client.get("https://api.example/other")
    assert "no mock route for GET https://api.example/other" in str(raised.value)
    assert "GET /items" in str(raised.value)
    assert len(mock.requests) == 1


def test_fallback_handler_and_argument_checks() -> None:
    mock = RecordingTransport(handler=lambda request: httpx.Response(418))
    with httpx.Client(transport=mock) as client:
        assert client.get("https://x.example/anything").status_code == 418
    with pytest.raises(ValueError, match="at most one of json, text and content"):
        mock.add("GET", "/", json=1, text="x")
    with pytest.raises(ValueError, match="either handler or a fixed response"):
        mock.add("GET", "/", json=1, handler=lambda request: httpx.Response(200))


@pytest.mark.anyio
async def test_works_with_create_client_and_async_handlers() -> None:
    mock = RecordingTransport()

    async def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"got": request.url.params.get("q")})

    mock.add("GET", "/search", handler=echo)
    mock.add("POST", "/items", json={"ok": True}, status=201)
    async with create_client(base_url="https://api.example", transport=mock) as client:
        assert (await client.get("/search", params={"q": "x"})).json() == {"got": "x"}
        assert (await client.post("/items", json={"a": 1})).status_code == 201
    assert mock.json_bodies() == [None, {"a": 1}]
    assert "efa-core" in mock.requests[0].headers["user-agent"]


# -- registries -------------------------------------------------------------------------------


class ExtraPlugin:
    @hookimpl
    def efa_register_finding_rules(self, register):
        register("always", lambda *args: [])


def test_isolated_registry_has_bundled_plugins_only() -> None:
    registry = isolated_registry()
    plugins = registry.list_plugins(all=True)
    assert "efa_core.default_plugins.records_file" in [info.name for info in plugins]
    assert all(info.bundled for info in plugins)  # e.g. no installed efa-connector-example
    assert "records-file" in registry.connectors()


def test_registered_unregisters_even_on_failure() -> None:
    registry = isolated_registry()
    seen = []

    def use_then_fail() -> None:
        with registered(registry, ExtraPlugin(), name="extra") as name:
            seen.append((name, "always" in registry.finding_rules()))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        use_then_fail()
    assert seen == [("extra", True)]
    assert registry.get_plugin("extra") is None
    assert "always" not in registry.finding_rules()
    with pytest.raises(PluginError):
        registry.unregister("extra")


# -- the pytest plugin ------------------------------------------------------------------------


def test_plugin_module_imports_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import efa_core.testing.pytest_plugin
        heavy = ["httpx", "cattrs", "uvicorn", "efa_core.plugins", "efa_core.connectors",
                 "efa_core.model", "efa_core.serialization", "efa_core.http"]
        print(",".join(name for name in heavy if name in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


FIXTURE_TESTS = """
    import httpx
    from efa_core.hookspecs import hookimpl

    class Extra:
        @hookimpl
        def efa_register_finding_rules(self, register):
            register("extra-rule", lambda *args: [])

    def test_registry_is_isolated(efa_registry):
        assert all(info.bundled for info in efa_registry.list_plugins(all=True))
        assert "records-file" in efa_registry.connectors()
        efa_registry.register(Extra(), name="extra")
        assert "extra-rule" in efa_registry.finding_rules()

    def test_registered_plugins_do_not_leak(efa_registry):
        assert "extra-rule" not in efa_registry.finding_rules()

    def test_mock_transport(efa_mock_transport):
        efa_mock_transport.add("GET", "/ping", json={"pong": True})
        with httpx.Client(transport=efa_mock_transport) as client:
            assert client.get("http://api.test/ping").json() == {"pong": True}
        assert [r.url.path for r in efa_mock_transport.requests] == ["/ping"]

    def test_serve_asgi(efa_serve_asgi):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": scope["path"].encode()})

        base_url = efa_serve_asgi(app)
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(base_url + "/hello").text == "/hello"
"""


def test_pytest_plugin_provides_fixtures_in_a_fresh_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(FIXTURE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=4)


# -- the conformance suite --------------------------------------------------------------------

CONNECTOR_MODULE = """
    from collections.abc import AsyncIterator
    from typing import Any, ClassVar

    import attrs
    import pytest

    from efa_core.connectors import Batch, Capability, Connector, Upsert
    from efa_core.errors import ConnectorError
    from efa_core.ids import Ars
    from efa_core.model import Area
    from efa_core.secret import Secret
    from efa_core.testing.conformance import ConnectorConformance

    ROWS = [("16", "Thüringen"), ("16055", "Erfurt"), ("16053", "Jena"), ("16052", "Gera")]


    @attrs.frozen(kw_only=True)
    class Config:
        token: Secret
        fail: bool = False


    class Areas(Connector):
        type_name: ClassVar[str] = "areas"
        capabilities: ClassVar[frozenset[Capability]] = frozenset({{Capability.SNAPSHOT}})
        config_class: ClassVar[type[Any]] = Config
        rows = ROWS

        async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
            if self.config.fail:
                {failure}
            start = {start}
            while True:
                rows = self.rows[start : start + 2]
                start += len(rows)
                done = start >= len(self.rows)
                yield Batch([Upsert(Area(ars=Ars(a), name=n)) for a, n in rows], str(start), done)
                if done:
                    return

        {extra}


    class TestAreas(ConnectorConformance):
        @pytest.fixture
        def connector(self):
            return Areas(Config(token=Secret("tok-s3cret")), name="areas-th")

        @pytest.fixture
        def failing_connector(self):
            return Areas(Config(token=Secret("tok-s3cret"), fail=True), name="areas-th")

        @pytest.fixture
        def input_counts(self):
            return {{"area": len(ROWS)}}
"""

GOOD = {
    "failure": 'raise ConnectorError("areas connector: source down")',
    "start": "int(cursor or 0)",
    "extra": "",
}


def conformance_run(pytester: pytest.Pytester, **changes: str) -> pytest.RunResult:
    source = CONNECTOR_MODULE.format(**{**GOOD, **changes})
    pytester.makepyfile(test_areas=textwrap.dedent(source))
    return pytester.runpytest("-p", "no:cacheprovider", "-rfs")


def test_conformance_passes_for_a_correct_connector(pytester: pytest.Pytester) -> None:
    result = conformance_run(pytester)
    # skipped: undeclared capabilities (push) is checked, push itself is not declared
    result.assert_outcomes(passed=13, skipped=1)
    result.stdout.fnmatch_lines(["*areas connector 'areas-th' does not push*"])


def test_conformance_catches_duplicate_natural_keys(pytester: pytest.Pytester) -> None:
    result = conformance_run(
        pytester, extra='rows = ROWS + [("16055", "Erfurt, Landeshauptstadt")]'
    )
    result.assert_outcomes(failed=1, passed=12, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*areas connector 'areas-th': natural keys repeat within one complete snapshot: "
            "area '16055' (2 times, first in batch 1)*",
            "FAILED*test_snapshot_keys_are_unique*",
        ]
    )


def test_conformance_catches_a_cursor_that_restarts(pytester: pytest.Pytester) -> None:
    result = conformance_run(pytester, start="0")  # ignores the cursor
    result.assert_outcomes(failed=1, passed=12, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*resuming from the cursor of batch 1 ('2') repeats items already delivered: "
            "upsert area '16' (x1), upsert area '16055' (x1)*",
            "FAILED*test_resume_from_every_cursor*",
        ]
    )


def test_conformance_catches_an_input_object_lost_silently(pytester: pytest.Pytester) -> None:
    result = conformance_run(pytester, extra="rows = [r for r in ROWS if r[0] != '16052']")
    result.assert_outcomes(failed=1, passed=12, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*areas connector 'areas-th' does not account for its input:*",
            "*area: 4 in the input, but stored 3 + quarantined 0 + skipped 0 = 3*",
            "FAILED*test_every_input_object_is_accounted_for*",
        ]
    )


def test_conformance_catches_untyped_errors_and_leaked_secrets(pytester: pytest.Pytester) -> None:
    result = conformance_run(
        pytester,
        failure='raise OSError("socket closed")',
        extra=(
            "def __repr__(self):\n            return f'<Areas token={self.config.token.reveal()}>'"
        ),
    )
    result.assert_outcomes(failed=2, passed=11, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*a failing source raised OSError (socket closed); raise an efa_core.errors.EfaError"
            " subclass*",
            "*a secret value appears in: <Areas token=<SECRET>>*",
        ]
    )


def test_secret_field_detection_skips_locations_of_secrets() -> None:
    import attrs

    from efa_core.secret import Secret
    from efa_core.testing.conformance import _looks_like_secret_fields

    @attrs.frozen
    class Config:
        token_url: str
        api_key: str
        client_secret: Secret
        password_file: str

    assert _looks_like_secret_fields(Config) == ["api_key"]
