"""The logger of the HTTP layer, and warnings given once per client and kept for the run."""

from __future__ import annotations

import logging
from typing import Any, Final

import attrs
import httpx

logger = logging.getLogger("efa_core.http")

#: The response extension holding the :class:`Warnings` of the client that received it (set
#: by :class:`~efa_core.http.RetryingTransport`; one client lives for one run of a connector).
ONCE_EXTENSION: Final = "efa_core.once"


@attrs.define
class Warnings:
    """The warnings a client gave: their keys (each is given once) and the lines not taken."""

    given: set[str] = attrs.field(factory=set)
    lines: list[str] = attrs.field(factory=list)

    def take(self) -> list[str]:
        """Return the lines given since the last call, and forget them."""
        lines, self.lines = self.lines, []
        return lines


def warn_once(response: httpx.Response, key: str, message: str, *args: Any) -> None:
    """Log *message* as a warning unless the client of *response* already warned about *key*.

    The line is also kept for the connector's run (:meth:`HttpConnector.take_warnings`).
    Without the memo (a response that did not come through a RetryingTransport) the
    warning is always logged.
    """
    memo = response.extensions.get(ONCE_EXTENSION)
    if isinstance(memo, Warnings):
        if key in memo.given:
            return
        memo.given.add(key)
        memo.lines.append(message % args if args else message)
    logger.warning(message, *args)
