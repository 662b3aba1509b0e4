"""Scorers for the extraction benchmark: the article-extraction-benchmark body metric, and metadata.

Body metric (as the corpus README describes it): tokens are maximal runs of Unicode word
characters (case kept); shingles are the multiset of 4-token windows (a text of 1-3 tokens has
one shingle, the whole sequence; an empty text none). Per page TP/FP/FN count shingle
occurrences; precision is 1 if FP = FN = 0, 0 if TP = FP = 0, else TP/(TP+FP) (recall likewise).
Corpus precision is the mean over pages whose prediction has a shingle, corpus recall the mean over
pages whose truth has one; F1 is the harmonic mean of the two means; accuracy is the share of pages
whose token sequences are identical.

Segment metric (trafilatura's evaluation set): see `score_segments` and `pool_segments`.
Lenient title rule (fundus titles): see `title_lenient`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    """Maximal runs of Unicode word characters."""
    return TOKEN.findall(text or "")


def shingles(toks: list[str], size: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of `size`-token windows; one shingle for 1..size-1 tokens, none for none."""
    if not toks:
        return Counter()
    if len(toks) < size:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + size]) for i in range(len(toks) - size + 1))


@dataclass(frozen=True)
class PageScore:
    """Shingle counts and ratios for one page."""

    tp: int
    fp: int
    fn: int
    exact: bool

    @property
    def precision(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp == 0 and self.fp == 0:
            return 0.0
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        if self.tp == 0 and self.fn == 0:
            return 0.0
        return self.tp / (self.tp + self.fn)


def score_page(truth: str, prediction: str) -> PageScore:
    """TP/FP/FN of the prediction's shingles against the truth's, and exact token match."""
    t_tokens, p_tokens = tokens(truth), tokens(prediction)
    t, p = shingles(t_tokens), shingles(p_tokens)
    tp = sum(min(count, p[s]) for s, count in t.items())
    fp = sum(max(0, count - t[s]) for s, count in p.items())
    fn = sum(max(0, count - p[s]) for s, count in t.items())
    return PageScore(tp, fp, fn, t_tokens == p_tokens)


@dataclass(frozen=True)
class CorpusScore:
    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int


def score_corpus(pages: list[PageScore]) -> CorpusScore:
    """Corpus precision and recall as means over pages (see the module docstring), F1 of the means."""
    with_prediction = [p.precision for p in pages if p.tp + p.fp > 0]
    with_truth = [p.recall for p in pages if p.tp + p.fn > 0]
    precision = sum(with_prediction) / len(with_prediction) if with_prediction else 0.0
    recall = sum(with_truth) / len(with_truth) if with_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(p.exact for p in pages) / len(pages) if pages else 0.0
    return CorpusScore(precision, recall, f1, accuracy, len(pages))


# --- segment metric (trafilatura eval) -----------------------------------------------------------


def squash(text: str | None) -> str:
    """Whitespace-normalized text: runs of whitespace become one space, ends trimmed."""
    return " ".join((text or "").split())


@dataclass(frozen=True)
class SegmentScore:
    """One page's segment counts: `with` segments found (tp) or missed (fn), `without` found (fp) or not (tn).

    Per-page precision is TP/(TP+FP), 1.0 when nothing annotated was found (nothing wrong was
    kept); per-page recall is the share of `with` segments found, 1.0 when the page has none.
    """

    tp: int
    fn: int
    fp: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def exact(self) -> bool:
        return self.fn == 0 and self.fp == 0


def score_segments(prediction: str, with_: list[str], without: list[str]) -> SegmentScore:
    """Count whitespace-normalized segments found as substrings of the whitespace-normalized prediction."""
    text = squash(prediction)
    found_with = sum(1 for segment in with_ if squash(segment) in text)
    found_without = sum(1 for segment in without if squash(segment) in text)
    return SegmentScore(found_with, len(with_) - found_with, found_without, len(without) - found_without)


def pool_segments(pages: list[SegmentScore]) -> CorpusScore:
    """Precision, recall and F1 over all segments of all pages pooled; accuracy = share of pages all right."""
    tp, fp, fn = (sum(getattr(p, key) for p in pages) for key in ("tp", "fp", "fn"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = sum(p.exact for p in pages) / len(pages) if pages else 0.0
    return CorpusScore(precision, recall, f1, accuracy, len(pages))


# --- metadata ---------------------------------------------------------------------------------


def normalize_space(text: str | None) -> str:
    return " ".join((text or "").replace("\u00ad", "").split())


def normalize_name(name: str) -> str:
    """Case-folded, accent-free, single-spaced name."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace(".", " ").split())


def authors_f1(truth: list[str], predicted: list[str]) -> float:
    """Set F1 of normalized names; 1.0 when both are empty."""
    t = {normalize_name(n) for n in truth if n.strip()}
    p = {normalize_name(n) for n in predicted if n.strip()}
    if not t and not p:
        return 1.0
    common = len(t & p)
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(t)
    return 2 * precision * recall / (precision + recall)


def parse_truth_date(text: str) -> tuple[datetime, bool]:
    """(aware UTC datetime, whether it has a time of day) from fundus's `publishing_date` text.

    Dates without an offset are taken as UTC.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    has_time = (value.hour, value.minute, value.second) != (0, 0, 0) or " " in text.strip()
    return value.astimezone(UTC), has_time


def same_day(truth: datetime, predicted: datetime | None) -> bool:
    return predicted is not None and truth.date() == predicted.astimezone(UTC).date()


def within_minute(truth: datetime, predicted: datetime | None) -> bool:
    return predicted is not None and abs((truth - predicted.astimezone(UTC)).total_seconds()) <= 60


# --- lenient title rule ---------------------------------------------------------------------------

TITLE_SEPARATORS = re.compile(r"(\s+[|\-\u2013\u2014:\u00b7\u2022/»«]+\s+)")  # captured: split keeps them


def _compact(text: str) -> str:
    return "".join(tokens(normalize_name(text)))


def _is_site_name(part: str, site_name: str) -> bool:
    """Whether a title segment names the site: same letters once case, accents, spaces and dots go,
    or a short segment (≤ 4 words) that contains the site's name or is contained in it."""
    seg, site = _compact(part), _compact(site_name)
    if not seg or not site:
        return False
    return seg == site or (len(part.split()) <= 4 and (site in seg or seg in site))


def strip_site_name(title: str, site_name: str | None) -> str:
    """The title without a leading or trailing segment ("… | Site", "Site - …") that names the site."""
    title = normalize_space(title)
    if not site_name:
        return title
    pieces = TITLE_SEPARATORS.split(title)  # segment, separator, segment, ...
    while len(pieces) > 1 and _is_site_name(pieces[-1], site_name):
        del pieces[-2:]
    while len(pieces) > 1 and _is_site_name(pieces[0], site_name):
        del pieces[:2]
    return "".join(pieces)


def word_set(text: str | None) -> set[str]:
    """Case-folded word tokens of a text."""
    return {t.casefold() for t in tokens(text or "")}


def shares_most_words(candidate: str, expected: str) -> bool:
    """More than half of the expected title's (case-folded, distinct) words are in the candidate."""
    wanted = word_set(expected)
    return bool(wanted) and len(wanted & word_set(candidate)) * 2 > len(wanted)


def title_strict(predicted: str | None, expected: str | None) -> bool:
    """Equality after whitespace normalization."""
    return normalize_space(predicted) == normalize_space(expected)


def title_lenient(predicted: str | None, expected: str | None, headlines: list[str], site_name: str | None) -> bool:
    """Right when the title equals the expected one, or equals one of the page's own headlines
    (`<h1>`, `og:title`) with the site name removed, where that form shares most of its words with
    the expected title (`shares_most_words`)."""
    if title_strict(predicted, expected):
        return True
    got = normalize_space(predicted)
    if not got:
        return False
    for headline in headlines:
        form = strip_site_name(headline, site_name)
        if form and got == form and shares_most_words(form, expected or ""):
            return True
    return False
