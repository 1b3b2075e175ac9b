"""Registry statuses (FIT-Store process stages, Marktplatz states) → the agreement lifecycle.

The FIT-Store process (FAQ FIT-Store, 2021) runs *Interessenbekundung* → *Abstimmung*
(Abstimmungsschreiben) → *Angebot* (SaaS-Nachnutzungsvertrag offered) → *Vertragsschluss*;
the EfA-Marktplatz shows interests, offers and contracts in a similar way.  No official
list of the status texts in the exports is published, so :data:`STATE_LABELS` is an
**assumption** built from the process descriptions; users extend it with the ``states``
option of the connectors (``states = { "abgeschlossen" = "contracted" }``).

Stages after the contract (onboarding, pilot, live operation) are evidence of a contract
on the registry side and map to ``contracted``; the rollout layer tracks publication and
availability from other sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from efa_core.model import AgreementState
from efa_core.tabular import fold

__all__ = ["STATE_LABELS", "normalize_label", "parse_state"]

_I = AgreementState.INTERESTED
_N = AgreementState.NEGOTIATING
_C = AgreementState.CONTRACTED
_T = AgreementState.TERMINATED
_D = AgreementState.DECLINED
_W = AgreementState.WITHDRAWN


def normalize_label(text: str) -> str:
    """Fold a status text for lookup: case, umlauts, punctuation and spacing are ignored.

    The same folding as for headers (:func:`efa_core.tabular.fold`).
    """
    return fold(text)


_LABELS: dict[str, AgreementState] = {
    # interest (FIT-Store step 2, Marktplatz "Interessenbekundung")
    "Interessenbekundung": _I,
    "Interessenbekundung eingereicht": _I,
    "Interessenbekundungsschreiben": _I,
    "Interesse": _I,
    "Interesse bekundet": _I,
    "interessiert": _I,
    "Anfrage": _I,
    "angefragt": _I,
    "neu": _I,
    "eingegangen": _I,
    "offen": _I,
    # alignment and offer (FIT-Store steps 3-6)
    "Abstimmung": _N,
    "in Abstimmung": _N,
    "Abstimmungsschreiben": _N,
    "Vermittlung": _N,
    "Angebot": _N,
    "Angebot erstellt": _N,
    "Angebot versendet": _N,
    "Angebot/Nachnutzungsvertrag": _N,
    "Nachnutzungsvertrag": _N,
    "Nachnutzungsvertrag angeboten": _N,
    "SaaS-Nachnutzungsvertrag": _N,
    "Verhandlung": _N,
    "in Verhandlung": _N,
    "in Bearbeitung": _N,
    "in Prüfung": _N,
    # contract (FIT-Store step 7) and what follows it on the registry side
    "Vertragsschluss": _C,
    "Vertrag geschlossen": _C,
    "Vertrag abgeschlossen": _C,
    "Vertrag unterzeichnet": _C,
    "Nachnutzungsvertrag geschlossen": _C,
    "unterzeichnet": _C,
    "beauftragt": _C,
    "Beitritt": _C,
    "Beitritt Verwaltungsabkommen": _C,
    "Onboarding": _C,
    "technische Anbindung": _C,
    "Pilot": _C,
    "Test": _C,
    "Produktivsetzung": _C,
    "produktiv": _C,
    "live": _C,
    "in Betrieb": _C,
    # ends
    "Kündigung": _T,
    "gekündigt": _T,
    "Vertrag gekündigt": _T,
    "beendet": _T,
    "Vertrag beendet": _T,
    "Abschaltung": _T,
    "abgeschaltet": _T,
    "abgelehnt": _D,
    "Ablehnung": _D,
    "nicht möglich": _D,
    "zurückgezogen": _W,
    "Interesse zurückgezogen": _W,
    "Rückzug": _W,
    "storniert": _W,
}
for _state in AgreementState:
    _LABELS[_state.value] = _state

#: Status text (normalized with :func:`normalize_label`) → agreement state.
STATE_LABELS: Final[Mapping[str, AgreementState]] = MappingProxyType(
    {normalize_label(label): state for label, state in _LABELS.items()}
)


def parse_state(text: str, extra: Mapping[str, AgreementState] | None = None) -> AgreementState:
    """Map a registry status text to an :class:`~efa_core.model.AgreementState`.

    *extra* (normalized labels, from the ``states`` option) is looked up first.

    :raises ValueError: the text is unknown; the message names the known states and the
        ``states`` option.
    """
    key = normalize_label(text)
    if extra and key in extra:
        return extra[key]
    found = STATE_LABELS.get(key)
    if found is None:
        raise ValueError(
            f"{text.strip()!r} is not a known status (known e.g. Interessenbekundung, "
            "Abstimmung, Angebot, Vertragsschluss, gekündigt, abgelehnt, zurückgezogen, or "
            f"{', '.join(s.value for s in AgreementState)}); map it with the 'states' option"
        )
    return found
