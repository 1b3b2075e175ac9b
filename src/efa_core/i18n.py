"""The one message catalogue of what efa-core shows people: German by default, English by option.

The HTML report and the CLI tables of ``efa report``, ``efa demo``, ``efa findings``,
``efa coverage``, ``efa costs``, ``efa plan status``, ``efa sync``, ``efa status``,
``efa history``, ``efa explain``, ``efa areas import``, ``efa ids``, ``efa plugins`` and
``efa new connector`` take their labels, stage names, dates and numbers from here:

* :class:`Text` is one message in both languages; :class:`M` names every message (a typo
  in ``M.FUNNEL`` is a mypy error, a missing language a :class:`TypeError` on import);
* :data:`STAGE_NAMES`, :data:`AGREEMENT_NAMES` and :data:`SEVERITY_NAMES` give the
  vocabulary: the stages in the words the OZG-Dashboard (``online``) and the reuse
  registries (*Interessenbekundung*, *Vertrag geschlossen*, *gekündigt*) use;
* :class:`Translator` picks one language and formats dates (``01.03.2024``; English
  ``2024-03-01``) and numbers (``1.234``; English ``1,234``);
* a :class:`Message` is a :class:`Text` with the values of its placeholders
  (:meth:`Text.fill`), rendered later in either language (:meth:`Translator.render`): a
  finding, a cost share and a plan forecast keep one, so their sentence is shown in the
  reader's language with localised dates, numbers and names, while its English rendering
  is the stable text of JSON output (``message``, ``basis``, ``reason``).

The choice of a small typed table over gettext/Babel: two languages and about a hundred
messages that ship with the code; no ``.po``/``.mo`` build step, no extra dependency, and
mypy checks every message name at its use.  Date and number formats are two fixed
patterns, so no locale library is needed either.

Machine formats (CSV, JSON, ``--json``) keep the stable English values (``contracted``),
whatever the language.

Choose the language with ``--lang de|en``, ``$EFA_LANG``, or ``[report] lang`` in
``efa.toml`` (in that order); the default is German.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Mapping
from typing import Final, Literal

import attrs

from efa_core.model import AgreementState, Stage, WaveKind

__all__ = [
    "AGREEMENT_NAMES",
    "DEFAULT_LANG",
    "FIELD_NAMES",
    "ITEM_STATE_NAMES",
    "LANGS",
    "LANG_ENV_VAR",
    "OPERATION_NAMES",
    "RECORD_KIND_NAMES",
    "ROLE_NAMES",
    "ROW_FLAG_NAMES",
    "RUN_MODE_NAMES",
    "RUN_STATUS_NAMES",
    "SEVERITY_NAMES",
    "STAGE_NAMES",
    "VIA_NAMES",
    "WAVE_KIND_NAMES",
    "Lang",
    "M",
    "Message",
    "Text",
    "Translator",
    "translator",
]

#: A language of the catalogue.
Lang = Literal["de", "en"]
#: The languages, the default first.
LANGS: Final[tuple[Lang, ...]] = ("de", "en")
#: The language when none is chosen: the report's readers are German administration.
DEFAULT_LANG: Final[Lang] = "de"
#: The environment variable that chooses the language (``--lang`` wins over it).
LANG_ENV_VAR: Final = "EFA_LANG"


@attrs.frozen
class Text:
    """One message in German and English; ``{name}`` placeholders are filled on use."""

    #: The German text.
    de: str
    #: The English text.
    en: str

    def get(self, lang: Lang) -> str:
        """Return the text (with its placeholders) in *lang*."""
        return self.de if lang == "de" else self.en

    def fill(self, **values: object) -> Message:
        """Return this text with *values* for its placeholders, to render in any language.

        Each value is rendered by its type (see :meth:`Translator.render`).
        """
        return Message(self, tuple(values.items()))


@attrs.frozen
class Message:
    """A :class:`Text` with the values of its placeholders: one sentence in both languages.

    Build one with :meth:`Text.fill`; render it with :meth:`Translator.render`.
    ``str()`` is the English rendering.
    """

    #: The text, with ``{name}`` placeholders (``{name!r}`` quotes the rendered value).
    text: Text
    #: ``(name, value)`` for each placeholder.
    values: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        return _ENGLISH.render(self)


class M:
    """The messages, by name (a namespace; never instantiated)."""

    # every reading command, on an empty store
    EMPTY_STORE = Text(
        de="der Speicher {store} enthält noch keine Daten; {next}",
        en="the store {store} holds no data yet; {next}",
    )
    NEXT_STEPS = Text(
        de="zum Ausprobieren `efa demo` und dann `cd efa-demo` ausführen; für eigene Daten "
        "Quellen in efa.toml eintragen, dann `efa areas import DATEI` und `efa sync` ausführen",
        en="to try efa-core run `efa demo` and then `cd efa-demo`; for your own data configure "
        "sources in efa.toml, then run `efa areas import FILE` and `efa sync`",
    )

    # the report page
    GENERATED = Text(
        de="Erstellt am {at} aus {store} mit efa-core {version}.",
        en="Generated {at} from {store} by efa-core {version}.",
    )
    ALL_AREAS = Text(de="alle Gebiete und Dienste", en="all areas and services")
    FILTER_LAND = Text(de="Land {name} ({code})", en="Land {name} ({code})")
    FILTER_KREIS = Text(de="Kreis {label}", en="Kreis {label}")
    FILTER_SERVICES = Text(de="Dienste {keys}", en="services {keys}")
    FILTER_STAGES = Text(de="Zeilen im Stand {stages}", en="rows at {stages}")
    COUNTS = Text(
        de="{services} Dienste, {rows} Zeilen, {findings} Befunde",
        en="{services} services, {rows} rows, {findings} findings",
    )
    FUNNEL = Text(de="Rollout-Trichter", en="Rollout funnel")
    FUNNEL_NOTE = Text(
        de="Paare aus Dienst × Gemeinde, die den Stand mindestens erreicht haben "
        "(gekündigt: genau).",
        en="Service × Gemeinde pairs that reached each stage (terminated: exactly).",
    )
    FUNNEL_CHART = Text(
        de="Rollout-Trichter: Paare aus Dienst × Gemeinde, die jeden Stand erreicht haben",
        en="Rollout funnel: service × Gemeinde pairs that reached each stage",
    )
    PER_KREIS = Text(de="Stand je Kreis", en="Stages per Kreis")
    PER_KREIS_CHART = Text(
        de="Stand je Kreis: Paare aus Dienst × Gemeinde in jedem Stand",
        en="Stages per Kreis: service × Gemeinde pairs at each stage",
    )
    PER_LAND = Text(de="Stand je Land", en="Stages per Land")
    PER_LAND_CHART = Text(
        de="Stand je Land: Paare aus Dienst × Gemeinde in jedem Stand",
        en="Stages per Land: service × Gemeinde pairs at each stage",
    )
    PER_KREIS_BAR = Text(de="{name}: {n} × {stage}", en="{name}: {n} × {stage}")
    PER_KREIS_LIVE = Text(de="online {live}/{total}", en="live {live}/{total}")
    NO_GEMEINDEN = Text(
        de="Keine Gemeinden in diesem Gebiet bekannt (Gemeindeverzeichnis importieren).",
        en="No Gemeinden known in this area (import a register).",
    )
    OVER_TIME = Text(de="Stand im Zeitverlauf", en="Stages over time")
    OVER_TIME_CHART = Text(
        de="Stand im Zeitverlauf: Paare aus Dienst × Gemeinde, die jeden Stand erreicht hatten",
        en="Stages over time: service × Gemeinde pairs that had reached each stage",
    )
    OVER_TIME_POINT = Text(
        de="{date}: {n} × {stage} oder weiter", en="{date}: {n} × {stage} or further"
    )
    NO_TIMELINE = Text(
        de="Kein Zeitverlauf (noch nichts synchronisiert, oder nicht angefordert).",
        en="No timeline (nothing synced yet, or not asked for).",
    )
    CLOCK = Text(de="Zeitachse: {clock}.", en="Clock: {clock}.")
    CLOCK_HISTORY = Text(
        de="was efa-core zu jedem Datum wusste (Historie des Speichers)",
        en="what efa-core knew at each date (store history)",
    )
    CLOCK_SOURCE = Text(
        de="die Daten der Quellen (Vertragsdaten, Änderungsdaten; sonst wann efa-core einen "
        "Datensatz zuerst sah)",
        en="the dates the sources give (contract dates, modification dates; else when "
        "efa-core first saw a record)",
    )
    SERVICES = Text(de="Dienste", en="Services")
    FINDINGS_N = Text(de="Befunde ({n})", en="Findings ({n})")
    ROWS_N = Text(de="Rollout-Zeilen ({n})", en="Rollout rows ({n})")
    NONE = Text(de="Keine.", en="None.")
    MORE_ROWS = Text(
        de="{shown} von {total} Zeilen aufgeführt; alle: --format csv oder --format json.",
        en="{shown} of {total} rows listed; all of them: --format csv or --format json.",
    )
    MORE_FINDINGS = Text(
        de="{shown} von {total} Befunden aufgeführt; alle: --format json.",
        en="{shown} of {total} findings listed; all of them: --format json.",
    )
    NO_DETAIL = Text(
        de="Deutschland insgesamt: nur Übersichten, Befunde gezählt. Die Einzelheiten eines "
        "Gebiets: --land, --kreis oder --service; alle Zeilen: --format csv.",
        en="Germany as a whole: summaries only, findings counted. The detail of a scope: "
        "--land, --kreis or --service; every row: --format csv.",
    )
    NO_FINDINGS = Text(de="keine Befunde", en="no findings")
    MARK_OFFLINE = Text(de="Dashboard: offline", en="dashboard: offline")
    OFFLINE = Text(de="(offline)", en="(offline)")
    SINCE = Text(de="seit {date}", en="since {date}")
    CONTRARY = Text(de="widersprechend", en="contrary")
    DATE_UNKNOWN = Text(de="{state} (Datum unbekannt)", en="{state} (date unknown)")
    STATE_SINCE = Text(de="{state} seit {date}", en="{state} since {date}")
    NOTE = Text(de="Notiz: {text} ({source})", en="note: {text} ({source})")
    AMBIGUOUS_ANY = Text(de="mehrdeutig, eines von {offers}", en="ambiguous, any of {offers}")
    MARK_OTHER = Text(de="andere Lösung im Einsatz", en="another solution in use")
    MARK_AMBIGUOUS = Text(de="mehrdeutige Belege", en="ambiguous evidence")
    MARK_DISAGREE = Text(de="Quellen widersprechen sich", en="sources disagree")
    SHORT_OTHER = Text(de="(andere Lösung)", en="(another solution)")
    SHORT_AMBIGUOUS = Text(de="(mehrdeutig)", en="(ambiguous)")
    NOTE_SOURCE = Text(de="Notiz: {text}", en="note: {text}")
    NOT_AVAILABLE = Text(de="nicht verfügbar", en="not available")
    ROLLOUT_TABLE = Text(
        de="{title}: Stand je Dienst × Gebiet", en="{title}: stage per service × area"
    )

    # plan vs actual
    PLAN_TITLE = Text(
        de="Plan {key}: {name} (Stand {today})", en="Plan {key}: {name} (as of {today})"
    )
    PLAN_VS_ACTUAL = Text(de="Plan und Ist: {name}", en="Plan vs actual: {name}")
    PLAN_AS_OF = Text(
        de="Stand {today}. Prognose insgesamt: {forecast}.",
        en="As of {today}. Overall forecast: {forecast}.",
    )
    WAVE_KIND = Text(de="{name} ({kind})", en="{name} ({kind})")
    WAVE_STICHTAG = Text(de="Stichtag {date}", en="Stichtag {date}")
    WAVE_TARGET = Text(de="Ziel Go-Live {date}", en="target go-live {date}")
    WAVE_PASSED = Text(de=" – überschritten", en=" – passed")
    FORECAST_COMPLETE = Text(de="abgeschlossen", en="complete")
    FORECAST_NONE = Text(de="keine Prognose: {reason}", en="no forecast: {reason}")
    FORECAST_AT = Text(de="{date} bei {pace} Go-Lives/Woche", en="{date} at {pace} go-lives/week")
    FORECAST_LINE = Text(de="  Prognose: {text}", en="  forecast: {text}")
    BLOCKERS_LINE = Text(de="  Hindernisse: {items}", en="  blockers: {items}")
    BEHIND_LINE = Text(de="  im Verzug: {items}", en="  behind: {items}")
    AND_MORE = Text(de=" und {n} weitere", en=" and {n} more")
    OUTSIDE_LINE = Text(de="außerhalb des Plans: {items}", en="outside the plan: {items}")
    OUTSIDE_PARA = Text(de="Außerhalb des Plans: {items}", en="Outside the plan: {items}")
    BLOCKERS_PARA = Text(de="Hindernisse: {items}", en="Blockers: {items}")
    BLOCKER = Text(
        de="{label} (als Nächstes für {next}, offen in {open})",
        en="{label} (next for {next}, open in {open})",
    )
    ALL_SERVICES = Text(de="alle Dienste", en="all services")
    NO_MUNICIPALITIES = Text(de="Keine Gemeinden.", en="No municipalities.")
    MORE_IN_CSV = Text(de="{n} weitere Zeilen im CSV.", en="{n} more rows in the CSV.")
    BURNUP_LABEL = Text(de="Burn-up-Diagramm der Welle {name}", en="burn-up chart of wave {name}")
    COL_TARGET = Text(de="Ziel", en="Target")
    LEGEND_TARGET = Text(de="Ziel", en="target")
    COL_CHECKLIST = Text(de="Checkliste", en="Checklist")
    COL_BEHIND = Text(de="im Verzug", en="Behind")
    COL_FORECAST = Text(de="Prognose", en="Forecast")
    COL_MUNICIPALITY = Text(de="Gemeinde", en="Municipality")

    # column headings
    COL_SERVICE = Text(de="Dienst", en="Service")
    COL_NAME = Text(de="Name", en="Name")
    COL_LEIKA = Text(de="Leistungsschlüssel", en="LeiKa keys")
    COL_GEMEINDEN = Text(de="Gemeinden", en="Gemeinden")
    COL_POPULATION = Text(de="Einwohner", en="Population")
    COL_AT_LEAST = Text(de="≥ {stage}", en="≥ {stage}")
    COL_COVERAGE_LIVE = Text(de="Abdeckung (online)", en="Coverage (live)")
    COL_COVERAGE = Text(de="Abdeckung", en="Coverage")
    COL_SEVERITY = Text(de="Schwere", en="Severity")
    COL_RULE = Text(de="Regel", en="Rule")
    COL_FINDINGS = Text(de="Befunde", en="Findings")
    COL_AREA = Text(de="Gebiet", en="Area")
    COL_MESSAGE = Text(de="Meldung", en="Message")
    COL_EVIDENCE = Text(de="Belege", en="Evidence")
    COL_STAGE = Text(de="Stand", en="Stage")
    COL_AGREEMENT = Text(de="Vereinbarung", en="Agreement")
    COL_OTHER = Text(de="andere Lösung", en="Other")
    COL_AMBIGUOUS = Text(de="mehrdeutig", en="Ambiguous")
    COL_PAYER = Text(de="Zahler", en="Payer")
    COL_SHARE = Text(de="Anteil", en="Share")
    COL_BASIS = Text(de="Grundlage", en="Basis")
    COL_ANOTHER_SOLUTION = Text(de="andere Lösung", en="another solution")
    COL_AMBIGUOUS_LOWER = Text(de="mehrdeutig", en="ambiguous")

    # the findings of the built-in rules (the English text is each finding's stable message)
    EITHER = Text(de="{a} oder {b}", en="{a} or {b}")
    LIVE_WITHOUT_AGREEMENT = Text(
        de="{service} ist in {area} online, aber {state}",
        en="{service} is live in {area} but {state}",
    )
    NO_AGREEMENT = Text(de="es gibt keine Vereinbarung", en="no agreement")
    AGREEMENT_IS = Text(de="die Vereinbarung ist {state}", en="the agreement is {state}")
    CONTRACTED_NOT_PUBLISHED = Text(
        de="{service}: {area} hat vor {age} Tagen einen Vertrag geschlossen (seit {since}), "
        "aber keine Zuständigkeit dafür ist veröffentlicht (Grenze {days} Tage)",
        en="{service}: {area} contracted {age} days ago (since {since}) but no responsibility "
        "is published for it (limit {days} days)",
    )
    PUBLISHED_WITHOUT_ROUTE = Text(
        de="{service} ist für {area} veröffentlicht, hat aber keinen FIT-Connect-Zustellpunkt",
        en="{service} is published for {area} but has no FIT-Connect route",
    )
    DASHBOARD_OFFLINE = Text(
        de="laut OZG-Dashboard ist {service} in {area} offline",
        en="the OZG-Dashboard says {service} is offline in {area}",
    )
    UNKNOWN_ONLINE_SERVICE = Text(
        de="Zuständigkeit {key!r} ({source}) in {area} verweist auf den Onlinedienst "
        "{target!r}, den kein Dienst hat ({use}); gehört er zu {service}, in efa.toml unter "
        "[identity.onlinedienste] eintragen",
        en="responsibility {key!r} ({source}) in {area} points to the Onlinedienst {target!r}, "
        "which no service has ({use}); if it is {service}'s, add it to "
        "[identity.onlinedienste] in efa.toml",
    )
    USE_OTHER_SOLUTION = Text(
        de="dort ist eine andere Lösung im Einsatz", en="another solution is in use there"
    )
    USE_LEIKA_ONLY = Text(
        de="für {service} allein über den Leistungsschlüssel gezählt",
        en="counted for {service} by its LeiKa key alone",
    )
    UNKNOWN_AREA = Text(de="{service}: ARS {area} {reason}", en="{service}: ARS {area} {reason}")
    AREA_REMOVED = Text(
        de="wurde aus dem Gemeindeverzeichnis entfernt (zuletzt gesehen {date}; "
        "zusammengelegt oder aufgelöst?)",
        en="was removed from the register (last seen {date}; merged or dissolved?)",
    )
    AREA_NOT_IN_REGISTER = Text(de="ist nicht im Gemeindeverzeichnis", en="is not in the register")
    AMBIGUOUS_EVIDENCE = Text(
        de="Belege ({n}: {kinds}) in {area} könnten zu jedem von {candidates} gehören; "
        "keiner wird für {service} gezählt (den Onlinedienst oder die URL jedes Angebots "
        "angeben, um sie zuzuordnen)",
        en="{n} record(s) ({kinds}) in {area} could be evidence for any of {candidates}; "
        "none is counted for {service} (name the Onlinedienst or URL of each offer to place "
        "them)",
    )
    ATTRIBUTES_DISAGREE = Text(
        de="{service}: die Datensätze widersprechen sich beim Feld {field}: {values}; es gilt "
        "{value!r} von {source} (Vorrang der Quelle, dann der jüngste)",
        en="{service}: the records disagree on the {field}: {values}; {value!r} of {source} "
        "governs (source priority, then the most recent)",
    )
    AGREEMENTS_DISAGREE = Text(
        de="{service} in {area}: {says}; es gilt {state!r} von {source} (Vorrang der Quelle, "
        "dann das jüngste Datum)",
        en="{service} in {area}: {says}; {state!r} of {source} governs (source priority, "
        "then the most recent date)",
    )
    SOURCE_SAYS = Text(de="{source} meldet {detail}", en="{source} says {detail}")
    UNRESOLVED_AREA = Text(
        de="{area} endet auf Nullen: eine Gemeinde oder das Gebiet {readings}, mit Nullen "
        "aufgefüllt; zur Entscheidung das Gemeindeverzeichnis importieren (efa areas import)",
        en="{area} ends in zeros: it is a Gemeinde or the area {readings} written zero-filled; "
        "import the register (efa areas import) to decide",
    )

    # the findings of the planning rules
    BEHIND_TARGET = Text(
        de="{service}: {where} steht bei „{stage}“, nicht online; Welle {wave!r} des Plans "
        "{plan!r} sollte bis {target} online sein (vor {days} Tagen)",
        en="{service}: {where} is {stage}, not live; wave {wave!r} of plan {plan!r} was to be "
        "live by {target} ({days} days ago)",
    )
    STALLED_ONBOARDING = Text(
        de="{service}: das Onboarding in {where} ruht seit {idle} Tagen (letzte Änderung "
        "{last}, Grenze {days}){step}",
        en="{service}: onboarding in {where} has not moved for {idle} days (last change "
        "{last}, limit {days}){step}",
    )
    NEXT_STEP = Text(de="; als Nächstes: {label}", en="; next: {label}")
    PILOT_WITHOUT_UPTAKE = Text(
        de="{service}: Pilotkommune {where} der Welle {wave!r} zeigt seit dem Stichtag "
        "{stichtag} keine Aufnahme (keine eigene Vereinbarung, nichts veröffentlicht, kein "
        "Punkt der Checkliste erfasst)",
        en="{service}: pilot municipality {where} of wave {wave!r} shows no uptake since the "
        "Stichtag {stichtag} (no agreement of its own, nothing published, no checklist item "
        "recorded)",
    )
    LIVE_BEFORE_CONTRACT = Text(
        de="{service} ist in {where} online, aber {why}",
        en="{service} is live in {where}, but {why}",
    )
    ONLY_INTEREST = Text(
        de="die Vereinbarung steht erst bei „{state}“", en="the agreement is only {state}"
    )
    LIVE_BEFORE = Text(
        de="der Vertrag wurde erst am {contracted} geschlossen, nach dem Go-Live am {live}",
        en="it went live on {live} but was contracted on {contracted}",
    )
    CONTRADICTED_TICK = Text(
        de="{service}: {item!r} in {where} wurde{who}{when} abgehakt (Plan {plan!r}), aber {why}",
        en="{service}: {item!r} in {where} was ticked{who}{when} (plan {plan!r}), but {why}",
    )
    TICKED_BY = Text(de=" von {by}", en=" by {by}")
    TICKED_ON = Text(de=" am {on}", en=" on {on}")
    OUTSIDE_PLAN = Text(
        de="{service} steht in {where} bei „{stage}“, doch keine Welle des Plans {plan!r} "
        "zielt auf dieses Gebiet",
        en="{service} is {stage} in {where}, which no wave of plan {plan!r} targets",
    )
    TARGET_NOT_IN_REGISTER = Text(
        de="Welle {wave!r} des Plans {plan!r} zielt auf {area}, {reason}",
        en="wave {wave!r} of plan {plan!r} targets {area}, which {reason}",
    )
    TARGET_REMOVED = Text(
        de="das aus dem Gemeindeverzeichnis entfernt wurde (zuletzt gesehen {date}; "
        "zusammengelegt?)",
        en="was removed from the register (last seen {date}; merged?)",
    )
    TARGET_UNKNOWN = Text(de="das nicht im Gemeindeverzeichnis steht", en="is not in the register")

    # why a plan or wave has no forecast (the English text is the stable ``reason``)
    NO_GOLIVE_IN_WINDOW = Text(
        de="kein Go-Live in den letzten {days} Tagen", en="no go-live in the last {days} days"
    )
    GOLIVES_ON_ONE_DAY = Text(
        de="Go-Lives an weniger als zwei Tagen in den letzten {days} Tagen",
        en="go-lives on fewer than two days in the last {days} days",
    )
    NO_PROGRESS = Text(de="kein Fortschritt gemessen", en="no progress measured")

    # the basis of a cost share (the English text is the stable ``basis``)
    BASIS_KOENIGSTEINER = Text(
        de="Königsteiner Schlüssel {year} ({status}): {percent} %",
        en="Königsteiner Schlüssel {year} ({status}): {percent} %",
    )
    BASIS_POPULATION = Text(de="Einwohner {n}", en="population {n}")
    BASIS_LAND_PAYS = Text(
        de="Einwohner {n} (das Land zahlt für seine Kommunen)",
        en="population {n} (the Land pays for its Kommunen)",
    )
    BASIS_USES = Text(de="{n} Nutzungen", en="{n} uses")
    BASIS_BUND = Text(de="IT-PLR 2023/35: 25 % Bund", en="IT-PLR 2023/35: 25 % Bund")
    BASIS_FITKO = Text(de="IT-PLR 2023/35: {parts}", en="IT-PLR 2023/35: {parts}")
    BASIS_FITKO_BOTH = Text(de="{reusing} + {everyone}", en="{reusing} + {everyone}")
    BASIS_FITKO_REUSING = Text(de="50 % × {percent} % ({how})", en="50 % × {percent} % ({how})")
    BASIS_FITKO_EVERYONE = Text(
        de="25 % × {percent} % (Königsteiner Schlüssel {year}, {status})",
        en="25 % × {percent} % (Königsteiner Schlüssel {year}, {status})",
    )
    AMONG_KOENIGSTEINER = Text(
        de="Königsteiner Schlüssel unter den nachnutzenden Ländern",
        en="Königsteiner Schlüssel among the reusing Länder",
    )
    AMONG_EQUAL = Text(
        de="zu gleichen Teilen unter den nachnutzenden Ländern",
        en="equal parts among the reusing Länder",
    )
    AMONG_USES = Text(
        de="Nutzungen unter den nachnutzenden Ländern", en="uses among the reusing Länder"
    )
    KEY_HISTORICAL = Text(de="historisch", en="historical")

    # efa sync, efa status, efa history, efa explain
    COL_SOURCE = Text(de="Quelle", en="Source")
    COL_STATUS = Text(de="Status", en="Status")
    COL_ADDED = Text(de="neu", en="Added")
    COL_CHANGED = Text(de="geändert", en="Changed")
    COL_UNCHANGED = Text(de="unverändert", en="Unchanged")
    COL_DELETED = Text(de="gelöscht", en="Deleted")
    COL_ORPHANS = Text(de="verwaist", en="Orphans")
    COL_QUARANTINED = Text(de="Quarantäne", en="Quarantined")
    COL_SKIPPED = Text(de="übersprungen", en="Skipped")
    COL_SECONDS = Text(de="Sekunden", en="Seconds")
    COL_MODE = Text(de="Modus", en="Mode")
    COL_LAST_RUN = Text(de="letzter Lauf", en="Last run")
    COL_CHANGES = Text(de="Änderungen", en="Changes")
    COL_RECORDS = Text(de="Datensätze", en="Records")
    COL_CURSOR = Text(de="Cursor", en="Cursor")
    COL_CHANGED_AT = Text(de="geändert am", en="Changed at")
    COL_KIND = Text(de="Art", en="Kind")
    COL_KEY = Text(de="Schlüssel", en="Key")
    COL_OP = Text(de="Vorgang", en="Op")
    COL_CONTENT = Text(de="Inhalt", en="Content")
    COL_RUN = Text(de="Lauf", en="Run")
    COL_DETAILS = Text(de="Einzelheiten", en="Details")
    COL_ROLE = Text(de="Rolle", en="Role")
    COL_VIA = Text(de="über", en="Via")
    COL_DATE = Text(de="Datum", en="Date")
    COL_DETAIL = Text(de="Detail", en="Detail")
    NEVER = Text(de="nie", en="never")
    QUARANTINED_TOTAL = Text(de="{n} (insgesamt {total})", en="{n} (total {total})")
    SNAPSHOT_RUNNING = Text(de=" (Vollabzug läuft)", en=" (snapshot in progress)")
    SNAPSHOT_OPEN = Text(
        de=" (Vollabzug offen: der nächste Sync setzt ihn fort)",
        en=" (snapshot open: the next sync resumes it)",
    )
    STORE_AT = Text(de="Speicher: {url}", en="store: {url}")
    SOURCE_ERROR = Text(de="{source}: {error}", en="{source}: {error}")
    SOURCE_WARNING = Text(de="{source}: Warnung: {warning}", en="{source}: warning: {warning}")
    SKIPPED_LINE = Text(
        de="{source}: {n} × {kind} übersprungen: {reason}{where}",
        en="{source}: skipped {n} {kind}: {reason}{where}",
    )
    FIRST_AT = Text(de=" (zuerst bei {position})", en=" (first at {position})")
    NOTHING_WOULD_CHANGE = Text(
        de="{source}: nichts würde sich ändern", en="{source}: nothing would change"
    )
    PLAN_COUNTS = Text(
        de="{source}/{kind}: +{added} neu, ~{changed} geändert, -{deleted} gelöscht",
        en="{source}/{kind}: +{added} added, ~{changed} changed, -{deleted} deleted",
    )
    DRY_RUN = Text(de="Probelauf: nichts wurde geschrieben", en="dry run: nothing was written")
    NOTHING_IN_QUARANTINE = Text(de="nichts in Quarantäne", en="nothing in quarantine")
    QUARANTINE_ENTRY = Text(
        de="{source} {position} ({kind}), {at}:", en="{source} {position} ({kind}), {at}:"
    )
    UNKNOWN_KIND = Text(de="Art unbekannt", en="unknown kind")
    RAW = Text(de="  Rohdaten: {raw}", en="  raw: {raw}")
    NO_HISTORY = Text(de="keine Historie für {key!r}", en="no history for {key!r}")
    EXPLAIN_SERVICE = Text(de="Dienst {key}: {name}", en="service {key}: {name}")
    EXPLAIN_RECORDS = Text(de="Datensätze:", en="records:")
    EXPLAIN_IDS = Text(de="Kennungen: {ids}", en="ids: {ids}")
    EXPLAIN_ONLINEDIENSTE = Text(de="Onlinedienste: {ids}", en="Onlinedienste: {ids}")
    EXPLAIN_URLS = Text(de="URLs: {urls}", en="URLs: {urls}")
    EXPLAIN_LEIKA = Text(de="Leistungsschlüssel: {keys}", en="LeiKa keys: {keys}")
    EXPLAIN_OZG = Text(de="OZG-IDs: {ids}", en="OZG ids: {ids}")
    EXPLAIN_JOINED = Text(de="zusammengeführt, weil:", en="joined because:")
    EXPLAIN_NOT_JOINED = Text(de="nicht zusammengeführt:", en="not joined:")
    EXPLAIN_ATTRIBUTES = Text(de="Merkmale: {items}", en="attributes: {items}")
    ATTRIBUTE_LAND = Text(de="Land {value}", en="Land {value}")
    ATTRIBUTE_OPERATOR = Text(de="Betreiber {value}", en="operator {value}")
    ATTRIBUTE_URL = Text(de="URL {value}", en="URL {value}")
    EXPLAIN_DISAGREE = Text(
        de="Quellen widersprechen sich beim Feld {field}: {values}",
        en="sources disagree on the {field}: {values}",
    )
    EXPLAIN_NO_ROW = Text(
        de="{service} hat keine Zeile für {area}; der Stand dort ist {stage} (aus dem nächsten "
        "umfassenden Gebiet, sonst angeboten)",
        en="{service} has no row at {area}; its stage there is {stage} (from the nearest "
        "containing area, else offered)",
    )
    EXPLAIN_ROW = Text(
        de="{service} in {area}: {stage} (Vereinbarung {state}; {flags})",
        en="{service} in {area}: {stage} (agreement {state}; {flags})",
    )
    NO_FLAGS = Text(de="keine Merkmale", en="no flags")
    DATE_UNKNOWN_SHORT = Text(de="Datum unbekannt", en="date unknown")

    # efa areas import
    AREAS_IMPORTED = Text(
        de="{source}: {added} neu, {changed} geändert, {unchanged} unverändert, {deleted} gelöscht",
        en="{source}: {added} added, {changed} changed, {unchanged} unchanged, {deleted} deleted",
    )

    # efa plugins
    COL_VERSION = Text(de="Version", en="Version")
    COL_DISTRIBUTION = Text(de="Paket", en="Distribution")
    COL_REGISTERS = Text(de="registriert", en="Registers")
    COL_HOOKS = Text(de="Hooks", en="Hooks")
    REGISTERS_CONNECTORS = Text(de="Konnektortypen: {names}", en="connector types: {names}")
    REGISTERS_RULES = Text(de="Befundregeln: {names}", en="finding rules: {names}")
    REGISTERS_COSTS = Text(de="Kostenstrategien: {names}", en="cost strategies: {names}")
    REGISTERS_WRITERS = Text(
        de="Schreiber von Zuständigkeiten: {names}", en="responsibility writers: {names}"
    )
    BUNDLED = Text(de=" (mitgeliefert)", en=" (bundled)")
    NO_PLUGINS = Text(de="Keine Plugins installiert.", en="No plugins installed.")
    NO_PLUGINS_HINT = Text(
        de="Keine Plugins installiert (--all zeigt auch die mitgelieferten).",
        en="No plugins installed (use --all to include the bundled plugins).",
    )

    # efa new connector
    NEW_CREATED = Text(
        de="{target}/ angelegt ({n} Dateien): der Konnektortyp {name!r}",
        en="created {target}/ ({n} files): the connector type {name!r}",
    )
    NEW_NEXT = Text(de="weiter:   {command}", en="next:   {command}")

    # efa ids
    IDS_LEIKA = Text(de="Leistungsschlüssel{federal}", en="LeiKa key{federal}")
    IDS_FEDERAL = Text(de=" (Bund, 99er)", en=" (federal, 99er)")
    IDS_NOT_FEDERAL = Text(de=" (nicht Bund)", en=" (not federal)")
    IDS_ARS = Text(
        de="ARS der Ebene {level} im Land {code} {name}{ambiguous}",
        en="{level}-level ARS in Land {code} {name}{ambiguous}",
    )
    IDS_AGS = Text(
        de="AGS der Ebene {level} im Land {code} {name}{ambiguous}",
        en="{level}-level AGS in Land {code} {name}{ambiguous}",
    )
    IDS_AMBIGUOUS = Text(de=" (mehrdeutig)", en=" (ambiguous)")
    IDS_LAND = Text(
        de="Land {code} {name} ({abbreviation})", en="Land {code} {name} ({abbreviation})"
    )
    IDS_OZG = Text(de="OZG-ID {value} (eine OZG-Leistung)", en="OZG-ID {value} (an OZG-Leistung)")
    IDS_NO_RB = Text(
        de="Stelle 3 ist 0 und nennt keinen Regierungsbezirk, also ist das kein echtes Gebiet",
        en="position 3 is 0, which names no Regierungsbezirk, so this is no real area",
    )
    IDS_VERBAND_NO_AGS = Text(
        de="ein Gemeindeverband hat keinen AGS", en="a Gemeindeverband has no AGS"
    )
    IDS_ARS_READINGS = Text(
        de="mehrdeutig: kann aufgefüllt sein (eine kreisfreie Stadt ist ihre eigene Gemeinde); "
        "Lesarten: {readings}",
        en="ambiguous: may be zero-filled (a kreisfreie Stadt is its own Gemeinde); "
        "readings: {readings}",
    )
    IDS_AGS_READINGS = Text(
        de="mehrdeutig: kann aufgefüllt sein; Lesarten: {readings}",
        en="ambiguous: may be zero-filled; readings: {readings}",
    )
    IDS_MAYBE_OZG = Text(
        de="5 Ziffern können auch eine OZG-ID sein; --as ozg liest sie als solche",
        en="5 digits can also be an OZG-ID; use --as ozg to read it as one",
    )
    IDS_AGS_NO_VERBAND = Text(
        de="der ARS braucht den 4-stelligen Gemeindeverbandsteil (Stellen 6-9), "
        "den ein AGS nicht enthält",
        en="the ARS needs the 4-digit Gemeindeverband part (positions 6-9), "
        "which an AGS does not carry",
    )
    IDS_OZG_NO_URN = Text(
        de="für OZG-IDs ist keine URN veröffentlicht", en="OZG-IDs have no published URN"
    )
    IDS_PARTS = Text(de="Teile", en="parts")
    IDS_FEDERAL_LABEL = Text(de="Bund", en="federal")
    IDS_PARENT = Text(de="übergeordnet", en="parent")
    IDS_PADDED = Text(de="aufgefüllt", en="zero-filled")
    IDS_NOTE = Text(de="Hinweis", en="note")
    IDS_YES = Text(de="ja", en="yes")
    IDS_NO = Text(de="nein", en="no")
    IDS_NONE = Text(de="keiner", en="none")
    IDS_NO_RB_VALUE = Text(de="keiner (Stelle 3 ist 0)", en="none (position 3 is 0)")

    # efa plan show
    SHOW_PLAN = Text(de="Plan {key}: {name} ({land})", en="plan {key}: {name} ({land})")
    SHOW_SOURCE = Text(
        de="  Quelle: {source}; Planungsträger: {body}; Finanzierung: {financing}",
        en="  source: {source}; planning body: {body}; financing: {financing}",
    )
    SHOW_SERVICE = Text(de="  Dienst {key}{extras}", en="  service {key}{extras}")
    SHOW_FEES = Text(de="Gebühren", en="fees")
    SHOW_CHECKLIST = Text(de="    Checkliste: {items}", en="    checklist: {items}")
    SHOW_WAVE = Text(de="  Welle {name} ({kind}){when}", en="  wave {name} ({kind}){when}")
    SHOW_WAVE_TARGET = Text(de="Ziel Go-Live {date}", en="target go-live {date}")
    SHOW_TARGETS = Text(de="    Ziele: {items}", en="    targets: {items}")
    SHOW_SERVICES = Text(de="    Dienste: {items}", en="    services: {items}")
    SHOW_RECORDED = Text(
        de="  {n} Punkte der Checkliste von Hand erfasst",
        en="  {n} checklist items recorded by hand",
    )

    # efa demo's summary
    DEMO_SYNCED = Text(
        de="{source} synchronisiert: {added} neu, {quarantined} in Quarantäne",
        en="synced {source}: {added} added, {quarantined} quarantined",
    )
    DEMO_STORE = Text(de="Speicher: {url}", en="store:  {url}")
    DEMO_REPORT = Text(de="Bericht:  {path}", en="report: {path}")
    DEMO_NEXT = Text(
        de="weiter:   {cd}efa report    (oder efa findings, efa coverage MP-101, efa status)",
        en="next:   {cd}efa report    (or efa findings, efa coverage MP-101, efa status)",
    )
    DEMO_PASSWORD = Text(
        de="          {file} nennt das Passwort als ${{PGPASSWORD}}: in der Umgebung setzen",
        en="        {file} names the password as ${{PGPASSWORD}}: set it in the environment",
    )
    DEMO_ENV_WINS = Text(
        de="          ${var} ist gesetzt und geht dem Speicher aus {file} vor: dort "
        "zurücksetzen oder --db angeben",
        en="        ${var} is set and wins over the store of {file}: unset it there, or pass --db",
    )

    # why the sources contradict a checklist item ticked by hand
    NO_AGREEMENT_COVERS = Text(
        de="keine Vereinbarung deckt {ars} ab", en="no agreement covers {ars}"
    )
    NO_CONTRACT_COVERS = Text(de="kein Vertrag deckt {ars} ab", en="no contract covers {ars}")
    NO_RESPONSIBILITY_COVERS = Text(
        de="keine Zuständigkeit des Dienstes deckt {ars} ab",
        en="no Zuständigkeit of the service covers {ars}",
    )
    NO_ROUTE_FOR = Text(
        de="für {ars} gibt es keinen FIT-Connect-Zustellpunkt",
        en="no FIT-Connect route exists for {ars}",
    )
    NOT_ONLINE_IN = Text(
        de="das OZG-Dashboard zeigt ihn in {ars} nicht online",
        en="the OZG-Dashboard does not show it online in {ars}",
    )
    AGREEMENT_NOT_CONTRACT = Text(
        de="die Vereinbarung steht bei „{state}“, ein Vertrag fehlt",
        en="the agreement is {state}, not contracted",
    )
    INTEREST_WITHDRAWN = Text(
        de="die Interessenbekundung wurde zurückgezogen", en="the interest was withdrawn"
    )
    INTEREST_DECLINED = Text(
        de="die Interessenbekundung wurde abgelehnt", en="the interest was declined"
    )
    CONTRACT_TERMINATED = Text(de="der Vertrag wurde gekündigt", en="the contract was terminated")
    DASHBOARD_SAYS_OFFLINE = Text(
        de="laut OZG-Dashboard ist er offline", en="the OZG-Dashboard says it is offline"
    )
    OTHER_RESPONSIBILITY = Text(
        de="die Zuständigkeit dort verweist auf eine andere Lösung",
        en="the Zuständigkeit there points to another solution",
    )
    OTHER_ONLINE = Text(
        de="das OZG-Dashboard zeigt dort eine andere Lösung online",
        en="the OZG-Dashboard shows another solution online there",
    )


#: The stage names: the OZG-Dashboard's ``online``, the registries' *Interessenbekundung*,
#: *Vertrag geschlossen* and *gekündigt*, the portal network's *veröffentlicht* and the
#: FIT-Connect *Zustellpunkt* (``zustellbar``).  English keeps the stage values.
STAGE_NAMES: Final[Mapping[Stage, Text]] = {
    Stage.TERMINATED: Text(de="gekündigt", en="terminated"),
    Stage.OFFERED: Text(de="angeboten", en="offered"),
    Stage.INTERESTED: Text(de="Interesse bekundet", en="interested"),
    Stage.CONTRACTED: Text(de="Vertrag geschlossen", en="contracted"),
    Stage.PUBLISHED: Text(de="veröffentlicht", en="published"),
    Stage.ROUTABLE: Text(de="zustellbar", en="routable"),
    Stage.LIVE: Text(de="online", en="live"),
}

#: The kinds of a rollout plan's waves; English keeps the values.
WAVE_KIND_NAMES: Final[Mapping[WaveKind, Text]] = {
    WaveKind.PILOT: Text(de="Pilotwelle", en="pilot"),
    WaveKind.ROLLOUT: Text(de="Rollout-Welle", en="rollout"),
}

#: The agreement states, as the reuse registries (EfA-Marktplatz, FIT-Store) name them.
AGREEMENT_NAMES: Final[Mapping[AgreementState, Text]] = {
    AgreementState.INTERESTED: Text(de="Interesse bekundet", en="interested"),
    AgreementState.NEGOTIATING: Text(de="in Abstimmung", en="negotiating"),
    AgreementState.CONTRACTED: Text(de="Vertrag geschlossen", en="contracted"),
    AgreementState.TERMINATED: Text(de="gekündigt", en="terminated"),
    AgreementState.DECLINED: Text(de="abgelehnt", en="declined"),
    AgreementState.WITHDRAWN: Text(de="zurückgezogen", en="withdrawn"),
}

#: What a piece of evidence does for its row (:class:`efa_core.rollout.Role`), by value,
#: where it raises no stage.
ROLE_NAMES: Final[Mapping[str, Text]] = {
    "supports": Text(de="stützt", en="supports"),
    "contrary": Text(de="widersprechend", en="contrary"),
    "ambiguous": Text(de="mehrdeutig", en="ambiguous"),
    "other-solution": Text(de="andere Lösung", en="other-solution"),
    "overruled": Text(de="überstimmt", en="overruled"),
    "note": Text(de="Notiz", en="note"),
}

#: The record kinds (``kind`` of a record and of its evidence), by value; English keeps the value.
RECORD_KIND_NAMES: Final[Mapping[str, Text]] = {
    "service": Text(de="Dienst", en="service"),
    "provider": Text(de="Anbieter", en="provider"),
    "subscriber": Text(de="Nachnutzer", en="subscriber"),
    "agreement": Text(de="Vereinbarung", en="agreement"),
    "responsibility": Text(de="Zuständigkeit", en="responsibility"),
    "route": Text(de="Zustellpunkt", en="route"),
    "availability": Text(de="Verfügbarkeit", en="availability"),
    "area": Text(de="Gebiet", en="area"),
    "note": Text(de="Notiz", en="note"),
    "organisation-unit": Text(de="Organisationseinheit", en="organisation-unit"),
    "xzufi-object": Text(de="XZuFi-Objekt", en="xzufi-object"),
    "rollout-plan": Text(de="Rollout-Plan", en="rollout-plan"),
    "plan-wave": Text(de="Welle", en="plan-wave"),
    "onboarding-item": Text(de="Onboarding-Punkt", en="onboarding-item"),
    "usage": Text(de="Nutzung", en="usage"),
}

#: The fields of a service that sources may disagree on (``sources-disagree``), by name.
FIELD_NAMES: Final[Mapping[str, Text]] = {
    "land": Text(de="Land des Anbieters", en="land"),
    "operator": Text(de="Betreiber", en="operator"),
    "url": Text(de="URL", en="url"),
}

#: The states of an onboarding checklist item (:class:`efa_core.model.ItemState`), by value.
ITEM_STATE_NAMES: Final[Mapping[str, Text]] = {
    "open": Text(de="offen", en="open"),
    "in_progress": Text(de="in Arbeit", en="in_progress"),
    "done": Text(de="erledigt", en="done"),
    "not_applicable": Text(de="entfällt", en="not_applicable"),
}

#: The states of a sync run (:class:`efa_core.store.RunStatus`), by value.
RUN_STATUS_NAMES: Final[Mapping[str, Text]] = {
    "running": Text(de="läuft", en="running"),
    "succeeded": Text(de="erfolgreich", en="succeeded"),
    "failed": Text(de="fehlgeschlagen", en="failed"),
    "interrupted": Text(de="abgebrochen", en="interrupted"),
}

#: How a source delivers (:class:`efa_core.store.RunMode`), by value.
RUN_MODE_NAMES: Final[Mapping[str, Text]] = {
    "snapshot": Text(de="Vollabzug", en="snapshot"),
    "change-feed": Text(de="Änderungen", en="change-feed"),
}

#: What a history entry or a dry run did to a record, by value.
OPERATION_NAMES: Final[Mapping[str, Text]] = {
    "upsert": Text(de="geschrieben", en="upsert"),
    "delete": Text(de="gelöscht", en="delete"),
    "added": Text(de="neu", en="added"),
    "changed": Text(de="geändert", en="changed"),
    "deleted": Text(de="gelöscht", en="deleted"),
}

#: How evidence was attributed to its service (:class:`efa_core.rollout.Via`), by value.
VIA_NAMES: Final[Mapping[str, Text]] = {
    "service": Text(de="Dienst", en="service"),
    "key": Text(de="Kennung", en="key"),
    "onlinedienst": Text(de="Onlinedienst", en="onlinedienst"),
    "url": Text(de="URL", en="url"),
    "leika": Text(de="Leistungsschlüssel", en="leika"),
    "published": Text(de="veröffentlicht", en="published"),
}

#: The flags of a rollout row (:class:`efa_core.rollout.RowFlag`), by lower-case name.
ROW_FLAG_NAMES: Final[Mapping[str, Text]] = {
    "published": Text(de="veröffentlicht", en="published"),
    "routable": Text(de="zustellbar", en="routable"),
    "live": Text(de="online", en="live"),
    "offline": Text(de="offline", en="offline"),
    "ambiguous": Text(de="mehrdeutig", en="ambiguous"),
    "other-solution": Text(de="andere Lösung", en="other-solution"),
    "disagreement": Text(de="Quellen widersprechen sich", en="disagreement"),
    "unresolved-area": Text(de="Gebiet unklar", en="unresolved-area"),
}

#: The severities of findings, by value (``info``, ``warning``, ``error``).
SEVERITY_NAMES: Final[Mapping[str, Text]] = {
    "info": Text(de="Hinweis", en="info"),
    "warning": Text(de="Warnung", en="warning"),
    "error": Text(de="Fehler", en="error"),
}


@attrs.frozen
class Translator:
    """Messages, names, dates and numbers in one language (see the module docs)."""

    #: The language.
    lang: Lang = DEFAULT_LANG

    def __call__(self, text: Text, /, **values: object) -> str:
        """Return *text* in this language with its ``{placeholders}`` filled from *values*."""
        template = text.get(self.lang)
        return template.format(**values) if values else template

    def render(self, message: Message) -> str:
        """Return *message* in this language, each value rendered by its type.

        A :class:`Message` or :class:`Text` in this language; a :class:`Stage` or
        :class:`AgreementState` or :class:`WaveKind` by its name; a date as :meth:`date`
        gives it; an ``int`` as ``1.234`` in German (English keeps the plain digits of the
        stable messages; pass a year as a string); a :class:`decimal.Decimal` with this
        language's decimal mark (``2,6947``); a tuple as its items joined by ``", "``;
        anything else (ARS, keys, names) with ``str()``.
        """
        values = {name: self._value(value) for name, value in message.values}
        return message.text.get(self.lang).format(**values)

    def _value(self, value: object) -> str:
        if isinstance(value, Message):
            return self.render(value)
        if isinstance(value, Text):
            return value.get(self.lang)
        if isinstance(value, Stage):
            return self.stage(value)
        if isinstance(value, AgreementState):
            return self.agreement(value)
        if isinstance(value, WaveKind):
            return self.wave_kind(value)
        if isinstance(value, decimal.Decimal):
            return self.decimal(str(value))
        if isinstance(value, dt.date):
            return self.date(value)
        if isinstance(value, int) and not isinstance(value, bool) and self.lang == "de":
            return self.number(value)
        if isinstance(value, tuple):
            return ", ".join(self._value(v) for v in value)
        return str(value)

    def stage(self, stage: Stage) -> str:
        """Return the name of *stage* (``Vertrag geschlossen``; English ``contracted``)."""
        return STAGE_NAMES[stage].get(self.lang)

    def agreement(self, state: AgreementState) -> str:
        """Return the name of an agreement state."""
        return AGREEMENT_NAMES[state].get(self.lang)

    def wave_kind(self, kind: WaveKind) -> str:
        """Return the name of a wave kind (``Pilotwelle``; English ``pilot``)."""
        return WAVE_KIND_NAMES[kind].get(self.lang)

    def severity(self, severity: str | enum.Enum) -> str:
        """Return the name of a finding's severity (``Warnung``); unknown values as they are."""
        value = str(severity.value if isinstance(severity, enum.Enum) else severity)
        text = SEVERITY_NAMES.get(value)
        return value if text is None else text.get(self.lang)

    def role(self, role: str | enum.Enum) -> str:
        """Return the name of an evidence role (``überstimmt``); unknown values as they are."""
        value = str(role.value if isinstance(role, enum.Enum) else role)
        text = ROLE_NAMES.get(value)
        return value if text is None else text.get(self.lang)

    def kind(self, kind: str) -> str:
        """Return the name of a record kind (``Zuständigkeit``); unknown kinds as they are."""
        text = RECORD_KIND_NAMES.get(kind)
        return kind if text is None else text.get(self.lang)

    def name(self, names: Mapping[str, Text], value: str | enum.Enum) -> str:
        """Return *value*'s name from *names* (e.g. :data:`RUN_STATUS_NAMES`), by its value.

        Values the table does not know are returned as they are.
        """
        key = str(value.value if isinstance(value, enum.Enum) else value)
        text = names.get(key)
        return key if text is None else text.get(self.lang)

    def date(self, value: dt.date) -> str:
        """Format a date as ``01.03.2024`` (English: ``2024-03-01``); a datetime gives its date."""
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.strftime("%d.%m.%Y" if self.lang == "de" else "%Y-%m-%d")

    def datetime(self, value: dt.datetime, *, seconds: bool = False) -> str:
        """Format a time as ``01.03.2024 12:00`` (English ``2024-03-01 12:00``), in its own zone.

        :param seconds: with seconds (``01.03.2024 12:00:05``).
        """
        day = "%d.%m.%Y" if self.lang == "de" else "%Y-%m-%d"
        return value.strftime(f"{day} %H:%M:%S" if seconds else f"{day} %H:%M")

    def decimal(self, text: str) -> str:
        """Write a plain decimal (``0.1234``) with this language's mark (``0,1234``)."""
        return text.replace(".", ",") if self.lang == "de" else text

    def number(self, value: float, places: int = 0) -> str:
        """Format a number as ``1.234`` or ``1.234,5`` (English: ``1,234`` or ``1,234.5``)."""
        text = f"{value:,.{places}f}"
        if self.lang == "de":
            text = text.translate(str.maketrans(",.", ".,"))
        return text


_ENGLISH: Final = Translator("en")


def translator(lang: str | None = None) -> Translator:
    """Return the :class:`Translator` for *lang* (``de``, ``en``; ``None``: the default).

    :raises ValueError: an unknown language, naming the known ones.
    """
    if lang is None:
        return Translator()
    code = lang.strip().lower()
    if code not in LANGS:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    return Translator(code)
