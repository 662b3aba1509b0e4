"""Near-duplicate detection for stories: MinHash signatures of word shingles, looked up in an LSH index.

The cost of adding one article does not grow with the store: LSH returns a handful of candidates,
which are then checked against their signatures. Signatures are bytes, so they can be kept in the
database and the index rebuilt from them by a new process without re-reading any text.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

logger = logging.getLogger(__name__)

NUM_PERM = 128
SCHEME = "affine32"  # datasketch's hashing scheme; stored signatures are only comparable within one scheme
HASH_DTYPE = np.uint32  # the scheme's hash values: 4 bytes each, 512 bytes a signature
SHINGLE_WORDS = 5
DEFAULT_THRESHOLD = 0.5  # estimated Jaccard similarity of shingle sets for two copies of one story
MIN_SHINGLES = 20  # shorter texts are matched by exact hash only: too little text to tell stories apart
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """The set of case-folded `size`-word windows of `text`, as UTF-8 bytes."""
    words = _WORD.findall(text.casefold())
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def signature(text: str) -> MinHash | None:
    """The MinHash of a text's shingles, or None when the text is too short to compare."""
    grams = shingles(text)
    if len(grams) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch(list(grams))
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    """A signature as bytes, for storage."""
    return minhash.hashvalues.astype(HASH_DTYPE).tobytes()


def from_bytes(data: bytes) -> MinHash:
    """A signature read back from storage."""
    return MinHash(num_perm=NUM_PERM, hashvalues=np.frombuffer(data, dtype=HASH_DTYPE), scheme=SCHEME)


@dataclass(frozen=True)
class Match:
    """The closest stored text to a new one: its key and estimated Jaccard similarity."""

    key: str
    similarity: float


class NearDuplicateIndex:
    """An LSH index over stored signatures; `closest` finds the most similar stored text above the threshold."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.signatures: dict[str, MinHash] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def add(self, key: str, minhash: MinHash) -> None:
        """Index a stored text's signature under `key` (once)."""
        if key not in self.signatures:
            self.lsh.insert(key, minhash)
            self.signatures[key] = minhash

    def closest(self, minhash: MinHash) -> Match | None:
        """The stored text most similar to `minhash`, if its estimated similarity reaches the threshold."""
        best: Match | None = None
        for key in self.lsh.query(minhash):
            similarity = minhash.jaccard(self.signatures[key])
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = Match(key, similarity)
        return best
