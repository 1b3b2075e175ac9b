"""efa-dashboard: OZG-Dashboard API connector plugin for efa-core.

The connector type ``dashboard`` pulls availability rows (LeiKa key × area → online
service, status, coverage) and area names for configured ARS scopes; see
:mod:`efa_dashboard.connector`.
"""

from __future__ import annotations

from efa_dashboard.connector import (
    DEFAULT_URL,
    DashboardConfig,
    DashboardConnector,
    read_padded_ars,
    row_to_record,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_URL",
    "DashboardConfig",
    "DashboardConnector",
    "__version__",
    "read_padded_ars",
    "row_to_record",
]
