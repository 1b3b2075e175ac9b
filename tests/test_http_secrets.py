"""Secrets echoed by a server never reach errors, logs or the store (issue 14 §3)."""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import attrs
import httpx
import pytest

from efa_core import hookimpl
from efa_core.config import parse_config
from efa_core.connectors import Batch, Capability
from efa_core.http import (
    HttpConnector,
    HttpError,
    HttpSettings,
    OAuth2ClientCredentials,
    create_client,
    raise_for_status,
)
from efa_core.plugins import PluginRegistry
from efa_core.secret import MASK, Secret, redact_known
from efa_core.store import open_store
from efa_core.sync import SyncEngine
from efa_core.testing.servers import serve_asgi

CLIENT_SECRET = "Zq8-client-secret-4711"
ACCESS_TOKEN = "opaque-access-token-0815"
FAST = HttpSettings(attempts=1, rate_limit_per_second=None)


class EchoServer:
    """A token endpoint and a feed that echo what they got in their error answers.

    ``/token`` refuses with the client secret in a plain-text sentence (when *bad_token*),
    else issues :data:`ACCESS_TOKEN`; ``/feed`` fails with the bearer token in its body.
    """

    def __init__(self, *, bad_token: bool) -> None:
        self.bad_token = bad_token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["path"] == "/token":
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if self.bad_token:
                status, text = (
                    401,
                    f"client {form['client_id']} sent wrong secret {form['client_secret']}",
                )
                content_type = b"text/plain"
            else:
                status, content_type = 200, b"application/json"
                text = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 300})
        else:
            status, content_type = 500, b"text/plain"
            text = f"backend failed for {headers.get('authorization')} (token {ACCESS_TOKEN})"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type)],
            }
        )
        await send({"type": "http.response.body", "body": text.encode()})


@pytest.fixture
def echo() -> Iterator[tuple[EchoServer, str]]:
    server = EchoServer(bad_token=True)
    with serve_asgi(server) as base_url:
        yield server, base_url


def auth(base_url: str) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        token_url=f"{base_url}/token", client_id="efa", client_secret=Secret(CLIENT_SECRET)
    )


@pytest.mark.anyio
async def test_a_client_secret_echoed_by_the_token_endpoint_is_masked(
    echo: tuple[EchoServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, base_url = echo
    async with create_client(base_url=base_url, settings=FAST, auth=auth(base_url)) as client:
        with pytest.raises(HttpError) as caught:
            await client.get("/feed")
    assert f"wrong secret {MASK}" in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value) + caplog.text


@pytest.mark.anyio
async def test_an_access_token_echoed_in_an_error_body_is_masked(
    echo: tuple[EchoServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server, base_url = echo
    server.bad_token = False
    async with create_client(base_url=base_url, settings=FAST, auth=auth(base_url)) as client:
        response = await client.get("/feed")
        with pytest.raises(HttpError) as caught:
            await raise_for_status(response)
    assert f"(token {MASK})" in str(caught.value)
    assert ACCESS_TOKEN not in str(caught.value) + caplog.text


def test_redact_known_masks_raw_url_encoded_and_base64_forms() -> None:
    secret = Secret("p@ss word+/=long")
    text = (
        f"raw {secret.reveal()} form {urllib.parse.quote_plus(secret.reveal())} "
        f"quoted {urllib.parse.quote(secret.reveal(), safe='')}"
    )
    assert redact_known(text) == f"raw {MASK} form {MASK} quoted {MASK}"
    assert redact_known("short abc") == "short abc"


# -- through the engine into sync_runs.error --------------------------------------------------


@attrs.frozen
class _EchoConfig:
    base_url: str
    client_secret: Secret


class _EchoConnector(HttpConnector):
    type_name: ClassVar[str] = "test-echo"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = _EchoConfig

    def make_client(self) -> httpx.AsyncClient:
        oauth = OAuth2ClientCredentials(
            token_url=f"{self.config.base_url}/token",
            client_id="efa",
            client_secret=self.config.client_secret,
        )
        return create_client(base_url=self.config.base_url, settings=FAST, auth=oauth)

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        response = await self.client.get("/feed")
        # A connector that puts the body into its own error, as connectors do.
        if response.is_error:
            raise RuntimeError(f"feed said: {response.text}")
        yield Batch((), cursor=None, complete=True)


class _Plugin:
    @hookimpl
    def efa_register_connectors(self, register: Any) -> None:
        register(_EchoConnector)


@pytest.mark.parametrize("bad_token", [True, False])
def test_echoed_secrets_never_reach_the_stored_run_error(
    tmp_path: Any, caplog: pytest.LogCaptureFixture, bad_token: bool
) -> None:
    server = EchoServer(bad_token=bad_token)
    registry = PluginRegistry(entrypoints=False, strict=True, env={})
    registry.register(_Plugin(), name="echo")
    with serve_asgi(server) as base_url:
        config = parse_config(
            {
                "connectors": {
                    "echo": {
                        "type": "test-echo",
                        "base_url": base_url,
                        "client_secret": "${ECHO_SECRET}",
                    }
                }
            },
            env={"ECHO_SECRET": CLIENT_SECRET},
        )
        with open_store(f"sqlite:///{tmp_path / 'efa.db'}") as store:
            report = SyncEngine(store, registry, config).run()["echo"]
            [run] = store.runs("echo")
    assert not report.ok
    shown = f"{report.error} {run.error} {caplog.text}"
    assert MASK in (run.error or "")
    assert CLIENT_SECRET not in shown
    assert ACCESS_TOKEN not in shown
