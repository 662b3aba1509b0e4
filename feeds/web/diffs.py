"""What an outlet changed in its copy of a story: a word-level diff against the original, in bounded work.

Paragraphs first: those both texts start and end with, then those found once on each side, taken as anchors
(the longest run of them in the same order, as patience diff does). The words between matched paragraphs next,
the same way, word by word; a stretch with no word found once on each side goes to Myers' O(ND) diff, for as
long as the work left pays for it. Each stretch looked at is charged its length to a budget, so a diff never
costs more than its budget however repetitive the text (difflib's matcher was cubic on it: 12 s for 1,200 words
of one word repeated, 813 s for 4,000); what the budget does not reach is shown "not compared", never guessed."""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

DIFF_WORK = 60_000  # words looked at per diff by default (its cost grows linearly with this)
CONTEXT = 12  # unchanged words kept on each side of a change when a diff is shown compactly
SHOWN_WORDS = 2000  # words of one diff a page shows at most
_PARAGRAPHS = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Segment:
    """A run of words: "same" in both, "removed" from the original, "added" by the copy, "uncompared" (the copy's
    words the work budget did not reach); in a compact diff also "skipped" (`count` unchanged words not shown)
    and "cut" (`count` words past those a page shows)."""

    kind: str
    words: Sequence[str] = ()
    count: int = 0

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class WordDiff:
    """The segments that turn the original into the copy, and how many words changed or went uncompared."""

    segments: list[Segment]
    removed: int
    added: int
    uncompared: int = 0

    @property
    def identical(self) -> bool:
        return not self.removed and not self.added and not self.uncompared

    def compact(self, context: int = CONTEXT, limit: int = SHOWN_WORDS) -> WordDiff:
        """The diff as a page shows it: each run of unchanged words longer than 2 x `context` cut to its ends
        around a "skipped" count, and no more than `limit` words in all (then one "cut" count for the rest)."""
        shown: list[Segment] = []
        left, cut = limit, 0
        last = len(self.segments) - 1
        for index, segment in enumerate(self.segments):
            words = segment.words
            if left <= 0:
                cut += len(words)
                continue
            if segment.kind == "same" and len(words) > 2 * context:
                head = words[:context] if index > 0 else []
                tail = words[-context:] if index < last else []
                pieces = [("same", head), ("skipped", words[len(head) : len(words) - len(tail)]), ("same", tail)]
            else:
                pieces = [(segment.kind, words)]
            for kind, part in pieces:
                if kind == "skipped":
                    shown.append(Segment("skipped", count=len(part)))
                elif part:
                    kept = part[: max(left, 0)]
                    left -= len(kept)
                    cut += len(part) - len(kept)
                    if kept:
                        shown.append(Segment(kind, kept))
        if cut:
            shown.append(Segment("cut", count=cut))
        return WordDiff(shown, self.removed, self.added, self.uncompared)


@dataclass
class Budget:
    """Work left for diffs: words looked at (a page shares one among its copies)."""

    left: int
    spent: int = field(default=0)

    def take(self, words: int) -> bool:
        """Whether `words` more can be afforded (then they are spent)."""
        if words > self.left:
            return False
        self.left -= words
        self.spent += words
        return True


@dataclass(frozen=True)
class Words:
    """A text split for diffing: its words, and its paragraphs (their words joined by one space) with the index
    of the word each starts at (and one past the last word)."""

    words: list[str]
    paragraphs: list[str]
    starts: list[int]

    @classmethod
    def of(cls, text: str | None) -> Words:
        words: list[str] = []
        paragraphs: list[str] = []
        starts = [0]
        for part in _PARAGRAPHS.split(text or ""):
            tokens = part.split()
            if tokens:
                words += tokens
                paragraphs.append(" ".join(tokens))
                starts.append(len(words))
        return cls(words, paragraphs, starts)


def word_diff(original: str, copy: str, budget: Budget | None = None) -> WordDiff:
    """The copy's words against the original's, grouped in runs (whitespace between words is normalized); the
    work is drawn from `budget` (default: DIFF_WORK for this diff alone)."""
    return diff_words(Words.of(original), Words.of(copy), budget)


def diff_words(before: Words, after: Words, budget: Budget | None = None) -> WordDiff:
    """word_diff of texts already split. Paragraphs are matched first (whole paragraphs compared as strings, each
    charged as one word); the words of what lies between matched paragraphs are diffed next."""
    budget = budget if budget is not None else Budget(DIFF_WORK)
    a, b = before.words, after.words
    matched, _ = _align(before.paragraphs, after.paragraphs, budget, word_level=False)
    matches: list[Match] = []
    uncompared: list[Region] = []
    i = j = 0
    for start_a, start_b, size in [*sorted(matched), (len(before.paragraphs), len(after.paragraphs), 0)]:
        gap = (before.starts[i], before.starts[start_a], after.starts[j], after.starts[start_b])
        found, left = _align(a, b, budget, region=gap)  # the words between two matched paragraphs
        matches += found
        uncompared += left
        if size:
            matches.append((gap[1], gap[3], before.starts[start_a + size] - gap[1]))
        i, j = start_a + size, start_b + size
    return _segments(a, b, matches, uncompared)


Match = tuple[int, int, int]  # (start in the original, start in the copy, length)
Region = tuple[int, int, int, int]  # (original from, to, copy from, to)


def _align(
    a: list[str], b: list[str], budget: Budget, region: Region | None = None, word_level: bool = True
) -> tuple[list[Match], list[Region]]:
    """The matching runs of `a` and `b` (in `region`, by default all of them), and the regions the budget did
    not reach. Without `word_level` (paragraphs), what has no unique element in common, or what the budget does
    not reach, is left unmatched for the word-level pass (never given to Myers' diff)."""
    matches: list[Match] = []
    uncompared: list[Region] = []
    stack: list[Region] = [region or (0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        start_a, start_b = alo, blo
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            alo, blo = alo + 1, blo + 1
        if alo > start_a:
            matches.append((start_a, start_b, alo - start_a))
        end_a = ahi
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
        if end_a > ahi:
            matches.append((ahi, bhi, end_a - ahi))
        if alo == ahi or blo == bhi:
            continue
        size = (ahi - alo) + (bhi - blo)
        if not budget.take(size):
            if word_level:
                uncompared.append((alo, ahi, blo, bhi))
            continue
        anchors = _unique_anchors(a, b, alo, ahi, blo, bhi)
        if anchors:
            for i, j in anchors:
                matches.append((i, j, 1))
                stack.append((alo, i, blo, j))
                alo, blo = i + 1, j + 1
            stack.append((alo, ahi, blo, bhi))
            continue
        if not word_level:
            continue
        found = _myers(a, b, (alo, ahi, blo, bhi), budget)
        if found is None:
            uncompared.append((alo, ahi, blo, bhi))
        else:
            matches += found
    return matches, uncompared


def _unique_anchors(a: list[str], b: list[str], alo: int, ahi: int, blo: int, bhi: int) -> list[tuple[int, int]]:
    """Words found once in a[alo:ahi] and once in b[blo:bhi], as (i, j): the longest series in the same order."""
    in_a, in_b = Counter(a[alo:ahi]), Counter(b[blo:bhi])
    where = {b[j]: j for j in range(blo, bhi) if in_b[b[j]] == 1 and in_a[b[j]] == 1}
    pairs = [(i, where[a[i]]) for i in range(alo, ahi) if a[i] in where]
    # longest increasing subsequence of the copy's positions (patience sorting): O(k log k)
    tails: list[int] = []  # the smallest last j of an increasing series of each length
    ends: list[int] = []  # the pair index ending it
    previous: list[int] = []
    for index, (_i, j) in enumerate(pairs):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            ends.append(index)
        else:
            tails[length], ends[length] = j, index
        previous.append(ends[length - 1] if length else -1)
    series = []
    index = ends[-1] if ends else -1
    while index >= 0:
        series.append(pairs[index])
        index = previous[index]
    return series[::-1]


def _myers(a: list[str], b: list[str], region: Region, budget: Budget) -> list[Match] | None:
    """Myers' greedy diff of a region, for as long as the budget lasts: its matches (one word each), or None when
    the budget ran out first (the work done is spent all the same). Work: O((n + m) x edits)."""
    alo, ahi, blo, bhi = region
    n, m = ahi - alo, bhi - blo
    frontier = {1: 0}  # diagonal k = x - y → the furthest x reached on it
    trace = []
    work = 0
    for edits in range(n + m + 1):
        trace.append(dict(frontier))
        work += edits
        for k in range(-edits, edits + 1, 2):
            down = k == -edits or (k != edits and frontier[k - 1] < frontier[k + 1])
            x = frontier[k + 1] if down else frontier[k - 1] + 1
            y = x - k
            start = x
            while x < n and y < m and a[alo + x] == b[blo + y]:
                x, y = x + 1, y + 1
            work += 1 + x - start
            frontier[k] = x
            if x >= n and y >= m:
                budget.take(min(work, budget.left))
                return _trace_back(trace, n, m, alo, blo)
        if work > budget.left:
            break
    budget.take(budget.left)
    return None


def _trace_back(trace: list[dict[int, int]], x: int, y: int, alo: int, blo: int) -> list[Match]:
    matches = []
    for edits in range(len(trace) - 1, -1, -1):
        frontier = trace[edits]
        k = x - y
        previous_k = k + 1 if k == -edits or (k != edits and frontier[k - 1] < frontier[k + 1]) else k - 1
        previous_x = frontier[previous_k]
        previous_y = previous_x - previous_k
        while x > previous_x and y > previous_y:
            x, y = x - 1, y - 1
            matches.append((alo + x, blo + y, 1))
        x, y = previous_x, previous_y
    return matches


def _segments(a: list[str], b: list[str], matches: list[Match], uncompared: list[Region]) -> WordDiff:
    """The runs of the diff in the copy's order, from matching words and regions left uncompared."""
    blocks: list[tuple[int, int, int, int, str]] = []  # (original from, copy from, their lengths, kind)
    for i, j, size in sorted(matches):
        if blocks and blocks[-1][0] + blocks[-1][2] == i and blocks[-1][1] + blocks[-1][3] == j:
            start_a, start_b, length, _, _ = blocks.pop()
            blocks.append((start_a, start_b, length + size, length + size, "same"))
        else:
            blocks.append((i, j, size, size, "same"))
    blocks += [(alo, blo, ahi - alo, bhi - blo, "uncompared") for alo, ahi, blo, bhi in uncompared]
    blocks.sort()
    blocks.append((len(a), len(b), 0, 0, "end"))
    segments: list[Segment] = []
    removed = added = not_compared = i = j = 0
    for start_a, start_b, size_a, size_b, kind in blocks:
        if start_a > i:
            segments.append(Segment("removed", a[i:start_a]))
            removed += start_a - i
        if start_b > j:
            segments.append(Segment("added", b[j:start_b]))
            added += start_b - j
        if kind == "same":
            segments.append(Segment("same", a[start_a : start_a + size_a]))
        elif kind == "uncompared":
            segments.append(Segment("uncompared", b[start_b : start_b + size_b]))
            not_compared += size_b
        i, j = start_a + size_a, start_b + size_b
    return WordDiff(segments, removed, added, not_compared)
