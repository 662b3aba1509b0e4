"""The three body-text sets of ../shared/corpus as one list of pages, each with its site and fold.

Sets: `aeb` (article-extraction-benchmark, truth: articleBody), `fundus` (truth: the fundus JSON,
body = its `plaintext`) and `treval` (trafilatura's evaluation set, truth: with/without segments).
A page's fold is a fixed hash of its site (the registrable domain; one key per fundus publisher), so
every page of a site is in the same fold: rules written on two folds are judged on the third.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

FOLDS = 3
SETS = ("aeb", "fundus", "treval")
SET_NAMES = {
    "aeb": "article-extraction-benchmark",
    "fundus": "fundus bodies",
    "treval": "trafilatura eval (segments)",
}


@dataclass
class Page:
    """One page of one set: its HTML, URL, site, fold and ground truth (as the set gives it)."""

    dataset: str
    id: str
    site: str
    url: str
    html: str
    truth: dict

    @property
    def fold(self) -> int:
        return fold_of(self.site)


def fold_of(site: str) -> int:
    """0, 1 or 2, from a fixed, salted hash of the site key.

    Salted because the corpus's own DEV/held-out split is the unsalted SHA-1 of the site modulo 3:
    the DEV sites all share a few residues of it, which would leave one fold empty.
    """
    return int(hashlib.sha1(f"newswire-fold:{site}".encode()).hexdigest(), 16) % FOLDS


@cache
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _registrable(host: str) -> str:
    return _extractor()(host).top_domain_under_public_suffix or host


def _saved_page_host(key: str) -> str:
    """The host a saved page's key names: "hard::dw.com.colonial.html" → "dw.com".

    The name runs host and path together ("mercurynews.com.2023.01.16.letters-1119.html"), so the
    host is the longest run of leading labels that ends in a public suffix.
    """
    name = key.split("::")[-1].removesuffix(".html").split("-")[0]
    labels = name.split(".")
    for end in range(len(labels), 1, -1):
        candidate = ".".join(labels[:end])
        if _extractor()(candidate).suffix:
            return candidate
    return name


def load(corpus: Path, sets: tuple[str, ...] = SETS) -> list[Page]:
    """Every page of the chosen sets, in a fixed order."""
    pages: list[Page] = []
    if "aeb" in sets or "fundus" in sets:
        aeb_truth = json.loads((corpus / "article-extraction-benchmark" / "ground-truth.json").read_text("utf-8"))
        for line in (corpus / "index.jsonl").read_text("utf-8").splitlines():
            entry = json.loads(line)
            if entry["dataset"] not in sets:
                continue
            html = gzip.decompress((corpus / entry["html"]).read_bytes()).decode("utf-8", errors="replace")
            if entry["dataset"] == "aeb":
                truth = aeb_truth[entry["id"]]
            else:
                truth = json.loads((corpus / entry["truth"]).read_text("utf-8"))
            pages.append(Page(entry["dataset"], entry["id"], entry["site"], entry["url"], html, truth))
    if "treval" in sets:
        from trafilatura.utils import decode_file

        folder = corpus / "trafilatura-eval"
        data = json.loads((folder / "evaldata.json").read_text("utf-8"))
        for key, entry in data.items():
            address = key.removeprefix("x")  # one key is "xhttps://www.zoo-berlin.de/..."
            if address.startswith(("http://", "https://")):
                url, host = address, urlsplit(address).hostname or ""
            else:  # "hard::100noticias.com-millones.html": a saved page named after its host
                host = _saved_page_host(key)
                url = f"https://{host}/"
            site = entry.get("site") or _registrable(host)
            html = decode_file((folder / entry["file"]).read_bytes())
            pages.append(Page("treval", key, site, url, html, entry))
    return pages
