"""The JSON path subset Hasura accepts for ``claims_namespace_path`` and ``claims_map`` (spec 1.2).

jsonpath-ng is not used: it accepts far more than this grammar (``..``, ``*``, filters, slices,
``@``) and would need each of those refused after parsing, and its results come wrapped in
match objects. The grammar is small enough that a dedicated parser is shorter than that
refusal code, and it compiles each path once into a tuple of plain keys and indexes.
"""

from __future__ import annotations

import re
from typing import Any

Path = tuple[str | int, ...]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"\[([0-9]+)\]")
_DOUBLE_QUOTED = re.compile(r'\["((?:[^"\\]|\\.)+)"\]')
_SINGLE_QUOTED = re.compile(r"\['((?:[^'\\]|\\.)+)'\]")

NOT_FOUND: Any = object()


class PathSyntaxError(ValueError):
    """The path is outside the grammar."""


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def _unescape(body: str, path: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        try:
            return _SIMPLE_ESCAPES[match.group(2)]
        except KeyError:
            raise PathSyntaxError(path) from None

    return _ESCAPE.sub(replace, body)


def compile_path(text: str) -> Path:
    """Compile ``text`` into lookup steps, or raise `PathSyntaxError`."""
    if text == "$":
        return ()
    position = 1 if text.startswith("$") else 0
    steps: list[str | int] = []
    while position < len(text):
        if text.startswith(".", position):
            position += 1
        step: str | int
        if match := _NAME.match(text, position):
            step = match.group()
        elif match := _INDEX.match(text, position):
            step = int(match.group(1))
        elif match := _DOUBLE_QUOTED.match(text, position) or _SINGLE_QUOTED.match(text, position):
            step = _unescape(match.group(1), text)
        else:
            raise PathSyntaxError(text)
        steps.append(step)
        position = match.end()
    if not steps:
        raise PathSyntaxError(text)
    return tuple(steps)


def lookup(document: Any, path: Path) -> Any:
    """The value at ``path``, or `NOT_FOUND`; a present ``null`` is found (``None``)."""
    value = document
    for step in path:
        if isinstance(step, str):
            if not isinstance(value, dict) or step not in value:
                return NOT_FOUND
            value = value[step]
        else:
            if not isinstance(value, list) or step >= len(value):
                return NOT_FOUND
            value = value[step]
    return value
