"""Near-duplicate detection for stories: MinHash signatures of word shingles, looked up in an LSH index.

The cost of adding one article does not grow with the store: LSH returns a handful of candidates,
which are then checked against their signatures. Signatures are bytes, so they can be kept in the
database and the index rebuilt from them by a new process without re-reading any text.
"""

from __future__ import annotations

import heapq
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SCHEME = "affine32"  # datasketch's hashing scheme; stored signatures are only comparable within one scheme
HASH_DTYPE = np.uint32  # the scheme's hash values: 4 bytes each, 512 bytes a signature
SHINGLE_WORDS = 5
# Chosen with bench/dedup.py (synthetic copies of real texts): Jaccard 0.25 or containment 0.6 kept
# pairwise precision at 0.999 and recall at 0.978 from 10k to 100k articles; Jaccard 0.2 lost precision
# as the set grew (0.978 at 100k) and 0.5 missed a quarter of the copies (typos and rewrites break
# 5-word shingles fast).
DEFAULT_THRESHOLD = 0.25  # estimated Jaccard similarity of shingle sets for two copies of one story
CONTAINMENT = 0.6  # …or this share of the shorter text's shingles found in the longer: a cut or trimmed copy
LSH_THRESHOLD = 0.2  # candidates are gathered at the lower bar, then checked
STORY_WINDOW = timedelta(days=7)  # copies of one story are published within a week of each other
MIN_SHINGLES = 20  # shorter texts are matched by exact hash only: too little text to tell stories apart
MAX_SIGNED_SHINGLES = 20_000  # a longer text (a book, not an article) is signed by a sample of this many
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """The set of case-folded `size`-word windows of `text`, as UTF-8 bytes."""
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


@dataclass(frozen=True)
class Signature:
    """A text's MinHash and the number of shingles it was made from (to estimate containment)."""

    minhash: MinHash
    size: int

    def jaccard(self, other: Signature) -> float:
        return self.minhash.jaccard(other.minhash)

    def containment(self, other: Signature) -> float:
        """Estimated share of the smaller text's shingles that the other text has too."""
        jaccard = self.jaccard(other)
        common = jaccard / (1 + jaccard) * (self.size + other.size)
        return min(1.0, common / max(1, min(self.size, other.size)))


def signature(text: str) -> Signature | None:
    """The signature of a text's shingles, or None when the text is too short to compare."""
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch(sample(grams, MAX_SIGNED_SHINGLES))
    return Signature(minhash, len(grams))


def sample(grams: set[bytes], size: int) -> list[bytes]:
    """At most `size` shingles, the same ones from any text that has them: those with the smallest hashes
    (a bottom-k sample). MinHash's cost grows with the shingles it hashes (a 9.9 MB text took 1.6 GB and 6 s);
    a bottom-k sample of a set estimates its Jaccard similarity to another the way the whole set does."""
    if len(grams) <= size:
        return list(grams)
    return heapq.nsmallest(size, grams, key=lambda gram: zlib.crc32(gram))


def to_bytes(sig: Signature) -> bytes:
    """A signature as bytes, for storage: the shingle count (4 bytes), then the hash values."""
    return np.uint32(sig.size).tobytes() + sig.minhash.hashvalues.astype(HASH_DTYPE).tobytes()


def from_bytes(data: bytes) -> Signature:
    """A signature read back from storage."""
    size = int(np.frombuffer(data[:4], dtype=np.uint32)[0])
    values = np.frombuffer(data[4:], dtype=HASH_DTYPE)
    return Signature(MinHash(num_perm=NUM_PERM, hashvalues=values, scheme=SCHEME), size)


@dataclass(frozen=True)
class Match:
    """The closest stored text to a new one: its key and estimated Jaccard similarity."""

    key: str
    similarity: float


class NearDuplicateIndex:
    """An LSH index over stored signatures; `closest` finds the most similar stored text that is a copy:
    estimated Jaccard similarity at least `threshold`, or containment at least CONTAINMENT."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, containment: float = CONTAINMENT) -> None:
        self.threshold = threshold
        self.containment = containment
        self.lsh = MinHashLSH(threshold=min(LSH_THRESHOLD, threshold), num_perm=NUM_PERM)
        self.signatures: dict[str, Signature] = {}
        self.dates: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def add(self, key: str, sig: Signature, when: datetime | None = None) -> None:
        """Index a stored text's signature (and its date) under `key`; a key indexed before is replaced
        (an id reused after a rolled-back insert must not keep the old text's signature)."""
        if key in self.signatures:
            self.lsh.remove(key)
        self.lsh.insert(key, sig.minhash)
        self.signatures[key] = sig
        if when is not None:
            self.dates[key] = when

    def replace(self, key: str, sig: Signature | None) -> None:
        """Re-index a text that changed (a new version): its old signature goes, the new one (if any) comes."""
        when = self.dates.get(key)
        if key in self.signatures:
            self.lsh.remove(key)
            del self.signatures[key]
        if sig is not None:
            self.add(key, sig, when)

    def closest(self, sig: Signature, when: datetime | None = None) -> Match | None:
        """The stored copy most similar to `sig`, or None. With `when`, only copies dated within
        STORY_WINDOW of it count: a recurring template piece (a market wrap, a weather report) is a
        new story each day, not one story growing for months."""
        best: Match | None = None
        for key in self.lsh.query(sig.minhash):
            stored_when = self.dates.get(key)
            if when is not None and stored_when is not None and abs(when - stored_when) > STORY_WINDOW:
                continue
            stored = self.signatures[key]
            similarity = sig.jaccard(stored)
            is_copy = similarity >= self.threshold or sig.containment(stored) >= self.containment
            if is_copy and (best is None or similarity > best.similarity):
                best = Match(key, similarity)
        return best
