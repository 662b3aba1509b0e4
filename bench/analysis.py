"""The figures of the extraction benchmark, computed from the rows' outputs (no extraction here).

Body scores per set (shingles for aeb and fundus, segments for treval), pooled and per site-grouped
fold; newswire's targets against the best trafilatura row; loss lists; metadata checks on the fundus
pages; language detection against the pages' declarations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.corpus import FOLDS, Page
from bench.pagemeta import PageFacts
from bench.peers import TRAFILATURA_ROWS, Meta, Output
from bench.scoring import (
    CorpusScore,
    PageScore,
    SegmentScore,
    authors_f1,
    parse_truth_date,
    pool_segments,
    same_day,
    score_corpus,
    score_page,
    score_segments,
    title_lenient,
    title_strict,
    within_minute,
)

Score = PageScore | SegmentScore
FOLD_KEYS = ("all", *(str(f) for f in range(FOLDS)))
# newswire F1 minus the best trafilatura row's, required on every fold; and newswire's aeb precision
F1_MARGIN = {"aeb": 0.01, "fundus": 0.01, "treval": 0.0}
AEB_PRECISION = 0.96


# --- body ------------------------------------------------------------------------------------------


def score_output(page: Page, text: str) -> Score:
    """The page's score under its set's metric."""
    if page.dataset == "treval":
        return score_segments(text, page.truth.get("with", []), page.truth.get("without", []))
    body = page.truth["articleBody"] if page.dataset == "aeb" else page.truth["plaintext"]
    return score_page(body, text)


def aggregate(dataset: str, scores: Sequence[Score]) -> CorpusScore:
    """Corpus figures: means of per-page ratios (shingles) or segments pooled (treval)."""
    return pool_segments(list(scores)) if dataset == "treval" else score_corpus(list(scores))


def by_fold(pages: Sequence[Page], scores: Sequence[Score]) -> dict[str, CorpusScore]:
    """Figures over all pages ("all") and over each fold ("0", "1", "2")."""
    dataset = pages[0].dataset if pages else "aeb"
    figures = {"all": aggregate(dataset, scores)}
    for fold in range(FOLDS):
        figures[str(fold)] = aggregate(dataset, [s for p, s in zip(pages, scores, strict=True) if p.fold == fold])
    return figures


def worst_fold(figures: dict[str, CorpusScore]) -> str:
    """The fold with the lowest F1 (of the folds that have pages)."""
    present = [key for key in FOLD_KEYS[1:] if figures[key].pages] or list(FOLD_KEYS[1:])
    return min(present, key=lambda key: figures[key].f1)


@dataclass
class Target:
    dataset: str
    fold: str
    newswire: float
    best_row: str
    best: float
    margin: float

    @property
    def delta(self) -> float:
        return self.newswire - self.best

    @property
    def passed(self) -> bool:
        return self.delta >= self.margin - 1e-9


def targets(dataset: str, figures: dict[str, dict[str, CorpusScore]]) -> list[Target]:
    """newswire's F1 against the best trafilatura row on each fold (and, for information, on all pages)."""
    out = []
    for key in (*FOLD_KEYS[1:], "all"):
        rows = [r for r in TRAFILATURA_ROWS if r in figures]
        if not rows or "newswire" not in figures or not figures["newswire"][key].pages:
            continue  # an empty fold (a --limit run) has no target
        best = max(rows, key=lambda r: figures[r][key].f1)
        out.append(Target(dataset, key, figures["newswire"][key].f1, best, figures[best][key].f1, F1_MARGIN[dataset]))
    return out


# --- loss lists ------------------------------------------------------------------------------------


@dataclass
class Loss:
    """A page where newswire loses text a trafilatura row keeps."""

    label: str
    newswire_words: int
    row: str
    row_words: int
    newswire_recall: float
    row_recall: float
    row_precision: float


def page_label(page: Page) -> str:
    """The page's URL; for saved treval pages without one, their key."""
    return page.id if page.dataset == "treval" and not page.id.startswith("http") else page.url


def losses(
    pages: Sequence[Page], outputs: dict[str, list[Output]], scores: dict[str, list[Score]]
) -> tuple[list[Loss], list[Loss]]:
    """(a) newswire's recall below half a trafilatura row's whose precision is ≥ 0.8; (b) newswire
    under 20 words where a trafilatura row has ≥ 100. One entry per page: the row that loses most."""
    rows = [r for r in TRAFILATURA_ROWS if r in outputs]
    recall_losses, empty_losses = [], []
    for i, page in enumerate(pages):
        ours, our_words = scores["newswire"][i], outputs["newswire"][i].words

        def entry(row: str, i: int = i, page: Page = page, ours: Score = ours, our_words: int = our_words) -> Loss:
            theirs = scores[row][i]
            return Loss(
                page_label(page), our_words, row, outputs[row][i].words, ours.recall, theirs.recall, theirs.precision
            )

        a = [r for r in rows if scores[r][i].precision >= 0.8 and ours.recall < 0.5 * scores[r][i].recall]
        if a:
            recall_losses.append(entry(max(a, key=lambda r: scores[r][i].recall)))
        b = [r for r in rows if our_words < 20 and outputs[r][i].words >= 100]
        if b:
            empty_losses.append(entry(max(b, key=lambda r: outputs[r][i].words)))
    recall_losses.sort(key=lambda loss: loss.newswire_recall - loss.row_recall)
    empty_losses.sort(key=lambda loss: -loss.row_words)
    return recall_losses, empty_losses


# --- metadata (fundus) -----------------------------------------------------------------------------


@dataclass
class MetaCheck:
    """One page's metadata verdicts; None where the truth or the row has nothing to compare."""

    title_strict: bool | None = None
    title_lenient: bool | None = None
    authors: float | None = None
    date_day: bool | None = None
    date_minute: bool | None = None


META_FIELDS = ("title_strict", "title_lenient", "authors", "date_day", "date_minute")


def check_meta(page: Page, facts: PageFacts, meta: Meta | None, dates_only: bool = False) -> MetaCheck:
    """Compare a row's metadata with the fundus truth (title both ways, authors, date)."""
    meta = meta or Meta(authors=[])
    expected, check = page.truth["expected"], MetaCheck()
    if not dates_only:
        check.title_strict = title_strict(meta.title, expected.get("title"))
        check.title_lenient = title_lenient(meta.title, expected.get("title"), facts.headlines, facts.site_name)
        if "authors" in expected:
            check.authors = authors_f1(expected["authors"], meta.authors or [])
    if expected.get("publishing_date"):
        truth, has_time = parse_truth_date(expected["publishing_date"])
        check.date_day = same_day(truth, meta.date)
        check.date_minute = within_minute(truth, meta.date) if has_time else None
    return check


def _mean(values: list) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def meta_by_fold(pages: Sequence[Page], checks: Sequence[MetaCheck]) -> dict[str, dict[str, float | None]]:
    """Per fold key, each field's mean (share right, or mean authors F1) and how many pages it covers."""
    out = {}
    for key in FOLD_KEYS:
        chosen = [c for p, c in zip(pages, checks, strict=True) if key == "all" or str(p.fold) == key]
        out[key] = {name: _mean([getattr(c, name) for c in chosen]) for name in META_FIELDS}
        out[key] |= {f"{name}_pages": sum(getattr(c, name) is not None for c in chosen) for name in META_FIELDS}
    return out


def meta_misses(pages: Sequence[Page], checks: Sequence[MetaCheck], metas: Sequence[Meta | None]) -> dict[str, list]:
    """newswire's misses: titles (lenient rule), authors (F1 < 1) and dates (not the same day)."""
    misses: dict[str, list[str]] = {"title": [], "authors": [], "date_day": []}
    for page, check, meta in zip(pages, checks, metas, strict=True):
        meta, expected = meta or Meta(), page.truth["expected"]
        if check.title_lenient is False:
            misses["title"].append(f"{page.id}: {meta.title!r} != {expected.get('title')!r}")
        if check.authors is not None and check.authors < 1:
            misses["authors"].append(f"{page.id}: {meta.authors} != {expected['authors']}")
        if check.date_day is False:
            misses["date_day"].append(f"{page.id}: {meta.date} != {expected['publishing_date']}")
    return misses


# --- language --------------------------------------------------------------------------------------


@dataclass
class LanguageResult:
    """Detection from newswire's text against the declared language, on the pages that declare one."""

    declared: int = 0
    empty: int = 0
    correct: int = 0
    fold_scored: Counter | None = None
    fold_correct: Counter | None = None
    confusions: Counter | None = None

    @property
    def scored(self) -> int:
        return self.declared - self.empty

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def fold_accuracy(self, fold: str) -> float | None:
        scored = (self.fold_scored or Counter())[fold]
        return (self.fold_correct or Counter())[fold] / scored if scored else None


def language_check(
    pages: Sequence[Page], facts: Sequence[PageFacts], texts: Sequence[str], detect: Callable[[str], str | None]
) -> LanguageResult:
    """Detect each declaring page's language from its text (empty texts skipped and counted)."""
    result = LanguageResult(fold_scored=Counter(), fold_correct=Counter(), confusions=Counter())
    for page, fact, text in zip(pages, facts, texts, strict=True):
        if not fact.language:
            continue
        result.declared += 1
        if not text.strip():
            result.empty += 1
            continue
        detected = detect(text)
        ok = detected == fact.language
        result.correct += ok
        result.fold_scored[str(page.fold)] += 1
        result.fold_correct[str(page.fold)] += ok
        if not ok:
            result.confusions[(fact.language, detected)] += 1
    return result


def merge_language(results: Sequence[LanguageResult]) -> LanguageResult:
    """The pooled result of several sets."""
    merged = LanguageResult(fold_scored=Counter(), fold_correct=Counter(), confusions=Counter())
    for r in results:
        merged.declared += r.declared
        merged.empty += r.empty
        merged.correct += r.correct
        merged.fold_scored.update(r.fold_scored or {})
        merged.fold_correct.update(r.fold_correct or {})
        merged.confusions.update(r.confusions or {})
    return merged
