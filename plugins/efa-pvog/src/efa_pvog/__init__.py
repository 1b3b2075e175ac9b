"""efa-pvog: the PVOG Bereitstelldienst change feed for efa-core (connector type ``pvog``).

The connector reads the feed page by page (OAuth2 client credentials through efa-core's
HTTP layer), parses the XZuFi transfer message of every page with :mod:`efa_xzufi`, and
yields responsibilities (Zuständigkeiten) and their deletes.  See
:mod:`efa_pvog.connector` for the mapping and :mod:`efa_pvog.feed` for the envelope and
the cursor.  The plugin module registered under the entry point is :mod:`efa_pvog.plugin`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from efa_pvog.connector import V2_FEED_PATH, V3_FEED_PATH, PvogConfig, PvogConnector
from efa_pvog.feed import CURSOR_PREFIX, FeedCursor, FeedPage, PvogFeedError, parse_envelope

__all__ = [
    "CURSOR_PREFIX",
    "V2_FEED_PATH",
    "V3_FEED_PATH",
    "FeedCursor",
    "FeedPage",
    "PvogConfig",
    "PvogConnector",
    "PvogFeedError",
    "__version__",
    "parse_envelope",
]
