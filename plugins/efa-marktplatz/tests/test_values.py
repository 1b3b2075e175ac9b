"""Registry values: reuse channels and status texts."""

from __future__ import annotations

import pytest
from efa_marktplatz.states import parse_state
from efa_marktplatz.values import parse_channel, parse_channels

from efa_core.model import AgreementState, ReuseChannel


def test_channels():
    assert parse_channel("FIT-Store") is ReuseChannel.FIT_STORE
    assert parse_channel("govdigital eG") is ReuseChannel.MARKTPLATZ_GOVDIGITAL
    assert parse_channel("FITKO") is ReuseChannel.MARKTPLATZ_FITKO
    assert parse_channel("marktplatz_fitko") is ReuseChannel.MARKTPLATZ_FITKO
    assert parse_channel("Verwaltungsabkommen") is ReuseChannel.VERWALTUNGSABKOMMEN
    assert parse_channels("govdigital, FITKO und govdigital") == (
        ReuseChannel.MARKTPLATZ_GOVDIGITAL,
        ReuseChannel.MARKTPLATZ_FITKO,
    )
    with pytest.raises(ValueError, match="'Brieftaube' is not a reuse channel"):
        parse_channels("FITKO / Brieftaube")


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Interessenbekundung", AgreementState.INTERESTED),
        ("in Abstimmung", AgreementState.NEGOTIATING),
        ("Angebot/Nachnutzungsvertrag", AgreementState.NEGOTIATING),
        ("Angebot / Nachnutzungsvertrag", AgreementState.NEGOTIATING),
        ("VERTRAGSSCHLUSS", AgreementState.CONTRACTED),
        ("Vertrag geschlossen", AgreementState.CONTRACTED),
        ("gekündigt", AgreementState.TERMINATED),
        ("gekuendigt", AgreementState.TERMINATED),
        ("abgelehnt", AgreementState.DECLINED),
        ("zurückgezogen", AgreementState.WITHDRAWN),
        ("contracted", AgreementState.CONTRACTED),
    ],
)
def test_registry_states_map_onto_the_lifecycle(text, state):
    assert parse_state(text) is state


def test_unknown_states_point_to_the_option_and_extra_labels_win():
    with pytest.raises(ValueError, match="'states' option"):
        parse_state("abgeschlossen")
    assert parse_state("Abgeschlossen", {"abgeschlossen": AgreementState.CONTRACTED}) is (
        AgreementState.CONTRACTED
    )
