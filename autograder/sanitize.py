"""Text that comes from the student's side, made safe once, in the grader, before any report shows it.

A submission controls its exceptions' type names, messages and tracebacks. :func:`student_text` caps
their length (a 4 MiB class name must not become a 164 MB report), replaces lone surrogates (which
crash UTF-8 encoders), removes terminal escape sequences (which could repaint the score table) and
replaces control characters (which make XML invalid and can forge lines), keeping newlines and tabs.
"""

from __future__ import annotations

import re

#: Longest student text kept, per field, in characters.
CAPS = {"type": 200, "message": 2000, "traceback": 8000, "kind": 40}

_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def student_text(value: object, limit: int = 2000) -> str:
    """``value`` as a safe string of at most ``limit`` characters (plus a note of what was cut)."""
    text = value if isinstance(value, str) else f"<{type(value).__name__}>"
    if len(text) > 4 * limit:  # never run the expressions below over megabytes
        text = text[: 4 * limit]
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("\ufffd", text)
    if len(text) > limit:
        text = text[:limit] + f" [... {len(text) - limit}+ characters cut]"
    return text
