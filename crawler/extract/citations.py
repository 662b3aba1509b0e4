"""Citations: the outlets an article cites, found in its text and links, each with its evidence.

Kinds: `source-line` (a closing line that lists sources), `attribution` ("according to the Middle
East Eye", "told Reuters", "Reuters reported", "AFP contributed to this report"), `dateline`
("CAIRO (AP) —", "(Reuters) -") and `link` (a link to another outlet's site). Precision comes
first: a name counts only when it is a known outlet (the registry's names, aliases and domains,
or the wire services and large outlets listed here) or, in an attribution, a name built like an
outlet's ("the New York Times", "Middle East Eye"), never a lone word such as "Times".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from storage.common.urls import bare_host, is_web_url

SOURCE_LINE, ATTRIBUTION, DATELINE, LINK = "source-line", "attribution", "dateline", "link"
MAX_NAME_WORDS = 8  # an outlet's name is short; capping keeps the span search cheap on all-caps text

# Wire services and large outlets, as (canonical name, aliases, domains).
WELL_KNOWN: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Associated Press", ("AP", "The Associated Press"), ("apnews.com", "ap.org")),
    ("Reuters", ("Thomson Reuters",), ("reuters.com",)),
    ("Agence France-Presse", ("AFP", "Agence France Presse"), ("afp.com",)),
    ("Deutsche Presse-Agentur", ("dpa",), ("dpa.com",)),
    ("Bloomberg", ("Bloomberg News",), ("bloomberg.com",)),
    ("EFE", ("Agencia EFE",), ("efe.com",)),
    ("ANSA", (), ("ansa.it",)),
    ("Xinhua", ("Xinhua News Agency",), ("xinhuanet.com", "news.cn")),
    ("TASS", (), ("tass.com", "tass.ru")),
    ("Anadolu Agency", ("Anadolu", "AA"), ("aa.com.tr",)),
    ("Kyodo News", ("Kyodo",), ("kyodonews.net",)),
    ("Yonhap", ("Yonhap News Agency",), ("yna.co.kr",)),
    ("Press Trust of India", ("PTI",), ("ptinews.com",)),
    ("United Press International", ("UPI",), ("upi.com",)),
    ("BBC", ("BBC News", "the BBC"), ("bbc.com", "bbc.co.uk")),
    ("CNN", (), ("cnn.com",)),
    ("Al Jazeera", ("Al-Jazeera",), ("aljazeera.com", "aljazeera.net")),
    ("The New York Times", ("New York Times", "NYT"), ("nytimes.com",)),
    ("The Washington Post", ("Washington Post",), ("washingtonpost.com",)),
    ("The Wall Street Journal", ("Wall Street Journal", "WSJ"), ("wsj.com",)),
    ("Financial Times", ("the FT",), ("ft.com",)),
    ("The Guardian", ("Guardian",), ("theguardian.com",)),
    ("Middle East Eye", ("MEE",), ("middleeasteye.net",)),
    ("Axios", (), ("axios.com",)),
    ("Politico", (), ("politico.com", "politico.eu")),
    ("Le Monde", (), ("lemonde.fr",)),
    ("Der Spiegel", ("Spiegel",), ("spiegel.de",)),
)

# Words that end (or start) the names of news organisations.
OUTLET_WORDS = (
    "Times|Post|News|Press|Agency|Television|TV|Radio|Journal|Herald|Tribune|Gazette|Eye|Daily|Telegraph|"
    "Guardian|Observer|Monitor|Network|Broadcasting|Wire|Media|Magazine|Chronicle|Mail|Express|Standard|"
    "Independent|Review|Star|Sun|Insider|Globe|Inquirer|Courier|Dispatch|Bulletin|Report|Reporter|Channel|Sports"
)
# Titles and roles of journalists: such a word after an outlet's name ends it ("CNN Senior Correspondent ...").
ROLE_WORDS = frozenset({
    "analyst", "anchor", "bureau", "chief", "columnist", "commentator", "contributor", "correspondent", "critic",
    "editor", "host", "journalist", "presenter", "producer", "senior", "writer",
})  # fmt: skip
AMBIGUOUS_ROLE_WORDS = frozenset({"insider", "reporter"})  # end outlet names too: "Business Insider"
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_RESEARCH_BEFORE = re.compile(r"\b(?i:stud(?:y|ies)|research|paper|trial|review|survey|analysis)\b[^.;]{0,40}$")
_NAME = (
    r"(?:[A-Z][\w'’.&-]*|al-[A-Z][\w-]*|of|the|de|du|al)(?:\s+(?:[A-Z][\w'’.&-]*|of|the|de|du|al-[A-Z][\w-]*|al)){0,7}"
)
_OUTLET_SHAPED = re.compile(
    rf"^(?:[A-Z][\w'’.&-]*\s+){{1,4}}(?:{OUTLET_WORDS})(?:\s+(?:Arabia|Arabic|Africa|Asia|Europe|America|Online|International))?$|^(?:{OUTLET_WORDS})\s+of\s+[A-Z][\w-]+$|"
    r"^[A-Z][\w-]*\.(?:com|org|net|co\.uk)$"
)
_CUES_BEFORE = re.compile(
    rf"\b(?i:according to|told|said to|speaking to|in an interview with|reported by|quoted by|cited by|"
    rf"reporting by|via|writing in|wrote in|an op-ed (?:in|for)|published (?:in|by))\s+(?P<name>{_NAME})",
)
_CUES_AFTER = re.compile(
    rf"(?:^|[.;,:]\s+|\band\s+|\b(?i:as)\s+|\bwhich\s+)(?P<name>{_NAME})\s+(?:first\s+)?"
    r"(?:reported|reports|has reported|had reported|revealed|contributed to this report|"
    r"contributed reporting|was first to report|broke the news)\b",
)
_CUES_TO_KNOWN = re.compile(
    rf"\b(?i:confirmed|said|explained|admitted|denied|disclosed|described)\b[^.;]{{0,40}}?\bto\s+(?P<name>{_NAME})"
)
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .,'-]{1,40}(?:,\s*[\w .]{3,20})?\s*)?\((?P<name>[A-Za-z][\w .-]{0,30})\)\s*[-—–]"
)
_SOURCE_PREFIX = re.compile(r"^(?:sources?|via|with (?:files|reporting) from|credit)\s*[:\-]\s*", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"'‘])")


@dataclass(frozen=True)
class Citation:
    """One outlet cited by an article: the name as written, how it was cited, and the evidence."""

    name: str
    kind: str
    evidence: str
    domain: str | None = None
    url: str | None = None  # for links: the page linked to


@dataclass
class OutletDirectory:
    """Names, aliases and domains of the outlets to recognize, each mapped to a canonical name."""

    by_name: dict[str, str] = field(default_factory=dict)
    by_domain: dict[str, str] = field(default_factory=dict)

    def add(self, canonical: str, aliases: Iterable[str] = (), domains: Iterable[str] = ()) -> None:
        for name in (canonical, *aliases):
            self.by_name.setdefault(_key(name), canonical)
        for domain in domains:
            self.by_domain.setdefault(_domain_key(domain), canonical)

    def name(self, text: str) -> str | None:
        """The canonical name of a known outlet written as `text`, or None."""
        return self.by_name.get(_key(text))

    def domain(self, url_or_host: str) -> str | None:
        """The canonical name of the known outlet a URL or host belongs to, or None."""
        host = _domain_key(url_or_host)
        while host:
            if host in self.by_domain:
                return self.by_domain[host]
            host = host.partition(".")[2] if host.count(".") > 1 else ""
        return None


def _key(name: str) -> str:
    name = re.sub(r"\s+", " ", name.strip().strip(".,;:")).casefold()
    return name[4:] if name.startswith("the ") else name


def _domain_key(url_or_host: str) -> str:
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host
    host = (host or "").lower().strip(".")
    return bare_host(host)


def default_directory() -> OutletDirectory:
    """A directory of the wire services and large outlets newswire knows without a registry."""
    directory = OutletDirectory()
    for canonical, aliases, domains in WELL_KNOWN:
        directory.add(canonical, aliases, domains)
    return directory


def _outlet_name(candidate: str, directory: OutletDirectory, allow_shape: bool) -> str | None:
    """The cited name if it denotes an outlet: a known one, or (if allowed) one shaped like an outlet's."""
    words = candidate.strip(" .,;:'\"“”’").split()[:MAX_NAME_WORDS]
    return _name_in(_trim_run_on(words, directory, allow_shape), directory, allow_shape)


def _name_in(words: list[str], directory: OutletDirectory, allow_shape: bool) -> str | None:
    """The longest known (else outlet-shaped) name among the word spans, leftmost first."""
    spans = [(start, end) for start in range(len(words)) for end in range(len(words), start, -1)]
    for start, end in spans:  # "Reuters in June" → "Reuters"; "As the Financial Times" → "Financial Times"
        name = " ".join(words[start:end])
        if name.lower() != "the" and directory.name(name):
            return re.sub(r"^(?:the|The)\s+", "", name)
    if allow_shape:
        for start, end in spans:
            if words[end : end + 1] == ["of"] and end + 1 < len(words):
                continue  # "Turkish Journal" of "the Turkish Journal of Surgery": the name goes on
            name = re.sub(r"^(?:the|The)\s+", "", " ".join(words[start:end]))
            if _OUTLET_SHAPED.match(name):
                return name
    return None


def _trim_run_on(words: list[str], directory: OutletDirectory, allow_shape: bool) -> list[str]:
    """The words up to the end of the outlet's name, without a title, role or person that follows it.

    "Middle East Eye Editor David Hearst" → "Middle East Eye"; "CNN's Jake Tapper" → "CNN";
    "CBS Sports NFL Insider Jonathan Jones" → "CBS Sports NFL" (an outlet already precedes "Insider").
    """
    for index, word in enumerate(words):
        lowered = word.casefold()
        if lowered in ROLE_WORDS:
            return words[:index]
        base = _POSSESSIVE.sub("", word)
        if base != word and _name_in([*words[:index], base], directory, allow_shape):
            return [*words[:index], base]
        ambiguous = lowered in AMBIGUOUS_ROLE_WORDS and index + 1 < len(words)
        if ambiguous and index and _name_in(words[:index], directory, allow_shape):
            return words[:index]
    return words


def _listed_outlet(item: str, directory: OutletDirectory, allow_shape: bool) -> str | None:
    """The item itself as an outlet name (not a longer phrase that merely contains one)."""
    item = item.strip(" .'\"“”’")
    if directory.name(item):
        return re.sub(r"^(?:the|The)\s+", "", item)
    return item if allow_shape and _OUTLET_SHAPED.match(item) else None


def _source_line(paragraph: str, directory: OutletDirectory) -> list[Citation]:
    """A closing line that only lists outlets ("Middle East Eye, Maghrebi.org, Reuters"; "Sources: AFP")."""
    text = _SOURCE_PREFIX.sub("", paragraph.strip()).rstrip(".")
    prefixed = text != paragraph.strip().rstrip(".")
    items = [i.strip() for i in re.split(r",|;|\band\b|&|/|\|", text) if i.strip()]
    if not items or len(items) > 8 or len(paragraph.split()) > 25:
        return []
    names = [_listed_outlet(i, directory, allow_shape=prefixed) for i in items]
    domain_like = [bool(re.fullmatch(r"[\w-]+(?:\.[\w-]+)+", i)) for i in items]
    if not all(n or d for n, d in zip(names, domain_like, strict=True)) or not any(names):
        return []
    return [Citation(n or i, SOURCE_LINE, paragraph.strip()) for n, i in zip(names, items, strict=True)]


def text_citations(text: str, directory: OutletDirectory) -> list[Citation]:
    """Citations found in an article's plain text (paragraphs separated by blank lines)."""
    found: list[Citation] = []
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    for index, paragraph in enumerate(paragraphs):
        if index >= len(paragraphs) - 2:
            found += _source_line(paragraph, directory)
        match = _DATELINE.match(paragraph) if index <= 1 else None
        name = _outlet_name(match.group("name"), directory, allow_shape=False) if match else None
        if match and name:
            found.append(Citation(name, DATELINE, paragraph[: match.end()].strip()))
        for sentence in _SENTENCE.split(paragraph):
            found += _attributions(sentence, directory)
    return found


def _attributions(sentence: str, directory: OutletDirectory) -> list[Citation]:
    """Outlets a sentence attributes something to; after "a study published in" only known outlets (journals)."""
    found = []
    for pattern, allow_shape in ((_CUES_BEFORE, True), (_CUES_AFTER, True), (_CUES_TO_KNOWN, False)):
        for match in pattern.finditer(sentence):
            research = "published" in match.group(0) and _RESEARCH_BEFORE.search(sentence, 0, match.start("name"))
            shape = allow_shape and not research
            if name := _outlet_name(match.group("name"), directory, allow_shape=shape):
                found.append(Citation(name, ATTRIBUTION, sentence.strip()))
    return found


def link_citations(links: Iterable[tuple[str, str]], page_url: str, directory: OutletDirectory) -> list[Citation]:
    """Citations from (href, anchor text) links in the article body that lead to a known outlet's site."""
    own = directory.domain(page_url) or _domain_key(page_url)
    found = []
    for href, anchor in links:
        if not is_web_url(href):
            continue
        outlet = directory.domain(href)
        host = _domain_key(href)
        if outlet and outlet != own and not host.endswith(_domain_key(page_url)):
            found.append(Citation(outlet, LINK, f"{anchor.strip()} <{href}>".strip(), domain=host, url=href))
    return found


def find_citations(
    text: str,
    links: Iterable[tuple[str, str]],
    page_url: str,
    directory: OutletDirectory | None = None,
    own_names: tuple[str, ...] = (),
) -> list[Citation]:
    """Every citation of an article, one per (name, kind, evidence), in order of appearance.

    `own_names` are the citing page's site or publisher names: an article never cites its own outlet, so
    a citation of the page's outlet (by its domain or one of these names) is dropped.
    """
    directory = directory or default_directory()
    own = own_keys(page_url, own_names, directory)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for citation in text_citations(text, directory) + link_citations(links, page_url, directory):
        key = (_key(citation.name), citation.kind, citation.evidence)
        if key not in seen and not _is_own(citation, own, directory):
            seen.add(key)
            unique.append(citation)
    return unique


def own_keys(page_url: str, own_names: Iterable[str], directory: OutletDirectory) -> set[str]:
    """Compact keys of the page's own outlet: its directory outlet, its own names, and its host's labels."""
    names = [directory.domain(page_url), *own_names, *(directory.name(n) for n in own_names)]
    keys = {_compact(n) for n in names if n}
    labels = _domain_key(page_url).split(".")[:-1]  # "edition.cnn.com" → edition, cnn; "foxnews.com" → foxnews
    return (keys | {label.replace("-", "") for label in labels if len(label) > 1}) - {""}


def _is_own(citation: Citation, own: set[str], directory: OutletDirectory) -> bool:
    """Whether a citation names the page's own outlet ("told CNN" on cnn.com, "Fox News" on foxnews.com)."""
    names = (citation.name, directory.name(citation.name), directory.domain(citation.domain or ""))
    return any(_compact(n) in own or _compact(n, keep_the=True) in own for n in names if n)


def _compact(name: str, keep_the: bool = False) -> str:
    """A name without case, spaces or punctuation (and without a leading "the"): "The Lesotho Times" → lesothotimes."""
    return re.sub(r"[\W_]+", "", name.casefold() if keep_the else _key(name))


def resolve(name: str, domain: str | None, directory: OutletDirectory) -> str | None:
    """The canonical name of the outlet a citation points to, by name, alias or domain."""
    return directory.name(name) or (directory.domain(domain) if domain else None)
