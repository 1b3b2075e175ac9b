"""An example efa-core connector plugin: availability rows from a small paged JSON API.

The API (made up for the example, shaped like many real ones)::

    GET {base_url}/availability?page=1&per_page=100
    X-Api-Key: <api key>

    200 {"items": [{"leika_key": "99115005104000", "ars": "16055",
                    "url": "https://example.org/anmeldung", "online": true}, ...],
         "next_page": 2}            # null on the last page

Configure it in ``efa.toml``::

    [connectors.example]
    type = "example-api"
    base_url = "https://api.example.org"
    api_key = "${EXAMPLE_API_KEY}"
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import attrs
import httpx

from efa_core import hookimpl
from efa_core.connectors import Batch, Capability, CheckResult, Rejected, Upsert
from efa_core.errors import ConnectorError, ValidationError
from efa_core.hookspecs import RegisterConnector
from efa_core.http import HttpConnector, create_client, raise_for_status
from efa_core.secret import Secret
from efa_core.serialization import record_from_dict

__all__ = ["ExampleApiConfig", "ExampleApiConnector", "efa_register_connectors"]

#: The item fields the connector maps onto an ``availability`` record.
_FIELDS = ("leika_key", "ars", "url", "online")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 1 <= value <= 500:
        raise ValueError(f"{attribute.name} must be between 1 and 500, got {value}")


@attrs.frozen(kw_only=True)
class ExampleApiConfig:
    """Options of an ``example-api`` connector (one ``[connectors.NAME]`` table)."""

    #: Where the API lives, e.g. ``https://api.example.org``.
    base_url: str
    #: The API key; a Secret, so it never shows in reprs, logs or errors.
    api_key: Secret
    #: Items per page (the API allows 1 to 500).
    page_size: int = attrs.field(default=100, validator=_positive)


class ExampleApiConnector(HttpConnector):
    """Pull availability rows from the example API, page by page (a SNAPSHOT connector).

    The cursor is the number of the last page delivered; resuming fetches the next one.

    :param transport: replaces the network in tests (e.g. efa-core's ``RecordingTransport``).
    """

    type_name: ClassVar[str] = "example-api"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SNAPSHOT})
    config_class: ClassVar[type[Any]] = ExampleApiConfig

    config: ExampleApiConfig

    def make_client(self) -> httpx.AsyncClient:
        """Create the HTTP client (retries, rate limits and timeouts come with it)."""
        return create_client(
            base_url=self.config.base_url,
            transport=self.transport,
            clock=self.clock,
            headers={"X-Api-Key": self.config.api_key.reveal()},
        )

    async def _page(self, page: int, per_page: int) -> Mapping[str, Any]:
        response = await self.client.get(
            "/availability", params={"page": page, "per_page": per_page}
        )
        await raise_for_status(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise ConnectorError(f"{self.label}: page {page} is not JSON: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ConnectorError(f"{self.label}: page {page} has no 'items' list")
        return body

    async def check_source(self) -> CheckResult:
        """Fetch one item: proves the API is reachable and the key is accepted."""
        try:
            await self._page(1, 1)
        except ConnectorError as exc:  # HttpError is a ConnectorError
            return CheckResult(False, str(exc))
        return CheckResult(True, f"{self.config.base_url} answers and accepts the API key")

    async def pull_batches(self, cursor: str | None) -> AsyncIterator[Batch]:
        """Yield one batch per page, starting after page *cursor*."""
        if cursor is not None and not cursor.isdigit():
            raise ConnectorError(f"{self.label}: invalid cursor {cursor!r}; expected a page")
        page = int(cursor or 0) + 1
        while True:
            body = await self._page(page, self.config.page_size)
            changes: list[Upsert] = []
            rejected: list[Rejected] = []
            for number, item in enumerate(body["items"], start=1):
                # A bad item is quarantined, named by its position; the rest goes on.
                position = f"page {page} item {number}"
                if not isinstance(item, dict):
                    problem = ("$", f"expected an object, got {type(item).__name__}")
                    rejected.append(Rejected("availability", position, item, [problem]))
                    continue
                data = {key: item[key] for key in _FIELDS if key in item}
                try:
                    record = record_from_dict({"kind": "availability", **data}, context=position)
                except ValidationError as exc:
                    rejected.append(Rejected("availability", position, item, exc.problems))
                    continue
                changes.append(Upsert(record))
            done = body.get("next_page") is None
            yield Batch(changes, str(page), complete=done, rejected=rejected)
            if done:
                return
            page += 1


@hookimpl
def efa_register_connectors(register: RegisterConnector) -> None:
    """Register the ``example-api`` connector type."""
    register(ExampleApiConnector)
