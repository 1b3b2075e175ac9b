"""efa.toml: finding and reading it, ${ENV} interpolation, connector options."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from efa_core.config import (
    ConnectorSettings,
    EfaConfig,
    build_connector,
    config_to_table,
    interpolate,
    load_config,
    parse_config,
    structure_options,
)
from efa_core.connectors import Capability, Connector, PushResult
from efa_core.errors import ConfigError
from efa_core.hookspecs import hookimpl
from efa_core.secret import MASK, Secret
from efa_core.testing import registered

EXAMPLE = """\
[store]
url = "postgresql://efa:${PGPASSWORD}@db.example/efa"

[connectors.pvog-th]
type = "pvog"
client_id = "efa-th"
client_secret = "${PVOG_TH_SECRET}"

[connectors.own-notes]
type = "records-file"
path = "notes.jsonl"
batch_size = 10
"""


@attrs.frozen(kw_only=True)
class Auth:
    client_id: str
    client_secret: Secret


@attrs.frozen(kw_only=True)
class PvogConfig:
    client_id: str
    client_secret: Secret
    environment: str = "test"
    page_size: int = 100


class PvogConnector(Connector):
    type_name: ClassVar[str] = "pvog"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PUSH})
    config_class: ClassVar[type[Any]] = PvogConfig

    async def push_changes(self, changes: Any) -> PushResult:
        return PushResult(written=0, target="pvog")


class Plugin:
    @hookimpl
    def efa_register_connectors(self, register: Any) -> None:
        register(PvogConnector)


ENV = {"PGPASSWORD": "pg-s3cret", "PVOG_TH_SECRET": "pvog-s3cret"}


def write(tmp_path: Path, text: str = EXAMPLE, name: str = "efa.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- loading --------------------------------------------------------------------------------


def test_load_reads_connectors_in_file_order_and_interpolates(tmp_path: Path) -> None:
    path = write(tmp_path)
    config = load_config(path, env=ENV)
    assert config.path == path
    assert config.store_url == "postgresql://efa:pg-s3cret@db.example/efa"
    assert list(config.connectors) == ["pvog-th", "own-notes"]
    pvog = config.connectors["pvog-th"]
    assert pvog.type == "pvog"
    assert dict(pvog.options) == {"client_id": "efa-th", "client_secret": "pvog-s3cret"}
    assert pvog.where == f"{path} [connectors.pvog-th]"
    assert dict(config.connectors["own-notes"].options) == {"path": "notes.jsonl", "batch_size": 10}


def test_reprs_hide_interpolated_secrets(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), env=ENV)
    text = repr(config)
    assert "pvog-s3cret" not in text
    assert "pg-s3cret" not in text
    assert "postgresql://efa:***@db.example/efa" in text
    assert "'client_secret': ..." in text


def test_lookup_order_env_var_then_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}) == EfaConfig()  # nothing there: empty config
    assert load_config(env={}).path is None
    local = write(tmp_path, '[connectors.a]\ntype = "records-file"\npath = "x"\n')
    assert load_config(env={}).path == Path("efa.toml")
    assert list(load_config(env={}).connectors) == ["a"]
    other = write(tmp_path, '[connectors.b]\ntype = "records-file"\npath = "y"\n', "other.toml")
    from_env = load_config(env={"EFA_CONFIG": str(other)})
    assert from_env.path == other
    assert list(from_env.connectors) == ["b"]
    assert local.exists()


def test_missing_explicit_files_are_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope.toml' \(given\) does not exist"):
        load_config(missing, env={})
    with pytest.raises(ConfigError, match=r"nope.toml' \(named by \$EFA_CONFIG\) does not exist"):
        load_config(env={"EFA_CONFIG": str(missing)})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[connectors.a\n")
    with pytest.raises(ConfigError, match=r"efa.toml: invalid TOML: .*line 1"):
        load_config(path, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[conectors.a]\n",
            "efa.toml: unknown key 'conectors' (did you mean 'connectors'?); "
            "known keys: connectors, findings, identity, report, rollout, store",
        ),
        (
            "[store]\nuri = 'x'\n",
            "efa.toml [store]: unknown key 'uri' (did you mean 'url'?); known keys: url",
        ),
        ("[store]\nurl = ''\n", "efa.toml [store]: key 'url' must be a non-empty string"),
        (
            "[identity]\nsame = [['MP-1']]\n",
            "efa.toml [identity]: same[0] needs at least two ids",
        ),
        (
            "[identity]\nsame = [['MP-1', ' x']]\n",
            "efa.toml [identity]: same[0]: ' x' is not an id",
        ),
        (
            "[identity]\ndistinct = [['MP-1', 'https://a.example/']]\n",
            "efa.toml [identity]: distinct[0]: 'https://a.example/' is a URL; give an offer's "
            "URLs in [identity.urls]",
        ),
        (
            "[identity.urls]\nMP-1 = ['www.a.example']\n",
            "efa.toml [identity]: urls.MP-1: 'www.a.example' is not an http(s) URL",
        ),
        (
            "[identity]\nsmae = []\n",
            "efa.toml [identity]: unknown key 'smae' (did you mean 'same'?)",
        ),
        (
            "[rollout]\nsource_priority = 'marktplatz'\n",
            "efa.toml [rollout]: source_priority must be a non-empty list of strings",
        ),
        ("[connectors.a]\npath = 'x'\n", "efa.toml [connectors.a]: missing key 'type'"),
        ("[connectors.a]\ntype = 3\n", "efa.toml [connectors.a]: key 'type' must be a non-empty"),
        ("connectors = 3\n", "efa.toml [connectors] must be a table, not int"),
        ("[connectors]\na = 3\n", "efa.toml [connectors.a] must be a table, not int"),
        ('[connectors."a b"]\ntype = "x"\n', "invalid connector name 'a b'"),
    ],
)
def test_structural_problems_name_table_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text), env={})
    assert message in str(raised.value).replace(str(tmp_path) + "/", "")


# -- interpolation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${A}", "alpha"),
        ("x-${A}-${B_2}", "x-alpha-beta"),
        ("$${A}", "${A}"),
        ("$$${A}", "$${A}"),  # the escape '$${' is matched first, left to right
        ("cost: 5 $", "cost: 5 $"),
        ("$A", "$A"),
        (["${A}", {"k": "${B_2}"}], ["alpha", {"k": "beta"}]),
        (7, 7),
    ],
)
def test_interpolation(value: object, expected: object) -> None:
    env = {"A": "alpha", "B_2": "beta"}
    assert interpolate(value, env=env, where="t", key="k") == expected


def test_missing_variable_names_table_key_and_variable(efa_registry, tmp_path: Path) -> None:
    # Issue 13 §1: an unset variable of one source must not stop the others; it is an
    # error only when that source's connector is built.
    env = {"PGPASSWORD": "pg-s3cret"}
    config = load_config(write(tmp_path), env=env)
    pvog = config.connectors["pvog-th"]
    message = (
        f"{tmp_path / 'efa.toml'} [connectors.pvog-th]: key 'client_secret' refers to "
        "environment variable 'PVOG_TH_SECRET', which is not set"
    )
    assert pvog.error == message
    assert dict(pvog.options)["client_secret"] == "${PVOG_TH_SECRET}"  # as written
    assert config.connectors["own-notes"].error is None
    with registered(efa_registry, Plugin(), name="pvog-plugin"):
        with pytest.raises(ConfigError) as raised:
            build_connector(efa_registry, "pvog-th", config)
        assert str(raised.value) == message
        notes = build_connector(efa_registry, "own-notes", config)
    assert notes.name == "own-notes"


def test_missing_variable_of_the_store_is_an_error_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[store\]: key 'url' refers to .*'PGPASSWORD'"):
        load_config(write(tmp_path), env={"PVOG_TH_SECRET": "x"})


def test_malformed_placeholders_in_a_connector_table_are_errors_at_once(tmp_path: Path) -> None:
    text = '[connectors.a]\ntype = "records-file"\npath = "${A"\n'
    with pytest.raises(ConfigError, match=r"\[connectors.a\]: key 'path' has an unterminated"):
        load_config(write(tmp_path, text), env={})


def test_findings_table_holds_rule_options(tmp_path: Path) -> None:
    text = '[findings]\ncontracted_days = 60\nknown_onlinedienste = ["S16_1", "${EXTRA}"]\n'
    config = load_config(write(tmp_path, text), env={"EXTRA": "S16_2"})
    assert dict(config.findings) == {
        "contracted_days": 60,
        "known_onlinedienste": ["S16_1", "S16_2"],
    }
    assert load_config(write(tmp_path, "[store]\nurl = 'x.db'\n"), env={}).findings == {}
    with pytest.raises(ConfigError, match=r"\[findings\] must be a table, not int"):
        parse_config({"findings": 3}, env={})
    with pytest.raises(ConfigError, match=r"\[findings\]: key 'k' refers to .*'NOPE'"):
        parse_config({"findings": {"k": "${NOPE}"}}, env={})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${A", "key 'k' has an unterminated '${'"),
        ("${1A}", "refers to '1A', which is not an environment variable name"),
        ("${}", "refers to '', which is not an environment variable name"),
        ({"inner": ["${MISSING}"]}, "key 'k.inner[0]' refers to environment variable 'MISSING'"),
    ],
)
def test_malformed_placeholders(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^t: ") as raised:
        interpolate(value, env={"A": "a"}, where="t", key="k")
    assert message in str(raised.value)


# -- connector options ------------------------------------------------------------------------


def test_unknown_keys_suggest_close_matches() -> None:
    with pytest.raises(ConfigError) as raised:
        structure_options(
            PvogConfig,
            {"clientid": "x", "client_secret": "s", "colour": 1},
            context="efa.toml [connectors.pvog-th]",
        )
    assert str(raised.value) == (
        "efa.toml [connectors.pvog-th]: unknown key 'clientid' (did you mean 'client_id'?); "
        "unknown key 'colour'; known keys: client_id, client_secret, environment, page_size"
    )


def test_value_problems_are_listed_per_key() -> None:
    with pytest.raises(ConfigError) as raised:
        structure_options(PvogConfig, {"client_secret": 5, "page_size": "10"}, context="ctx")
    text = str(raised.value)
    assert text.startswith("ctx: 3 problems\n")
    assert "  client_id: required field missing" in text
    assert "  client_secret: " in text
    assert "  page_size: " in text


def test_secret_options_become_secrets_and_never_show() -> None:
    config = structure_options(
        PvogConfig, {"client_id": "id", "client_secret": "pvog-s3cret"}, context="ctx"
    )
    assert config.client_secret == Secret("pvog-s3cret")
    assert "pvog-s3cret" not in repr(config)
    table = config_to_table(config)
    assert table == {
        "client_id": "id",
        "client_secret": MASK,
        "environment": "test",
        "page_size": 100,
    }


def test_build_connector_from_the_file(efa_registry, tmp_path: Path) -> None:
    config = load_config(write(tmp_path), env=ENV)
    with registered(efa_registry, Plugin(), name="pvog-plugin"):
        connector = build_connector(efa_registry, "pvog-th", config)
    assert isinstance(connector, PvogConnector)
    assert connector.name == "pvog-th"
    assert connector.config == PvogConfig(client_id="efa-th", client_secret=Secret("pvog-s3cret"))


def test_build_connector_errors_name_the_table(efa_registry, tmp_path: Path) -> None:
    config = load_config(write(tmp_path), env=ENV)
    with pytest.raises(ConfigError) as raised:
        build_connector(efa_registry, "pvog-th", config)  # the pvog plugin is not registered
    where = f"{tmp_path / 'efa.toml'} [connectors.pvog-th]"
    assert str(raised.value).startswith(f"{where}: unknown connector type 'pvog'")
    assert "records-file" in str(raised.value)
    with pytest.raises(
        ConfigError, match=r"no connector named 'own-note' \(did you mean 'own-notes'\?\)"
    ):
        build_connector(efa_registry, "own-note", config)


def test_settings_are_read_only() -> None:
    settings = ConnectorSettings(name="a", type="t", options={"k": 1})
    with pytest.raises(TypeError):
        settings.options["k"] = 2  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.name = "b"  # type: ignore[misc]


def test_parse_config_defaults_to_efa_toml_in_messages() -> None:
    with pytest.raises(ConfigError, match=r"^efa.toml \[connectors.x\]: missing key 'type'"):
        parse_config({"connectors": {"x": {}}}, env={})


def test_settings_compare_by_content() -> None:
    first = ConnectorSettings(name="a", type="t", options={"k": 1})
    assert first == ConnectorSettings(name="a", type="t", options={"k": 1})
    assert first != ConnectorSettings(name="a", type="t", options={"k": 2})
    assert EfaConfig(connectors={"a": first}) != EfaConfig()
    assert first in {ConnectorSettings(name="a", type="t", options={"k": 1})}  # hashable


def test_identity_and_rollout_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[identity]\n"
        "same = [['MP-101', 'FS-17', 'MP-101']]\n"
        "distinct = [['MP-101', 'MP-103']]\n"
        "[identity.onlinedienste]\n"
        "MP-101 = ['S16000_Onlinedienst_OD-EWA']\n"
        "[identity.urls]\n"
        "MP-101 = ['https://anmeldung.example.org/']\n"
        "[rollout]\n"
        "source_priority = ['marktplatz', 'fitstore']\n",
    )
    config = load_config(path, env={})
    assert config.identity.same == (("MP-101", "FS-17"),)  # repeats dropped
    assert config.identity.distinct == (("MP-101", "MP-103"),)
    assert dict(config.identity.onlinedienste) == {"MP-101": ("S16000_Onlinedienst_OD-EWA",)}
    assert dict(config.identity.urls) == {"MP-101": ("https://anmeldung.example.org/",)}
    assert config.rollout.source_priority == ("marktplatz", "fitstore")
    assert load_config(write(tmp_path, ""), env={}).identity.same == ()
