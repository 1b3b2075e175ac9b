"""efa-dashboard: OZG-Dashboard API connector plugin for efa-core.

The connector type ``dashboard`` pulls availability rows (LeiKa key × area → online
service, status, coverage) and area names for configured ARS scopes; see
:mod:`efa_dashboard.connector`.  ``dashboard-file`` reads the same rows from a saved answer
of the API (:mod:`efa_dashboard.file`), for work without network.
"""

from __future__ import annotations

from efa_dashboard.connector import (
    DEFAULT_URL,
    DashboardConfig,
    DashboardConnector,
    Normalised,
    read_padded_ars,
    row_to_record,
)
from efa_dashboard.file import DashboardFileConfig, DashboardFileConnector

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_URL",
    "DashboardConfig",
    "DashboardConnector",
    "DashboardFileConfig",
    "DashboardFileConnector",
    "Normalised",
    "__version__",
    "read_padded_ars",
    "row_to_record",
]
