"""`_jwks.schedule`: the spec 4.3 timing rules as tables, no clock and no I/O."""

from __future__ import annotations

import pytest

from asgi_hasura_jwt._jwks.schedule import (
    STARTUP_ATTEMPTS,
    Schedule,
    is_due,
    last_startup_attempt,
    startup_backoff,
)
from asgi_hasura_jwt._options import JWKSOptions

# Floor 1 s, fallback 600 s, retry 60 s, kid cooldown 30 s: the defaults.
DEFAULT = Schedule(JWKSOptions())


@pytest.mark.parametrize(
    ("last_fetch_start", "now", "expected"),
    [
        (None, 0.0, True),  # never fetched
        (100.0, 100.0, False),
        (100.0, 100.999, False),  # within the 1 s floor
        (100.0, 101.0, True),  # exactly the floor
        (100.0, 500.0, True),
    ],
)
def test_the_floor_between_fetches(
    last_fetch_start: float | None, now: float, expected: bool
) -> None:
    assert DEFAULT.may_start(last_fetch_start, now) is expected


@pytest.mark.parametrize(
    ("last_fetch_start", "last_kid_refetch", "now", "expected"),
    [
        (None, None, 0.0, True),
        (100.0, None, 100.5, False),  # the floor holds for an unknown kid too
        (100.0, None, 101.0, True),
        (100.0, 100.0, 129.9, False),  # within the 30 s cooldown
        (100.0, 100.0, 130.0, True),
        (125.0, 100.0, 130.5, True),  # the cooldown counts from the kid refetch, not any fetch
        (129.8, 100.0, 130.0, False),  # cooldown over, floor not
    ],
)
def test_unknown_kid_refetch_needs_the_floor_and_the_cooldown(
    last_fetch_start: float | None, last_kid_refetch: float | None, now: float, expected: bool
) -> None:
    assert DEFAULT.may_refetch_kid(last_fetch_start, last_kid_refetch, now) is expected


def test_a_zero_kid_cooldown_leaves_only_the_floor() -> None:
    schedule = Schedule(JWKSOptions(kid_cooldown=0))
    assert schedule.may_refetch_kid(100.0, 100.0, 101.0)
    assert not schedule.may_refetch_kid(100.0, 100.0, 100.5)


@pytest.mark.parametrize(
    ("options", "expiry", "expected"),
    [
        (JWKSOptions(), 1000.0 + 300, 300.0),  # max-age 300
        (JWKSOptions(), 1000.0 + 0.2, 1.0),  # sooner than the floor: once per second
        (JWKSOptions(), 1000.0, 1.0),  # no-cache, no-store, must-revalidate: now
        (JWKSOptions(), 900.0, 1.0),  # an Expires in the past
        (JWKSOptions(), None, 600.0),  # no expiry headers: the fallback max age (ours)
        (JWKSOptions(fallback_max_age=None), None, None),  # Hasura's: never refresh
        (JWKSOptions(fallback_max_age=0.5), None, 1.0),  # the floor holds for the fallback
        (JWKSOptions(min_refresh_interval=10), 1000.0 + 5, 10.0),
    ],
)
def test_refresh_delay_after_a_success(
    options: JWKSOptions, expiry: float | None, expected: float | None
) -> None:
    assert Schedule(options).refresh_delay(expiry, wall=1000.0) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (JWKSOptions(), 60.0),
        (JWKSOptions(retry_interval=0.1), 1.0),  # never sooner than the floor
        (JWKSOptions(retry_interval=5, min_refresh_interval=20), 20.0),
    ],
)
def test_retry_delay(options: JWKSOptions, expected: float) -> None:
    assert Schedule(options).retry_delay == expected


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (None, 160.0),  # nothing planned: retry in 60 s
        (50.0, 160.0),  # the planned refresh was already due
        (100.0, 160.0),  # due right now counts as passed
        (130.0, 130.0),  # planned sooner than the retry: a failure never postpones it
        (160.0, 160.0),  # the same instant either way
        (700.0, 160.0),  # planned later: the retry comes first
    ],
)
def test_due_after_a_failure(due: float | None, expected: float) -> None:
    assert DEFAULT.due_after_failure(due, now=100.0) == expected


@pytest.mark.parametrize(
    ("due", "last_fetch_start", "expected"),
    [
        (None, None, None),  # nothing planned
        (None, 100.0, None),
        (50.0, None, 50.0),
        (500.0, 100.0, 500.0),
        (100.5, 100.0, 101.0),  # not within the floor of the last fetch
        (90.0, 100.0, 101.0),
    ],
)
def test_next_fetch_at(
    due: float | None, last_fetch_start: float | None, expected: float | None
) -> None:
    assert DEFAULT.next_fetch_at(due, last_fetch_start) == expected


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [(None, 1e9, False), (10.0, 9.999, False), (10.0, 10.0, True), (10.0, 11.0, True)],
)
def test_is_due(due: float | None, now: float, expected: bool) -> None:
    assert is_due(due, now) is expected


def test_startup_backoff_doubles_from_200_ms() -> None:
    assert [startup_backoff(n) for n in range(1, STARTUP_ATTEMPTS + 1)] == [
        0.2,
        0.4,
        0.8,
        1.6,
        3.2,
    ]


@pytest.mark.parametrize(
    ("attempts", "resume_at", "expected"),
    [
        (1, 10.2, False),
        (4, 11.6, False),
        (STARTUP_ATTEMPTS, 13.2, True),  # the count is spent
        (2, 40.0, True),  # the backoff would end at the deadline
        (2, 40.5, True),  # or past it
        (2, 39.9, False),
    ],
)
def test_last_startup_attempt(attempts: int, resume_at: float, expected: bool) -> None:
    assert last_startup_attempt(attempts, resume_at, deadline=40.0) is expected
