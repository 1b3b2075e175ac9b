"""Reuse channels as registry exports write them (``FIT-Store``, ``govdigital``, ``FITKO``).

The generic cell parsers (German dates and numbers, prices, LeiKa keys, ARS, Länder, URLs)
live in :mod:`efa_core.tabular`; this module adds what only registries have.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from efa_core.model import ReuseChannel
from efa_core.tabular import Cell, cell_text

__all__ = ["KNOWN_CHANNELS", "parse_channel", "parse_channels", "split_channels"]


# -- channels -------------------------------------------------------------------------------

_CHANNEL_WORDS: dict[str, ReuseChannel] = {
    "fitstore": ReuseChannel.FIT_STORE,
    "fitkofitstore": ReuseChannel.FIT_STORE,
    "govdigital": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "govdigitaleg": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "marktplatzgovdigital": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "efamarktplatzgovdigital": ReuseChannel.MARKTPLATZ_GOVDIGITAL,
    "fitko": ReuseChannel.MARKTPLATZ_FITKO,
    "marktplatzfitko": ReuseChannel.MARKTPLATZ_FITKO,
    "efamarktplatzfitko": ReuseChannel.MARKTPLATZ_FITKO,
    "verwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
    "va": ReuseChannel.VERWALTUNGSABKOMMEN,
    "blaupauseverwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
    "beitrittverwaltungsabkommen": ReuseChannel.VERWALTUNGSABKOMMEN,
}


def _word(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


_ALL_WORDS: dict[str, ReuseChannel] = {
    **_CHANNEL_WORDS,
    **{_word(channel.value): channel for channel in ReuseChannel},
}


@functools.lru_cache(maxsize=1024)
def _channel(text: str) -> ReuseChannel | None:
    return _ALL_WORDS.get(_word(text))


def parse_channel(cell: Cell) -> ReuseChannel:
    """Parse one reuse channel: ``FIT-Store``, ``govdigital``, ``FITKO``, ``Verwaltungsabkommen``.

    The values of :class:`~efa_core.model.ReuseChannel` (``fit_store``, ...) work too.
    On the EfA-Marktplatz, the *Anbieter* ``govdigital`` and ``FITKO`` are the channels
    ``marktplatz_govdigital`` and ``marktplatz_fitko``.
    """
    text = cell_text(cell)
    found = _channel(text)
    if found is None:
        known = "FIT-Store, govdigital, FITKO, Verwaltungsabkommen, " + ", ".join(
            channel.value for channel in ReuseChannel
        )
        raise ValueError(f"{text!r} is not a reuse channel; known: {known}")
    return found


def parse_channels(cell: Cell) -> tuple[ReuseChannel, ...]:
    """Parse channels separated by ``,``, ``;``, ``/``, ``|`` or ``und``; repeats kept once."""
    channels: list[ReuseChannel] = []
    for part in re.split(r"[,;/|]+|\s+und\s+", cell_text(cell)):
        if part.strip():
            channel = parse_channel(part)
            if channel not in channels:
                channels.append(channel)
    return tuple(channels)


#: The channel texts named in messages about an unknown channel.
KNOWN_CHANNELS = "FIT-Store, govdigital, FITKO, Verwaltungsabkommen"


def split_channels(cell: Cell) -> tuple[tuple[ReuseChannel, ...], tuple[str, ...]]:
    """Split a channels cell into the known channels and the texts that are none.

    Like :func:`parse_channels`, but an unknown part does not fail the cell: the caller
    keeps the known channels and warns about the rest.
    """
    channels: list[ReuseChannel] = []
    unknown: list[str] = []
    for part in re.split(r"[,;/|]+|\s+und\s+", cell_text(cell)):
        if not part.strip():
            continue
        try:
            channel = parse_channel(part)
        except ValueError:
            unknown.append(part.strip())
            continue
        if channel not in channels:
            channels.append(channel)
    return tuple(channels), tuple(unknown)
