"""From a verified payload to Hasura claims: namespace mode (2.5) and claims_map mode (2.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ._errors import InvalidClaims
from ._names import (
    ALLOWED_ROLES,
    DEFAULT_NAMESPACE,
    DEFAULT_ROLE,
    HASURA_PREFIX,
    HASURA_PREFIX_LENGTH,
)
from ._paths import NOT_FOUND, Path, lookup
from ._roles import parse_allowed_roles, parse_default_role
from ._strict import StrictDecodeError, loads

REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class HasuraClaims(NamedTuple):
    allowed_roles: frozenset[str]
    default_role: str
    # lower-case x-hasura-* names to raw JSON values; the two role claims included
    claims: dict[str, Any]


def hasura_claims_of(document: dict[str, Any]) -> dict[str, Any]:
    """The ``x-hasura-*`` members (any case), names lower-cased; the rest dropped."""
    found: dict[str, Any] = {}
    for name, value in document.items():
        # ASCII only: Unicode folding would turn U+212A (Kelvin) into "k" (spec 7.7). On an
        # ASCII name lower() is that folding, and cheaper than islower() would be to skip it.
        lowered = name.lower() if name.isascii() else name.translate(_ASCII_LOWER)
        if lowered[:HASURA_PREFIX_LENGTH] == HASURA_PREFIX:
            if lowered in found:
                raise InvalidClaims(f"x-hasura-* claims: {lowered} is given more than once")
            found[lowered] = value
    return found


@dataclass(frozen=True)
class NamespaceClaims:
    """``claims_namespace`` (a top-level claim) or ``claims_namespace_path`` (a compiled path)."""

    namespace: str = DEFAULT_NAMESPACE
    path: Path | None = None
    path_text: str = ""
    stringified: bool = False

    def extract(self, payload: dict[str, Any]) -> HasuraClaims:
        if self.path is None:
            value = payload.get(self.namespace, NOT_FOUND)
            if value is NOT_FOUND:
                raise InvalidClaims(f"claims key: '{self.namespace}' not found")
        else:
            # Registered claims are outside the namespace path's document (spec 1.1).
            unregistered = {k: v for k, v in payload.items() if k not in REGISTERED_CLAIMS}
            value = lookup(unregistered, self.path)
            if value is NOT_FOUND:
                raise InvalidClaims(
                    f"claims not found at claims_namespace_path: '{self.path_text}'"
                )
        document = value if type(value) is dict and not self.stringified else self._decode(value)
        claims = hasura_claims_of(document)
        allowed = parse_allowed_roles(claims.get(ALLOWED_ROLES, NOT_FOUND))
        default = parse_default_role(claims.get(DEFAULT_ROLE, NOT_FOUND))
        return HasuraClaims(allowed, default, claims)

    def _decode(self, value: Any) -> dict[str, Any]:
        if not self.stringified:
            if not isinstance(value, dict):
                raise InvalidClaims("expecting a json object when claims_format is json")
            return value
        if not isinstance(value, str):
            raise InvalidClaims("expecting a string when claims_format is stringified_json")
        try:
            document = loads(value)
        except StrictDecodeError:
            document = None
        if not isinstance(document, dict):
            where = (
                f"claims_namespace {self.namespace}"
                if self.path is None
                else f"claims_namespace_path {self.path_text}"
            )
            raise InvalidClaims(f"expecting stringified json at: '{where}', but found: {value}")
        return document


@dataclass(frozen=True, slots=True)
class MappedClaim:
    """One ``claims_map`` entry: a literal, or a path with an optional default."""

    literal: Any = NOT_FOUND
    path: Path = ()
    default: Any = NOT_FOUND


@dataclass(frozen=True)
class MappedClaims:
    """``claims_map``: session variables from literals and paths over the whole payload."""

    entries: dict[str, MappedClaim]

    @staticmethod
    def _resolve(entry: MappedClaim, payload: dict[str, Any]) -> Any:
        if entry.literal is not NOT_FOUND:
            return entry.literal
        value = lookup(payload, entry.path)
        return entry.default if value is NOT_FOUND else value

    def extract(self, payload: dict[str, Any]) -> HasuraClaims:
        claims: dict[str, Any] = {}
        for name, entry in self.entries.items():
            value = self._resolve(entry, payload)
            if value is NOT_FOUND and name not in (ALLOWED_ROLES, DEFAULT_ROLE):
                raise InvalidClaims(f"JWT claim from claims_map, {name} not found")
            claims[name] = value
        # A found value of the wrong type is an error even when a default exists (spec 2.6).
        allowed = parse_allowed_roles(claims[ALLOWED_ROLES])
        default = parse_default_role(claims[DEFAULT_ROLE], wording="a role")
        return HasuraClaims(allowed, default, claims)
