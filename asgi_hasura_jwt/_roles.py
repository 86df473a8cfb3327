"""Roles and session variables from Hasura claims (spec 2.7, 2.8, 7.7)."""

from __future__ import annotations

from typing import Any

from ._errors import AccessDenied, InvalidClaims, MissingRoleClaims
from ._names import ALLOWED_ROLES, DEFAULT_ROLE, ROLE, SECRET_HEADERS
from ._paths import NOT_FOUND
from ._strict import ONLY_STR

# Claims that are not session variables: the role claims and the secrets (spec 2.8).
_NOT_VARIABLES = frozenset((ALLOWED_ROLES, DEFAULT_ROLE, *SECRET_HEADERS))


def _has_line_break_or_nul(value: str) -> bool:
    # Three C-level searches: a generator over the characters costs several times more.
    return "\n" in value or "\r" in value or "\x00" in value


def json_type_name(value: Any) -> str:
    """Aeson's name for a JSON value's type, as Hasura's messages use it."""
    if isinstance(value, str):
        return "String"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    return "Null"


def role_name_problem(value: Any) -> str | None:
    """Why ``value`` is not a role name, or ``None``."""
    if type(value) is not str:
        return f"parsing Text failed, expected String, but encountered {json_type_name(value)}"
    if not value:
        return "empty string not allowed"
    if _has_line_break_or_nul(value):
        return "CR, LF and NUL are not allowed in a role name"
    return None


def allowed_roles_problem(value: Any) -> str | None:
    """Why ``value`` is not a list of role names, or ``None``."""
    if type(value) is not list:
        return f"parsing [] failed, expected Array, but encountered {json_type_name(value)}"
    for item in value:
        if problem := role_name_problem(item):
            return problem
    return None


def parse_allowed_roles(value: Any) -> frozenset[str]:
    """The allowed roles of a claim's ``value`` (`NOT_FOUND`: the claim is missing)."""
    # The usual list, checked in C: strings only, none empty, no CR, LF or NUL in any.
    if (
        type(value) is list
        and ONLY_STR.issuperset(map(type, value))
        and all(value)
        and not _has_line_break_or_nul("".join(value))
    ):
        return frozenset(value)
    if value is NOT_FOUND:
        raise MissingRoleClaims(f"JWT claim does not contain {ALLOWED_ROLES}")
    if problem := allowed_roles_problem(value):
        raise InvalidClaims(f"invalid {ALLOWED_ROLES}; should be a list of roles: {problem}")
    return frozenset(value)


def parse_default_role(value: Any, wording: str = "a single role name") -> str:
    """The default role of a claim's ``value`` (`NOT_FOUND`: the claim is missing)."""
    if type(value) is str and value and not _has_line_break_or_nul(value):
        return value  # the usual role name: `role_name_problem` would find nothing
    if value is NOT_FOUND:
        raise MissingRoleClaims(f"JWT claim does not contain {DEFAULT_ROLE}")
    if problem := role_name_problem(value):
        raise InvalidClaims(f"invalid {DEFAULT_ROLE}; should be {wording}: {problem}")
    return str(value)


# Hasura's refusal of a role (spec 2.7); the FastAPI and Strawberry guards say the same.
ROLE_NOT_ALLOWED = "Your requested role is not in allowed roles"


def select_role(allowed: frozenset[str], default: str, requested: str | None) -> str:
    """The ``x-hasura-role`` header if non-empty, else the default; it must be allowed."""
    role = requested or default
    if role not in allowed:
        raise AccessDenied(ROLE_NOT_ALLOWED)
    return role


def session_variables(claims: dict[str, Any], role: str) -> dict[str, str]:
    """The session of a verified token: its ``x-hasura-*`` claims as strings, plus the role."""
    variables: dict[str, str] = {}
    for name, value in claims.items():
        if name in _NOT_VARIABLES:
            continue
        if type(value) is not str:
            raise InvalidClaims(
                "x-hasura-* claims: parsing Text failed, expected String, but encountered "
                + json_type_name(value)
            )
        if _has_line_break_or_nul(value):
            raise InvalidClaims(f"x-hasura-* claims: {name} contains CR, LF or NUL")
        variables[name] = value
    variables[ROLE] = role
    return variables
