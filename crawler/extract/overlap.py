"""How much of one text another holds, by 4-word windows (each Chinese or Japanese character a word)."""

from __future__ import annotations

import re

# Words, and each Chinese or Japanese character on its own: those scripts write no spaces, and a whole
# sentence as one "word" would make every comparison of texts in them all-or-nothing.
_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_IDEOGRAPHS}]|[^\\W{_IDEOGRAPHS}]+")


def shingle_list(text: str) -> list[tuple[str, ...]]:
    """Case-folded 4-word windows of `text` (one window for shorter texts)."""
    words = _WORD.findall(text.casefold())
    return [tuple(words[i : i + 4]) for i in range(max(1, len(words) - 3))] if words else []


def covered(text: str, windows: set[tuple[str, ...]]) -> bool:
    """Whether most of `text`'s 4-word windows are among `windows` (another text has it)."""
    own = shingle_list(text)
    return bool(own) and sum(1 for w in own if w in windows) >= 0.5 * len(own)
