"""Near-duplicate detection for stories: MinHash signatures of word shingles, looked up in an LSH index.

The cost of adding one article does not grow with the store: LSH returns a handful of candidates,
which are then checked against their signatures. Signatures are bytes, so they can be kept in the
database and the index rebuilt from them by a new process without re-reading any text.

Signing, comparing and banding are a few lines of numpy that reproduce datasketch's MinHash (scheme
"affine32", seed 1) and MinHashLSH value for value — stored signatures stay comparable with those it made
— without importing datasketch, which costs every process 0.5 s and 55 MB (it pulls in scipy.integrate):
the extraction workers that sign are the crawl's largest processes.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

NUM_PERM = 128
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


@dataclass(frozen=True, eq=False)
class Signature:
    """A text's MinHash values and the number of shingles it was made from (to estimate containment)."""

    hashvalues: np.ndarray  # NUM_PERM minimum hash values, HASH_DTYPE
    size: int

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity: the share of equal minimum hash values (as datasketch's MinHash)."""
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)

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
    return Signature(minhash(sample(grams, MAX_SIGNED_SHINGLES)), len(grams))


_SEED = 1  # datasketch's default: the permutations below are the ones its MinHash(seed=1) draws
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)  # MurmurHash3's 32-bit finalizer


@functools.cache
def _permutations(num_perm: int = NUM_PERM) -> tuple[np.ndarray, np.ndarray]:
    """The affine maps h -> a*h + b mod 2^32 (odd a) of datasketch's "affine32" scheme."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash(grams: list[bytes]) -> np.ndarray:
    """NUM_PERM minimum hash values of the shingles (SHA-1's first 4 bytes, mixed, permuted), HASH_DTYPE."""
    digests = b"".join(hashlib.sha1(gram).digest()[:4] for gram in grams)
    hv = np.frombuffer(digests, dtype="<u4").astype(np.uint32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = (np.uint32(c) for c in _FMIX32)
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    hv = hv ^ (hv >> s3)
    a, b = _permutations()
    return (hv * a + b).min(axis=0).astype(HASH_DTYPE)


def sample(grams: set[bytes], size: int) -> list[bytes]:
    """At most `size` shingles, the same ones from any text that has them: those with the smallest hashes
    (a bottom-k sample). MinHash's cost grows with the shingles it hashes (a 9.9 MB text took 1.6 GB and 6 s);
    a bottom-k sample of a set estimates its Jaccard similarity to another the way the whole set does."""
    if len(grams) <= size:
        return list(grams)
    return heapq.nsmallest(size, grams, key=lambda gram: zlib.crc32(gram))


def to_bytes(sig: Signature) -> bytes:
    """A signature as bytes, for storage: the shingle count (4 bytes), then the hash values."""
    return np.uint32(sig.size).tobytes() + sig.hashvalues.astype(HASH_DTYPE).tobytes()


def from_bytes(data: bytes) -> Signature:
    """A signature read back from storage."""
    size = int(np.frombuffer(data[:4], dtype=np.uint32)[0])
    return Signature(np.frombuffer(data[4:], dtype=HASH_DTYPE), size)


@functools.cache
def lsh_params(threshold: float, num_perm: int, steps: int = 2001) -> tuple[int, int]:
    """(bands, rows) minimizing the equally weighted areas of false positives below `threshold` and false
    negatives above it, as datasketch's MinHashLSH chooses them (its numerical integration, by trapezoids)."""
    best, best_error = (1, 1), float("inf")
    below, above = np.linspace(0.0, threshold, steps), np.linspace(threshold, 1.0, steps)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = np.trapezoid(1 - (1 - below**rows) ** bands, below)
            false_negative = np.trapezoid((1 - above**rows) ** bands, above)
            error = float(0.5 * false_positive + 0.5 * false_negative)
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


class BandedLSH:
    """Locality-sensitive hashing by bands: two signatures are candidates when all `rows` values of any
    one of `bands` bands agree.

    A band value that one signature alone has (nearly all of them) maps to that key itself, not to a set of
    one: a set costs 216 bytes, 28 of them a signature (bench/shared_index.py: 9.1 kB a signature before,
    in every worker's index)."""

    def __init__(self, bands: int, rows: int) -> None:
        self.bands, self.rows = bands, rows
        self.tables: list[dict[bytes, str | set[str]]] = [{} for _ in range(bands)]
        self.keys: dict[str, list[bytes]] = {}

    def _band_keys(self, hashvalues: np.ndarray) -> list[bytes]:
        return [hashvalues[i * self.rows : (i + 1) * self.rows].tobytes() for i in range(self.bands)]

    def insert(self, key: str, hashvalues: np.ndarray) -> None:
        if key in self.keys:
            self.remove(key)
        bands = self._band_keys(hashvalues)
        self.keys[key] = bands
        for table, band in zip(self.tables, bands, strict=True):
            held = table.get(band)
            if held is None:
                table[band] = key
            elif isinstance(held, str):
                table[band] = {held, key}
            else:
                held.add(key)

    def remove(self, key: str) -> None:
        for table, band in zip(self.tables, self.keys.pop(key), strict=True):
            held = table[band]
            if isinstance(held, str):
                del table[band]
                continue
            held.discard(key)
            if len(held) == 1:
                table[band] = next(iter(held))

    def query(self, hashvalues: np.ndarray) -> set[str]:
        found: set[str] = set()
        for table, band in zip(self.tables, self._band_keys(hashvalues), strict=True):
            held = table.get(band)
            if held is None:
                continue
            if isinstance(held, str):
                found.add(held)
            else:
                found |= held
        return found


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
        self.lsh = BandedLSH(*lsh_params(min(LSH_THRESHOLD, threshold), NUM_PERM))
        self.signatures: dict[str, Signature] = {}
        self.dates: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def clear(self) -> None:
        """Forget every indexed signature."""
        self.lsh = BandedLSH(self.lsh.bands, self.lsh.rows)
        self.signatures.clear()
        self.dates.clear()

    def add(self, key: str, sig: Signature, when: datetime | None = None) -> None:
        """Index a stored text's signature (and its date) under `key`; a key indexed before is replaced
        (an id reused after a rolled-back insert must not keep the old text's signature)."""
        if key in self.signatures:
            self.lsh.remove(key)
        self.lsh.insert(key, sig.hashvalues)
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
        for key in self.lsh.query(sig.hashvalues):
            stored_when = self.dates.get(key)
            if when is not None and stored_when is not None and abs(when - stored_when) > STORY_WINDOW:
                continue
            stored = self.signatures[key]
            similarity = sig.jaccard(stored)
            is_copy = similarity >= self.threshold or sig.containment(stored) >= self.containment
            if is_copy and (best is None or similarity > best.similarity):
                best = Match(key, similarity)
        return best
