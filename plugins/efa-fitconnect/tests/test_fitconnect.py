"""Tests of the fitconnect connector against the fake Routing API on a real socket."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import uuid
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from efa_fitconnect import (
    FitConnectConfig,
    FitConnectConnector,
    RoutingApiError,
    decode_destination_signature,
    pairs_from_store,
)
from efa_fitconnect.signature import SignatureError, load_public_keys, verify_signature
from efa_fitconnect.testing import RoutingApiFake, b64url, make_jws

from efa_core.config import build_connector, parse_config
from efa_core.connectors import Batch, check_sync, pull_sync
from efa_core.errors import ConfigError
from efa_core.http import HttpSettings
from efa_core.ids import Ars, LeikaKey
from efa_core.model import (
    Agreement,
    AgreementState,
    Responsibility,
    Service,
    Subscriber,
    SubscriberKind,
    TargetKind,
)
from efa_core.plugins import PluginRegistry
from efa_core.serialization import record_to_dict
from efa_core.testing.conformance import ConnectorConformance, run
from efa_core.testing.contract import OpenApiContract
from efa_core.testing.fakes import RateLimit

KEY_A = "99123456760610"
KEY_B = "99134005017000"
DEST_1 = uuid.UUID("3fa85f64-5717-4562-b3fc-2c963f66afa6")


def make(
    base_url: str, attempts: int = 4, user_agent: str | None = None, **options: Any
) -> FitConnectConnector:
    options.setdefault("pairs", (f"{KEY_A}@16055", f"{KEY_B}@120645410", f"{KEY_A}@16051"))
    options.setdefault(
        "http",
        HttpSettings(
            attempts=attempts,
            initial_backoff=0.0,
            max_backoff=0.0,
            rate_limit_per_second=None,
            user_agent_suffix=user_agent,
        ),
    )
    return FitConnectConnector(FitConnectConfig(base_url=base_url, **options), name="routing")


def populated(**kwargs: Any) -> RoutingApiFake:
    fake = RoutingApiFake(page_limit=2, **kwargs)
    fake.add_route(KEY_A, "16055", destination_id=DEST_1, name="Bürgeramt Weimar")
    for n in range(3):  # three routes: two pages for this pair
        fake.add_route(KEY_B, "120645410", name=f"Amt {n}", origin="Zustelldienst")
    # KEY_A @ 16051 has no route: an empty page
    fake.add_route(KEY_A, "16", name="never asked")
    fake.add_area("1024", "Halle (Saale)", "Kreisfreie Stadt", zips=["06108"])
    fake.add_area("1025", "Saalekreis", "Landkreis")
    return fake


def upserts(batches: list[Batch]) -> list[Any]:
    return [c.record for b in batches for c in b.changes]


def assert_contract(fake: RoutingApiFake, contract: OpenApiContract) -> None:
    """Every exchange the fake saw validates against the spec (403 is the spec's gap)."""
    assert fake.exchanges
    for ex in fake.exchanges:
        contract.check_request(ex.method, ex.path, ex.query)
        contract.check_response(ex.method, ex.path, ex.status, ex.content_type, ex.body)


class TestConformance(ConnectorConformance):
    @pytest.fixture
    def fake(self) -> RoutingApiFake:
        return populated()

    @pytest.fixture
    def base_url(self, efa_serve_asgi, fake) -> str:
        return efa_serve_asgi(fake) + "/v1"

    @pytest.fixture
    def connector(self, base_url: str) -> FitConnectConnector:
        return make(base_url, page_size=2)

    @pytest.fixture
    def failing_connector(self, efa_serve_asgi) -> FitConnectConnector:
        broken = RoutingApiFake()
        broken.fail(500, times=50)
        return make(efa_serve_asgi(broken) + "/v1", attempts=1)

    def test_every_exchange_matches_the_spec(self, connector, fake, routing_contract) -> None:
        list(pull_sync(connector))
        check_sync(connector)
        assert_contract(fake, routing_contract)


def test_routes_per_pair_paged_with_cursors(efa_serve_asgi) -> None:
    fake = populated()
    batches = list(pull_sync(make(efa_serve_asgi(fake) + "/v1", page_size=2)))

    assert [(b.cursor, b.complete) for b in batches] == [
        (f"{KEY_A}@16051:end", False),
        (f"{KEY_A}@16055:end", False),
        (f"{KEY_B}@120645410:2", False),
        (f"{KEY_B}@120645410:end", True),
    ]
    routes = upserts(batches)
    assert routes[0].natural_key == f"{KEY_A}@16055->{DEST_1}"
    assert routes[0].name == "Bürgeramt Weimar"
    assert routes[0].origin == "PVOG"
    assert {str(r.ars) for r in routes[1:]} == {"120645410"}
    assert len(routes) == 4  # the route of the pair nobody asked for is not fetched
    sent = [(dict(e.query)["ars"], dict(e.query)["offset"]) for e in fake.exchanges]
    assert sent == [("16051", "0"), ("16055", "0"), ("120645410", "0"), ("120645410", "2")]
    assert all(dict(e.query)["limit"] == "2" for e in fake.exchanges)


def test_always_sends_a_user_agent(efa_serve_asgi) -> None:
    fake = populated()
    list(pull_sync(make(efa_serve_asgi(fake) + "/v1", user_agent="th-tool/1.0")))
    agents = {e.headers["user-agent"] for e in fake.exchanges}
    assert len(agents) == 1
    [agent] = agents
    assert agent.startswith("efa-core/")
    assert "efa-fitconnect/" in agent
    assert agent.endswith("th-tool/1.0")


def test_fake_refuses_requests_without_user_agent(routing_contract) -> None:
    fake = RoutingApiFake()
    status, content_type, body, _ = fake.respond("GET", "/v1/info", [], {})
    assert (status, content_type) == (403, "application/problem+json")
    # The spec does not document 403 (bot detection of the real service):
    problems = routing_contract.response_problems("GET", "/info", status, content_type, body)
    assert problems == ["GET /info 403: status 403 is not declared (declared: 200)"]


def test_problem_json_becomes_a_typed_error_with_detail(efa_serve_asgi) -> None:
    fake = populated()
    problem = {
        "type": "https://docs.fitko.de/fit-connect/docs/status-and-error-codes",
        "title": "Bad Request",
        "status": 400,
        "detail": "Es muss genau ein Gebietsparameter gesetzt sein",
    }
    fake.fail(400, path="/v1/routes", body=problem)
    with pytest.raises(RoutingApiError) as raised:
        list(pull_sync(make(efa_serve_asgi(fake) + "/v1")))
    error = raised.value
    assert error.status == 400
    assert error.detail == problem["detail"]
    assert error.problem == problem
    assert problem["detail"] in str(error)


def test_429_and_500_are_retried_and_ratelimit_headers_honoured(efa_serve_asgi, routing_contract):
    fake = populated(rate_limit=RateLimit(limit=2, retry_after=0))
    fake.fail(500, path="/v1/routes", times=1)
    batches = list(pull_sync(make(efa_serve_asgi(fake) + "/v1", page_size=2)))

    assert len(upserts(batches)) == 4
    assert batches[-1].complete
    statuses = [e.status for e in fake.exchanges]
    assert statuses.count(429) == fake.throttled >= 1
    assert statuses.count(500) == 1
    throttled = next(e for e in fake.exchanges if e.status == 429)
    assert throttled.body == {"message": "Too Many Requests"}
    assert_contract(fake, routing_contract)


def test_server_errors_after_the_last_attempt_fail_the_pull(efa_serve_asgi) -> None:
    fake = populated()
    fake.fail(500, times=3)
    connector = make(efa_serve_asgi(fake) + "/v1", attempts=2)
    with pytest.raises(RoutingApiError, match="500"):
        list(pull_sync(connector))


def test_signature_payload_is_kept_as_evidence(efa_serve_asgi) -> None:
    fake = populated()
    fake.add_route(
        KEY_A,
        "16068",
        gebiet_ids=["16068", "160680000000"],
        leistung_ids=[KEY_A, KEY_B],
        name="Amt Kyffhäuser",
    )
    fake.add_route(KEY_B, "16", gebiet_ids=["15"], name="Fremdes Land")
    connector = make(efa_serve_asgi(fake) + "/v1", pairs=(f"{KEY_A}@16068", f"{KEY_B}@16"))
    batches = list(pull_sync(connector))

    routes = upserts(batches)
    assert len(routes) == 2
    evidence = connector.evidence
    first = evidence[routes[0].natural_key]
    assert first.signed_areas == (Ars("16068"), Ars("160680000000"))
    assert first.signed_leika_keys == (LeikaKey(KEY_A), LeikaKey(KEY_B))
    assert first.covers_pair
    assert first.verified is None  # no key configured
    assert first.claims["destinationId"] == str(routes[0].destination_id)
    other = evidence[routes[1].natural_key]
    assert other.signed_areas == (Ars("15"),)
    assert not other.covers_pair
    # the records carry the signed data themselves
    assert routes[0].signed_areas == (Ars("16068"), Ars("160680000000"))
    assert routes[0].signed_leika_keys == (LeikaKey(KEY_A), LeikaKey(KEY_B))
    assert routes[0].signature_verified is None  # not checked: no key configured
    assert routes[1].signed_areas == (Ars("15"),)
    assert routes[1].signed_leika_keys == (LeikaKey(KEY_B),)


def test_decodes_the_specs_example_signature(routing_contract) -> None:
    schema = routing_contract.spec["components"]["schemas"]["route"]
    token = schema["properties"]["destinationSignature"]["example"]
    signature = decode_destination_signature(token)
    assert signature.header["alg"] == "PS512"
    assert signature.areas == (Ars("120645410"),)
    assert signature.leika_keys == (LeikaKey("99134005017000"),)
    assert signature.destination_id == "ac715f34-333e-41f4-9bb5-186b309ea233"
    assert signature.covers(LeikaKey("99134005017000"), Ars("120645410123"))
    assert not signature.covers(LeikaKey("99134005017000"), Ars("12064"))


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("abc", "three non-empty parts"),
        ("!!.e30.c2ln", "not base64url|not JSON"),
        (b64url(b"{}") + "." + b64url(b"[1]") + ".c2ln", "payload is not a JSON object"),
        (b64url(b"{}") + "." + b64url(b'{"services": 3}') + ".c2ln", "'services' is not a list"),
    ],
)
def test_broken_signatures_are_named(token: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        decode_destination_signature(token)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signer(key: rsa.RSAPrivateKey):
    def sign(data: bytes) -> bytes:
        return key.sign(
            data, padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512()
        )

    return sign


def write_pem(key: rsa.RSAPrivateKey, path) -> str:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(path)


def test_signatures_verify_with_a_configured_key(efa_serve_asgi, rsa_key, tmp_path) -> None:
    fake = populated(signer=signer(rsa_key))
    # One route signed by somebody else: quarantined, the rest goes on.
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = make_jws({"destinationId": str(DEST_1), "services": []}, signer=signer(intruder))
    fake.add_route(KEY_A, "16051", destination_id=DEST_1, signature=forged)
    connector = make(
        efa_serve_asgi(fake) + "/v1", signature_key=write_pem(rsa_key, tmp_path / "k.pem")
    )
    batches = list(pull_sync(connector))

    routes = upserts(batches)
    assert len(routes) == 4
    assert all(e.verified for e in connector.evidence.values())
    assert all(route.signature_verified is True for route in routes)
    [rejected] = [r for b in batches for r in b.rejected]
    assert rejected.kind == "route"
    assert rejected.position == f"/routes {KEY_A}@16051 item 0"
    assert rejected.problems == (
        ("$.destinationSignature", "the PS512 signature does not verify (kid 'fake-routing-key')"),
    )


def test_jwks_keys_are_chosen_by_kid(rsa_key, tmp_path) -> None:
    numbers = rsa_key.public_key().public_numbers()

    def b64int(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    jwks = {
        "keys": [
            {
                "kty": "RSA",
                "kid": "k1",
                "alg": "PS512",
                "n": b64int(numbers.n),
                "e": b64int(numbers.e),
            }
        ]
    }
    (tmp_path / "keys.json").write_text(json.dumps(jwks))
    keys = load_public_keys(tmp_path / "keys.json")
    assert list(keys) == ["k1"]
    good = decode_destination_signature(make_jws({"x": 1}, signer=signer(rsa_key), kid="k1"))
    verify_signature(good, keys)
    unknown = decode_destination_signature(make_jws({"x": 1}, signer=signer(rsa_key), kid="k2"))
    with pytest.raises(SignatureError, match="no configured key matches kid 'k2'"):
        verify_signature(unknown, keys)
    tampered = attrs.evolve(good, signing_input=good.signing_input + b"x")
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signature(tampered, keys)
    rs256 = decode_destination_signature(make_jws({"x": 1}, alg="RS256"))
    with pytest.raises(SignatureError, match=r"'RS256', not PS512"):
        verify_signature(rs256, keys)


def test_unreadable_key_file_is_a_config_error(efa_serve_asgi, tmp_path) -> None:
    (tmp_path / "bad.pem").write_text("nonsense")
    connector = make(efa_serve_asgi(populated()) + "/v1", signature_key=str(tmp_path / "bad.pem"))
    with pytest.raises(ConfigError, match=r"signature_key: .*bad\.pem"):
        list(pull_sync(connector))


@attrs.frozen
class Row:
    source: str
    kind: str
    natural_key: str
    payload: dict[str, Any]


class FakeStore:
    """A StoreView over records, as the sync engine lends one."""

    def __init__(self, *records_by_source: tuple[str, Any]) -> None:
        self.rows = [
            Row(source, r.KIND, r.natural_key, record_to_dict(r)) for source, r in records_by_source
        ]

    def records(self, source=None, kind=None, *, include_deleted=False, leika_key=None, ars=None):
        return iter([r for r in self.rows if kind in (None, r.kind)])


def subscriber(ars: str) -> Subscriber:
    return Subscriber(subscriber_kind=SubscriberKind.GEMEINDE, name=f"Area {ars}", ars=Ars(ars))


STORE_RECORDS = (
    ("market", Service(key="kfz", name="KFZ", leika_keys=(LeikaKey(KEY_A), LeikaKey(KEY_B)))),
    ("market", Service(key="hund", name="Hund", leika_keys=(LeikaKey("99041006017000"),))),
    (
        "market",
        Agreement(
            service_key="kfz", subscriber=subscriber("16055"), state=AgreementState.CONTRACTED
        ),
    ),
    (  # only interested: not asked
        "market",
        Agreement(
            service_key="hund", subscriber=subscriber("16051"), state=AgreementState.INTERESTED
        ),
    ),
    (  # contracted, but the service is unknown: skipped
        "market",
        Agreement(
            service_key="gone", subscriber=subscriber("16052"), state=AgreementState.CONTRACTED
        ),
    ),
    (
        "pvog",
        Responsibility(
            leika_key=LeikaKey(KEY_B),
            ars=Ars("120645410"),
            target_kind=TargetKind.ONLINEDIENST,
            target_id="S12_1",
        ),
    ),
    (  # the same pair as the agreement: asked once
        "pvog",
        Responsibility(
            leika_key=LeikaKey(KEY_A),
            ars=Ars("16055"),
            target_kind=TargetKind.ORGANISATIONSEINHEIT,
            target_id="S16_9",
        ),
    ),
)


def test_pairs_come_from_contracted_agreements_and_responsibilities() -> None:
    pairs = pairs_from_store(FakeStore(*STORE_RECORDS))
    assert {(str(k), str(a)) for k, a in pairs} == {
        (KEY_A, "16055"),
        (KEY_B, "16055"),
        (KEY_B, "120645410"),
    }


def test_asks_only_the_stores_pairs(efa_serve_asgi) -> None:
    fake = populated()
    connector = make(efa_serve_asgi(fake) + "/v1", pairs=())
    connector.store = FakeStore(*STORE_RECORDS)
    routes = upserts(list(pull_sync(connector)))

    asked = [(dict(e.query)["leikaKey"], dict(e.query)["ars"]) for e in fake.exchanges]
    assert asked == [(KEY_A, "16055"), (KEY_B, "120645410"), (KEY_B, "120645410"), (KEY_B, "16055")]
    assert len(routes) == 4


def test_without_pairs_the_pull_yields_nothing_and_says_so(efa_serve_asgi, caplog) -> None:
    fake = populated()
    connector = make(efa_serve_asgi(fake) + "/v1", pairs=())
    with caplog.at_level(logging.WARNING, logger="efa_fitconnect"):
        assert list(pull_sync(connector)) == []
    assert "no (LeiKa key, area) pair to ask" in caplog.text
    assert fake.exchanges == []


def test_invalid_cursor_is_named(efa_serve_asgi) -> None:
    connector = make(efa_serve_asgi(populated()) + "/v1")
    with pytest.raises(Exception, match="invalid cursor 'page-3'"):
        list(pull_sync(connector, "page-3"))


def test_config_rejects_malformed_pairs_and_page_sizes() -> None:
    with pytest.raises(ValueError, match="pair '99123@16': LeiKa key '99123' has 5 digits"):
        FitConnectConfig(pairs=("99123@16",))
    with pytest.raises(ValueError, match="not '<LeiKa key>@<ARS>'"):
        FitConnectConfig(pairs=(KEY_A,))
    with pytest.raises(ValueError, match="between 1 and 500"):
        FitConnectConfig(page_size=501)


def test_search_areas_and_info(efa_serve_asgi, routing_contract) -> None:
    fake = populated()
    connector = make(efa_serve_asgi(fake) + "/v1")

    async def ask() -> tuple[Any, Any, Any]:
        async with connector:
            return (
                await connector.search_areas("Saale*", limit=1),
                await connector.search_areas("061*"),
                await connector.info(),
            )

    saale, by_zip, version = run(ask)
    assert [a.name for a in saale] == ["Halle (Saale)", "Saalekreis"]
    assert [a.area_id for a in by_zip] == ["1024"]
    assert version == (2, 0, 0)
    assert [dict(e.query).get("offset") for e in fake.exchanges[:2]] == ["0", "1"]
    assert_contract(fake, routing_contract)


def test_configured_from_efa_toml(efa_registry, efa_serve_asgi) -> None:
    import efa_fitconnect.plugin

    efa_registry.register(efa_fitconnect.plugin, name="fitconnect")
    config = parse_config(
        {
            "connectors": {
                "routing": {
                    "type": "fitconnect",
                    "base_url": efa_serve_asgi(populated()) + "/v1",
                    "pairs": [f"{KEY_A}@16055"],
                }
            }
        }
    )
    connector = build_connector(efa_registry, "routing", config)
    assert isinstance(connector, FitConnectConnector)
    assert [r.destination_id for r in upserts(list(pull_sync(connector)))] == [DEST_1]


def test_discovered_through_its_entry_point() -> None:
    if not importlib.metadata.entry_points(group="efa_core", name="fitconnect"):
        pytest.skip("efa-fitconnect is not installed (pip install -e .)")
    registry = PluginRegistry(strict=True, env={})
    assert registry.connector_class("fitconnect") is FitConnectConnector


def test_every_route_is_accounted_for_on_a_messy_answer(efa_serve_asgi) -> None:
    """Issue 10 §4: stored + quarantined + skipped = the routes the API answered."""
    from efa_core.testing.accounting import assert_accounted

    fake = RoutingApiFake(page_limit=2)
    first = fake.add_route(KEY_A, "16055", destination_id=DEST_1, name="Bürgeramt")
    fake.routes[(KEY_A, "ars", "16055")].append(dict(first))  # the same destination again
    fake.add_route(KEY_A, "16055", name="  ", origin=None)  # blank name: kept without one
    bad = fake.add_route(KEY_A, "16055", name="Amt ohne Signatur")
    del bad["destinationSignature"]  # quarantined
    fake.add_route(KEY_A, "16055", destination_id="not-a-uuid", signature="a.b.c")  # quarantined
    fake.add_route(KEY_B, "16051", name="Amt B")
    answered = sum(len(routes) for routes in fake.routes.values())
    accounting = assert_accounted(
        make(efa_serve_asgi(fake) + "/v1", pairs=(f"{KEY_A}@16055", f"{KEY_B}@16051")),
        {"route": answered},
    )
    assert accounting.stored == {"route": 3}
    assert accounting.quarantined == {"route": 2}
    assert accounting.skipped == {"route": 1}


def test_links_that_are_no_urls_are_left_out_and_counted_for_the_run(efa_serve_asgi) -> None:
    fake = RoutingApiFake(page_limit=2)
    fake.add_route(KEY_A, "16055", name="Weimar", privacyPolicyUrl="siehe Aushang")
    fake.add_route(KEY_A, "16055", name="Weimar 2", imprintUrl="https://weimar.example/imp")
    fake.add_route(KEY_A, "16055", name="Weimar 3", privacyPolicyUrl="www.weimar.example/ds")
    connector = make(efa_serve_asgi(fake) + "/v1", pairs=(f"{KEY_A}@16055",))
    batches = list(pull_sync(connector))
    routes = upserts(batches)
    assert len(routes) == 3, "a link that is none never costs its route"
    assert all(not b.warnings for b in batches[:-1])
    assert batches[-1].warnings == (
        "source 'routing': privacyPolicyUrl: not an http(s) URL; the route is kept without "
        f"it: 2 routes (first at /routes {KEY_A}@16055 item 0: 'siehe Aushang')",
    )
