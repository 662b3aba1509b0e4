"""The benchmark's scorers, on small hand-made cases whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.corpus import fold_of
from bench.scoring import (
    SegmentScore,
    authors_f1,
    parse_truth_date,
    pool_segments,
    same_day,
    score_corpus,
    score_page,
    score_segments,
    shares_most_words,
    shingles,
    strip_site_name,
    title_lenient,
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


def test_segments_are_found_after_whitespace_normalization():
    text = "Der  Bundestag hat\n\nheute beschlossen.\nTeilen auf Facebook"
    score = score_segments(text, ["Bundestag hat heute", "fehlt hier"], ["Teilen auf\tFacebook", "Impressum"])
    assert score == SegmentScore(tp=1, fn=1, fp=1, tn=1)
    assert score.precision == 0.5 and score.recall == 0.5 and not score.exact
    nothing = score_segments("", ["a b"], ["c"])
    assert nothing == SegmentScore(tp=0, fn=1, fp=0, tn=1)
    assert nothing.precision == 1.0 and nothing.recall == 0.0  # nothing found: nothing wrong kept


def test_segments_are_pooled_over_pages():
    pages = [SegmentScore(tp=2, fn=0, fp=1, tn=1), SegmentScore(tp=1, fn=3, fp=0, tn=2)]
    result = pool_segments(pages)
    assert result.precision == pytest.approx(3 / 4)  # (2 + 1) / (2 + 1 + 1 + 0)
    assert result.recall == pytest.approx(3 / 6)  # (2 + 1) / (2 + 1 + 0 + 3)
    assert result.f1 == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    assert result.accuracy == 0.0 and result.pages == 2
    assert pool_segments([]).f1 == 0.0


def test_site_name_is_stripped_from_either_end():
    assert strip_site_name("Flut in Bayern | tagesschau.de", "tagesschau.de") == "Flut in Bayern"
    assert strip_site_name("The Guardian - Storm hits coast - live", "The Guardian") == "Storm hits coast - live"
    assert strip_site_name("Storm hits coast – BBC News", "BBC") == "Storm hits coast"
    assert strip_site_name("Storm: hits coast", "BBC") == "Storm: hits coast"
    assert strip_site_name("Storm | BBC", None) == "Storm | BBC"


def test_lenient_title_rule():
    expected = "Storm hits the coast of Cornwall"
    assert title_lenient(" Storm hits the  coast of Cornwall", expected, [], None)  # plain equality
    own = ["Storm hits coast of Cornwall, thousands without power", "Storm hits Cornwall | The Guardian"]
    # the h1 shares 5 of the expected title's 6 words
    assert title_lenient("Storm hits coast of Cornwall, thousands without power", expected, own, "The Guardian")
    # og:title without the site name: 3 of 6 words is not more than half
    assert not title_lenient("Storm hits Cornwall", expected, own, "The Guardian")
    assert not title_lenient("Storm hits Cornwall | The Guardian", expected, own, "The Guardian")
    assert not title_lenient("Something else", expected, own, "The Guardian")  # not one of the page's own
    assert not title_lenient("", expected, own, None) and not title_lenient(None, expected, own, None)
    assert shares_most_words("STORM hits the coast", expected)  # case-folded: 4 of 6
    assert not shares_most_words("storm coast of", expected)  # 3 of 6


def test_fold_is_a_fixed_function_of_the_site():
    assert [fold_of(site) for site in ("wsj.com", "spiegel.de", "example.com", "theguardian.com")] == [1, 0, 0, 1]
    assert {fold_of(f"site{i}.com") for i in range(30)} == {0, 1, 2}
