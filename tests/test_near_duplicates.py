"""Near-duplicate clustering: copies of one story match; different stories, short and empty texts don't."""

from __future__ import annotations

import numpy as np

from crawler.demo.stories import ARABIC_STORIES, ATOM_STORIES, MAGHREB_STORIES, WIRE_STORIES, WIRE_STORY
from storage.near_duplicates import NearDuplicateIndex, from_bytes, signature, to_bytes

STORY = "\n\n".join(WIRE_STORY)
BOILERPLATE = "Share this article. Subscribe to our newsletter for the latest news from the region every morning."


def indexed(*texts: str) -> NearDuplicateIndex:
    index = NearDuplicateIndex()
    for number, text in enumerate(texts):
        index.add(f"a{number}", signature(text))
    return index


def test_copy_with_other_headline_boilerplate_and_trimmed_lede_matches():
    paragraphs = list(WIRE_STORY)
    copy = "\n\n".join(["Libya floods: what we know", *paragraphs[1:], BOILERPLATE, "Reporting by Desert Wire."])
    match = indexed(STORY).closest(signature(copy))
    assert match is not None and match.key == "a0" and match.similarity > 0.5


def test_copy_with_typos_and_a_rewritten_sentence_matches():
    copy = STORY.replace("torrential", "torential").replace("rooftops", "roof tops")
    copy = copy.replace("No deaths had been reported by Tuesday evening", "By Tuesday evening nobody had died")
    assert indexed(STORY).closest(signature(copy)) is not None


def test_different_stories_on_the_same_topic_do_not_match():
    other = (
        "Libyan officials in Susa said on Wednesday that rescue teams had finished clearing the coastal road after "
        "Tuesday's floods, and that families forced from their homes could return by the weekend. The municipal "
        "council said the meteorological centre would review its warnings, while health officials reported that "
        "the 40 people treated for injuries and exposure had all left hospital. Engineers from Derna arrived to "
        "inspect the drainage channels, which residents said had not been repaired since 2023."
    )
    assert indexed(STORY).closest(signature(other)) is None


def test_same_boilerplate_around_different_stories_does_not_merge():
    shell = "\n\n".join([BOILERPLATE] * 3)
    first = "\n\n".join([shell, *MAGHREB_STORIES[0].paragraphs, shell])
    second = "\n\n".join([shell, *ATOM_STORIES[1].paragraphs, shell])
    assert indexed(first).closest(signature(second)) is None


def test_short_and_empty_texts_are_not_compared():
    assert signature("") is None
    assert signature("Flash floods hit Libya.") is None


def test_unrelated_stories_in_a_full_index_find_nothing_and_signatures_round_trip():
    texts = ["\n\n".join(s.paragraphs) for s in (*WIRE_STORIES, *ATOM_STORIES, *ARABIC_STORIES)]
    index = indexed(*texts)
    assert index.closest(signature("\n\n".join(MAGHREB_STORIES[0].paragraphs))) is None
    restored = from_bytes(to_bytes(signature(texts[0])))
    assert len(to_bytes(restored)) == 4 + 512
    assert restored.jaccard(signature(texts[0])) == 1.0 and restored.size == signature(texts[0]).size
    assert index.closest(restored).key == "a0"  # a stored signature finds what a fresh one finds
    rebuilt = NearDuplicateIndex()
    rebuilt.add("a0", restored)  # an index rebuilt from stored bytes answers fresh queries
    assert rebuilt.closest(signature(texts[0])).key == "a0"


def test_cut_copy_matches_by_containment():
    from crawler.demo.stories import ATLAS_WIRE_COPY

    cut = signature("\n\n".join(ATLAS_WIRE_COPY.paragraphs))
    whole = signature(STORY)
    assert cut.jaccard(whole) < 0.5 < cut.containment(whole)
    assert indexed(STORY).closest(cut) is not None


def test_a_revised_text_is_reindexed():
    index = indexed(STORY)
    other = "\n\n".join(MAGHREB_STORIES[0].paragraphs)
    index.replace("a0", signature(other))
    assert index.closest(signature(STORY)) is None and index.closest(signature(other)).key == "a0"
    index.replace("a0", None)
    assert len(index) == 0


def test_copies_far_apart_in_time_are_separate_stories():
    from datetime import UTC, datetime, timedelta

    monday = datetime(2025, 7, 21, tzinfo=UTC)
    index = NearDuplicateIndex()
    index.add("a0", signature(STORY), monday)
    assert index.closest(signature(STORY), monday + timedelta(days=2)).key == "a0"
    assert index.closest(signature(STORY), monday + timedelta(days=30)) is None  # a recurring template piece
    index.add("a0", signature("\n\n".join(MAGHREB_STORIES[0].paragraphs)), monday)  # re-adding replaces
    assert index.closest(signature(STORY), monday) is None


def test_signing_banding_and_comparing_match_datasketch_without_importing_it():
    """Signatures are made, compared and banded with numpy (datasketch costs every process 0.5 s and
    55 MB to import): the hash values, the bands and rows, and the similarity are datasketch's own, so
    signatures it stored before stay comparable."""
    import subprocess
    import sys

    from datasketch import MinHash
    from datasketch.lsh import _optimal_param

    from storage.near_duplicates import NUM_PERM, from_bytes, lsh_params, shingles, signature, to_bytes

    for threshold in (0.1, 0.2, 0.25, 0.5, 0.8):
        assert lsh_params(threshold, NUM_PERM) == _optimal_param(threshold, NUM_PERM, 0.5, 0.5)
    texts = [" ".join(f"word{n}" for n in range(300)), " ".join(f"word{n}" for n in range(100, 400)), STORY]
    for text in texts:
        reference = MinHash(num_perm=NUM_PERM, scheme="affine32")
        reference.update_batch(list(shingles(text)))
        assert np.array_equal(signature(text).hashvalues, reference.hashvalues)
    one, other = signature(texts[0]), signature(texts[1])
    theirs = [MinHash(num_perm=NUM_PERM, hashvalues=s.hashvalues, scheme="affine32") for s in (one, other)]
    assert one.jaccard(other) == theirs[0].jaccard(theirs[1]) and 0.3 < one.jaccard(other) < 0.7
    assert from_bytes(to_bytes(one)).jaccard(one) == 1.0
    probe = (
        "import sys, storage.stories, storage.near_duplicates, feeds.web.app, crawler.processing.job\n"
        "storage.near_duplicates.signature('a b c d e f ' * 50)\n"
        "print('datasketch' in sys.modules, 'scipy' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split() == [
        "False",
        "False",
    ]
