"""Parsing a compact JWS once: size, parts, strict base64url and JSON, claim types (spec 2.4 steps
1-2, 7.3, 7.6).

The parsed token serves both the issuer pre-match (2.2) and verification, so no token is ever
decoded twice.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._errors import InvalidJWT
from ._options import DEFAULT_MAX_TOKEN_BYTES
from ._strict import ONLY_STR, StrictDecodeError, b64url_decode, loads

_TIME_CLAIMS = ("exp", "nbf", "iat")
_STRING_CLAIMS = ("iss", "sub")
_TIME_LIMIT = 2**63
_NUMBER_TYPES = frozenset([int, float])
_ABSENT = object()


class ParsedToken(NamedTuple):
    # A NamedTuple: built on every uncached request, and much cheaper than a frozen dataclass.
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _compact_error(detail: str) -> InvalidJWT:
    return InvalidJWT(f"JWSError (CompactDecodeError {detail})")


def _claims_error(detail: str) -> InvalidJWT:
    return InvalidJWT(f'JWTClaimsSetDecodeError "{detail}"')


def _segment(segment: bytes, name: str) -> bytes:
    try:
        return b64url_decode(segment)
    except StrictDecodeError as exc:
        raise _compact_error(f"Invalid {name}: {exc}") from exc


def _json_object(raw: bytes, name: str) -> dict[str, Any]:
    try:
        value = loads(raw)
    except StrictDecodeError as exc:
        raise (_claims_error if name == "payload" else _compact_error)(
            f"Invalid JSON in {name}: {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise (_claims_error if name == "payload" else _compact_error)(
            f"{name} is not a JSON object"
        )
    return value


def _check_claim_types(claims: dict[str, Any]) -> None:
    for name in _TIME_CLAIMS:
        value = claims.get(name, _ABSENT)
        # type(), not isinstance(): bool is an int subclass and is not a NumericDate.
        if value is not _ABSENT and (
            type(value) not in _NUMBER_TYPES or not -_TIME_LIMIT < value < _TIME_LIMIT
        ):
            # NaN fails the range test; the strict parser never yields one anyway.
            raise _claims_error(f"{name} must be a finite number below 2^63")
    for name in _STRING_CLAIMS:
        value = claims.get(name, _ABSENT)
        if value is not _ABSENT and type(value) is not str:
            raise _claims_error(f"{name} must be a string")
    audience = claims.get("aud", _ABSENT)
    if (
        audience is not _ABSENT
        and type(audience) is not str
        and not (type(audience) is list and ONLY_STR.issuperset(map(type, audience)))
    ):
        raise _claims_error("aud must be a string or a list of strings")


def parse_token(token: str, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> ParsedToken:
    """Decode ``token`` strictly; raise `InvalidJWT` with Hasura's reason on the first failure.

    The common token (ASCII, within the limit, every part sound) is decoded in one pass with
    the same strict decoders; at the first doubt, `parse_carefully` decodes it again step by
    step and raises the error Hasura's order of checks reaches first.
    """
    if len(token) <= max_bytes and token.isascii():
        parts = (data := token.encode("ascii")).split(b".")
        if len(parts) == 3:
            header_b64, payload_b64, signature_b64 = parts
            try:
                header = loads(b64url_decode(header_b64))
                claims = loads(b64url_decode(payload_b64))
                signature = b64url_decode(signature_b64)
            except StrictDecodeError:
                pass
            else:
                if (
                    type(header) is dict
                    and type(claims) is dict
                    and type(header.get("kid", "")) is str
                ):
                    _check_claim_types(claims)  # the careful path would raise the same
                    signing_input = data[: len(header_b64) + 1 + len(payload_b64)]
                    return ParsedToken(header, claims, signing_input, signature)
    return parse_carefully(token, max_bytes)


def parse_carefully(token: str, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> ParsedToken:
    """`parse_token` one check at a time, in Hasura's order: the first failure is the error."""
    # The size check comes before any splitting or decoding work (spec 7.3).
    if len(token) > max_bytes:
        raise _compact_error(f"Token exceeds the size limit of {max_bytes} bytes")
    data = token.encode("utf-8", "replace")
    if len(data) > max_bytes:
        raise _compact_error(f"Token exceeds the size limit of {max_bytes} bytes")
    parts = data.split(b".")
    if len(parts) != 3:
        raise _compact_error(f"Invalid number of parts: Expected 3 parts; got {len(parts)}")
    header_b64, payload_b64, signature_b64 = parts
    header = _json_object(_segment(header_b64, "header"), "header")
    # Hasura's JOSE parser reads a present kid as text: null, a number, a list... are refused.
    if "kid" in header and type(header["kid"]) is not str:
        raise _compact_error("Invalid header: kid must be a string")
    claims = _json_object(_segment(payload_b64, "payload"), "payload")
    signature = _segment(signature_b64, "signature")
    _check_claim_types(claims)
    return ParsedToken(header, claims, data[: len(header_b64) + 1 + len(payload_b64)], signature)
