"""Extraction benchmark over ../shared/corpus: body text on the article-extraction-benchmark pages and
metadata on the fundus pages, newswire side by side with trafilatura and peers, in one run.

Usage: python bench/extraction.py [--corpus ../shared/corpus] [--json results.json] [--only-newswire]
Peers come from `pip install -e .[bench]`; a peer that is not installed is listed as absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

warnings.filterwarnings("ignore")
PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

from scoring import (  # noqa: E402
    authors_f1,
    normalize_space,
    parse_truth_date,
    same_day,
    score_corpus,
    score_page,
    within_minute,
)

from crawler.extract import extract_article  # noqa: E402


@dataclass
class Page:
    id: str
    url: str
    html: str
    truth: dict


def load(corpus: Path) -> tuple[list[Page], list[Page]]:
    """The aeb pages (truth: articleBody) and the fundus pages (truth: the fundus JSON)."""
    aeb_truth = json.loads((corpus / "article-extraction-benchmark" / "ground-truth.json").read_text("utf-8"))
    aeb, fundus = [], []
    for line in (corpus / "index.jsonl").read_text("utf-8").splitlines():
        entry = json.loads(line)
        html = gzip.decompress((corpus / entry["html"]).read_bytes()).decode("utf-8", errors="replace")
        if entry["dataset"] == "aeb":
            aeb.append(Page(entry["id"], entry["url"], html, aeb_truth[entry["id"]]))
        else:
            truth = json.loads((corpus / entry["truth"]).read_text("utf-8"))
            fundus.append(Page(entry["id"], entry["url"], html, truth))
    return aeb, fundus


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


# --- body rows ----------------------------------------------------------------------------------


def body_rows() -> dict[str, tuple[str, Callable[[str, str], str] | None]]:
    import trafilatura

    def bare(html: str, url: str) -> str:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        return doc.text if doc else ""

    rows: dict[str, tuple[str, Callable[[str, str], str] | None]] = {
        "newswire": (_version("newswire"), lambda h, u: extract_article(h, u).text),
        "trafilatura extract": (_version("trafilatura"), lambda h, u: trafilatura.extract(h, url=u) or ""),
        "trafilatura bare_extraction": (_version("trafilatura"), bare),
        "trafilatura favor_precision": (
            _version("trafilatura"),
            lambda h, u: trafilatura.extract(h, url=u, favor_precision=True) or "",
        ),
    }
    rows["newspaper4k"] = (_version("newspaper4k"), _newspaper())
    rows["readability-lxml"] = (_version("readability-lxml"), _readability())
    rows["goose3"] = (_version("goose3"), _goose())
    rows["justext"] = (_version("justext"), _justext())
    return rows


def _newspaper() -> Callable[[str, str], str] | None:
    try:
        from newspaper import Article
    except ImportError:
        return None

    def run(html: str, url: str) -> str:
        article = Article(url, fetch_images=False)
        article.download(input_html=html)
        article.parse()
        return article.text

    return run


def _readability() -> Callable[[str, str], str] | None:
    try:
        import lxml.html
        from readability import Document
    except ImportError:
        return None

    def run(html: str, url: str) -> str:
        summary = Document(html, url=url).summary(html_partial=True)
        tree = lxml.html.fromstring(summary)
        blocks = [" ".join(b.text_content().split()) for b in tree.iter("p", "li", "h2", "h3", "blockquote", "pre")]
        return "\n\n".join(b for b in blocks if b) or " ".join(tree.text_content().split())

    return run


def _goose() -> Callable[[str, str], str] | None:
    try:
        from goose3 import Goose
    except ImportError:
        return None
    goose = Goose({"enable_image_fetching": False})
    return lambda html, url: goose.extract(url=url, raw_html=html).cleaned_text or ""


def _justext() -> Callable[[str, str], str] | None:
    try:
        import justext
    except ImportError:
        return None
    stop = justext.get_stoplist("English")

    def run(html: str, url: str) -> str:
        paragraphs = justext.justext(html.encode("utf-8"), stop)
        return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    return run


WARM_UP = 3


def _safe(run: Callable[[str, str], str], page: Page) -> str:
    try:
        return run(page.html, page.url) or ""
    except Exception:  # a peer failing on a page scores it empty
        return ""


def run_body(pages: list[Page], only_newswire: bool) -> dict[str, dict]:
    results = {}
    for name, (ver, run) in body_rows().items():
        if only_newswire and not name.startswith(("newswire", "trafilatura")):
            continue
        if run is None:
            results[name] = {"version": ver, "absent": True}
            continue
        for page in pages[:WARM_UP]:  # imports, caches and lazy set-up are not what pages/s should measure
            _safe(run, page)
        scores, start = [], time.perf_counter()
        for page in pages:
            predicted = _safe(run, page)
            scores.append(score_page(page.truth["articleBody"], predicted))
        seconds = time.perf_counter() - start
        corpus = score_corpus(scores)
        results[name] = {
            "version": ver,
            **asdict(corpus),
            "pages_per_second": len(pages) / seconds,
            "per_page": {
                p.id: {"precision": s.precision, "recall": s.recall} for p, s in zip(pages, scores, strict=True)
            },
        }
    return results


# --- metadata rows ------------------------------------------------------------------------------


def _truth_language(page: Page) -> str | None:
    try:
        import py3langid
    except ImportError:
        return None
    return py3langid.classify(page.truth.get("plaintext") or page.truth["expected"].get("title", ""))[0]


def _crawl_time(page: Page) -> datetime:
    value = datetime.fromisoformat(page.truth["crawl_date"].split(".")[0])
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _newswire_meta(page: Page) -> dict:
    record = extract_article(page.html, page.url, fetched_at=_crawl_time(page))
    return {"title": record.title, "authors": record.authors, "date": record.published, "language": record.language}


def _trafilatura_meta(page: Page) -> dict:
    import trafilatura

    doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    if doc is None:
        return {"title": None, "authors": [], "date": None, "language": None}
    date = datetime.fromisoformat(doc.date).replace(tzinfo=UTC) if doc.date else None
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return {"title": doc.title, "authors": authors, "date": date, "language": doc.language}


def _htmldate_meta(page: Page) -> dict:
    from htmldate import find_date

    found = find_date(page.html, url=page.url, outputformat="%Y-%m-%dT%H:%M:%S%z", extensive_search=True)
    date = None
    if found:
        date = datetime.fromisoformat(found)
        date = date.replace(tzinfo=UTC) if date.tzinfo is None else date
    return {"title": None, "authors": None, "date": date, "language": None}


def run_metadata(pages: list[Page]) -> dict[str, dict]:
    rows = {"newswire": _newswire_meta, "trafilatura metadata": _trafilatura_meta, "htmldate": _htmldate_meta}
    languages = {p.id: _truth_language(p) for p in pages}
    results = {}
    for name, run in rows.items():
        for page in pages[:WARM_UP]:
            run(page)
        counts = {"title": [], "authors": [], "date_day": [], "date_minute": [], "language": []}
        misses: dict[str, list[str]] = {"title": [], "authors": [], "date_day": []}
        start = time.perf_counter()
        for page in pages:
            expected = page.truth["expected"]
            got = run(page)
            if got["title"] is not None or name != "htmldate":
                ok = normalize_space(got["title"]) == normalize_space(expected.get("title"))
                counts["title"].append(ok)
                if not ok:
                    misses["title"].append(f"{page.id}: {got['title']!r} != {expected.get('title')!r}")
            if "authors" in expected and got["authors"] is not None:
                f1 = authors_f1(expected["authors"], got["authors"])
                counts["authors"].append(f1)
                if f1 < 1:
                    misses["authors"].append(f"{page.id}: {got['authors']} != {expected['authors']}")
            if expected.get("publishing_date"):
                truth, has_time = parse_truth_date(expected["publishing_date"])
                ok = same_day(truth, got["date"])
                counts["date_day"].append(ok)
                if not ok:
                    misses["date_day"].append(f"{page.id}: {got['date']} != {truth}")
                if has_time:
                    counts["date_minute"].append(within_minute(truth, got["date"]))
            if languages[page.id] and name != "htmldate":
                counts["language"].append(got["language"] == languages[page.id])
        seconds = time.perf_counter() - start
        results[name] = {
            **{k: (sum(v) / len(v) if v else None) for k, v in counts.items()},
            **{f"{k}_pages": len(v) for k, v in counts.items()},
            "pages_per_second": len(pages) / seconds,
            "misses": misses,
        }
    return results


# --- report -------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(body: dict, meta: dict, aeb: list[Page], worst: int = 10) -> None:
    bare = body["trafilatura bare_extraction"]
    print(f"\n## Body text: {len(aeb)} article-extraction-benchmark pages (4-token shingles)\n")
    header = ("row", "version", "F1", "prec.", "recall", "acc.", "pages/s", "speed")
    print("| " + " | ".join(f"{h:<28}" if i == 0 else f"{h:>7}" for i, h in enumerate(header)) + " |")
    print("|" + "|".join("-" * (30 if i == 0 else 9) for i in range(len(header))) + "|")
    for name, row in sorted(body.items(), key=lambda kv: -kv[1].get("f1", -1)):
        if row.get("absent"):
            print(f"| {name:<28} | {'absent':>7} |" + " |" * 6)
            continue
        speed = row["pages_per_second"] / bare["pages_per_second"]
        cells = [row["version"], fmt(row["f1"]), fmt(row["precision"]), fmt(row["recall"]), fmt(row["accuracy"])]
        cells += [f"{row['pages_per_second']:.1f}", f"{speed:.2f}"]
        print(f"| {name:<28} | " + " | ".join(f"{c:>7}" for c in cells) + " |")
    ours = body["newswire"]["per_page"]
    print(f"\n### Worst {worst} pages: newswire recall / trafilatura bare_extraction recall\n")
    ratios = []
    for page in aeb:
        reference = bare["per_page"][page.id]["recall"]
        ratio = ours[page.id]["recall"] / reference if reference else (1.0 if ours[page.id]["recall"] else 0.0)
        ratios.append((ratio, page.id, ours[page.id]["recall"], reference, ours[page.id]["precision"], page.url))
    ratios.sort()
    for ratio, _pid, recall, reference, precision, url in ratios[:worst]:
        flag = "  REGRESSION" if recall < 0.8 * reference else ""
        print(f"- {ratio:.2f}  recall {recall:.3f} vs {reference:.3f}, precision {precision:.3f}  {url}{flag}")
    regressions = sum(1 for r in ratios if r[2] < 0.8 * r[3])
    print(f"\npages where newswire recall < 0.8 x trafilatura bare_extraction recall: {regressions}")
    print(f"\n## Metadata: {meta['newswire']['title_pages']} fundus pages\n")
    header = ("row", "title", "authors F1", "date day", "date ±1 min", "language", "pages/s")
    print("| " + " | ".join(f"{h:<22}" if i == 0 else f"{h:>11}" for i, h in enumerate(header)) + " |")
    print("|" + "|".join("-" * (24 if i == 0 else 13) for i in range(len(header))) + "|")
    for name, row in meta.items():
        cells = [fmt(row[k]) for k in ("title", "authors", "date_day", "date_minute", "language")]
        cells.append(f"{row['pages_per_second']:.1f}")
        print(f"| {name:<22} | " + " | ".join(f"{c:>11}" for c in cells) + " |")
    counts = meta["newswire"]
    scored = ", ".join(
        f"{k} {counts[k + '_pages']}" for k in ("title", "authors", "date_day", "date_minute", "language")
    )
    print(
        f"\n(pages scored: {scored}; truth language: py3langid on the expected text; "
        "truth dates without offset read as UTC)"
    )


def compare(before: dict, body: dict, meta: dict) -> None:
    """Print newswire's figures now, before, and the change."""
    print("\n## Change from the earlier run\n")
    for key in ("f1", "precision", "recall", "accuracy"):
        old, new = before["body"]["newswire"].get(key), body["newswire"].get(key)
        if old is not None:
            print(f"- body {key}: {old:.3f} → {new:.3f} ({new - old:+.3f})")
    for key in ("title", "authors", "date_day", "date_minute", "language"):
        old, new = before["metadata"]["newswire"].get(key), meta["newswire"].get(key)
        if old is not None and new is not None:
            print(f"- {key}: {old:.3f} → {new:.3f} ({new - old:+.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, default=None, help="write every figure (and per-page scores) here")
    parser.add_argument("--only-newswire", action="store_true", help="skip the peers (faster while tuning)")
    parser.add_argument("--misses", action="store_true", help="print newswire's metadata misses")
    parser.add_argument("--compare", type=Path, default=None, help="a --json file of an earlier run to compare with")
    args = parser.parse_args()
    if not (args.corpus / "index.jsonl").exists():
        sys.exit(f"no corpus at {args.corpus} (pass --corpus)")
    aeb, fundus = load(args.corpus)
    print(
        f"# newswire extraction benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} "
        f"({platform.machine()}, {platform.processor() or 'cpu'}), Python {platform.python_version()}, "
        f"htmldate {_version('htmldate')}, dateparser {_version('dateparser')}"
    )
    body = run_body(aeb, args.only_newswire)
    meta = run_metadata(fundus)
    report(body, meta, aeb)
    if args.misses:
        for field, lines in meta["newswire"]["misses"].items():
            print(f"\n### newswire {field} misses ({len(lines)})")
            print("\n".join(lines))
    if args.compare:
        compare(json.loads(args.compare.read_text()), body, meta)
    if args.json:
        figures = {name: {k: v for k, v in row.items() if k != "misses"} for name, row in meta.items()}
        args.json.write_text(json.dumps({"body": body, "metadata": figures}, indent=1, default=str))
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
