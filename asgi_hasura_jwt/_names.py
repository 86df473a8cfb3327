"""Hasura's vocabulary, written once: claim and header names, the environment variables.

Header names are lower-case, as ASGI servers deliver them; the ``*_HEADER`` bytes are the same
names as `scope["headers"]` spells them. Names only: none of these is a secret.
"""

# ruff: noqa: S105

from __future__ import annotations

import re

HASURA_PREFIX = "x-hasura-"
ROLE = "x-hasura-role"
ALLOWED_ROLES = "x-hasura-allowed-roles"
DEFAULT_ROLE = "x-hasura-default-role"
USER_ID = "x-hasura-user-id"
ADMIN_SECRET = "x-hasura-admin-secret"
# Deprecated by Hasura, still honoured when x-hasura-admin-secret is absent (spec 2.1).
ACCESS_KEY = "x-hasura-access-key"
SECRET_HEADERS = (ADMIN_SECRET, ACCESS_KEY)
DEFAULT_NAMESPACE = "https://hasura.io/jwt/claims"

HASURA_PREFIX_HEADER = HASURA_PREFIX.encode()
# Hot paths test the prefix by slice: fewer steps than startswith() takes to parse its arguments.
HASURA_PREFIX_LENGTH = len(HASURA_PREFIX)
ROLE_HEADER = ROLE.encode()
ADMIN_SECRET_HEADER = ADMIN_SECRET.encode()
ACCESS_KEY_HEADER = ACCESS_KEY.encode()
SECRET_HEADER_NAMES = (ADMIN_SECRET_HEADER, ACCESS_KEY_HEADER)
AUTHORIZATION_HEADER = b"authorization"
COOKIE_HEADER = b"cookie"
# RFC 9110 section 5.6.2: what a header name (and a cookie name, RFC 6265) may be.
HTTP_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

JWT_SECRET_VARIABLE = "HASURA_GRAPHQL_JWT_SECRET"
JWT_SECRETS_VARIABLE = "HASURA_GRAPHQL_JWT_SECRETS"
ADMIN_SECRET_VARIABLE = "HASURA_GRAPHQL_ADMIN_SECRET"
UNAUTHORIZED_ROLE_VARIABLE = "HASURA_GRAPHQL_UNAUTHORIZED_ROLE"
