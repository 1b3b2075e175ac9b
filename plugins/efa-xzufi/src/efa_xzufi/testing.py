"""Synthetic XZuFi data for tests, benchmarks and fake servers.

:func:`generate_transfer_message` streams a valid transfer message of any size straight to
a file or stream (constant memory), with Leistungen, Onlinedienste, Organisationseinheiten,
``zustaendigkeitTransferObjekt`` entries and optionally ``loesche`` entries.  The content
is deterministic: the same arguments give the same bytes.

By default the catalogue is realistic: it grows with small messages but stops at
:data:`MAX_LEISTUNGEN` Leistungen and :data:`MAX_ONLINEDIENSTE` Onlinedienste /
:data:`MAX_ORGANISATIONSEINHEITEN` Organisationseinheiten (see :func:`default_catalogue`),
and each Onlinedienst serves :data:`LEISTUNGEN_PER_ONLINEDIENST` Leistungen.  So a larger
message has more Zuständigkeiten, not more distinct (Onlinedienst, LeiKa key) pairs, as in
real exports (a few thousand Onlinedienste at most, each serving a handful of keys).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import IO, Final

import attrs

__all__ = [
    "LEISTUNGEN_PER_ONLINEDIENST",
    "MAX_LEISTUNGEN",
    "MAX_ONLINEDIENSTE",
    "MAX_ORGANISATIONSEINHEITEN",
    "N_AREAS",
    "GeneratedMessage",
    "ars_of",
    "default_catalogue",
    "generate_transfer_message",
    "leika_key_of",
]

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


#: The default catalogue's largest number of Leistungen (reached at 200,000 Zuständigkeiten).
MAX_LEISTUNGEN: Final = 2_000
#: The default catalogue's largest number of Onlinedienste (reached at 200,000).
MAX_ONLINEDIENSTE: Final = 200
#: The default catalogue's largest number of Organisationseinheiten (reached at 200,000).
MAX_ORGANISATIONSEINHEITEN: Final = 200
#: How many Leistungen (LeiKa keys) each Onlinedienst serves by default.
LEISTUNGEN_PER_ONLINEDIENST: Final = 5


def default_catalogue(n_responsibilities: int) -> tuple[int, int, int]:
    """Return the default ``(Leistungen, Onlinedienste, Organisationseinheiten)`` counts.

    One Leistung per 100 Zuständigkeiten and one Onlinedienst / Organisationseinheit per
    1,000 (at least one each), capped at :data:`MAX_LEISTUNGEN`,
    :data:`MAX_ONLINEDIENSTE` and :data:`MAX_ORGANISATIONSEINHEITEN`: from 200,000
    Zuständigkeiten on (about 110 MB), only the Zuständigkeiten grow.
    """
    n = max(0, n_responsibilities)
    return (
        min(MAX_LEISTUNGEN, max(1, n // 100)),
        min(MAX_ONLINEDIENSTE, max(1, n // 1000)),
        min(MAX_ORGANISATIONSEINHEITEN, max(1, n // 1000)),
    )


def generate_transfer_message(
    out: str | os.PathLike[str] | IO[bytes],
    n_responsibilities: int,
    *,
    n_leistungen: int | None = None,
    n_onlinedienste: int | None = None,
    n_organisationseinheiten: int | None = None,
    n_deletes: int = 0,
    leistungen_per_onlinedienst: int = LEISTUNGEN_PER_ONLINEDIENST,
    version: str = "2.2.0",
    prefix: str = "xzufi",
    agency: str = "S16000",
) -> GeneratedMessage:
    """Write a synthetic transfer message with *n_responsibilities* Zuständigkeiten.

    Zuständigkeit *j* has area :func:`ars_of` ``(j)``.  Even *j* point at Onlinedienst
    ``k = (j // 2) % n_onlinedienste`` and refer to one of the Leistungen it serves:
    ``(k * leistungen_per_onlinedienst + (j // 2 // n_onlinedienste) %
    leistungen_per_onlinedienst) % n_leistungen``.  Odd *j* point at Organisationseinheit
    ``(j // 2) % n_organisationseinheiten`` and refer to Leistung ``j % n_leistungen``.
    Leistung *i* has the LeiKa key :func:`leika_key_of` ``(i)``.  The first *n_deletes*
    Zuständigkeiten are deleted again by ``loesche`` entries at the end.  Ids are
    composite-ready: ``schemeAgencyID=agency``, e.g. Zuständigkeit 7 is
    ``S16000_ZustaendigkeitOrganisationseinheit_Z7``.

    Counts left out come from :func:`default_catalogue`.  The message then holds at most
    ``MAX_ONLINEDIENSTE * leistungen_per_onlinedienst`` distinct (Onlinedienst, LeiKa key)
    pairs whatever its size; pass larger counts (and *leistungen_per_onlinedienst*) to
    stress what a mapper keeps per pair.

    :param leistungen_per_onlinedienst: how many Leistungen each Onlinedienst serves (at
        least 1).
    :param version: ``"2.2.0"`` or ``"2.3.1"`` (namespace and ``xzufiVersion``).
    :param prefix: the namespace prefix; ``""`` makes it the default namespace.
    """
    if n_responsibilities < 0 or n_deletes < 0:
        raise ValueError("counts must not be negative")
    if leistungen_per_onlinedienst < 1:
        raise ValueError(
            f"leistungen_per_onlinedienst must be at least 1, got {leistungen_per_onlinedienst}"
        )
    if version not in _NAMESPACES:
        raise ValueError(f"version must be one of {', '.join(_NAMESPACES)}, got {version!r}")
    default_leistungen, default_onlinedienste, default_units = default_catalogue(n_responsibilities)
    n_leistungen = n_leistungen or default_leistungen
    n_onlinedienste = n_onlinedienste or default_onlinedienste
    n_organisationseinheiten = n_organisationseinheiten or default_units
    per_onlinedienst = leistungen_per_onlinedienst
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
            half = number // 2
            if number % 2 == 0:
                onlinedienst = half % n_onlinedienste
                served = half // n_onlinedienste % per_onlinedienst
                leistung = (onlinedienst * per_onlinedienst + served) % n_leistungen
                scheme = "ZustaendigkeitOnlinedienst"
                target = f"OD{onlinedienst}"
                target_scheme = "Onlinedienst"
            else:
                leistung = number % n_leistungen
                scheme = "ZustaendigkeitOrganisationseinheit"
                target = f"OE{half % n_organisationseinheiten}"
                target_scheme = "Organisationseinheit"
            write(
                f"  <{p}schreibe><{p}zustaendigkeitTransferObjekt>"
                f'<{p}uebergeordnetesObjektID {agency_attr} schemeID="{target_scheme}">'
                f"{target}</{p}uebergeordnetesObjektID><{p}zustaendigkeit>"
                f'<{p}id {agency_attr} schemeID="{scheme}">Z{number}</{p}id>'
                f'<{p}leistungID {agency_attr} schemeID="Leistung">L{leistung}'
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
