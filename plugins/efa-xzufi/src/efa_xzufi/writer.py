"""Writing XZuFi 2.2.0 transfer messages: Zuständigkeiten for a Land's editorial system.

:func:`write_transfer_message` streams (``lxml.etree.xmlfile``) one message with

* a ``schreibe/onlinedienst`` per given :class:`~efa_core.model.Service` (its ``key`` is
  the Onlinedienst's composite id);
* optionally (``include_leistungen=True``) a minimal ``schreibe/leistung`` (id and
  ``referenzLeiKa``) per referenced Leistung, for self-contained files (tests, fixtures).
  Do **not** import such a file into an editorial system: it would overwrite the
  Leistung's texts with the stub;
* a ``schreibe/zustaendigkeitTransferObjekt`` per :class:`~efa_core.model.Responsibility`;
* a ``loesche`` per :class:`~efa_core.connectors.Delete` of a ``responsibility``
  (``klasse="Zustaendigkeit"``) or ``service`` (``klasse="Onlinedienst"``).

Composite ids (``"<schemeAgencyID>_<schemeID>_<value>"``) are split back into the
``Identifikator`` attributes.  What is written parses back to the same records with
:func:`efa_xzufi.parse_transfer_message`, except for values efa-core has to invent:

* a responsibility without ``responsibility_id`` gets the id
  ``efa-<20 hex digits of SHA-1 over its natural key>`` (stable: the same record gets the
  same id every time) in the target's ``schemeAgencyID`` (or ``scheme_agency_id``) and the
  ``schemeID`` of its target kind;
* a responsibility without ``leistung_id`` refers to its Leistung by LeiKa key:
  ``<leistungID schemeID="urn:de:fim:leika:leistung">99…</leistungID>``; the editorial
  system has to map that to its Leistung (efa-core reads it back as the key).

Element names follow the 2.2.0 shapes documented in ``docs/plugins/efa-xzufi.md``; the
root element's name and the header layout are not verified against the XSD.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import attrs
from lxml import etree

from efa_core.connectors import Delete
from efa_core.errors import EfaError
from efa_core.model import Responsibility, Service
from efa_xzufi.parser import LEIKA_SCHEME_ID, XZuFiId

__all__ = [
    "DEFAULT_ROOT_NAME",
    "XZUFI_2_2_0_NAMESPACE",
    "XZUFI_2_3_1_NAMESPACE",
    "WriteSummary",
    "XZuFiWriteError",
    "write_transfer_message",
]

#: The XZuFi 2.2.0 namespace.
XZUFI_2_2_0_NAMESPACE: Final = "http://xoev.de/schemata/xzufi/2_2_0"
#: The XZuFi 2.3.1 namespace (by analogy with 2.2.0; not verified).
XZUFI_2_3_1_NAMESPACE: Final = "http://xoev.de/schemata/xzufi/2_3_1"
#: The local name of the root element written by default (not verified; see the docs).
DEFAULT_ROOT_NAME: Final = "transfer.operation"

_LINK_TYPE_LIST: Final = "urn:xoev-de:fim:codeliste:onlinedienstlinktyp"
_PRODUCT: Final = "efa-core"


class XZuFiWriteError(EfaError, ValueError):
    """A record cannot be written as XZuFi (names the record and the field)."""


@attrs.frozen(kw_only=True)
class WriteSummary:
    """What :func:`write_transfer_message` wrote."""

    #: ``schreibe/zustaendigkeitTransferObjekt`` entries.
    responsibilities: int
    #: ``schreibe/onlinedienst`` entries.
    onlinedienste: int
    #: ``schreibe/leistung`` stubs.
    leistungen: int
    #: ``loesche`` entries.
    deletes: int
    #: The message's ``nachrichtUUID``.
    message_id: str

    @property
    def entries(self) -> int:
        """All entries written."""
        return self.responsibilities + self.onlinedienste + self.leistungen + self.deletes


def _split(composite: str, what: str, field: str) -> XZuFiId:
    try:
        return XZuFiId.from_composite(composite)
    except ValueError as exc:
        raise XZuFiWriteError(f"{what}: {field}: {exc}") from None


class _Writer:
    def __init__(self, xf: Any, namespace: str) -> None:
        self.xf = xf
        self.ns = namespace

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    @contextlib.contextmanager
    def element(self, name: str, attrib: dict[str, str] | None = None) -> Iterator[None]:
        with self.xf.element(self.q(name), attrib or {}):
            yield

    def leaf(self, name: str, text: str, attrib: dict[str, str] | None = None) -> None:
        with self.xf.element(self.q(name), attrib or {}):
            self.xf.write(text)

    def code(self, name: str, code: str, list_uri: str | None = None) -> None:
        attrib = {"listURI": list_uri} if list_uri else {}
        # XÖV code values (<code>) are unqualified
        with self.xf.element(self.q(name), attrib), self.xf.element("code"):
            self.xf.write(code)

    def ident(self, name: str, ident: XZuFiId) -> None:
        attrib = {}
        if ident.scheme_agency_id:
            attrib["schemeAgencyID"] = ident.scheme_agency_id
        if ident.scheme_id:
            attrib["schemeID"] = ident.scheme_id
        self.leaf(name, ident.value, attrib)

    def modified(self, when: dt.datetime | None) -> None:
        if when is not None:
            with self.element("versionsinformation"):
                self.leaf("geaendertDatumZeit", when.isoformat())


def _zustaendigkeit_id(record: Responsibility, target: XZuFiId, agency: str | None) -> XZuFiId:
    what = f"responsibility {record.natural_key!r}"
    if record.responsibility_id is not None:
        ident = _split(record.responsibility_id, what, "responsibility_id")
        if ident.scheme_id != record.target_kind.scheme_id:
            raise XZuFiWriteError(
                f"{what}: responsibility_id: schemeID {ident.scheme_id!r} does not match the "
                f"target kind {record.target_kind.value!r} ({record.target_kind.scheme_id})"
            )
        return ident
    digest = hashlib.sha1(record.natural_key.encode("utf-8"), usedforsecurity=False)
    return XZuFiId(
        f"efa-{digest.hexdigest()[:20]}",
        agency if agency is not None else target.scheme_agency_id,
        record.target_kind.scheme_id,
    )


def _leistung_id(record: Responsibility, target: XZuFiId, agency: str | None) -> XZuFiId:
    if record.leistung_id is not None:
        return _split(record.leistung_id, f"responsibility {record.natural_key!r}", "leistung_id")
    return XZuFiId(
        str(record.leika_key),
        agency if agency is not None else target.scheme_agency_id,
        LEIKA_SCHEME_ID,
    )


def _write_zto(w: _Writer, record: Responsibility, agency: str | None) -> None:
    target = _split(record.target_id, f"responsibility {record.natural_key!r}", "target_id")
    with w.element("schreibe"), w.element("zustaendigkeitTransferObjekt"):
        w.ident("uebergeordnetesObjektID", target)
        with w.element("zustaendigkeit"):
            w.ident("id", _zustaendigkeit_id(record, target, agency))
            w.ident("leistungID", _leistung_id(record, target, agency))
            w.leaf("gebietID", str(record.ars))
            if record.role is not None:
                w.code("rolle", record.role)
            w.modified(record.modified_at)


def _write_onlinedienst(w: _Writer, service: Service) -> None:
    ident = _split(service.key, f"service {service.key!r}", "key")
    with w.element("schreibe"), w.element("onlinedienst"):
        w.ident("id", ident)
        w.leaf("bezeichnung", service.name, {"languageCode": "de"})
        if service.url is not None:
            with w.element("link", {"languageCode": "de"}):
                w.code("typ", "01", _LINK_TYPE_LIST)
                w.leaf("link", service.url)
        w.modified(service.modified_at)


def _write_leistung(w: _Writer, ident: XZuFiId, keys: Iterable[str]) -> None:
    with w.element("schreibe"), w.element("leistung"):
        w.ident("id", ident)
        for key in keys:
            w.code("referenzLeiKa", key)


def _write_delete(w: _Writer, delete: Delete) -> bool:
    klasse = {"responsibility": "Zustaendigkeit", "service": "Onlinedienst"}.get(delete.kind)
    if klasse is None:
        return False
    try:
        ident = XZuFiId.from_composite(delete.key)
    except ValueError:
        return False
    with w.element("loesche", {"klasse": klasse}):
        w.ident("id", ident)
    return True


def _services(onlinedienst: Service | Iterable[Service] | None) -> list[Service]:
    if onlinedienst is None:
        return []
    if isinstance(onlinedienst, Service):
        return [onlinedienst]
    return list(onlinedienst)


@contextlib.contextmanager
def _output(out: str | os.PathLike[str] | IO[bytes]) -> Iterator[IO[bytes]]:
    """Yield a binary stream; for a path, write a temp file and replace the path at the end."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return
    path = Path(out)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def write_transfer_message(
    responsibilities: Iterable[Responsibility],
    onlinedienst: Service | Iterable[Service] | None = None,
    *,
    sender: str,
    out: str | os.PathLike[str] | IO[bytes],
    deletes: Iterable[Delete] = (),
    receiver: str | None = None,
    scheme_agency_id: str | None = None,
    include_leistungen: bool = False,
    message_id: str | None = None,
    created_at: dt.datetime | None = None,
    root_name: str = DEFAULT_ROOT_NAME,
) -> WriteSummary:
    """Write an XZuFi 2.2.0 transfer message with ``schreibe`` entries (see the module docs).

    :param responsibilities: the Zuständigkeiten to write, one ``zustaendigkeitTransfer-
        Objekt`` each (streamed; materialised only with ``include_leistungen``).
    :param onlinedienst: the Onlinedienst (or several) the responsibilities point at.
    :param sender: ``nachrichtenkopf/sender`` (e.g. the writing organisation).
    :param out: a path (written atomically: temp file + :func:`os.replace`) or a binary
        stream.
    :param deletes: ``loesche`` entries to add; deletes of other kinds, or of keys that are
        no composite XZuFi id, are skipped (see :attr:`WriteSummary.deletes`).
    :param receiver: ``nachrichtenkopf/empfaenger``, if wanted.
    :param scheme_agency_id: the ``schemeAgencyID`` for ids efa-core invents (default: the
        target's).
    :param include_leistungen: also write minimal ``leistung`` objects (not for import).
    :param message_id: the ``nachrichtUUID`` (default: a new UUID).
    :param created_at: ``erstelltDatumZeit`` (default: now, UTC).
    :param root_name: the root element's local name.

    :raises XZuFiWriteError: a record's ids are not composite XZuFi ids, or a naive
        *created_at*.
    """
    if created_at is None:
        created_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    elif created_at.tzinfo is None:
        raise XZuFiWriteError("created_at must be timezone-aware")
    message_id = message_id or str(uuid.uuid4())
    services = _services(onlinedienst)
    leistungen: dict[str, tuple[XZuFiId, dict[str, None]]] = {}
    if include_leistungen:
        responsibilities = list(responsibilities)
        for record in responsibilities:
            if record.leistung_id is not None:
                ident = _split(
                    record.leistung_id, f"responsibility {record.natural_key!r}", "leistung_id"
                )
                keys = leistungen.setdefault(ident.composite, (ident, {}))[1]
                keys[str(record.leika_key)] = None
    from efa_xzufi import __version__

    counts = {"responsibilities": 0, "deletes": 0}
    with _output(out) as stream, etree.xmlfile(stream, encoding="utf-8") as xf:
        xf.write_declaration()
        w = _Writer(xf, XZUFI_2_2_0_NAMESPACE)
        root_attrib = {
            "produktbezeichnung": _PRODUCT,
            "produkthersteller": _PRODUCT,
            "produktversion": __version__,
            "xzufiVersion": "2.2.0",
        }
        with xf.element(w.q(root_name), root_attrib, nsmap={"xzufi": XZUFI_2_2_0_NAMESPACE}):
            with w.element("nachrichtenkopf"):
                w.leaf("nachrichtUUID", message_id)
                w.leaf("erstelltDatumZeit", created_at.isoformat())
                w.leaf("sender", sender)
                if receiver is not None:
                    w.leaf("empfaenger", receiver)
            w.leaf("transaktionID", message_id)
            w.leaf("transaktionPosition", "1")
            for service in services:
                _write_onlinedienst(w, service)
            for ident, keys in leistungen.values():
                _write_leistung(w, ident, keys)
            for record in responsibilities:
                if not isinstance(record, Responsibility):
                    raise XZuFiWriteError(
                        f"write_transfer_message() writes Responsibility records, not "
                        f"{type(record).__qualname__}"
                    )
                _write_zto(w, record, scheme_agency_id)
                counts["responsibilities"] += 1
            for delete in deletes:
                if _write_delete(w, delete):
                    counts["deletes"] += 1
    return WriteSummary(
        responsibilities=counts["responsibilities"],
        onlinedienste=len(services),
        leistungen=len(leistungen),
        deletes=counts["deletes"],
        message_id=message_id,
    )
