"""The ``destinationSignature`` of a route: decode its JWS payload, verify it (PS512).

A FIT-Connect route carries the signed addressing information maintained in XZuFi: a JWS
(RFC 7515, compact form, algorithm PS512) over a payload like::

    {"submissionHost": "...", "iss": "...", "destinationId": "...", "iat": ..., "jti": "...",
     "services": [{
        "gebietIDs": ["urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:120645410"],
        "leistungIDs": ["urn:de:fim:leika:leistung:99134005017000"]}]}

:func:`decode_destination_signature` reads it without checking the signature (the payload is
the evidence which services and areas the destination was registered for);
:func:`verify_signature` checks the signature against public keys loaded with
:func:`load_public_keys`, which needs the ``verify`` extra (``cryptography``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from efa_core.errors import ConfigError, EfaError, InvalidIdentifier
from efa_core.ids import Ars, LeikaKey

__all__ = [
    "DestinationSignature",
    "SignatureError",
    "SignedService",
    "decode_destination_signature",
    "load_public_keys",
    "verify_signature",
]


class SignatureError(EfaError, ValueError):
    """A ``destinationSignature`` cannot be decoded or does not verify."""


def _b64decode(part: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"the JWS {what} is not base64url: {exc}") from exc


def _json_part(part: str, what: str) -> Mapping[str, Any]:
    try:
        value = json.loads(_b64decode(part, what))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignatureError(f"the JWS {what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SignatureError(f"the JWS {what} is not a JSON object")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SignatureError(f"{where} is not a list of strings")
    return tuple(value)


@attrs.frozen
class SignedService:
    """One entry of the signed ``services``: areas and services the destination serves."""

    #: ``gebietIDs`` as given (ARS URNs).
    gebiet_ids: tuple[str, ...]
    #: ``leistungIDs`` as given (LeiKa URNs).
    leistung_ids: tuple[str, ...]

    @property
    def areas(self) -> tuple[Ars, ...]:
        """The ``gebietIDs`` that are ARS (others are skipped)."""
        out = []
        for text in self.gebiet_ids:
            try:
                out.append(Ars.parse(text))
            except InvalidIdentifier:
                continue
        return tuple(out)

    @property
    def leika_keys(self) -> tuple[LeikaKey, ...]:
        """The ``leistungIDs`` that are LeiKa keys (others are skipped)."""
        out = []
        for text in self.leistung_ids:
            try:
                out.append(LeikaKey.parse(text))
            except InvalidIdentifier:
                continue
        return tuple(out)


@attrs.frozen
class DestinationSignature:
    """A decoded ``destinationSignature`` (not verified; see :func:`verify_signature`)."""

    #: The JOSE header (``alg``, ``kid``, ``typ``).
    header: Mapping[str, Any]
    #: The payload claims.
    claims: Mapping[str, Any]
    #: The signed ``services`` entries.
    services: tuple[SignedService, ...]
    #: ``header.payload`` as ASCII bytes: what was signed.
    signing_input: bytes = attrs.field(repr=False)
    #: The raw signature bytes.
    signature: bytes = attrs.field(repr=False)

    @property
    def destination_id(self) -> str | None:
        """The signed ``destinationId``, if present."""
        value = self.claims.get("destinationId")
        return value if isinstance(value, str) else None

    @property
    def areas(self) -> tuple[Ars, ...]:
        """Every signed area, in order, without repeats."""
        return tuple(dict.fromkeys(a for s in self.services for a in s.areas))

    @property
    def leika_keys(self) -> tuple[LeikaKey, ...]:
        """Every signed LeiKa key, in order, without repeats."""
        return tuple(dict.fromkeys(k for s in self.services for k in s.leika_keys))

    def covers(self, leika_key: LeikaKey, ars: Ars) -> bool:
        """Whether one signed service names *leika_key* and an area containing *ars*."""
        return any(
            leika_key in service.leika_keys and any(a.contains(ars) for a in service.areas)
            for service in self.services
        )


def decode_destination_signature(token: str) -> DestinationSignature:
    """Decode a compact JWS ``destinationSignature`` (no verification).

    :raises SignatureError: it is not a JWS with a JSON header and payload, or its
        ``services`` are malformed.
    """
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise SignatureError("a destinationSignature is a JWS with three non-empty parts")
    header = _json_part(parts[0], "header")
    claims = _json_part(parts[1], "payload")
    raw_services = claims.get("services", [])
    if not isinstance(raw_services, list):
        raise SignatureError("the signed 'services' is not a list")
    services = []
    for number, entry in enumerate(raw_services):
        if not isinstance(entry, dict):
            raise SignatureError(f"services[{number}] is not an object")
        services.append(
            SignedService(
                _strings(entry.get("gebietIDs"), f"services[{number}].gebietIDs"),
                _strings(entry.get("leistungIDs"), f"services[{number}].leistungIDs"),
            )
        )
    return DestinationSignature(
        header=header,
        claims=claims,
        services=tuple(services),
        signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
        signature=_b64decode(parts[2], "signature"),
    )


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError as exc:
        raise ConfigError(
            "verifying destinationSignature needs the 'verify' extra: "
            "pip install 'efa-fitconnect[verify]'"
        ) from exc
    return serialization, rsa


def _int_b64(value: object, where: str) -> int:
    if not isinstance(value, str):
        raise ConfigError(f"{where} is not a base64url string")
    return int.from_bytes(_b64decode(value, where), "big")


def load_public_keys(path: str | Path) -> dict[str | None, Any]:
    """Load RSA public keys from a PEM file, a JWK or a JWK Set (JSON).

    Returns ``kid -> key`` (``None`` for a PEM key, which matches any ``kid``).

    :raises efa_core.errors.ConfigError: the file is missing or holds no RSA public key, or
        ``cryptography`` is not installed.
    """
    serialization, rsa = _crypto()
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read signature key file {str(file)!r}: {exc}") from exc
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as exc:
            raise ConfigError(f"{file}: not a PEM public key: {exc}") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ConfigError(f"{file}: not an RSA public key (PS512 needs RSA)")
        return {None: key}
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise ConfigError(f"{file}: neither a PEM key nor JSON (JWK/JWKS): {exc}") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if entries is None:
        entries = [document]
    keys: dict[str | None, Any] = {}
    for number, jwk in enumerate(entries):
        where = f"{file} key {number}"
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            continue
        numbers = rsa.RSAPublicNumbers(
            _int_b64(jwk.get("e"), f"{where} 'e'"), _int_b64(jwk.get("n"), f"{where} 'n'")
        )
        kid = jwk.get("kid")
        keys[kid if isinstance(kid, str) else None] = numbers.public_key()
    if not keys:
        raise ConfigError(f"{file}: no RSA key found")
    return keys


def verify_signature(signature: DestinationSignature, keys: Mapping[str | None, Any]) -> None:
    """Verify a PS512 *signature* with the key named by its ``kid`` (or a key without kid).

    :raises SignatureError: wrong algorithm, no matching key, or the signature is invalid.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    alg = signature.header.get("alg")
    if alg != "PS512":
        raise SignatureError(f"the signature uses algorithm {alg!r}, not PS512")
    kid = signature.header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) and kid in keys else keys.get(None)
    if key is None:
        raise SignatureError(f"no configured key matches kid {kid!r}")
    try:
        key.verify(
            signature.signature,
            signature.signing_input,
            padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
            hashes.SHA512(),
        )
    except InvalidSignature:
        raise SignatureError(f"the PS512 signature does not verify (kid {kid!r})") from None
