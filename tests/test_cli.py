"""The ``asgi-hasura-jwt`` command line: every subcommand, its exit codes and messages, and that no
secret or token ever reaches its output except the token ``mint`` is asked for."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import asgi_hasura_jwt
from asgi_hasura_jwt import _cli
from asgi_hasura_jwt._cli import main
from asgi_hasura_jwt._token import parse_token
from examples.demo.issuer import DevIssuer

from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, hasura_claims, mint, payload
from .servers import serve
from .test_clerk import CONFIG as CLERK_CONFIG
from .test_clerk import FIXTURE as CLERK_FIXTURE
from .test_clerk import ISSUER as CLERK_ISSUER

HS_CONFIG = json.dumps({"type": "HS256", "key": HMAC_SECRET})
NOW = 1_700_000_000


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    code = main(list(argv), environ=env or {})
    out, err = capsys.readouterr()
    return code, out, err


def private_pem(private: Any, password: bytes | None = None) -> bytes:
    encryption: Any = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
    )


@pytest.fixture
def rsa_key_file(tmp_path: Path, keys: dict[str, SigningKey]) -> Path:
    path = tmp_path / "key.pem"
    path.write_bytes(private_pem(keys["RS256"].private))
    return path


# --- mint --------------------------------------------------------------------------------------


def test_mint_makes_a_clerk_template_token(
    capsys: pytest.CaptureFixture[str], rsa_key_file: Path, keys: dict[str, SigningKey]
) -> None:
    before = int(time.time())
    code, out, err = run(
        capsys,
        "mint",
        "--key",
        str(rsa_key_file),
        "--kid",
        "ins_test",
        "--user-id",
        "user_42",
        "--issuer",
        "https://clerk.example.test",
        "--azp",
        "https://app.example.test",
        "--lifetime",
        "120",
    )
    assert (code, err) == (0, "")
    parsed = parse_token(out.strip())
    assert parsed.header == {"alg": "RS256", "typ": "JWT", "kid": "ins_test"}
    claims = parsed.claims
    # Clerk's claim set, in Clerk's (sorted) order.
    assert list(claims) == ["azp", "exp", NAMESPACE, "iat", "iss", "jti", "nbf", "sub"]
    assert claims[NAMESPACE] == {
        "x-hasura-user-id": "user_42",
        "x-hasura-default-role": "user",
        "x-hasura-allowed-roles": ["user"],
    }
    assert claims["sub"] == "user_42"
    assert claims["iss"] == "https://clerk.example.test"
    assert claims["azp"] == "https://app.example.test"
    assert re.fullmatch("[0-9a-f]{20}", claims["jti"])
    assert before <= claims["iat"] <= time.time()
    assert claims["nbf"] == claims["iat"] - 5
    assert claims["exp"] == claims["iat"] + 120
    # And the middleware's machinery accepts it with the public key.
    config = json.dumps(keys["RS256"].config)
    assert run(capsys, "verify", out.strip(), "--config", config)[0] == 0


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS384", "PS512"])
def test_mint_signs_every_algorithm_an_rsa_key_verifies(
    capsys: pytest.CaptureFixture[str], rsa_key_file: Path, keys: dict[str, SigningKey], alg: str
) -> None:
    # One list, the verifier's (spec 7.1): an RS256 config's key verifies RS and PS tokens.
    code, token, _ = run(capsys, "mint", "--key", str(rsa_key_file), "--alg", alg)
    assert code == 0
    assert parse_token(token.strip()).header["alg"] == alg
    config = json.dumps(keys["RS256"].config)
    assert run(capsys, "verify", token.strip(), "--config", config)[0] == 0


def test_mint_roles_claims_and_hmac_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(HMAC_SECRET + "\n")  # the newline an editor adds is not the secret
    code, token, _ = run(
        capsys,
        "mint",
        "--secret",
        f"@{secret_file}",
        "--alg",
        "HS512",
        "--role",
        "user",
        "--role",
        "editor",
        "--default-role",
        "editor",
        "--claim",
        "X-Hasura-Org-Id=42",
    )
    assert code == 0
    parsed = parse_token(token.strip())
    assert parsed.header["alg"] == "HS512"
    assert "kid" not in parsed.header
    assert parsed.claims[NAMESPACE] == {
        "x-hasura-user-id": "user_dev",
        "x-hasura-default-role": "editor",
        "x-hasura-allowed-roles": ["user", "editor"],
        "x-hasura-org-id": "42",
    }
    code, out, err = run(capsys, "verify", token.strip(), "--config", HS_CONFIG)
    assert code == 0
    assert json.loads(out) == {
        "x-hasura-user-id": "user_dev",
        "x-hasura-org-id": "42",
        "x-hasura-role": "editor",
    }
    assert err.startswith("valid: expires at ")


def test_mint_signs_with_the_hmac_key_of_the_configured_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"HASURA_GRAPHQL_JWT_SECRET": HS_CONFIG}
    code, token, _ = run(capsys, "mint", env=env)
    assert code == 0
    assert run(capsys, "verify", token.strip(), env=env)[0] == 0
    code, token, _ = run(capsys, "mint", "--config", HS_CONFIG)
    assert run(capsys, "verify", token.strip(), env=env)[0] == 0


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def mint_failures(tmp_path: Path, keys: dict[str, SigningKey]) -> list[tuple[list[str], str]]:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_file = _write(tmp_path, "rsa.pem", private_pem(keys["RS256"].private))
    return [
        (["--secret", HMAC_SECRET, "--key", rsa_file], "give either --key or --secret, not both"),
        ([], "no signing key: pass --secret, --key or --config"),
        (["--config", json.dumps(keys["RS256"].config)], "no signing key"),
        (["--config", "{"], "config error: jwt_secret is not valid JSON"),
        (["--secret", "short"], "the secret is too short for HS256: at least 32 bytes"),
        (["--secret", HMAC_SECRET[:40], "--alg", "HS384"], "too short for HS384: at least 48"),
        (["--secret", HMAC_SECRET, "--alg", "RS256"], "--alg RS256 does not fit an HMAC secret"),
        (
            ["--key", rsa_file, "--alg", "HS256"],
            "--alg HS256 does not fit an RSA key (RS256, RS384, RS512, PS256, PS384, PS512)",
        ),
        (["--secret", "@/nonexistent/secret"], "cannot read the secret from /nonexistent/secret"),
        (["--key", "/nonexistent/key.pem"], "cannot read the key from /nonexistent/key.pem"),
        (["--key", _write(tmp_path, "junk.pem", b"junk")], "not a PEM private key"),
        (
            ["--key", _write(tmp_path, "enc.pem", private_pem(ec_key, b"pw"))],
            "encrypted private keys are not supported",
        ),
        (
            ["--key", _write(tmp_path, "ec.pem", private_pem(ec_key))],
            "not an RSA private key (--key signs RS256, RS384, RS512, PS256, PS384, PS512)",
        ),
        (
            ["--key", _write(tmp_path, "small.pem", private_pem(small))],
            "RSA keys under 2048 bits are refused",
        ),
        (
            ["--secret", HMAC_SECRET, "--role", "user", "--default-role", "admin"],
            "--default-role admin is not one of the --role values",
        ),
    ]


def test_mint_failures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keys: dict[str, SigningKey]
) -> None:
    for argv, message in mint_failures(tmp_path, keys):
        code, out, err = run(capsys, "mint", *argv)
        assert (code, out) == (2, ""), argv
        assert err.startswith("asgi-hasura-jwt mint: "), err
        assert message in err, (argv, err)
        assert err.count("\n") == 1, err  # one line, never a traceback
        assert HMAC_SECRET[:32] not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--lifetime", "0"],
        ["--lifetime", "soon"],
        ["--claim", "org=42"],
        ["--claim", "x-hasura-org-id"],
        ["--alg", "none"],
    ],
)
def test_mint_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["mint", "--secret", HMAC_SECRET, *argv], environ={})
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("asgi-hasura-jwt mint: error: ")
    assert err.count("\n") == 1
    assert HMAC_SECRET not in err


# --- verify ------------------------------------------------------------------------------------


def test_verify_reads_the_config_from_json_file_or_environment(
    capsys: pytest.CaptureFixture[str], keys: dict[str, SigningKey], tmp_path: Path
) -> None:
    token = mint(keys["HS256"])
    expected = {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    config_file = tmp_path / "config.json"
    config_file.write_text(HS_CONFIG)
    for argv, env in [
        (["--config", HS_CONFIG], {}),
        (["--config", f"@{config_file}"], {}),
        ([], {"HASURA_GRAPHQL_JWT_SECRET": HS_CONFIG}),
        ([], {"HASURA_GRAPHQL_JWT_SECRETS": f"[{HS_CONFIG}]"}),
    ]:
        code, out, _ = run(capsys, "verify", token, *argv, env=env)
        assert code == 0, argv
        assert json.loads(out) == expected


def test_verify_a_token_without_exp(
    capsys: pytest.CaptureFixture[str], keys: dict[str, SigningKey]
) -> None:
    code, out, err = run(
        capsys, "verify", mint(keys["HS256"], payload(exp=None)), "--config", HS_CONFIG
    )
    assert code == 0
    assert json.loads(out)["x-hasura-role"] == "user"
    assert err == ""  # it never expires: nothing to say


def test_verify_reads_the_token_from_stdin(
    capsys: pytest.CaptureFixture[str],
    keys: dict[str, SigningKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A pasted header value works too: the token inside "Bearer ..." is used.
    monkeypatch.setattr("sys.stdin", io.StringIO(f"  Bearer {mint(keys['HS256'])}\n"))
    code, out, _ = run(capsys, "verify", "-", "--config", HS_CONFIG, "--role", "editor")
    assert code == 0
    assert json.loads(out)["x-hasura-role"] == "editor"


def test_verify_needs_a_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    code, _, err = run(capsys, "verify", "--config", HS_CONFIG)
    assert code == 2
    assert err == "asgi-hasura-jwt verify: no token: pass one as an argument or pipe it on stdin\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("Bearer  \n"))
    assert run(capsys, "verify", "--config", HS_CONFIG)[2].endswith("the token is empty\n")


@pytest.mark.parametrize(
    ("config", "place"),
    [
        ({"header": {"type": "Cookie", "name": "__session"}}, "cookie"),
        ({"header": {"type": "CustomHeader", "name": "X-Token"}}, "custom header"),
    ],
)
def test_verify_presents_the_token_where_the_config_reads_it(
    capsys: pytest.CaptureFixture[str],
    keys: dict[str, SigningKey],
    config: dict[str, Any],
    place: str,
) -> None:
    full = json.dumps({"type": "HS256", "key": HMAC_SECRET, **config})
    code, out, _ = run(capsys, "verify", mint(keys["HS256"]), "--config", full)
    assert code == 0, place
    assert json.loads(out)["x-hasura-user-id"] == "user-1"


def auth_failures(keys: dict[str, SigningKey]) -> list[tuple[str, list[str], str]]:
    hs = keys["HS256"]
    return [
        (
            mint(hs, payload(exp=NOW - 30)),
            ["--at", str(NOW)],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTExpired"
            " (the token expired at 2023-11-14T22:12:50Z, 30 s ago)",
        ),
        (
            mint(hs, payload(iat=NOW - 5, nbf=NOW + 90, exp=NOW + 600)),
            ["--at", "2023-11-14T22:13:20Z"],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTNotYetValid"
            " (the token starts at 2023-11-14T22:14:50Z, in 90 s)",
        ),
        (
            mint(hs, payload(iat=NOW + 10, exp=NOW + 600)),
            ["--at", "2023-11-14T22:13:20"],  # no zone: UTC
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTIssuedAtFuture"
            " (the token is issued at 2023-11-14T22:13:30Z, in 10 s)",
        ),
        (
            mint(hs, payload(iat=NOW, nbf=2**62, exp=2**62 + 1)),
            ["--at", str(NOW)],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTNotYetValid (the token starts at"
            " 4611686018427387904 (POSIX seconds, beyond the calendar), in 53375995563974 days)",
        ),
        (
            mint(hs, payload(iat=NOW - 7200, exp=NOW - 3600)),
            ["--at", str(NOW)],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTExpired"
            " (the token expired at 2023-11-14T21:13:20Z, 60 min ago)",
        ),
        (
            mint(hs, payload(iss="https://evil.example\n")),
            ["--config", json.dumps({**hs.config, "issuer": "https://clerk.example"})],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTNotInIssuer"
            ' (the token\'s iss is "https://evil.example\\n")',
        ),
        (
            mint(hs, payload(aud=["a", "b"])),
            ["--config", json.dumps({**hs.config, "audience": "c"})],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWTNotInAudience"
            ' (the token\'s aud is ["a", "b"])',
        ),
        (
            mint(hs, payload(azp="https://evil.example")),
            ["--authorized-party", "https://app.example"],
            "invalid-jwt (HTTP 400): Could not verify JWT:"
            " JWTNotInAuthorizedParties: azp is not an authorized party"
            ' (the token\'s azp is "https://evil.example"; allowed: "https://app.example")',
        ),
        (
            mint(hs, payload(azp="https://evil.example")),
            ["--authorized-party", "https://a.example", "--authorized-party", "https://b.example"],
            "invalid-jwt (HTTP 400): Could not verify JWT:"
            " JWTNotInAuthorizedParties: azp is not an authorized party"
            ' (the token\'s azp is "https://evil.example";'
            ' allowed: "https://a.example", "https://b.example")',
        ),
        (
            mint(hs),
            ["--authorized-party", "https://app.example", "--require-azp"],
            "invalid-jwt (HTTP 400): Could not verify JWT:"
            " JWTMissingAuthorizedParty: the token has no azp claim",
        ),
        (
            mint(hs),
            ["--role", "admin"],
            "access-denied (HTTP 400): Your requested role is not in allowed roles"
            ' (requested "admin"; the token allows "editor", "user")',
        ),
        (
            mint(hs, payload(**{NAMESPACE: hasura_claims(roles=["user"])})),
            ["--role", "editor"],
            "access-denied (HTTP 400): Your requested role is not in allowed roles"
            ' (requested "editor"; the token allows "user")',
        ),
        (
            mint(keys["RS256"]),
            [],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature"
            " (the token is signed with RS256, which the configured key cannot verify:"
            " it verifies HS256, HS384, HS512)",
        ),
        (
            mint(hs, alg="HS512"),
            ["--config", json.dumps({"type": "HS256", "key": HMAC_SECRET[:32]})],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature"
            " (the token is signed with HS512, which the configured key cannot verify:"
            " it verifies HS256)",
        ),
        (
            mint(keys["ES256"]),
            ["--config", json.dumps(keys["RS256"].config)],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature"
            " (the token is signed with ES256, which the configured key cannot verify:"
            " it verifies PS256, PS384, PS512, RS256, RS384, RS512)",
        ),
        (
            mint(SigningKey.hmac("another-secret-that-is-32-bytes-or-more")),
            [],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature"
            " (the token is signed with HS256, but not with this secret: the config's key must"
            " be the secret the issuer signs with)",
        ),
        (
            # An asymmetric key of the right family that did not sign it: nothing to add.
            mint(SigningKey.generate("ES256")),
            ["--config", json.dumps(keys["ES256"].config)],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature",
        ),
        (
            "not-a-token",
            [],
            "invalid-jwt (HTTP 400): Could not verify JWT: JWSError (CompactDecodeError"
            " Invalid number of parts: Expected 3 parts; got 1)",
        ),
        (
            mint(hs, payload(**{NAMESPACE: None})),
            [],
            f"jwt-invalid-claims (HTTP 400): claims key: '{NAMESPACE}' not found",
        ),
    ]


def test_verify_names_the_failing_check(
    capsys: pytest.CaptureFixture[str], keys: dict[str, SigningKey]
) -> None:
    for token, argv, message in auth_failures(keys):
        if "--config" not in argv:
            argv = [*argv, "--config", HS_CONFIG]
        code, out, err = run(capsys, "verify", token, *argv)
        assert (code, out) == (1, ""), message
        assert err == message + "\n"
        # Neither the token nor the secret is ever repeated back.
        assert token not in err
        assert HMAC_SECRET not in err


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "config error: no JWT secret: pass jwt_secret or set HASURA_GRAPHQL_JWT_SECRET"),
        (["--config", "{not json"], {}, "config error: jwt_secret is not valid JSON"),
        (
            [],
            {"HASURA_GRAPHQL_JWT_SECRET": "{"},
            "config error: HASURA_GRAPHQL_JWT_SECRET is not valid JSON",
        ),
        (
            ["--config", '{"type":"HS256","key":"a-secret-that-is-too-short"}'],
            {},
            "config error: Invalid JWK: Key size too small; should be atleast 32 characters",
        ),
        (["--config", "@/nonexistent.json"], {}, "cannot read the config from /nonexistent.json"),
    ],
)
def test_verify_config_errors(
    capsys: pytest.CaptureFixture[str],
    keys: dict[str, SigningKey],
    argv: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    code, out, err = run(capsys, "verify", mint(keys["HS256"]), *argv, env=env)
    assert (code, out) == (2, "")
    assert err.startswith(f"asgi-hasura-jwt verify: {message}")
    assert err.count("\n") == 1
    assert "a-secret-that-is-too-short" not in err


def test_verify_config_file_must_be_utf8(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_bytes(b"\xff\xfe{}")
    code, _, err = run(capsys, "verify", "x.y.z", "--config", f"@{config}")
    assert code == 2
    assert err.endswith(f"cannot read the config from {config}: not UTF-8 text\n")


@pytest.mark.parametrize(
    ("at", "message"),
    [("tomorrow", "expected POSIX seconds or an ISO 8601 time"), ("nan", "expected a finite time")],
)
def test_verify_at_must_be_a_time(
    capsys: pytest.CaptureFixture[str], at: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["verify", "x.y.z", "--at", at], environ={})
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


async def test_verify_with_a_jwks_url(capsys: pytest.CaptureFixture[str]) -> None:
    issuer = DevIssuer("https://issuer.example", ["https://app.example"], 60)
    stranger = DevIssuer("https://issuer.example", ["https://app.example"], 60)
    async with serve(issuer.app) as base:
        url = f"{base}/.well-known/jwks.json"
        # Two configs on one URL share a key set, as in the middleware.
        configs = [{"jwk_url": url, "issuer": issuer.url}, {"jwk_url": url, "issuer": "other"}]
        results = []
        for token in (issuer.mint("user_jwks"), stranger.mint()):
            argv = ["verify", token, "--config", json.dumps(configs)]
            # main runs its own event loop: in a worker thread, while this loop serves the JWKS.
            results.append((await anyio.to_thread.run_sync(main, argv, {}), capsys.readouterr()))
    (ok, (out, _)), (refused, (_, err)) = results
    assert ok == 0
    assert json.loads(out) == {"x-hasura-user-id": "user_jwks", "x-hasura-role": "user"}
    # The JWKS was fetched fine: an unknown key is the token's failure, not the config's.
    assert refused == 1
    assert err == (
        "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature"
        f' (the token\'s kid "{stranger.kid}" is not among the key ids of the JWKS at {url}:'
        f' "{issuer.kid}"; is it from another instance, such as a Clerk development token sent'
        " to production?)\n"
    )


def jwks_app(document: dict[str, Any]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = json.dumps(document).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_verify_the_real_clerk_token_and_a_foreign_kid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The Clerk instance of tests/data/clerk serves its JWKS; its own token verifies during its
    # lifetime, a token of the local issuer (another instance's kid) is explained.
    local = DevIssuer(CLERK_ISSUER, ["https://app.example"], 60)
    async with serve(jwks_app(CLERK_FIXTURE["jwks"])) as base:
        url = f"{base}/.well-known/jwks.json"
        static = ("type", "key")
        config = {name: value for name, value in CLERK_CONFIG.items() if name not in static}
        config = json.dumps({**config, "jwk_url": url})
        results = []
        for argv in (
            ["verify", CLERK_FIXTURE["token"], "--config", config, "--at", "1666648300"],
            ["verify", local.mint(), "--config", config],
        ):
            results.append((await anyio.to_thread.run_sync(main, argv, {}), capsys.readouterr()))
    (ok, (out, err)), (refused, (_, why)) = results
    assert (ok, err) == (0, "valid: expires at 2022-10-24T21:51:50Z (in 10 s)\n")
    assert json.loads(out)["x-hasura-user-id"] == "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"
    assert refused == 1
    assert why == (
        "invalid-jwt (HTTP 400): Could not verify JWT: JWSError JWSInvalidSignature"
        f' (the token\'s kid "{local.kid}" is not among the key ids of the JWKS at {url}:'
        ' "ins_2GIoQhbUpy0hX7B2cVkuTMinXoD"; is it from another instance, such as a Clerk'
        " development token sent to production?)\n"
    )


@pytest.mark.parametrize(
    ("claims", "note"),
    [
        (
            {"iat": NOW - 65, "exp": NOW - 5},
            "valid only thanks to allowed_skew (30 s): without it, JWTExpired"
            " (the token expired at 2023-11-14T22:13:15Z, 5 s ago)",
        ),
        (
            {"iat": NOW - 5, "nbf": NOW + 10, "exp": NOW + 60},
            "valid only thanks to allowed_skew (30 s): without it, JWTNotYetValid"
            " (the token starts at 2023-11-14T22:13:30Z, in 10 s)",
        ),
        (
            {"iat": NOW + 20, "exp": NOW + 80},
            "valid only thanks to allowed_skew (30 s): without it, JWTIssuedAtFuture"
            " (the token is issued at 2023-11-14T22:13:40Z, in 20 s)",
        ),
        ({"iat": NOW - 5, "exp": NOW + 100}, "valid: expires at 2023-11-14T22:15:00Z (in 100 s)"),
    ],
)
def test_verify_says_when_only_the_skew_accepts_a_token(
    capsys: pytest.CaptureFixture[str],
    keys: dict[str, SigningKey],
    claims: dict[str, int],
    note: str,
) -> None:
    config = json.dumps({"type": "HS256", "key": HMAC_SECRET, "allowed_skew": -30})
    token = mint(keys["HS256"], payload(**claims))
    code, out, err = run(capsys, "verify", token, "--config", config, "--at", str(NOW))
    assert code == 0
    assert json.loads(out)["x-hasura-role"] == "user"
    assert err == note + "\n"


def test_verify_reports_an_unreachable_jwks(
    capsys: pytest.CaptureFixture[str], keys: dict[str, SigningKey]
) -> None:
    # Port 9 (discard) on loopback: nothing listens there in the test environment.
    config = json.dumps({"jwk_url": "http://127.0.0.1:9/jwks.json"})
    code, out, err = run(capsys, "verify", mint(keys["RS256"]), "--config", config)
    assert (code, out) == (2, "")
    assert err.startswith(
        "asgi-hasura-jwt verify: cannot fetch the JWKS at http://127.0.0.1:9/jwks.json: "
    )
    assert err.count("\n") == 1  # the library's log line stays quiet


# --- demo and the command line itself ----------------------------------------------------------


ROOT = Path(__file__).resolve().parent.parent


def test_demo_outside_a_checkout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "demo")
    assert code == 2
    assert err == (
        "asgi-hasura-jwt demo: the demo ships with the source repository (examples/demo): run"
        " `make demo`, or this command, in the root of a checkout\n"
    )


def test_demo_without_dev_extras(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in ("strawberry", "uvicorn") else real(name, *args)

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    code, _, err = run(capsys, "demo")
    assert code == 2
    assert err == (
        "asgi-hasura-jwt demo: the demo needs the development extras (missing: strawberry,"
        " uvicorn): pip install -e '.[dev]', or run `make demo`\n"
    )


def test_demo_becomes_python_m_examples_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real run is tests/test_demo.py's console-script test; here, the exact command line,
    # every option (--help too) left to the demo's own parser.
    calls: list[tuple[str, list[str]]] = []

    def execv(path: str, argv: list[str]) -> None:
        calls.append((path, argv))
        raise SystemExit(0)

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(os, "execv", execv)
    with pytest.raises(SystemExit):
        main(["demo", "--check", "--lifetime", "2", "--help"], environ={})
    assert calls == [
        (
            sys.executable,
            [sys.executable, "-m", "examples.demo", "--check", "--lifetime", "2", "--help"],
        )
    ]


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["bogus"], ["verify", "--nope"]):
        with pytest.raises(SystemExit) as exited:
            main(argv, environ={})
        assert exited.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_help_names_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("verify", "mint", "demo"):
        assert command in out
    assert "Exit codes: 0 ok, 1 authentication failed, 2 usage or configuration error" in out


def test_interrupt_exits_130_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(args: Any, environ: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(_cli.mint, "run", interrupted)
    assert run(capsys, "mint") == (130, "", "")


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    # One source: the package's __version__, which the installed metadata was built from.
    assert asgi_hasura_jwt.__version__ == importlib.metadata.version("asgi-hasura-jwt")
    assert capsys.readouterr().out == f"asgi-hasura-jwt {asgi_hasura_jwt.__version__}\n"


def test_python_m_runs_the_command(keys: dict[str, SigningKey]) -> None:
    token = mint(keys["HS256"])
    command = [sys.executable, "-m", "asgi_hasura_jwt", "verify", token, "--config", HS_CONFIG]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    version = subprocess.run(
        [sys.executable, "-m", "asgi_hasura_jwt", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert version.stdout == f"asgi-hasura-jwt {asgi_hasura_jwt.__version__}\n"
