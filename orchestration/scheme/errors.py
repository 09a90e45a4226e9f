"""Messages about a scheme file: `SchemeError` and the bounds that keep every message short.

Every value or key quoted from the file is clipped (`_q`, `_k`), every error line and the whole message
are bounded: a hostile or broken file fails fast with a message of bounded size.
"""

from __future__ import annotations

import reprlib
from typing import Any

# Bounds on a message: the length of a quoted value, of one error line, and of the whole message.
MAX_VALUE_CHARS = 80
MAX_ERROR_CHARS = 600
MAX_MESSAGE_CHARS = 4000
MAX_LISTED_ERRORS = 50

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 2, 6, 6, 4, 6
_REPR.maxstring = _REPR.maxother = MAX_VALUE_CHARS


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _q(value: Any) -> str:
    """A value from the file, quoted for a message: at most MAX_VALUE_CHARS characters of it, then '...'."""
    if isinstance(value, str):
        if len(value) <= MAX_VALUE_CHARS:
            return repr(value)
        return repr(value[:MAX_VALUE_CHARS] + "...")
    return _clip(_REPR.repr(value), MAX_VALUE_CHARS + 3)


def _k(key: Any) -> str:
    """A key from the file as one segment of a dotted path, at most MAX_VALUE_CHARS characters."""
    text = key if isinstance(key, str) else str(key)
    return _clip(text, MAX_VALUE_CHARS + 3)


class SchemeError(ValueError):
    """A scheme file that cannot be used; `errors` holds one message per problem.

    Every message is bounded: each error line to MAX_ERROR_CHARS characters, the whole message to
    about MAX_MESSAGE_CHARS (at most MAX_LISTED_ERRORS lines, then "... N more errors")."""

    def __init__(self, path: str, errors: list[str], what: str = "scheme file"):
        self.path = path
        self.errors = [_clip(str(e), MAX_ERROR_CHARS) for e in errors]
        head = f"{_clip(str(path), 300)}: {len(self.errors)} error(s) in the {what}:"
        lines: list[str] = []
        size = len(head)
        for e in self.errors:
            if lines and (len(lines) >= MAX_LISTED_ERRORS or size + len(e) + 5 > MAX_MESSAGE_CHARS):
                break
            lines.append(e)
            size += len(e) + 5
        self.omitted = len(self.errors) - len(lines)
        if self.omitted:
            lines.append(f"... {self.omitted} more error{'s' if self.omitted > 1 else ''}")
        super().__init__(head + "\n  - " + "\n  - ".join(lines))
