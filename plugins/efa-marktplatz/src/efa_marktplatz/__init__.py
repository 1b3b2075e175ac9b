"""efa-marktplatz: EfA-Marktplatz and FIT-Store exports, and the user's own agreements.

Two connector types for efa-core (registered by :mod:`efa_marktplatz.plugin`):

``marktplatz`` (:class:`MarktplatzConnector`)
    Offers and interest/contract lists exported from the EfA-Marktplatz or the FIT-Store,
    as CSV (``;`` or ``,``, UTF-8 or cp1252) or XLSX: providers, services, subscribers and
    agreements, with registry statuses mapped onto the agreement lifecycle.
``local`` (:class:`LocalConnector`)
    The user's own agreements and notes in a YAML file of their repository.

The building blocks are public for scripts that read exports without syncing:
:func:`~efa_marktplatz.tabular.read_table`, the value parsers in
:mod:`efa_marktplatz.values` (:func:`parse_date`, :func:`parse_number`, ...),
:func:`parse_state` and the default column headers in :mod:`efa_marktplatz.columns`.
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
from efa_marktplatz.columns import AGREEMENT_FIELDS, OFFER_FIELDS, FieldSpec
from efa_marktplatz.connector import MarktplatzConfig, MarktplatzConnector
from efa_marktplatz.local import LocalConfig, LocalConnector
from efa_marktplatz.states import STATE_LABELS, parse_state
from efa_marktplatz.tabular import Table, read_table
from efa_marktplatz.values import parse_date, parse_number

__version__ = "0.1.0"

__all__ = [
    "AGREEMENT_FIELDS",
    "LIFECYCLE_PREFIX",
    "OFFER_FIELDS",
    "STATE_LABELS",
    "AgreementRow",
    "FieldSpec",
    "LocalConfig",
    "LocalConnector",
    "MarktplatzConfig",
    "MarktplatzConnector",
    "Offer",
    "SourceRow",
    "Table",
    "__version__",
    "agreement_items",
    "offer_items",
    "parse_date",
    "parse_number",
    "parse_state",
    "read_table",
]
