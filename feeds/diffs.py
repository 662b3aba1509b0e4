"""What an outlet changed in its copy of a story: a word-level diff against the original (difflib)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

MAX_WORDS = 4000  # words of each side compared; beyond, the rest is shown as it is (difflib is quadratic)


@dataclass(frozen=True)
class Segment:
    """A run of words: "same" in both, "removed" from the original, "added" by the copy, or "rest": the copy's
    words past MAX_WORDS, not compared."""

    kind: str
    text: str


@dataclass(frozen=True)
class WordDiff:
    """The segments that turn the original into the copy, and how many words changed."""

    segments: list[Segment]
    removed: int
    added: int

    @property
    def identical(self) -> bool:
        return not self.removed and not self.added


def word_diff(original: str, copy: str) -> WordDiff:
    """The copy's words against the original's, grouped in runs (whitespace between words is normalized)."""
    before, after = original.split(), copy.split()
    tail = after[MAX_WORDS:]
    before, after = before[:MAX_WORDS], after[:MAX_WORDS]
    segments: list[Segment] = []
    removed = added = 0
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            segments.append(Segment("same", " ".join(before[a0:a1])))
            continue
        if a1 > a0:
            segments.append(Segment("removed", " ".join(before[a0:a1])))
            removed += a1 - a0
        if b1 > b0:
            segments.append(Segment("added", " ".join(after[b0:b1])))
            added += b1 - b0
    if tail:
        segments.append(Segment("rest", " ".join(tail)))
    return WordDiff(segments, removed, added)
