"""Parsing ``HASURA_GRAPHQL_JWT_SECRET`` config objects (spec 1), once, at construction.

Checks run in the order of spec 1.3, so a config with several problems reports the same one
Hasura would.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._claims import MappedClaim, MappedClaims, NamespaceClaims
from ._clerk import ClerkRules, ClerkSessionClaims, parse_clerk
from ._errors import ConfigError
from ._keys import VerificationKey, key_from_config
from ._names import (
    ALLOWED_ROLES,
    DEFAULT_NAMESPACE,
    DEFAULT_ROLE,
    HASURA_PREFIX,
    HTTP_TOKEN,
    JWT_SECRET_VARIABLE,
    JWT_SECRETS_VARIABLE,
)
from ._paths import NOT_FOUND, Path, PathSyntaxError, compile_path
from ._roles import allowed_roles_problem, role_name_problem

_PATH_ERROR_TAIL = (
    ". Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket"
    ' (["..."]) if there is any special character'
)
_LOCATIONS = {"authorization": "Authorization", "cookie": "Cookie", "customheader": "CustomHeader"}


@dataclass(frozen=True)
class TokenLocation:
    """Where a config's token is read: ``Authorization``, a cookie, or a custom header."""

    kind: str  # "Authorization" | "Cookie" | "CustomHeader"
    name: str = ""  # cookie name (case-sensitive) or lower-case header name


@dataclass(frozen=True)
class JWTConfig:
    """One validated config object; exactly one of ``key`` / ``jwk_url`` is set."""

    key: VerificationKey | None
    jwk_url: str | None
    location: TokenLocation
    claims: NamespaceClaims | MappedClaims | ClerkSessionClaims
    issuer: str | None
    audience: frozenset[str] | None
    allowed_skew: float
    clerk: ClerkRules | None = None  # the "clerk" object: Clerk's token rules (spec 6, ours)


def _compile(text: Any, what: str) -> Path:
    if not isinstance(text, str):
        raise ConfigError(f"invalid JSON path {what} error: {text!r}{_PATH_ERROR_TAIL}")
    try:
        return compile_path(text)
    except PathSyntaxError:
        raise ConfigError(f"invalid JSON path {what} error: {text}{_PATH_ERROR_TAIL}") from None


def _location(header: Any) -> TokenLocation:
    if header is None:
        return TokenLocation("Authorization")
    if isinstance(header, str):
        # Hasura's docs show the header setting as a JSON string; accept both (spec 1.1).
        try:
            header = json.loads(header)
        except ValueError:
            raise ConfigError("header: expected a JSON object") from None
    if not isinstance(header, dict):
        raise ConfigError("header: expected a JSON object")
    kind = header.get("type")
    canonical = _LOCATIONS.get(kind.lower()) if isinstance(kind, str) else None
    if canonical is None:
        raise ConfigError("expected 'type' is 'Authorization' or 'Cookie' or 'CustomHeader'")
    if canonical == "Authorization":
        return TokenLocation(canonical)
    name = header.get("name")
    if name is None:
        raise ConfigError('key "name" not found')
    if not isinstance(name, str) or not HTTP_TOKEN.fullmatch(name):
        # A cookie name and a header name are both RFC 9110 tokens (RFC 6265 section 4.1.1);
        # no request could carry any other name, and one outside latin-1 cannot be matched.
        raise ConfigError("header: 'name' must be a non-empty HTTP token (RFC 9110 section 5.6.2)")
    return TokenLocation(canonical, name if canonical == "Cookie" else name.lower())


def _check_role_literal(name: str, value: Any) -> None:
    problem = allowed_roles_problem(value) if name == ALLOWED_ROLES else role_name_problem(value)
    if problem:
        raise ConfigError(f"claims_map: invalid value for {name}: {problem}")


def _check_claims_map_roles(claims_map: Any) -> None:
    if not isinstance(claims_map, dict):
        raise ConfigError("claims_map: expected a JSON object")
    lowered = {str(name).lower(): value for name, value in claims_map.items()}
    for name in (ALLOWED_ROLES, DEFAULT_ROLE):
        if name not in lowered:
            raise ConfigError(f"{name} is expected but not found")
    for name in (ALLOWED_ROLES, DEFAULT_ROLE):
        value = lowered[name]
        if isinstance(value, dict):
            if "default" in value:
                _check_role_literal(name, value["default"])
        else:
            _check_role_literal(name, value)


def _mapped_claims(claims_map: dict[str, Any]) -> MappedClaims:
    entries: dict[str, MappedClaim] = {}
    for raw_name, value in claims_map.items():
        name = raw_name.lower()
        if not name.startswith(HASURA_PREFIX):
            raise ConfigError(f"claims_map: {raw_name} does not start with x-hasura-")
        if name in entries:
            raise ConfigError(f"claims_map: {name} is given more than once")
        if isinstance(value, dict):
            if "path" not in value:
                raise ConfigError(f'claims_map: {raw_name}: key "path" not found')
            default = value.get("default", NOT_FOUND)
            if default is not NOT_FOUND and name not in (ALLOWED_ROLES, DEFAULT_ROLE):
                _check_string_literal(raw_name, default)
            entries[name] = MappedClaim(path=_compile(value["path"], "claims_map"), default=default)
        else:
            if name not in (ALLOWED_ROLES, DEFAULT_ROLE):
                _check_string_literal(raw_name, value)
            entries[name] = MappedClaim(literal=value)
    return MappedClaims(entries)


def _check_string_literal(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"claims_map: the value of {name} must be a non-empty string")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{what}: expected a number")
    return abs(float(value))


def parse_config(raw: Any) -> JWTConfig:
    """Validate one config object (a dict, or JSON text of one) in spec 1.3's order."""
    if isinstance(raw, str):
        raw = _json(raw, "jwt_secret")
    if not isinstance(raw, dict):
        raise ConfigError("JWT config: expected a JSON object")
    namespace = raw.get("claims_namespace")
    path_text = raw.get("claims_namespace_path")
    if namespace is not None and path_text is not None:
        raise ConfigError("claims_namespace and claims_namespace_path both cannot be set")
    path = _compile(path_text, "claims_namespace_path") if path_text is not None else None
    key_text, jwk_url = raw.get("key"), raw.get("jwk_url")
    if key_text is None and jwk_url is None:
        raise ConfigError("key and jwk_url both cannot be empty")
    if key_text is not None and jwk_url is not None:
        raise ConfigError("key, jwk_url both cannot be present")
    key = key_from_config(raw.get("type"), key_text) if key_text is not None else None
    if jwk_url is not None and (
        not isinstance(jwk_url, str) or not jwk_url.startswith(("http://", "https://"))
    ):
        raise ConfigError("jwk_url: expected an http(s) URL")
    claims_format = raw.get("claims_format", "json")
    if claims_format not in ("json", "stringified_json"):
        raise ConfigError("claims_format: expected 'json' or 'stringified_json'")
    location = _location(raw.get("header"))
    claims_map = raw.get("claims_map")
    if claims_map is not None:
        _check_claims_map_roles(claims_map)
    audience = raw.get("audience")
    if (
        audience is not None
        and not isinstance(audience, str)
        and not (isinstance(audience, list) and all(isinstance(item, str) for item in audience))
    ):
        raise ConfigError("audience: expected a string or a list of strings")
    issuer = raw.get("issuer")
    if issuer is not None and not isinstance(issuer, str):
        raise ConfigError("issuer: expected a string")
    skew = _number(raw.get("allowed_skew", 0), "allowed_skew")
    if namespace is not None and not isinstance(namespace, str):
        raise ConfigError("claims_namespace: expected a string")
    mapped = _mapped_claims(claims_map) if claims_map is not None else None
    # Hasura ignores unknown fields, so the "clerk" object can share Hasura's own secret.
    clerk = parse_clerk(raw["clerk"], location) if "clerk" in raw else None
    claims: NamespaceClaims | MappedClaims | ClerkSessionClaims
    if mapped is not None:
        claims = mapped
    elif clerk is not None and clerk.kind == "session":
        claims = ClerkSessionClaims()
    else:
        claims = NamespaceClaims(
            namespace=namespace if namespace is not None else DEFAULT_NAMESPACE,
            path=path,
            path_text=path_text or "",
            stringified=claims_format == "stringified_json",
        )
    return JWTConfig(
        key=key,
        jwk_url=jwk_url,
        location=location,
        claims=claims,
        issuer=issuer,
        audience=frozenset([audience] if isinstance(audience, str) else audience)
        if audience is not None
        else None,
        allowed_skew=skew,
        clerk=clerk,
    )


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ConfigError(f"{source} is not valid JSON") from None


def parse_configs(jwt_secret: Any, environ: Mapping[str, str] | None = None) -> list[JWTConfig]:
    """Every config: from the argument, else ``HASURA_GRAPHQL_JWT_SECRETS`` (wins), else
    ``HASURA_GRAPHQL_JWT_SECRET``."""
    env = os.environ if environ is None else environ
    raw: Any = jwt_secret
    if raw is None:
        if env.get(JWT_SECRETS_VARIABLE):
            raw = _json(env[JWT_SECRETS_VARIABLE], JWT_SECRETS_VARIABLE)
            if not isinstance(raw, list):
                raise ConfigError(f"{JWT_SECRETS_VARIABLE}: expected a JSON array")
        elif env.get(JWT_SECRET_VARIABLE):
            raw = _json(env[JWT_SECRET_VARIABLE], JWT_SECRET_VARIABLE)
        else:
            raise ConfigError(
                f"no JWT secret: pass jwt_secret or set {JWT_SECRET_VARIABLE}"
                f" (or {JWT_SECRETS_VARIABLE})"
            )
    elif isinstance(raw, str):
        raw = _json(raw, "jwt_secret")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ConfigError("jwt_secret: the list of configs is empty")
    return [parse_config(item) for item in items]


def optional_setting(
    value: str | None, name: str, environ: Mapping[str, str] | None = None
) -> str | None:
    """An argument, else the environment variable; an empty string means unset (spec 1.3)."""
    if value is None:
        value = (os.environ if environ is None else environ).get(name)
    return value or None
