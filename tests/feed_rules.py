"""The main rules of the W3C Feed Validation Service, checked on parsed RSS 2.0 and Atom 1.0 (a test helper).

We cannot reach validator.w3.org/feed from the tests, so this re-states the errors and warnings it reports
that our feeds could run into, each named after the validator's own message class:

- Well-formed XML parsed without entity resolution or DTDs; no DOCTYPE; no C1 controls or U+FFFD
  (BadCharacters); served as application/rss+xml or application/atom+xml with a charset that agrees with the
  XML declaration (UnexpectedContentType, EncodingMismatch).
- A self link: RSS channel `atom:link rel="self"` with type application/rss+xml, Atom feed `link rel="self"`
  with type application/atom+xml, absolute, and the URL the feed was fetched from (MissingSelf,
  MissingAtomSelfLink, RelativeSelf, SelfDoesntMatchLocation, SelfNotAtom).
- A language: RSS `<language>`, Atom `xml:lang` on the feed; every language value shaped like an ISO 639 code
  with subtags (MissingDCLanguage, InvalidLanguage).
- Full URIs of the validator's character set wherever a URL goes: RSS `link`, `docs`, permalink `guid`, Atom
  `id`, `link/@href`, `uri` (InvalidFullLink, InvalidUriChar, InvalidHttpGUID); Atom ids in RFC 3986 normal
  form (NonCanonicalURI).
- Unique ids: RSS guids, Atom entry ids, Atom entry `updated` values (DuplicateValue, DuplicateEntries,
  DuplicateUpdated); a numeric non-permalink guid shorter than 9 digits is not unique enough.
- Dates: RSS `pubDate`/`lastBuildDate` in RFC 822 with four-digit years and the right weekday
  (InvalidRFC2822Date, IncorrectDOW), Atom `updated`/`published` in RFC 3339 (InvalidRFC3339Date); none
  before 1990 or more than 10 minutes ahead (ImplausibleDate); no surrounding white space.
- Required elements: RSS channel title, link and description, item title or description, item guid
  (MissingGuid), description before content:encoded (NeedDescriptionBeforeContent), `<author>` only as an
  e-mail address and never beside dc:creator (DuplicateItemSemantics); Atom feed and entry id, title, updated,
  an author on the feed or on every entry, content or else a summary and an alternate link
  (MissingTextualContent, MissingContentOrAlternate), registered link relations, one alternate link per type
  and language (DuplicateAtomLink).
- Text fields (RSS titles, channel description, categories; Atom text constructs of type text) hold no HTML:
  no end tags of HTML elements, no `<tag` or `&#` in RSS, no character references (ContainsHTML,
  ContainsUndeclaredHTML, CharacterData); titles are not blank (NotBlank).
- HTML fields (RSS item description and content:encoded, Atom type="html") hold only safe HTML: known
  elements, none of script, style, iframe, object, embed, applet, frames, forms and their controls, meta,
  link, base (SecurityRisk, NotHtml); no event-handler or style attributes (SecurityRiskAttr,
  DangerousStyleAttr); links and image sources absolute http(s) URLs, never javascript: (ContainsRelRef).
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from html.entities import name2codepoint
from urllib.parse import quote, unquote_to_bytes, urlsplit

import lxml.html
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DC = "http://purl.org/dc/elements/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"a": ATOM, "content": CONTENT, "dc": DC}

FULL_URI = re.compile(r"^[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+$")
HTTP_URI = re.compile(r"^https?://[^/]")
LANGUAGE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$")
RFC822 = re.compile(
    r"^((Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d\d? (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d\d:\d\d(:\d\d)? ([+-]\d\d[03]0|UT|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|Z)$"
)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
BAD_CHARACTERS = re.compile("[\x80-\x9f\ufffd]")
ENTITY_LIKE = re.compile(r"&(#?\w+)")
LINK_RELATIONS = {
    "alternate", "current", "describedby", "edit", "edit-media", "enclosure", "first", "hub", "last", "license",
    "next", "next-archive", "payment", "prev-archive", "previous", "related", "replies", "search", "self",
    "service", "up", "via",
}  # fmt: skip
HTML_ELEMENTS = {
    "a", "abbr", "address", "area", "article", "aside", "audio", "b", "bdi", "bdo", "blockquote", "br",
    "caption", "cite", "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl", "dt",
    "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i",
    "img", "ins", "kbd", "li", "main", "map", "mark", "nav", "ol", "p", "picture", "pre", "q", "rp", "rt",
    "ruby", "s", "samp", "section", "small", "source", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "time", "tr", "track", "u", "ul", "var", "video", "wbr",
}  # fmt: skip
UNSAFE_ELEMENTS = {
    "applet", "base", "basefont", "body", "button", "embed", "fieldset", "form", "frame", "frameset", "head",
    "html", "iframe", "input", "isindex", "keygen", "label", "legend", "link", "meta", "noframes", "object",
    "optgroup", "option", "param", "plaintext", "script", "select", "slot", "style", "template", "textarea",
    "title", "xmp",
}  # fmt: skip
HTML_ATTRIBUTES = {
    "abbr", "align", "alt", "cite", "class", "colspan", "datetime", "dir", "headers", "height", "href",
    "hreflang", "id", "lang", "loading", "rel", "rowspan", "scope", "sizes", "span", "src", "srcset", "start",
    "title", "type", "width",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "cite"}
UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
HTML_TAG_NAMES = HTML_ELEMENTS | UNSAFE_ELEMENTS


def parse(data: bytes) -> etree._Element:
    """The feed document, parsed without resolving entities, loading DTDs or touching the network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(data, parser)


def rfc3986_normal(uri: str) -> str | None:
    """The RFC 3986 normal form the validator compares Atom ids against (None: not an absolute URI)."""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$", uri)
    if not match:
        return None
    scheme, authority, path, query, fragment = (match.group(i) for i in (1, 3, 4, 6, 8))
    scheme = scheme.lower()
    result = scheme + ":"
    if authority is not None:
        userinfo, _, hostport = authority.rpartition("@")
        host, port = re.match(r"^(\[[^\]]*\]|[^:]*)(?::(\d*))?$", hostport.lower()).groups("")
        if port and int(port) == {"http": 80, "https": 443}.get(scheme):
            port = ""
        result += "//" + (userinfo + "@" if userinfo else "") + host + (":" + port if port else "")
        path = _without_dot_segments(path) or "/"
    result += _normal_escapes(path, "!$&'()*+,;=:@/")
    if query is not None:
        result += "?" + _normal_escapes(query, "!$&'()*+,;=:@/?")
    if fragment is not None:
        result += "#" + _normal_escapes(fragment, "!$&'()*+,;=:@/?")
    return result


def _without_dot_segments(path: str) -> str:
    output: list[str] = []
    for index, segment in enumerate(path.split("/")):
        last = index == path.count("/")
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
        if segment in (".", "..") and last:
            output.append("")
    return "/".join(output)


def _normal_escapes(text: str, safe: str) -> str:
    out = []
    for token in re.findall(r"%[0-9A-Fa-f]{2}|.", text, re.DOTALL):
        if token.startswith("%") and len(token) == 3:
            char = unquote_to_bytes(token).decode("latin-1")
            out.append(char if char in UNRESERVED else token.upper())
        else:
            out.append(token if token in UNRESERVED or token in safe else quote(token, safe=""))
    return "".join(out)


class Checker:
    """Collects rule violations of one document as "Rule: detail" lines."""

    def __init__(self, self_url: str | None, now: datetime | None) -> None:
        self.self_url = self_url
        self.now = now or datetime.now(UTC)
        self.problems: list[str] = []

    def fail(self, rule: str, detail: str) -> None:
        self.problems.append(f"{rule}: {detail}")

    def full_uri(self, value: str | None, where: str) -> None:
        http = (value or "").split(":")[0].lower() in ("http", "https")
        if not value or not FULL_URI.match(value) or (http and not HTTP_URI.match(value)):
            self.fail("InvalidFullLink", f"{where} = {value!r}")

    def language(self, value: str | None, where: str) -> None:
        if not value:
            self.fail("MissingDCLanguage", where)
        elif not LANGUAGE.match(value):
            self.fail("InvalidLanguage", f"{where} = {value!r}")

    def plausible(self, when: datetime, value: str, where: str) -> None:
        if when.year < 1990 or when > self.now + timedelta(minutes=10):
            self.fail("ImplausibleDate", f"{where} = {value!r}")

    def rfc822(self, value: str | None, where: str) -> None:
        if value is None:
            return
        if value != value.strip() or not RFC822.match(value):
            self.fail("InvalidRFC2822Date", f"{where} = {value!r}")
            return
        when = email.utils.parsedate_to_datetime(value)
        if "," in value and when.strftime("%a") != value[:3]:
            self.fail("IncorrectDOW", f"{where} = {value!r}")
        self.plausible(when, value, where)

    def rfc3339(self, value: str | None, where: str) -> None:
        if value is None:
            return
        if not RFC3339.match(value):
            self.fail("InvalidRFC3339Date", f"{where} = {value!r}")
            return
        self.plausible(datetime.fromisoformat(value.replace("Z", "+00:00")), value, where)

    def self_link(self, link: etree._Element | None, media_type: str) -> None:
        if link is None:
            self.fail("MissingSelf", "no atom:link rel='self'")
            return
        href = link.get("href", "")
        if not urlsplit(href).netloc:
            self.fail("RelativeSelf", href)
        if (link.get("type") or "").split(";")[0] != media_type:
            self.fail("SelfNotAtom", f"self link type {link.get('type')!r}, expected {media_type}")
        if self.self_url is not None and rfc3986_normal(href) != rfc3986_normal(self.self_url):
            self.fail("SelfDoesntMatchLocation", f"{href!r} != {self.self_url!r}")

    def characters(self, root: etree._Element) -> None:
        for element in root.iter():
            texts = [element.text or "", element.tail or "", *element.attrib.values()]
            if any(BAD_CHARACTERS.search(t) for t in texts):
                self.fail("BadCharacters", f"in <{etree.QName(element).localname}>")

    def text(self, value: str | None, where: str, *, rss: bool, required: bool = False) -> None:
        value = value or ""
        if required and not value.strip():
            self.fail("NotBlank", where)
        end_tags = [t for t in re.findall(r"</(\w+)>", value) if t.lower() in HTML_TAG_NAMES]
        entities = [e for e in ENTITY_LIKE.findall(value) if e in name2codepoint or e == "apos" or not e.isalpha()]
        if end_tags or entities or (rss and re.search(r"&#[x0-9]|<[/a-zA-Z]", value)):
            self.fail("ContainsHTML", f"{where} = {value[:80]!r}")

    def html(self, value: str | None, where: str) -> None:
        if not value or not value.strip():
            return
        for element in lxml.html.fragment_fromstring(value, create_parent="div").iter():
            if not isinstance(element.tag, str):
                continue  # comments and processing instructions
            tag = element.tag.lower()
            if tag in UNSAFE_ELEMENTS:
                self.fail("SecurityRisk", f"<{tag}> in {where}")
            elif tag not in HTML_ELEMENTS and element.getparent() is not None:
                self.fail("NotHtml", f"<{tag}> in {where}")
            for name, attr in element.attrib.items():
                name = name.lower()
                harmless = name in HTML_ATTRIBUTES or name.startswith("data-")
                if name.startswith("on") or name == "style" or not harmless:  # event handlers, CSS, the unknown
                    self.fail("SecurityRiskAttr", f"{name} on <{tag}> in {where}")
                if name in URL_ATTRIBUTES and not HTTP_URI.match(attr.strip()):
                    self.fail("ContainsRelRef", f"{name}={attr!r} on <{tag}> in {where}")


def check_rss(root: etree._Element, check: Checker) -> None:
    """The RSS 2.0 rules."""
    if root.tag != "rss" or root.get("version") != "2.0":
        check.fail("InvalidRSSVersion", f"<{root.tag} version={root.get('version')!r}>")
    channel = root.find("channel")
    if channel is None:
        check.fail("MissingElement", "channel")
        return
    for name in ("title", "link", "description"):
        if channel.find(name) is None:
            check.fail("MissingElement", f"channel/{name}")
    check.text(channel.findtext("title"), "channel/title", rss=True, required=True)
    check.text(channel.findtext("description"), "channel/description", rss=True)
    check.full_uri(channel.findtext("link"), "channel/link")
    if channel.find("docs") is not None:
        check.full_uri(channel.findtext("docs"), "channel/docs")
    check.language(channel.findtext("language"), "channel/language")
    self_links = [link for link in channel.findall("a:link", NS) if link.get("rel") == "self"]
    check.self_link(self_links[0] if self_links else None, "application/rss+xml")
    for link in channel.findall("a:link", NS):
        check.full_uri(link.get("href"), "channel/atom:link/@href")
    for name in ("pubDate", "lastBuildDate"):
        check.rfc822(channel.findtext(name), f"channel/{name}")
    guids: set[str] = set()
    for index, item in enumerate(channel.findall("item")):
        check_rss_item(item, f"item[{index}]", guids, check)


def check_rss_item(item: etree._Element, where: str, guids: set[str], check: Checker) -> None:
    """The rules of one RSS item; `guids` holds the guids seen so far in the channel."""
    children = [child.tag for child in item if isinstance(child.tag, str)]
    if "title" not in children and "description" not in children:
        check.fail("ItemMustContainTitleOrDescription", where)
    if "title" in children:
        check.text(item.findtext("title"), f"{where}/title", rss=True, required=True)
    if item.find("link") is not None:
        check.full_uri(item.findtext("link"), f"{where}/link")
    guid = item.find("guid")
    if guid is None:
        check.fail("MissingGuid", where)
    else:
        value = guid.text or ""
        if guid.get("isPermaLink", "true") == "true":
            check.full_uri(value, f"{where}/guid")
            if value.lower().startswith(("tag:", "urn:uuid:")):
                check.fail("InvalidPermalink", f"{where}/guid = {value!r}")
        elif value.isdigit() and len(value) < 9:
            check.fail("NotSufficientlyUnique", f"{where}/guid = {value!r}")
        if value in guids:
            check.fail("DuplicateValue", f"{where}/guid = {value!r}")
        guids.add(value)
    encoded = f"{{{CONTENT}}}encoded"
    description_at = children.index("description") if "description" in children else len(children)
    if encoded in children and description_at > children.index(encoded):
        check.fail("NeedDescriptionBeforeContent", where)
    check.html(item.findtext("description"), f"{where}/description")
    check.html(item.findtext(encoded), f"{where}/content:encoded")
    author = item.findtext("author")
    if author is not None and not re.match(r"^\S+@\S+\.\S+", author.strip()):
        check.fail("InvalidContact", f"{where}/author = {author!r}")
    if author is not None and f"{{{DC}}}creator" in children:
        check.fail("DuplicateItemSemantics", f"{where}: author and dc:creator")
    if "pubDate" in children and f"{{{DC}}}date" in children:
        check.fail("DuplicateItemSemantics", f"{where}: pubDate and dc:date")
    check.rfc822(item.findtext("pubDate"), f"{where}/pubDate")
    for category in item.findall("category"):
        check.text(category.text, f"{where}/category", rss=True, required=True)


def check_atom_text(element: etree._Element | None, where: str, check: Checker, *, required: bool = False) -> None:
    """An Atom text construct: HTML kinds hold safe HTML, text holds none."""
    if element is None:
        return
    kind = element.get("type", "text")
    if kind == "html":
        check.html(element.text, where)
    elif kind == "text":
        check.text(element.text, where, rss=False, required=required)
    else:
        check.fail("InvalidTextType", f"{where} type={kind!r}")


def check_atom_links(parent: etree._Element, where: str, check: Checker) -> list[etree._Element]:
    """The links of a feed or entry: href full URIs, registered rels, one per (rel, type, hreflang)."""
    links = parent.findall("a:link", NS)
    seen = set()
    for link in links:
        rel = link.get("rel", "alternate")
        check.full_uri(link.get("href"), f"{where}/link[@rel={rel}]/@href")
        if rel not in LINK_RELATIONS and not FULL_URI.match(rel):
            check.fail("UnregisteredAtomLinkRel", f"{where}: {rel!r}")
        key = (rel, link.get("type"), link.get("hreflang"))
        if key in seen:
            check.fail("DuplicateAtomLink", f"{where}: {key}")
        seen.add(key)
        if link.get("hreflang"):
            check.language(link.get("hreflang"), f"{where}/link/@hreflang")
    return links


def check_id(value: str | None, where: str, check: Checker) -> None:
    """An Atom id: a full URI, without surrounding white space, in normal form."""
    if value is None:
        check.fail("MissingElement", f"{where}/id")
        return
    check.full_uri(value, f"{where}/id")
    if value != value.strip():
        check.fail("UnexpectedWhitespace", f"{where}/id = {value!r}")
    elif rfc3986_normal(value) != value:
        check.fail("NonCanonicalURI", f"{where}/id = {value!r} (normal form {rfc3986_normal(value)!r})")


def check_atom(root: etree._Element, check: Checker) -> None:
    """The Atom 1.0 rules."""
    check.language(root.get(XML_LANG), "feed/@xml:lang")
    for element in root.iter():
        if element.get(XML_LANG) is not None:
            check.language(element.get(XML_LANG), f"<{etree.QName(element).localname}>/@xml:lang")
    for name in ("id", "title", "updated"):
        if root.find(f"a:{name}", NS) is None:
            check.fail("MissingElement", f"feed/{name}")
    check_id(root.findtext("a:id", namespaces=NS), "feed", check)
    check_atom_text(root.find("a:title", NS), "feed/title", check, required=True)
    check_atom_text(root.find("a:subtitle", NS), "feed/subtitle", check)
    check.rfc3339(root.findtext("a:updated", namespaces=NS), "feed/updated")
    links = check_atom_links(root, "feed", check)
    check.self_link(next((link for link in links if link.get("rel") == "self"), None), "application/atom+xml")
    feed_author = root.find("a:author/a:name", NS) is not None
    for author in root.iter(f"{{{ATOM}}}author"):
        if not (author.findtext("a:name", namespaces=NS) or "").strip():
            check.fail("MissingElement", "author/name")
        if author.find("a:uri", NS) is not None:
            check.full_uri(author.findtext("a:uri", namespaces=NS), "author/uri")
    ids: set[str] = set()
    updates: set[str] = set()
    for index, entry in enumerate(root.findall("a:entry", NS)):
        where = f"entry[{index}]"
        for name in ("title", "updated"):
            if entry.find(f"a:{name}", NS) is None:
                check.fail("MissingElement", f"{where}/{name}")
        entry_id = entry.findtext("a:id", namespaces=NS)
        check_id(entry_id, where, check)
        if entry_id in ids:
            check.fail("DuplicateEntries", f"{where}/id = {entry_id!r}")
        ids.add(entry_id or "")
        updated = entry.findtext("a:updated", namespaces=NS)
        check.rfc3339(updated, f"{where}/updated")
        check.rfc3339(entry.findtext("a:published", namespaces=NS), f"{where}/published")
        if updated in updates:
            check.fail("DuplicateUpdated", f"{where}/updated = {updated!r}")
        updates.add(updated or "")
        if not feed_author and entry.find("a:author", NS) is None:
            check.fail("MissingElement", f"{where}/author")
        check_atom_text(entry.find("a:title", NS), f"{where}/title", check, required=True)
        check_atom_text(entry.find("a:summary", NS), f"{where}/summary", check)
        check_atom_text(entry.find("a:content", NS), f"{where}/content", check)
        entry_links = check_atom_links(entry, where, check)
        if entry.find("a:content", NS) is None:
            if entry.find("a:summary", NS) is None:
                check.fail("MissingTextualContent", where)
            if not any(link.get("rel", "alternate") == "alternate" for link in entry_links):
                check.fail("MissingContentOrAlternate", where)
        for category in entry.findall("a:category", NS):
            if not (category.get("term") or "").strip():
                check.fail("MissingAttribute", f"{where}/category/@term")


def check_content_type(content_type: str, root: etree._Element, data: bytes, check: Checker) -> None:
    """The HTTP Content-Type: the feed's own media type, and a charset that agrees with the XML declaration."""
    media_type, _, params = content_type.partition(";")
    expected = "application/atom+xml" if root.tag == f"{{{ATOM}}}feed" else "application/rss+xml"
    if media_type.strip().lower() != expected:
        check.fail("UnexpectedContentType", f"{content_type!r}, expected {expected}")
    charset = re.search(r"charset=\"?([\w.:-]+)", params, re.IGNORECASE)
    declared = re.match(rb"<\?xml[^>]*encoding=[\"']([\w.:-]+)", data)
    if charset and declared and charset.group(1).lower() != declared.group(1).decode().lower():
        check.fail("EncodingMismatch", f"HTTP {charset.group(1)} and XML {declared.group(1).decode()}")


def feed_problems(
    data: bytes, *, self_url: str | None = None, content_type: str | None = None, now: datetime | None = None
) -> list[str]:
    """Every rule the RSS 2.0 or Atom 1.0 document `data` breaks, as "Rule: detail" lines (empty: valid).

    `self_url` is where the feed was fetched from (its self link must name it), `content_type` the HTTP
    Content-Type it came with.
    """
    check = Checker(self_url, now)
    if data.lstrip()[:200].find(b"<!DOCTYPE") >= 0:
        check.fail("InvalidDoctype", "feeds carry no DOCTYPE")
    try:
        root = parse(data)
    except etree.XMLSyntaxError as exc:
        return [f"SAXError: {exc}"]
    check.characters(root)
    if content_type is not None:
        check_content_type(content_type, root, data, check)
    if root.tag == f"{{{ATOM}}}feed":
        check_atom(root, check)
    elif root.tag == "rss":
        check_rss(root, check)
    else:
        check.fail("UnknownFeedType", f"root element {root.tag!r}")
    return check.problems


def assert_valid_feed(data: bytes, *, self_url: str | None = None, content_type: str | None = None) -> None:
    """Fail with the list of broken rules unless `data` passes them all."""
    problems = feed_problems(data, self_url=self_url, content_type=content_type)
    assert not problems, "feed breaks validator rules:\n" + "\n".join(problems)
