"""When a fetched JWKS expires, from its response headers (spec 4.2, Hasura's rules).

Pure functions of the headers and ``now``; the refresh planned from them is in ``state.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone

# RFC 9110 section 5.6.2 (token) and 5.6.4 (quoted-string, obs-text included).
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
# One list element with its surrounding OWS; every part is optional because RFC 9110
# section 5.6.1 lets recipients accept empty elements (", ,").
_ELEMENT = re.compile(rf"[ \t]*(?:({_TCHARS})(?:=({_TCHARS}|{_QUOTED}))?)?[ \t]*")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_DECIMAL = re.compile(r"[0-9]+")
# RFC 9111 section 1.2.2: a delta-seconds too large to represent counts as 2^31.
_MAX_DELTA_SECONDS = 2**31

# RFC 9110 section 5.6.7 IMF-fixdate, the only form Hasura reads: Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ExpiryParseError(ValueError):
    """A ``Cache-Control`` or ``Expires`` header that cannot be read (spec 4.2)."""


def parse_cache_control(value: str) -> list[tuple[str, str | None]]:
    """The directives of one ``Cache-Control`` value, names lower-cased, values unquoted.

    Raises `ExpiryParseError` for anything that is not a comma-separated list of
    ``token[=token|quoted-string]`` (RFC 9111 section 5.2).
    """
    directives: list[tuple[str, str | None]] = []
    pos = 0
    while True:
        match = _ELEMENT.match(value, pos)
        assert match is not None  # every part of the pattern is optional
        name, argument = match.groups()
        if name is not None:
            if argument is not None and argument.startswith('"'):
                argument = _QUOTED_PAIR.sub(r"\1", argument[1:-1])
            # RFC 9111 section 5.2: directive names are case-insensitive.
            directives.append((name.lower(), argument))
        pos = match.end()
        if pos == len(value):
            return directives
        if value[pos] != ",":
            raise ExpiryParseError("malformed Cache-Control header")
        pos += 1


def parse_http_date(value: str) -> float:
    """POSIX seconds of an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``).

    Raises `ExpiryParseError` for any other form (RFC 850 and asctime dates included, as in
    Hasura) and for impossible dates. The weekday name is not checked against the date.
    """
    match = _IMF_FIXDATE.fullmatch(value.strip(" \t"))
    if match is None:
        raise ExpiryParseError("Expires header is not an IMF-fixdate")
    day, month_name, year, hour, minute, second = match.groups()
    try:
        moment = datetime(
            int(year),
            _MONTHS.index(month_name) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone.utc,
        )
    except ValueError as exc:  # 31 Feb, hour 24, year 0000, ...
        raise ExpiryParseError("Expires header is not a valid date") from exc
    return moment.timestamp()


def _first(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def expiry_from_headers(headers: Iterable[tuple[str, str]], now: float) -> float | None:
    """The absolute expiry of a JWKS response, in POSIX seconds; ``None`` when it has none.

    ``headers`` are the response's (name, value) pairs in order; only the first
    ``Cache-Control`` and the first ``Expires`` count. ``now`` is POSIX seconds. Raises
    `ExpiryParseError` for a malformed ``Cache-Control`` list, a non-decimal ``max-age`` /
    ``s-maxage``, or an ``Expires`` that is not an IMF-fixdate; a broken ``Cache-Control``
    does not fall back to ``Expires``.
    """
    headers = list(headers)
    cache_control = _first(headers, "cache-control")
    if cache_control is not None:
        directives = parse_cache_control(cache_control)
        names = {name for name, _ in directives}
        age = _first_age(directives)
        if "must-revalidate" in names:
            return now if age is None else now + age
        if "no-cache" in names or "no-store" in names:
            return now
        if age is not None:
            return now + age
    expires = _first(headers, "expires")
    if expires is not None:
        return parse_http_date(expires)
    return None


def _first_age(directives: list[tuple[str, str | None]]) -> int | None:
    for name, argument in directives:
        if name in ("max-age", "s-maxage"):
            if argument is None or not _DECIMAL.fullmatch(argument):
                raise ExpiryParseError(f"Cache-Control {name} is not a decimal number")
            # Bound the digits before int(): a 5000-digit value would exceed
            # sys.get_int_max_str_digits(), and anything over ten digits is past 2^31.
            digits = argument.lstrip("0") or "0"
            return _MAX_DELTA_SECONDS if len(digits) > 10 else min(int(digits), _MAX_DELTA_SECONDS)
    return None
