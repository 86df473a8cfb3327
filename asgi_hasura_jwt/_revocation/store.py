"""Sharing revocations between processes: the `RevocationStore` protocol, and the
``revocations`` option (``None``, a ``redis://`` URL, or a store object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.abc

from .._errors import ConfigError
from .entries import Revocation

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@runtime_checkable
class RevocationStore(Protocol):
    """What ``revocations=`` takes besides a URL: a channel between the processes of a fleet.

    ``publish`` shares a revocation made in this process; it must not raise or block for long
    when the backend is unreachable (queue the entry and deliver it once back). ``run`` is
    started by the lifespan: it calls ``deliver`` with every revocation other processes made
    (and with those stored before, so that a process started later knows them), calls
    ``task_status.started()`` once it is listening or has given up connecting for now, and
    runs until cancelled, reconnecting by itself. ``deliver`` is synchronous and cheap; an
    entry delivered twice, or this process's own, is harmless.
    """

    async def publish(self, revocation: Revocation) -> None: ...

    async def run(
        self,
        deliver: Callable[[Revocation], None],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None: ...


def revocation_store(value: Any) -> RevocationStore | None:
    """The ``revocations`` option: ``None`` (this process only), a Redis URL, or a store."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.startswith(REDIS_SCHEMES):
            raise ConfigError(
                "revocations: expected a redis://, rediss:// or unix:// URL, got another string"
            )
        try:
            from .redis import RedisStore
        except ImportError as exc:
            raise ConfigError(
                "revocations: a Redis URL needs the redis extra "
                "(pip install 'asgi-hasura-jwt[redis]')"
            ) from exc
        return RedisStore(value)
    if not isinstance(value, RevocationStore):
        raise ConfigError(
            "revocations: expected None, a redis:// URL or a store with publish() and run(), "
            f"got {type(value).__name__}"
        )
    return value
