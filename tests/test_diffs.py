"""The story page's word diff (feeds/web/diffs.py): a true alignment of the two texts, what an outlet changed and
nothing else, in work bounded by its budget however repetitive the text (difflib's was cubic on it)."""

from __future__ import annotations

import random
import time

import pytest

from feeds.web.diffs import Budget, WordDiff, word_diff
from tests.support.heavy_story import edited, repetitive_text, varied_text


def sides(diff: WordDiff) -> tuple[list[str], list[str]]:
    """The original and the copy the segments spell (uncompared words belong to the copy only)."""
    original = [w for s in diff.segments if s.kind in ("same", "removed") for w in s.words]
    copy = [w for s in diff.segments if s.kind in ("same", "added", "uncompared") for w in s.words]
    return original, copy


def longest_common(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for index, y in enumerate(b):
            current.append(previous[index] + 1 if x == y else max(previous[index + 1], current[-1]))
        previous = current
    return previous[-1]


def test_segments_spell_both_texts_and_never_claim_more_than_they_share():
    rnd = random.Random(5)
    for _ in range(300):
        vocabulary = ["a", "b", "c", "d"][: rnd.randint(1, 4)] + [f"w{n}" for n in range(rnd.randint(0, 20))]
        texts = ["".join(rnd.choice(vocabulary) + rnd.choice(" \n\n") for _ in range(rnd.randint(0, 50)))
                 for _side in range(2)]  # fmt: skip
        diff = word_diff(*texts)
        assert sides(diff) == (texts[0].split(), texts[1].split()), texts
        same = sum(len(s.words) for s in diff.segments if s.kind == "same")
        assert same == len(texts[0].split()) - diff.removed <= longest_common(texts[0].split(), texts[1].split())


def test_what_an_outlet_changed_is_all_the_diff_shows():
    original = varied_text(1200)
    words = original.split()
    copy = " ".join([*words[:300], "Reuters", "reported", *words[300:700], *words[705:]])
    diff = word_diff(original, copy)
    changed = [(s.kind, s.text) for s in diff.segments if s.kind != "same"]
    assert changed == [("added", "Reuters reported"), ("removed", " ".join(words[700:705]))]
    assert (diff.removed, diff.added, diff.uncompared) == (5, 2, 0)
    assert word_diff(original, original).identical


@pytest.mark.parametrize("words", [1200, 4000])
def test_repetitive_text_costs_no_more_than_the_budget(words):
    # one word again and again, one in seven changed: difflib's matcher took 11.8 s at 1,200 words, 813 s at 4,000
    original = repetitive_text(words)
    copy = edited(original, 3)
    budget = Budget(150_000)
    started = time.perf_counter()
    diff = word_diff(original, copy, budget)
    assert time.perf_counter() - started < 0.5
    assert budget.spent <= 150_000 and sides(diff)[1] == copy.split()
    if diff.uncompared:  # the budget ran out: what it did not reach is shown as not compared, never guessed
        assert words == 4000 and budget.left == 0
    else:
        assert diff.removed == diff.added == sum(1 for w in copy.split() if w == "changed")


def test_an_exhausted_budget_leaves_the_rest_not_compared():
    original = varied_text(2000, seed=1)
    copy = varied_text(2000, seed=2)
    diff = word_diff(original, copy, Budget(0))
    assert (diff.removed, diff.added, diff.uncompared) == (0, 0, len(copy.split()))
    assert not diff.identical and sides(diff)[1] == copy.split()
    # the words both texts start and end with are matched at no cost
    assert word_diff("a b c x y", "a b c z y", Budget(0)).uncompared == 1


def test_a_compact_diff_shows_changes_in_context_and_counts_the_rest():
    words = varied_text(3000).split()
    copy = [*words[:1000], "inserted", *words[1000:]]
    diff = word_diff(" ".join(words), " ".join(copy)).compact(context=5, limit=40)
    kinds = [s.kind for s in diff.segments]
    assert kinds == ["skipped", "same", "added", "same", "skipped"]
    assert [s.count for s in diff.segments if s.kind == "skipped"] == [995, 1995]
    assert diff.added == 1 and sum(len(s.words) for s in diff.segments) == 11
    everything = word_diff(" ".join(words), varied_text(3000, seed=9)).compact(limit=100)
    assert sum(len(s.words) for s in everything.segments) == 100 and everything.segments[-1].kind == "cut"
