"""efa-marktplatz: EfA-Marktplatz and FIT-Store exports, and the user's own agreements.

Two connector types for efa-core (registered by :mod:`efa_marktplatz.plugin`):

``marktplatz`` (:class:`MarktplatzConnector`)
    Offers and interest/contract lists exported from the EfA-Marktplatz or the FIT-Store,
    as CSV (``;`` or ``,``, UTF-8 or cp1252) or XLSX: providers, services, subscribers and
    agreements, with registry statuses mapped onto the agreement lifecycle.
``local`` (:class:`LocalConnector`)
    The user's own agreements and notes in a YAML file of their repository.

The building blocks are public for scripts that read exports without syncing: the
schemas :data:`OFFERS` and :data:`AGREEMENTS` (the default column headers, in
:mod:`efa_marktplatz.columns`) for :func:`efa_core.tabular.open_table`, and
:func:`parse_state`.  Reading itself (encodings, delimiters, header rows, XLSX) and the
cell parsers are :mod:`efa_core.tabular`.
"""

from __future__ import annotations

from efa_marktplatz.build import (
    LIFECYCLE_PREFIX,
    AgreementRow,
    Offer,
    SourceRow,
    agreement_items,
    offer_items,
)
from efa_marktplatz.columns import AGREEMENTS, OFFERS
from efa_marktplatz.connector import MarktplatzConfig, MarktplatzConnector
from efa_marktplatz.local import LocalConfig, LocalConnector
from efa_marktplatz.states import STATE_LABELS, parse_state

__version__ = "0.1.0"

__all__ = [
    "AGREEMENTS",
    "LIFECYCLE_PREFIX",
    "OFFERS",
    "STATE_LABELS",
    "AgreementRow",
    "LocalConfig",
    "LocalConnector",
    "MarktplatzConfig",
    "MarktplatzConnector",
    "Offer",
    "SourceRow",
    "__version__",
    "agreement_items",
    "offer_items",
    "parse_state",
]
