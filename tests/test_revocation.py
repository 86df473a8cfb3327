"""`_revocation` without a server: the list's rules, entry lifetimes, bounded memory, the entry
format, ``revoke``'s arguments, the options, and the package without the redis extra.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from asgi_hasura_jwt import ConfigError, InvalidJWT, Revocation, RevocationStore, Settings
from asgi_hasura_jwt._revocation import RevocationList, SocketRegistry, Subject
from asgi_hasura_jwt._revocation.entries import revoked_values
from asgi_hasura_jwt._revocation.redis import RedisStore

from .conftest import HMAC_SECRET


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


T = 1_000_000.0


def revoked(clock: Clock, *, ttl: float = 3600.0, **named: str) -> RevocationList:
    revocations = RevocationList(ttl, clock)
    for kind, value in named.items():
        assert revocations.add(revocations.new(kind, value))  # type: ignore[arg-type]
    return revocations


@pytest.mark.parametrize(
    ("named", "subject", "refused"),
    [
        # sid: every token of the session, whenever issued
        ({"sid": "s1"}, Subject(None, "s1", T - 5), True),
        ({"sid": "s1"}, Subject("u1", "s1", T + 30), True),
        ({"sid": "s1"}, Subject("u1", "s2", T - 5), False),
        ({"sid": "s1"}, Subject("s1", None, T - 5), False),  # a sub is not a sid
        # sub: tokens issued at or before the revocation, and those without iat
        ({"sub": "u1"}, Subject("u1", None, T - 5), True),
        ({"sub": "u1"}, Subject("u1", None, T), True),
        ({"sub": "u1"}, Subject("u1", "s9", None), True),
        ({"sub": "u1"}, Subject("u1", None, T + 1), False),  # signed in again
        ({"sub": "u1"}, Subject("u2", None, T - 5), False),
        ({"sub": "u1"}, Subject(None, "u1", T - 5), False),
        ({"sub": "u1", "sid": "s1"}, Subject("u1", "s1", T + 1), True),  # the sid still is
    ],
)
def test_which_tokens_a_revocation_refuses(
    named: dict[str, str], subject: Subject, refused: bool
) -> None:
    revocations = revoked(Clock(T), **named)
    assert revocations.refuses(subject, T + 2) is refused
    claims: dict[str, Any] = {"sub": subject.sub, "sid": subject.sid, "iat": subject.iat}
    claims = {name: value for name, value in claims.items() if value is not None}
    if refused:
        with pytest.raises(InvalidJWT) as error:
            revocations.admit(claims, 0, T + 2)
        assert (error.value.code, error.value.status) == ("invalid-jwt", 400)
        assert error.value.message == "Could not verify JWT: JWTRevoked"
    else:
        assert revocations.admit(claims, 0, T + 2) == subject


def test_nothing_revoked_is_inactive_and_checks_pass() -> None:
    revocations = RevocationList(60, Clock())
    assert not revocations.active
    assert not revocations.refuses(Subject("u1", "s1", None), T)
    assert not revocations.refuses(None, T)


def test_subject_of_claims() -> None:
    assert Subject.of({"sub": "u", "sid": "s", "iat": 5}) == Subject("u", "s", 5)
    assert Subject.of({"sub": "u", "sid": 7}) == Subject("u", None, None)  # not a string sid
    assert Subject.of({"sid": "s"}) == Subject(None, "s", None)
    assert Subject.of({"iat": 5}) is None  # nothing a revocation could name


def test_entries_live_for_the_longest_lifetime_seen_capped_by_the_ttl() -> None:
    clock = Clock(T)
    revocations = RevocationList(600, clock)
    assert revocations.lifetime == 600  # no token seen yet: the ttl
    revocations.admit({"sub": "u", "iat": T - 10, "exp": T + 50}, 5, T)
    assert revocations.lifetime == 65  # exp + skew - iat
    revocations.admit({"sub": "u", "iat": T - 10, "exp": T + 20}, 0, T)
    assert revocations.lifetime == 65  # the longest stays
    revocations.admit({"sub": "u", "exp": T + 100}, 0, T)
    assert revocations.lifetime == 100  # without iat: from now
    revocations.admit({"sub": "u", "iat": T}, 0, T)
    assert revocations.lifetime == 600  # without exp: capped
    entry = revocations.new("sid", "s1")
    assert (entry.revoked_at, entry.until) == (T, T + 600)


def test_admit_refuses_a_revoked_token_and_returns_its_subject() -> None:
    revocations = revoked(Clock(T), sub="u1")
    assert revocations.admit({"sub": "u1", "iat": T + 1}, 0, T + 1) == Subject("u1", None, T + 1)
    with pytest.raises(InvalidJWT, match="JWTRevoked"):
        revocations.admit({"sub": "u1", "iat": T - 1, "exp": T + 60}, 0, T + 1)


def test_an_entry_is_forgotten_when_no_token_it_matches_can_be_valid() -> None:
    clock = Clock(T)
    revocations = RevocationList(3600, clock)
    revocations.admit({"iat": T - 10, "exp": T + 50}, 0, T)  # tokens live 60 s
    revocations.add(revocations.new("sid", "s1"))
    later = Subject("u1", "s1", T + 30)
    assert revocations.refuses(later, T + 59)
    clock.now = T + 60
    assert not revocations.refuses(later, T + 60)
    assert revocations.add(revocations.new("sub", "other"))  # adding purges
    assert len(revocations) == 1


def test_revoking_again_is_idempotent_and_a_later_revocation_extends() -> None:
    clock = Clock(T)
    revocations = RevocationList(100, clock)
    entry = revocations.new("sub", "u1")
    assert revocations.add(entry)
    assert not revocations.add(entry)  # the same entry: no change
    assert not revocations.add(Revocation("sub", "u1", T - 50, T + 10))  # older: covered
    assert not revocations.add(Revocation("sub", "u1", T, T - 1))  # already expired
    clock.now = T + 20
    assert revocations.add(revocations.new("sub", "u1"))
    assert revocations.refuses(Subject("u1", None, T + 10), T + 20)  # now covered too
    clock.now = T + 101  # the first entry's until has passed, the second's has not
    assert revocations.refuses(Subject("u1", None, T + 10), clock.now)
    assert len(revocations) == 1


def test_memory_is_bounded_by_one_lifetime_of_revocations() -> None:
    clock = Clock(T)
    revocations = RevocationList(3600, clock)
    revocations.admit({"iat": T, "exp": T + 60}, 0, T)
    for second in range(10_000):
        clock.now = T + second
        revocations.add(revocations.new("sub", f"user-{second}"))
        revocations.add(revocations.new("sid", "the-same-session"))  # extended every time
        assert len(revocations) <= 61 + 1
        assert len(revocations._expiry) <= 2 * len(revocations) + 64 + 2
    clock.now += 61
    revocations.add(revocations.new("sub", "last"))
    assert len(revocations) == 1
    assert revocations.active


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"{}",
        b'["sub","u",1,2,3]',
        b'["role","u",1,2]',
        b'["sub","",1,2]',
        b'["sub",5,1,2]',
        b'["sub","u","1",2]',
        b'["sub","u",1,true]',
        b'["sub","u",1,1e999]',
        b"\xff",
    ],
)
def test_bad_shared_data_is_skipped_not_raised(data: bytes) -> None:
    assert Revocation.from_json(data) is None


def test_entry_round_trip() -> None:
    entry = Revocation("sid", "sess_ü:1", T + 0.25, T + 60.5)
    assert Revocation.from_json(entry.to_json()) == entry
    assert Revocation.from_json(entry.to_json().encode()) == entry


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({}, TypeError, "revoke() needs sub= or sid= (or both)"),
        ({"sub": None, "sid": None}, TypeError, "revoke() needs sub= or sid= (or both)"),
        ({"sub": 5}, TypeError, "revoke(): sub must be a string, got int"),
        ({"sid": b"s"}, TypeError, "revoke(): sid must be a string, got bytes"),
        ({"sub": ""}, ValueError, "revoke(): sub must not be empty"),
        ({"sub": "u", "sid": ""}, ValueError, "revoke(): sid must not be empty"),
    ],
)
def test_revoke_arguments(arguments: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        revoked_values(arguments.get("sub"), arguments.get("sid"))
    assert str(raised.value) == message


def test_revoke_names_both() -> None:
    assert revoked_values("u", "s") == [("sub", "u"), ("sid", "s")]


class FakeSocket:
    def __init__(self, *subjects: Subject) -> None:
        self.subjects = list(subjects)
        self.revoked = 0

    def revoke(self) -> None:
        self.revoked += 1


def test_registry_ends_matching_sockets_and_forgets_ended_ones() -> None:
    clock = Clock(T)
    revocations = RevocationList(100, clock)
    registry = SocketRegistry()
    old = FakeSocket(Subject("u1", "s1", T - 5))
    fresh = FakeSocket(Subject("u1", "s2", T + 5))  # the user signed in again
    other = FakeSocket(Subject("u2", None, T - 5))
    for socket in (old, fresh, other):
        registry.add(socket, socket.subjects[0])
    assert len(registry) == 3
    entry = Revocation("sub", "u1", T, T + 100)  # e.g. delivered late by the store
    revocations.add(entry)
    registry.revoke(entry, revocations, T + 6)
    assert (old.revoked, fresh.revoked, other.revoked) == (1, 0, 0)
    sid = Revocation("sid", "s2", T + 6, T + 100)
    revocations.add(sid)
    registry.revoke(sid, revocations, T + 6)
    assert fresh.revoked == 1
    for socket in (old, fresh, other):
        registry.discard(socket)
    assert len(registry) == 0
    assert registry._sockets == {}


def test_store_protocol_is_what_the_option_takes() -> None:
    assert isinstance(RedisStore("redis://127.0.0.1:1/0"), RevocationStore)

    class Store:
        async def publish(self, revocation: Revocation) -> None:
            pass

        async def run(self, deliver: Any, *, task_status: Any = None) -> None:
            pass

    store = Store()
    assert settings(revocations=store).revocations is store
    assert settings().revocations is None
    assert settings().revocation_ttl == 86400.0
    assert isinstance(settings(revocations="redis://127.0.0.1:6379/2").revocations, RedisStore)


def settings(**options: Any) -> Settings:
    return Settings(jwt_secret={"type": "HS256", "key": HMAC_SECRET}, environ={}, **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"revocations": 6379},
            "revocations: expected None, a redis:// URL or a store with publish() and run(), "
            "got int",
        ),
        (
            {"revocations": "http://secret@cache:6379"},
            "revocations: expected a redis://, rediss:// or unix:// URL, got another string",
        ),
        ({"revocations": "redis://:hunter2@cache:port/0"}, "revocations: not a valid Redis URL"),
        ({"revocation_ttl": 0}, "revocation_ttl: must be greater than 0"),
        ({"revocation_ttl": -1.0}, "revocation_ttl: must be greater than 0"),
        ({"revocation_ttl": True}, "revocation_ttl: expected a number of seconds, got bool"),
        ({"revocation_ttl": "60"}, "revocation_ttl: expected a number of seconds, got str"),
        ({"revocation_ttl": float("inf")}, "revocation_ttl: expected a number of seconds"),
    ],
)
def test_options_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        settings(**options)
    assert str(error.value).startswith(message)
    assert "hunter2" not in str(error.value)
    assert "secret@" not in str(error.value)


BLOCKED = """
import sys
sys.modules["redis"] = None  # as if the redis extra were not installed
import asgi_hasura_jwt
from asgi_hasura_jwt import HasuraJWTMiddleware, Settings, ConfigError
config = {"type": "HS256", "key": "k" * 32}
Settings(jwt_secret=config, environ={})
try:
    Settings(jwt_secret=config, environ={}, revocations="redis://127.0.0.1:6379/0")
except ConfigError as error:
    print(error)
assert "redis" not in {name.split(".")[0] for name in sys.modules if sys.modules[name]}
"""


def test_the_package_works_without_the_redis_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == (
        "revocations: a Redis URL needs the redis extra (pip install 'asgi-hasura-jwt[redis]')"
    )
