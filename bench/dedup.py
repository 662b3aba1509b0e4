"""Story clustering benchmark: a synthetic syndication set built from real article texts.

For each base story, 0-6 copies with the edits syndication makes (another headline, other
boilerplate, a trimmed or extended lede, dropped or added paragraphs, another outlet's sign-off,
typos, 10-20 % of sentences rewritten), plus hard negatives (same topic and names, other
sentences). Prints pairwise precision, recall and F1 of the clusters for several thresholds,
then per-article time and peak memory at each size, each size in a fresh process.

Usage: python -m bench.dedup [--corpus ../shared/corpus | --texts DIR] [--sizes 10000 50000 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from storage.common.fingerprint import text_hash
from storage.near_duplicates import CONTAINMENT, DEFAULT_THRESHOLD, NearDuplicateIndex, signature

PROJECT = Path(__file__).resolve().parents[1]

SENTENCE = re.compile(r"(?<=[.!?])\s+")
BOILERPLATE = [
    "Share this article on social media.",
    "Subscribe to our newsletter for the latest headlines every morning.",
    "Read more: our full coverage of the region.",
    "Copyright 2025 All rights reserved.",
    "Follow us on Twitter and Facebook for updates.",
    "Sign up for breaking news alerts.",
]
SIGN_OFFS = [
    "Reporting by the wire desk.",
    "Additional reporting by staff.",
    "With agency reports.",
    "Edited by the news desk.",
]


def real_texts(corpus: Path | None, texts_dir: Path | None) -> list[str]:
    """Article texts: the corpus's ground-truth bodies, or every .txt file of a directory."""
    if texts_dir:
        return [p.read_text(encoding="utf-8") for p in sorted(texts_dir.glob("*.txt"))]
    texts = list(json.loads((corpus / "article-extraction-benchmark" / "ground-truth.json").read_text()).values())
    bodies = [t["articleBody"] for t in texts]
    for line in (corpus / "index.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["dataset"] == "fundus":
            bodies.append(json.loads((corpus / entry["truth"]).read_text())["plaintext"])
    return [b for b in bodies if len(b.split()) > 120]


def sentence_pool(texts: list[str]) -> list[str]:
    return [s for t in texts for s in SENTENCE.split(t.replace("\n", " ")) if 8 <= len(s.split()) <= 60]


def base_story(rng: random.Random, pool: list[str]) -> list[str]:
    """A new story: 8-20 sentences drawn from the pool, in paragraphs of 1-3."""
    sentences = rng.sample(pool, rng.randint(8, 20))
    paragraphs, i = [], 0
    while i < len(sentences):
        n = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[i : i + n]))
        i += n
    return paragraphs


def typos(rng: random.Random, text: str, rate: float = 0.01) -> str:
    chars = list(text)
    for _ in range(int(len(chars) * rate)):
        i = rng.randrange(len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def rewrite(rng: random.Random, paragraphs: list[str], share: float) -> list[str]:
    """Rewrite about `share` of the sentences: words moved and dropped, as an editor would."""
    out = []
    for paragraph in paragraphs:
        sentences = SENTENCE.split(paragraph)
        for i, sentence in enumerate(sentences):
            if rng.random() < share:
                words = sentence.split()
                cut = rng.randrange(1, max(2, len(words) // 2))
                words = words[cut:] + words[:cut]
                del words[rng.randrange(len(words))]
                sentences[i] = " ".join(words)
        out.append(" ".join(sentences))
    return out


def copy_of(rng: random.Random, story: list[str], pool: list[str]) -> str:
    """One outlet's copy: a realistic mix of edits."""
    paragraphs = list(story)
    if rng.random() < 0.5 and len(paragraphs) > 3:
        paragraphs = paragraphs[1:]  # trimmed lede
    if rng.random() < 0.3:
        paragraphs = [rng.choice(pool), *paragraphs]  # extended lede
    if rng.random() < 0.4 and len(paragraphs) > 4:
        del paragraphs[rng.randrange(1, len(paragraphs))]  # dropped paragraph
    if rng.random() < 0.3:
        paragraphs.insert(rng.randrange(len(paragraphs)), rng.choice(pool))  # added paragraph
    if rng.random() < 0.5:
        paragraphs = rewrite(rng, paragraphs, rng.uniform(0.1, 0.2))
    headline = " ".join(rng.choice(pool).split()[:10])
    text = "\n\n".join([headline, *paragraphs, *rng.sample(BOILERPLATE, rng.randint(0, 3)), rng.choice(SIGN_OFFS)])
    return typos(rng, text) if rng.random() < 0.5 else text


def hard_negative(rng: random.Random, story: list[str], pool: list[str]) -> list[str]:
    """Same topic, different story: the base's names and places, none of its sentences."""
    names = [w for w in re.findall(r"\b[A-Z][a-z]{3,}\b", " ".join(story))][:12] or ["Tuesday"]
    other = base_story(rng, pool)
    return [" ".join(w if rng.random() > 0.15 else rng.choice(names) for w in p.split()) for p in other]


def build(size: int, texts: list[str], seed: int = 7) -> tuple[list[str], list[int]]:
    """`size` articles and their true story labels."""
    rng = random.Random(seed)
    pool = sentence_pool(texts)
    articles, labels, label = [], [], 0
    while len(articles) < size:
        story = base_story(rng, pool)
        articles.append("\n\n".join(story))
        labels.append(label)
        for _ in range(rng.randint(0, 6)):
            articles.append(copy_of(rng, story, pool))
            labels.append(label)
        label += 1
        if rng.random() < 0.3:
            articles.append("\n\n".join(hard_negative(rng, story, pool)))
            labels.append(label)
            label += 1
    return articles[:size], labels[:size]


def cluster(articles: list[str], threshold: float, containment: float = CONTAINMENT) -> tuple[list[int], float]:
    """Story ids as newswire assigns them (exact hash, then the near-duplicate index); seconds taken."""
    index = NearDuplicateIndex(threshold, containment)
    by_hash: dict[str, int] = {}
    story_of: dict[str, int] = {}
    stories, next_story = [], 0
    start = time.perf_counter()
    for number, text in enumerate(articles):
        digest = text_hash(text)
        story = by_hash.get(digest)
        sig = signature(text)
        if story is None and sig is not None and (match := index.closest(sig)):
            story = story_of[match.key]
        if story is None:
            story, next_story = next_story, next_story + 1
        by_hash.setdefault(digest, story)
        if sig is not None:
            index.add(str(number), sig)
            story_of[str(number)] = story
        stories.append(story)
    return stories, time.perf_counter() - start


def pairwise(truth: list[int], predicted: list[int]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a clustering (pair counts from cluster sizes, no n² loop)."""

    def pairs(counts: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    together = pairs(Counter(zip(truth, predicted, strict=True)))
    predicted_pairs, true_pairs = pairs(Counter(predicted)), pairs(Counter(truth))
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / true_pairs if true_pairs else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def one_size(args: argparse.Namespace) -> None:
    texts = real_texts(args.corpus, args.texts)
    articles, labels = build(args.one_size, texts)
    predicted, seconds = cluster(articles, args.threshold)
    precision, recall, f1 = pairwise(labels, predicted)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"size": args.one_size, "precision": precision, "recall": recall, "f1": f1,
                      "ms_per_article": 1000 * seconds / len(articles), "peak_mb": peak_mb}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--texts", type=Path, default=None, help="a directory of .txt article texts instead")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--containments", type=float, nargs="+", default=[CONTAINMENT])
    parser.add_argument("--one-size", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size:
        one_size(args)
        return
    texts = real_texts(args.corpus, args.texts)
    print(f"# dedup benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {len(texts)} real texts")
    articles, labels = build(min(args.sizes), texts)
    print(f"\n## Thresholds (a copy: Jaccard or containment at least), {len(articles)} articles\n")
    print("| Jaccard | containment | precision | recall | F1 |\n|---|---|---|---|---|")
    for threshold in args.thresholds:
        for containment in args.containments:
            precision, recall, f1 = pairwise(labels, cluster(articles, threshold, containment)[0])
            print(f"| {threshold:.2f} | {containment:.2f} | {precision:.4f} | {recall:.4f} | {f1:.4f} |")
    print(f"\n## Scale (threshold {args.threshold}; each size in a fresh process)\n")
    print("| articles | precision | recall | F1 | ms/article | ratio to smallest | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    base = None
    for size in args.sizes:
        command = [sys.executable, "-m", "bench.dedup", "--one-size", str(size), "--threshold", str(args.threshold)]
        command += ["--texts", str(args.texts)] if args.texts else ["--corpus", str(args.corpus)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=PROJECT)
        row = json.loads(done.stdout.splitlines()[-1])
        base = base or row["ms_per_article"]
        print(f"| {size} | {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} | "
              f"{row['ms_per_article']:.3f} | {row['ms_per_article'] / base:.2f} | {row['peak_mb']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
