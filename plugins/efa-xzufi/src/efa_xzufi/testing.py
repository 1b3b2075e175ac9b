"""Synthetic XZuFi data for tests, benchmarks and fake servers.

:func:`generate_transfer_message` streams a valid transfer message of any size straight to
a file or stream (constant memory), with Leistungen, Onlinedienste, Organisationseinheiten,
``zustaendigkeitTransferObjekt`` entries and optionally ``loesche`` entries.  The content
is deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, Final

import attrs

__all__ = ["GeneratedMessage", "generate_transfer_message"]

_NAMESPACES: Final = {
    "2.2.0": "http://xoev.de/schemata/xzufi/2_2_0",
    "2.3.1": "http://xoev.de/schemata/xzufi/2_3_1",
}


@attrs.frozen(kw_only=True)
class GeneratedMessage:
    """What :func:`generate_transfer_message` wrote."""

    responsibilities: int
    leistungen: int
    onlinedienste: int
    organisationseinheiten: int
    deletes: int
    #: The size of the message in bytes.
    size: int


@contextlib.contextmanager
def _stream(out: str | os.PathLike[str] | IO[bytes]) -> Iterator[IO[bytes]]:
    if isinstance(out, (str, os.PathLike)):
        with open(out, "wb") as stream:
            yield stream
    else:
        yield out


def leika_key_of(number: int) -> str:
    """Return the LeiKa key the generator gives Leistung *number* (14 digits, starting 99)."""
    return f"99{number % 10**12:012d}"


#: How many distinct areas the generator uses (about the number of German municipalities).
N_AREAS: Final = 11_000


def ars_of(number: int) -> str:
    """Return the 12-digit ARS the generator gives Zuständigkeit *number*.

    It is one of :data:`N_AREAS` valid Gemeinde ARS (Land 01-16), cycling.
    """
    area = number % N_AREAS
    land = 1 + area % 16
    return f"{land:02d}0{51 + area % 40:02d}{area // 40 % 10000:04d}{area % 997:03d}"


def generate_transfer_message(
    out: str | os.PathLike[str] | IO[bytes],
    n_responsibilities: int,
    *,
    n_leistungen: int | None = None,
    n_onlinedienste: int | None = None,
    n_organisationseinheiten: int | None = None,
    n_deletes: int = 0,
    version: str = "2.2.0",
    prefix: str = "xzufi",
    agency: str = "S16000",
) -> GeneratedMessage:
    """Write a synthetic transfer message with *n_responsibilities* Zuständigkeiten.

    Zuständigkeit *j* refers to Leistung ``j % n_leistungen`` (LeiKa key
    :func:`leika_key_of`) and area :func:`ars_of` ``(j)``; even *j* point at Onlinedienst
    ``(j // 2) % n_onlinedienste``, odd *j* at Organisationseinheit
    ``(j // 2) % n_organisationseinheiten``.  The first *n_deletes* Zuständigkeiten are
    deleted again by ``loesche`` entries at the end.  Ids are composite-ready:
    ``schemeAgencyID=agency``, e.g. Zuständigkeit 7 is
    ``S16000_ZustaendigkeitOrganisationseinheit_Z7``.

    :param version: ``"2.2.0"`` or ``"2.3.1"`` (namespace and ``xzufiVersion``).
    :param prefix: the namespace prefix; ``""`` makes it the default namespace.
    """
    if n_responsibilities < 0 or n_deletes < 0:
        raise ValueError("counts must not be negative")
    if version not in _NAMESPACES:
        raise ValueError(f"version must be one of {', '.join(_NAMESPACES)}, got {version!r}")
    n_leistungen = n_leistungen or max(1, n_responsibilities // 100)
    n_onlinedienste = n_onlinedienste or max(1, n_responsibilities // 1000)
    n_organisationseinheiten = n_organisationseinheiten or max(1, n_responsibilities // 1000)
    n_deletes = min(n_deletes, n_responsibilities)
    namespace = _NAMESPACES[version]
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{namespace}"' if prefix else f'xmlns="{namespace}"'
    size = 0
    with _stream(out) as stream:

        def write(text: str) -> None:
            nonlocal size
            data = text.encode("utf-8")
            size += len(data)
            stream.write(data)

        write(
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<{p}transfer.operation {xmlns} produktbezeichnung="efa-xzufi generator" '
            f'produkthersteller="efa-core" produktversion="1" xzufiVersion="{version}">\n'
            f"  <{p}nachrichtenkopf><{p}nachrichtUUID>00000000-0000-4000-8000-"
            f"{n_responsibilities:012d}</{p}nachrichtUUID><{p}erstelltDatumZeit>"
            f"2026-01-01T00:00:00Z</{p}erstelltDatumZeit><{p}sender>efa-xzufi generator"
            f"</{p}sender></{p}nachrichtenkopf>\n"
            f"  <{p}transaktionID>generated</{p}transaktionID>\n"
        )
        agency_attr = f'schemeAgencyID="{agency}"'
        for number in range(n_leistungen):
            write(
                f"  <{p}schreibe><{p}leistung>"
                f'<{p}id {agency_attr} schemeID="Leistung">L{number}</{p}id>'
                f"<{p}referenzLeiKa><code>{leika_key_of(number)}</code></{p}referenzLeiKa>"
                f"<{p}modulText><{p}leikaTextmodul><code>02</code></{p}leikaTextmodul>"
                f'<{p}inhalt languageCode="de">Leistung {number}</{p}inhalt></{p}modulText>'
                f"<{p}versionsinformation><{p}geaendertDatumZeit>2026-01-01T00:00:00+01:00"
                f"</{p}geaendertDatumZeit></{p}versionsinformation>"
                f"</{p}leistung></{p}schreibe>\n"
            )
        for number in range(n_onlinedienste):
            write(
                f"  <{p}schreibe><{p}onlinedienst>"
                f'<{p}id {agency_attr} schemeID="Onlinedienst">OD{number}</{p}id>'
                f'<{p}bezeichnung languageCode="de">Onlinedienst {number}</{p}bezeichnung>'
                f'<{p}link languageCode="de"><{p}typ listURI="urn:xoev-de:fim:codeliste:'
                f'onlinedienstlinktyp"><code>01</code></{p}typ>'
                f"<{p}link>https://od{number}.example.org/start</{p}link></{p}link>"
                f"</{p}onlinedienst></{p}schreibe>\n"
            )
        for number in range(n_organisationseinheiten):
            write(
                f"  <{p}schreibe><{p}organisationseinheit>"
                f'<{p}id {agency_attr} schemeID="Organisationseinheit">OE{number}</{p}id>'
                f'<{p}name><{p}name languageCode="de">Amt {number}</{p}name></{p}name>'
                f"</{p}organisationseinheit></{p}schreibe>\n"
            )
        for number in range(n_responsibilities):
            if number % 2 == 0:
                scheme, target = (
                    "ZustaendigkeitOnlinedienst",
                    f"OD{(number // 2) % n_onlinedienste}",
                )
                target_scheme = "Onlinedienst"
            else:
                scheme = "ZustaendigkeitOrganisationseinheit"
                target = f"OE{(number // 2) % n_organisationseinheiten}"
                target_scheme = "Organisationseinheit"
            write(
                f"  <{p}schreibe><{p}zustaendigkeitTransferObjekt>"
                f'<{p}uebergeordnetesObjektID {agency_attr} schemeID="{target_scheme}">'
                f"{target}</{p}uebergeordnetesObjektID><{p}zustaendigkeit>"
                f'<{p}id {agency_attr} schemeID="{scheme}">Z{number}</{p}id>'
                f'<{p}leistungID {agency_attr} schemeID="Leistung">L{number % n_leistungen}'
                f"</{p}leistungID><{p}gebietID>{ars_of(number)}</{p}gebietID>"
                f"<{p}rolle><code>01</code></{p}rolle>"
                f"</{p}zustaendigkeit></{p}zustaendigkeitTransferObjekt></{p}schreibe>\n"
            )
        for number in range(n_deletes):
            scheme = (
                "ZustaendigkeitOnlinedienst"
                if number % 2 == 0
                else "ZustaendigkeitOrganisationseinheit"
            )
            write(
                f'  <{p}loesche klasse="Zustaendigkeit">'
                f'<{p}id {agency_attr} schemeID="{scheme}">Z{number}</{p}id></{p}loesche>\n'
            )
        write(f"</{p}transfer.operation>\n")
    return GeneratedMessage(
        responsibilities=n_responsibilities,
        leistungen=n_leistungen,
        onlinedienste=n_onlinedienste,
        organisationseinheiten=n_organisationseinheiten,
        deletes=n_deletes,
        size=size,
    )
