"""The benchmark's scorers, on small hand-made cases whose figures are worked out by hand."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from tests.conftest import PROJECT

sys.path.insert(0, str(PROJECT / "bench"))
from scoring import (  # noqa: E402
    authors_f1,
    parse_truth_date,
    same_day,
    score_corpus,
    score_page,
    shingles,
    tokens,
    within_minute,
)


def test_tokens_are_unicode_word_runs_with_case_kept():
    assert tokens("Hello, wörld! It's 2025_x — ок") == ["Hello", "wörld", "It", "s", "2025_x", "ок"]


def test_shingles():
    assert shingles([]) == {}
    assert shingles(["a", "b"]) == {("a", "b"): 1}
    assert shingles(list("abcde")) == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert shingles(list("aaaaa")) == {("a", "a", "a", "a"): 2}


def test_page_scores():
    truth = "one two three four five six"  # shingles: 1234 2345 3456
    perfect = score_page(truth, "One two three four five six".replace("One", "one"))
    assert (perfect.tp, perfect.fp, perfect.fn, perfect.exact) == (3, 0, 0, True)
    assert perfect.precision == perfect.recall == 1.0
    extra = score_page(truth, truth + " seven")  # adds 4567
    assert (extra.tp, extra.fp, extra.fn) == (3, 1, 0)
    assert extra.precision == pytest.approx(0.75) and extra.recall == 1.0 and not extra.exact
    cut = score_page(truth, "one two three four five")  # 1234 2345
    assert cut.precision == 1.0 and cut.recall == pytest.approx(2 / 3)
    case = score_page(truth, "One two three four five six")  # case is kept: 1 shingle differs
    assert (case.tp, case.fp, case.fn) == (2, 1, 1)
    empty = score_page(truth, "")
    assert (empty.tp, empty.fp, empty.fn) == (0, 0, 3) and empty.precision == 0.0 and empty.recall == 0.0
    both_empty = score_page("", "")
    assert both_empty.precision == 1.0 and both_empty.recall == 1.0


def test_corpus_means_and_f1_of_means():
    truth = "one two three four five six"
    pages = [score_page(truth, truth + " seven"), score_page(truth, "one two three four five"), score_page(truth, "")]
    result = score_corpus(pages)
    # precision over pages with a prediction (the empty one excluded): (0.75 + 1) / 2
    assert result.precision == pytest.approx(0.875)
    # recall over pages with truth: (1 + 2/3 + 0) / 3
    assert result.recall == pytest.approx(5 / 9)
    assert result.f1 == pytest.approx(2 * 0.875 * (5 / 9) / (0.875 + 5 / 9))
    assert result.accuracy == 0.0 and result.pages == 3


def test_metadata_scorers():
    assert authors_f1(["Anna Giulia Fink", "José Pérez"], ["anna giulia  fink", "Jose Perez"]) == 1.0
    assert authors_f1(["A B", "C D"], ["A B"]) == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert authors_f1([], []) == 1.0 and authors_f1(["A"], []) == 0.0
    value, has_time = parse_truth_date("2024-05-03 15:47:42.389000+02:00")
    assert value == datetime(2024, 5, 3, 13, 47, 42, 389000, tzinfo=UTC) and has_time
    day_only, has_time = parse_truth_date("2024-05-03")
    assert not has_time and day_only == datetime(2024, 5, 3, tzinfo=UTC)
    assert same_day(value, datetime(2024, 5, 3, 23, 0, tzinfo=UTC))
    assert within_minute(value, datetime(2024, 5, 3, 13, 48, 30, tzinfo=UTC))
    assert not within_minute(value, datetime(2024, 5, 3, 13, 49, 0, tzinfo=UTC))
    assert not same_day(value, None)
