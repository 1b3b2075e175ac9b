"""HttpConnector: the base class of connectors that own one HTTP client."""

from __future__ import annotations

from typing import Any

import httpx

from efa_core.connectors import Connector
from efa_core.errors import ConnectorError
from efa_core.http._client import take_warnings
from efa_core.http._settings import Clock


class HttpConnector(Connector):
    """Base class of connectors that own one HTTP client for as long as they are open.

    Subclasses implement :meth:`make_client`, usually one :func:`create_client` call that
    passes ``transport=self.transport`` and ``clock=self.clock``; the client is created on
    ``async with`` entry, closed on exit, and reached as :attr:`client` in between.  The
    warnings the client gives (a followed redirect and the URL the data came from, a JSON body
    labelled as HTML) belong on the run: pass :meth:`take_warnings` as each batch's
    ``warnings``::

        class MyConnector(HttpConnector):
            def make_client(self) -> httpx.AsyncClient:
                return create_client(
                    base_url=self.config.base_url, transport=self.transport, clock=self.clock
                )

            async def pull_batches(self, cursor):
                ...
                yield Batch(changes, cursor=..., warnings=self.take_warnings())

    :param transport: replaces the network (tests pass a ``MockTransport`` here).
    :param clock: replaces time and sleeping (tests).
    """

    def __init__(
        self,
        config: Any,
        *,
        name: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config, name=name)
        #: The transport to build the client on (``None``: the network).
        self.transport = transport
        #: The clock to build the client with (``None``: real time).
        self.clock = clock
        self._client: httpx.AsyncClient | None = None

    def make_client(self) -> httpx.AsyncClient:
        """Return the connector's HTTP client; called once each time the connector opens."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement make_client()")

    async def setup(self) -> None:
        """Create the HTTP client (see :meth:`make_client`)."""
        self._client = self.make_client()

    async def teardown(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        """The open HTTP client.

        :raises efa_core.errors.ConnectorError: the connector is not open.
        """
        if self._client is None:
            raise ConnectorError(f"{self.label} is not open; use 'async with connector:'")
        return self._client

    def take_warnings(self) -> tuple[str, ...]:
        """Return the warnings the client gave since the last call, each once (for a batch)."""
        return tuple(take_warnings(self._client)) if self._client is not None else ()
