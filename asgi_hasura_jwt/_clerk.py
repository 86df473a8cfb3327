"""Clerk's rules, turned on by a config's ``"clerk"`` object (spec 6; ours, Hasura has none).

Clerk signs session, JWT-template, machine-to-machine and OAuth tokens with one instance key;
its SDKs tell them apart by the protected header (``typ``, ``cat``) and the subject. A config
says which kind it accepts, and whether a session that still has a task (``sts: pending``)
counts as signed in. Every check here runs after the signature and the standard claims, so an
unauthenticated token gets the signature error first and never a Clerk one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._claims import HasuraClaims
from ._errors import ConfigError, InvalidClaims, InvalidJWT
from ._names import ALLOWED_ROLES, DEFAULT_ROLE, USER_ID
from ._paths import NOT_FOUND

if TYPE_CHECKING:  # both import _config, which imports this module
    from ._config import TokenLocation
    from ._request import RequestHeaders

# The protected header ``cat`` of Clerk's SDKs (@clerk/backend tokenTypes).
SESSION_CATEGORY = "cl_B7d4PD111AAA"
TEMPLATE_CATEGORY = "cl_B7d4PD222AAA"
MACHINE_CATEGORY = "cl_B7d4PD333AAA"
IGNORE_CATEGORY = "cl_I7d4PD111III"  # carries no class: accepted for either kind
_CATEGORIES = {"session": SESSION_CATEGORY, "template": TEMPLATE_CATEGORY}
_KIND_NAMES = {"session": "session", "template": "JWT-template"}
_PENDING = ("signed_out", "allow")
_MEMBERS = frozenset({"token", "pending"})
# RFC 7515 4.1.9: "JWT" and "application/jwt" name the same media type, in any case.
_JWT_TYPES = frozenset({"jwt", "application/jwt"})
_SESSION_COOKIE = "__session"
_CLIENT_UAT_COOKIE = "__client_uat"
_SESSION_ROLE = "user"

PENDING_MESSAGE = (
    "Clerk session is pending: the user has a session task to finish"
    " (choose an organization, reset a password, set up MFA)"
)
STALE_MESSAGE = "Clerk session is stale: signed out or signed in again elsewhere (__client_uat)"


class SignedOut(Exception):
    """A verified token that Clerk counts as signed out; the request is treated as tokenless."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ClerkRules:
    """One config's ``"clerk"`` object, validated."""

    kind: str  # the "token" member: "template" | "session"
    allow_pending: bool
    # The cookie holding __client_uat, for session tokens read from a cookie; else None.
    client_uat_cookie: str | None

    def check_kind(self, header: dict[str, Any], claims: dict[str, Any]) -> None:
        """Refuse a token of another Clerk kind than the configured one (``invalid-jwt``)."""
        typ = header.get("typ")
        # str.lower maps no non-ASCII character into "jwt" or "application/" (only the
        # Kelvin sign lowers to ASCII, to "k").
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in _JWT_TYPES):
            # OAuth access tokens are "at+jwt" (RFC 9068).
            raise InvalidJWT("JWTUnexpectedType: the token's typ is not JWT")
        category = header.get("cat")
        if category is not None and category not in (IGNORE_CATEGORY, _CATEGORIES[self.kind]):
            raise InvalidJWT(f"JWTWrongCategory: not a Clerk {_KIND_NAMES[self.kind]} token")
        subject = claims.get("sub")
        # Older machine tokens carry no cat; their subject still names the machine.
        if isinstance(subject, str) and subject.startswith("mch_"):
            raise InvalidJWT("JWTMachineToken: machine-to-machine tokens are not accepted")

    def check_signed_in(self, claims: dict[str, Any], request: RequestHeaders) -> None:
        """Raise `SignedOut` for a pending session (unless allowed) or a stale cookie."""
        # Clerk's SDKs read sts whatever the token's version, and default to treating
        # "pending" as signed out (treatPendingAsSignedOut).
        if not self.allow_pending and claims.get("sts") == "pending":
            raise SignedOut(PENDING_MESSAGE)
        self.check_fresh(claims.get("iat"), request)

    def check_fresh(self, iat: float | None, request: RequestHeaders) -> None:
        """The ``__client_uat`` rule: the browser's last sign-in time against the token's iat.

        ``0`` means the browser signed out; a token issued before the last sign-in belongs to
        an earlier session. Without the cookie there is nothing to compare (an API client, or
        `authenticate_token`): the token stands on its own.
        """
        if self.client_uat_cookie is None:
            return
        values = request.cookie_values(self.client_uat_cookie)
        if not values:
            return
        # Clerk reads it with parseInt(...) || 0: anything but a number is "signed out". With
        # several (a sibling domain's cookie), any signed-out one wins, then the latest.
        times = [int(value) if value.isascii() and value.isdigit() else 0 for value in values]
        if min(times) == 0 or (iat is not None and iat < max(times)):
            raise SignedOut(STALE_MESSAGE)


def parse_clerk(raw: Any, location: TokenLocation) -> ClerkRules:
    """Validate a ``"clerk"`` object; unknown members are refused, a typo must not weaken it."""
    if not isinstance(raw, dict):
        raise ConfigError("clerk: expected a JSON object")
    unknown = sorted(str(name) for name in raw if name not in _MEMBERS)
    if unknown:
        raise ConfigError(f"clerk: unknown member {unknown[0]!r} (expected token, pending)")
    kind = check_token_kind(raw.get("token", "template"))
    pending = check_pending(raw.get("pending", "signed_out"))
    client_uat = None
    if kind == "session" and location.kind == "Cookie":
        # Clerk suffixes both cookies alike (__session_<id> goes with __client_uat_<id>).
        name = location.name
        suffix = name[len(_SESSION_COOKIE) :] if name.startswith(_SESSION_COOKIE) else ""
        client_uat = _CLIENT_UAT_COOKIE + suffix
    return ClerkRules(kind, pending == "allow", client_uat)


def check_token_kind(token: Any) -> str:
    if token not in _CATEGORIES:
        raise ConfigError("clerk: token must be 'template' or 'session'")
    return str(token)


def check_pending(pending: Any) -> str:
    if pending not in _PENDING:
        raise ConfigError("clerk: pending must be 'signed_out' or 'allow'")
    return str(pending)


@dataclass(frozen=True)
class ClerkSessionClaims:
    """Clerk's default session token, no template: the user, and the active organization.

    The organization is read as Clerk's SDKs read it (``__experimental_JWTPayloadToAuthObject
    Properties``): a ``v: 2`` token's ``o`` object, else version 1's ``org_*`` claims. The role
    is given as the SDKs give it, ``org:<role>``, whichever version carried it.
    """

    def extract(self, payload: dict[str, Any]) -> HasuraClaims:
        subject = payload.get("sub")
        if subject is None:
            raise InvalidClaims("Clerk session token: sub not found")
        claims: dict[str, Any] = {
            ALLOWED_ROLES: [_SESSION_ROLE],
            DEFAULT_ROLE: _SESSION_ROLE,
            USER_ID: subject,
        }
        for name, value in _organization(payload).items():
            # Absent is no organization; a present null is a non-string, refused as such.
            if value is not NOT_FOUND:
                claims[name] = value
        return HasuraClaims(frozenset([_SESSION_ROLE]), _SESSION_ROLE, claims)


def _organization(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("v") != 2:
        return {
            "x-hasura-org-id": payload.get("org_id", NOT_FOUND),
            "x-hasura-org-slug": payload.get("org_slug", NOT_FOUND),
            "x-hasura-org-role": payload.get("org_role", NOT_FOUND),
        }
    organization = payload.get("o", NOT_FOUND)
    if organization is NOT_FOUND:
        return {}
    if not isinstance(organization, dict):
        raise InvalidClaims("Clerk session token: o is not a JSON object")
    role = organization.get("rol", NOT_FOUND)
    return {
        "x-hasura-org-id": organization.get("id", NOT_FOUND),
        "x-hasura-org-slug": organization.get("slg", NOT_FOUND),
        # A non-string role stays as it is, for the session variables' own type error.
        "x-hasura-org-role": f"org:{role}" if isinstance(role, str) else role,
    }
