"""The logger of the HTTP layer, and warnings given once per client."""

from __future__ import annotations

import logging
from typing import Any, Final

import httpx

logger = logging.getLogger("efa_core.http")

#: The response extension holding the set of warnings already given by the client that
#: received it (set by :class:`~efa_core.http.RetryingTransport`; one client lives for one
#: run of a connector).
ONCE_EXTENSION: Final = "efa_core.once"


def warn_once(response: httpx.Response, key: str, message: str, *args: Any) -> None:
    """Log *message* as a warning unless the client of *response* already warned about *key*.

    Without the memo (a response that did not come through a RetryingTransport) the
    warning is always logged.
    """
    memo = response.extensions.get(ONCE_EXTENSION)
    if isinstance(memo, set):
        if key in memo:
            return
        memo.add(key)
    logger.warning(message, *args)
