"""efa-xzufi: XZuFi transfer messages for efa-core (parser, ``xzufi-dir`` connector, push).

* :class:`TransferMessageReader` streams the objects of an XZuFi 2.2.0 / 2.3.1 message;
  :func:`parse_transfer_message` maps them to efa-core changes (responsibilities,
  services, organisation units, raw ``xzufi-object`` payloads, deletes) and rejected
  objects;
* :class:`ExportSnapshot` maps the messages of an export directory as one snapshot
  (deletes and duplicate ids resolved within it);
* :func:`write_transfer_message` writes Zuständigkeiten (and an Onlinedienst) as an
  XZuFi 2.2.0 message for a Land's editorial system;
* the connector type ``xzufi-dir`` reads an editorial system's export directory
  (``index.txt`` + files, local or over HTTP) and writes transfer messages on push.

Reading is hardened: no DTD, no entities, no network; size and depth limits
(:class:`Limits`) bound memory for hostile input.  Input that is no XZuFi 2.2/2.3 transfer
message raises :class:`XZuFiNotUnderstood` (an :class:`efa_core.errors.SourceNotUnderstood`).
"""

from __future__ import annotations

from efa_xzufi._xml import (
    DEFAULT_LIMITS,
    Limits,
    MessageInfo,
    XZuFiError,
    XZuFiFormatError,
    XZuFiNotUnderstood,
    XZuFiRefused,
)
from efa_xzufi.mapping import (
    DEFAULT_MAX_RAW_CHARS,
    LeistungIndex,
    MappedItem,
    RecordMapper,
    parse_transfer_message,
)
from efa_xzufi.parser import (
    LEIKA_SCHEME_ID,
    DeleteObject,
    InvalidObject,
    LeistungObject,
    OnlinedienstObject,
    OrganisationseinheitObject,
    RawObject,
    SkippedEntry,
    TransferMessageReader,
    XZuFiId,
    XZuFiItem,
    ZustaendigkeitObject,
)
from efa_xzufi.snapshot import ExportSnapshot
from efa_xzufi.writer import (
    XZUFI_2_2_0_NAMESPACE,
    XZUFI_2_3_1_NAMESPACE,
    WriteSummary,
    XZuFiWriteError,
    write_transfer_message,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RAW_CHARS",
    "LEIKA_SCHEME_ID",
    "XZUFI_2_2_0_NAMESPACE",
    "XZUFI_2_3_1_NAMESPACE",
    "DeleteObject",
    "ExportSnapshot",
    "InvalidObject",
    "LeistungIndex",
    "LeistungObject",
    "Limits",
    "MappedItem",
    "MessageInfo",
    "OnlinedienstObject",
    "OrganisationseinheitObject",
    "RawObject",
    "RecordMapper",
    "SkippedEntry",
    "TransferMessageReader",
    "WriteSummary",
    "XZuFiError",
    "XZuFiFormatError",
    "XZuFiId",
    "XZuFiItem",
    "XZuFiNotUnderstood",
    "XZuFiRefused",
    "XZuFiWriteError",
    "ZustaendigkeitObject",
    "__version__",
    "parse_transfer_message",
    "write_transfer_message",
]
