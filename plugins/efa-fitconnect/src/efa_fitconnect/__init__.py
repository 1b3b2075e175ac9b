"""efa-fitconnect: FIT-Connect Routing API v2 connector plugin for efa-core.

The connector type ``fitconnect`` pulls FIT-Connect destinations (routes) for the LeiKa
key × area pairs that are worth asking; see :mod:`efa_fitconnect.connector`.  The
``destinationSignature`` tools are in :mod:`efa_fitconnect.signature`.
"""

from __future__ import annotations

from efa_fitconnect.connector import (
    PRODUCTION_URL,
    TESTING_URL,
    FitConnectConfig,
    FitConnectConnector,
    FoundArea,
    RouteEvidence,
    RoutingApiError,
    pairs_from_store,
)
from efa_fitconnect.signature import (
    DestinationSignature,
    SignatureError,
    SignedService,
    decode_destination_signature,
    load_public_keys,
    verify_signature,
)

__version__ = "0.1.0"

__all__ = [
    "PRODUCTION_URL",
    "TESTING_URL",
    "DestinationSignature",
    "FitConnectConfig",
    "FitConnectConnector",
    "FoundArea",
    "RouteEvidence",
    "RoutingApiError",
    "SignatureError",
    "SignedService",
    "__version__",
    "decode_destination_signature",
    "load_public_keys",
    "pairs_from_store",
    "verify_signature",
]
