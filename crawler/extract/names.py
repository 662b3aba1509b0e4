"""Author names as strings: bylines split into people; prefixes, roles, interface text, places, e-mail addresses
and dates stripped; handles and slugs told apart from the people they name; agencies kept as agencies.

Each mechanism can be switched off (MECHANISMS, DISABLED: bench/authors.py measures what each buys).
"""

from __future__ import annotations

import html
import re
import unicodedata

# The authors mechanisms, each of which can be switched off (bench/authors.py measures what each buys).
BYLINE_NEAR_MARKUP = "byline-near-markup"  # markup's people checked against the byline around them, not a page scan
BYLINE_BEFORE_XPATH = "byline-before-xpath"  # trafilatura's XPath guess only when the visible byline names nobody
XPATH_FALLBACK = "xpath-fallback"  # trafilatura's XPath guess, when the markup and the visible byline name nobody
OUTLET_CREDIT = "outlet-credit"  # markup crediting the outlet itself is not second-guessed by trafilatura's guess
SHOWN_MARKUP = "shown-markup"  # the markup's people the page shows win over those it does not (JSON-LD vs meta)
SAME_PERSON = "same-person"  # a handle, slug or a name with words added is the person it names, never a second one
ROLES = "roles"  # role words before or after a name ('Redakteurin', 'assistant managing editor') stripped
INTERFACE = "interface"  # interface text ('Follow', 'Mehr von') stripped from a name, never a name itself
CONJUNCTIONS = "conjunctions"  # names split on 'and' in the corpus's languages, as written (lower case)
PLACES = "places"  # a place beside names ('Jane Doe, Berlin', 'Seoul=Kim', a dateline's city) is no person
AGENCIES = "agencies"  # a news agency's credit ('dpa', 'SID Nachrichtenagentur', '© dpa-infocom') kept as the agency
MECHANISMS: tuple[str, ...] = (
    BYLINE_NEAR_MARKUP, BYLINE_BEFORE_XPATH, XPATH_FALLBACK, OUTLET_CREDIT, SHOWN_MARKUP,
    SAME_PERSON, ROLES, INTERFACE, CONJUNCTIONS, PLACES, AGENCIES,
)  # fmt: skip
DISABLED: frozenset[str] = frozenset()  # set by the bench only; extraction never changes it


def enabled(mechanism: str) -> bool:
    return mechanism not in DISABLED


_BY = r"by|von|vom|par|por|di|door|av|af|przez|من|بقلم"
_PREFIX = re.compile(
    rf"^\s*(?:(?:written\s+)?(?:{_BY})\s*[:\-]?|(quelle|source|fuente|fonte|text|texte|words)\s*:)\s+",
    re.IGNORECASE,
)
# A label naming the author ("Autorin/Autor Roman G.", "Author: Jane Doe"): a byline without a 'by'.
_LABEL_WORDS = (
    r"(?:authors?|autor(?:in|en)?(?:\s*/\s*autor(?:in)?)?|auteur(?:e|s)?|autore|autori|reporter|yazar|penulis|wartawan)"
)
AUTHOR_LABEL = re.compile(rf"^\s*{_LABEL_WORDS}\s*(?::\s*|\s+)(?=\S)", re.IGNORECASE)
LABEL_WORD_START = re.compile(rf"^\s*{_LABEL_WORDS}\b", re.IGNORECASE)
LABEL_ONLY = re.compile(rf"^\s*{_LABEL_WORDS}\s*:?\s*$", re.IGNORECASE)
# A label naming an editor: that person edited the story, so is not its author.
EDITOR_LABEL = re.compile(
    r"^\s*(?:editor|editors|edited by|redaktur|penyunting|editado por|bearbeitet von|redaktion|责编|编辑)\s*[:：]?\s*",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*(?:,|;|&|、|(?<=\w)\s*/\s*(?=\w)|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bو\b)\s*", re.IGNORECASE)
_SEGMENT = re.compile(r"\s*[·•|]\s*|\s+[–—]\s+")
# digits that are no part of a word: dates and times ('BR24 Redaktion' is a desk's name, '12.05.' a date)
_NOT_A_NAME = re.compile(r"(?<![^\W_])\d|\b(published|updated|posted|min read|minutes? ago)\b", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|januar|februar|märz|mai|juni|juli|okt|dez)[a-zé]*\.?"
# Where a byline's date or status tail begins: "Updated 3 hours ago", "on Dec. 1, 2026", "12.05.2024".
_TAIL = re.compile(
    rf"\s*(?:\b(?:updated|published|posted|last modified|aktualisiert|veröffentlicht|publié|mis à jour|publicado|"
    rf"actualizado|pubblicato|aggiornato)\b|\bon\s+(?={_MONTH}\s*\d|\d)|\b{_MONTH}\s+\d|\d{{1,4}}[./-]\d{{1,2}}|"
    r"\d{1,2}:\d{2}|\b\d+\s+(?:hours?|minutes?|mins?|days?)\s+ago\b).*$",
    re.IGNORECASE,
)
# "By TPN, in News, Business": the section or place after the name.
_PLACE_TAIL = re.compile(r",?\s+\b(?:in|im|dans|en)\s+[A-ZÀ-Ý].*$")
# "순천·광양=구현모 기자", "Seoul=Kim": the place a Korean or Japanese byline names before '=' (or '＝').
_PLACE_PREFIX = re.compile(r"^[^=＝\s]{1,20}(?:\s[^=＝\s]{1,20})?\s*[=＝]\s*(?=\S)")
# "Capital Von Jemima Kelly": a brand or section before the 'by' word; the name after must have 2+ words.
_BRAND_PREFIX = re.compile(r"^(?:\S+\s){1,2}(?:by|von|par|por|door|av)\s+(?=\S+\s+\S+)", re.IGNORECASE)
_NOT_A_PERSON = re.compile(
    r"^(?i:(twitter|facebook|instagram|linkedin|whatsapp|email|e-mail|share|follow|print|more|read|view|see|all)\b.*|"
    r"by|von|par|por|staff|admin|administrator|anonymous|reporter|editor|author|autor|autorin|autoren|authors|"
    r"redaktion|news|home|article|artikel|comments?|menu|search|nachrichtenagentur|agency)$|"
    r"^(?!dpa$|epd$|kna$|sda$)[a-zäöüß]{1,3}$"
)
MAX_NAME_WORDS = 6  # longer 'names' are affiliations or sentences
MAX_AUTHOR_CHARS = 300  # an author string longer than this is no byline (and costs the patterns below)
_MARKUP = re.compile(r"<[^<>]{0,500}>")
_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"https?://\S+")
_ROLE = re.compile(
    r"\s*(?:[,|–—-]\s*)?\b("
    r"(senior |chief |special |political |foreign |staff |news |contributing |online-?|leitender? )*"
    r"(staff (writer|reporter)|correspondent|reporter|editor|contributor|writer|columnist|journalist|"
    r"\w*redakteur(in)?|korrespondent(in)?|reporter(in)?|journalist(in)?|volontär(in)?|"
    r"corresponsal|periodista|redactora?|rédact(eur|rice)|journaliste|giornalista|inviato|correspondente|repórter)|"
    r"special to .*|for .*|für .*)\s*$",
    re.IGNORECASE,
)
_ROLE_SUFFIX = re.compile(r"\s*(기자|특파원|記者|特派員|编辑|記者)\s*$")
_PARENTHESES = re.compile(r"\s*[(\[][^)\]]*[)\]]")
_LAST_FIRST = re.compile(r"^\s*([^\s,]+(?:\s[^\s,]+)?),\s*([^\s,]+)\s*$")
_ORGANISATION = re.compile(r"\.(com|org|net|de|fr|uk|it|es|ch|at|nl|no|se|jp|kr|vn|in|info)\b|www\.", re.IGNORECASE)
# Lower-case words that may sit inside a person's name.
_PARTICLES = frozenset(
    re.findall(r"\w+", "van von der den de da del della di du dos das le la al el bin ibn ter ten zu af y e")
)
_NOT_NAME_WORDS = frozenset(
    [
        *re.findall(r"\w+", "monday tuesday wednesday thursday friday saturday sunday today yesterday the this that"),
        *["share", "news", "home"],
    ]
)


def written_byline(line: str) -> list[str]:
    """Names from a visible, unmarked line: 'By A and B · date', 'Author: A', or 'First Last | date'."""
    if len(line) > 160:
        return []
    if _PREFIX.match(line) or AUTHOR_LABEL.match(line):
        return names_only(AUTHOR_LABEL.sub("", line), min_words=1)
    head, *rest = _SEGMENT.split(line, maxsplit=1)
    if rest and _TAIL.match(rest[0]):  # "Sehernur Karsu | 05.04.2025"
        return names_only(head, min_words=2)
    return []


def names_only(text: str, *, min_words: int = 2, caseless: bool = True) -> list[str]:
    """The names of a text that is nothing but a byline (prefix, names, role, date tail), else []."""
    text = _SEGMENT.split(_TAIL.sub("", _PREFIX.sub("", text.strip())), maxsplit=1)[0]
    text = _ROLE.sub("", _PLACE_TAIL.sub("", text))
    parts = [p.strip(" .,:;-") for p in split_names(text)]
    parts = [_ROLE.sub("", p).strip(" .,:;-") for p in parts if p.strip(" .,:;-")]
    if len(parts) > 1:  # "Von Anna Sleegers, Frankfurt": one word beside full names is a place or desk
        parts = [p for p in parts if len(p.split()) > 1] or parts
    if not parts or not all(looks_like_name(p, min_words=min_words, caseless=caseless) for p in parts):
        return []
    return clean_authors(parts)


def looks_like_name(text: str, *, min_words: int = 2, caseless: bool = True) -> bool:
    """A capitalised run of 1-5 words ('Jane van Doe', 'TPN'), or (`caseless`) a short name in a script
    without case, where capitals cannot tell a name from a phrase."""
    words = text.split()
    if not min_words <= len(words) <= 5 or any(w.casefold() in _NOT_NAME_WORDS for w in words):
        return False
    letters = [c for c in text if c.isalpha()]
    if letters and not any(c.isupper() or c.islower() for c in letters):
        return caseless and len(text) <= 40  # Arabic, CJK: no capitals to check
    first = words[0][:1]
    return first.isupper() and all(w[:1].isupper() or w in _PARTICLES for w in words) and not _NOT_A_NAME.search(text)


def name_key(name: str) -> str:
    """A name as compared: case-folded, accents and dots dropped."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace(".", " ").split())


def is_organisation(name: str, site_names: tuple[str, ...] = ()) -> bool:
    """True for the outlet's own name (or a domain-like name, or a desk named after it) posing as an author."""
    folded = name.casefold().strip()
    words = re.findall(r"\w+", folded)
    for site in (s.casefold().strip() for s in site_names if s):
        if folded == site or folded.replace(" ", "") == site.replace(" ", ""):
            return True
        if len(site) >= 3 and " " not in site and site in words:  # "MDR THÜRINGEN" at mdr.de
            return True
        if len(words) >= 2 and "".join(w[0] for w in words) == site.split(".")[0]:  # "Deutsche Welle" at DW.COM
            return True
        site_words = set(re.findall(r"\w+", site))
        # "Ilanga D" at Ilanga News: the outlet's own words plus initials, a house account
        if any(w in site_words and len(w) >= 3 for w in words) and all(w in site_words or len(w) == 1 for w in words):
            return True
    return bool(_ORGANISATION.search(name))


def _segment(value: str) -> str:
    """The first '|'/'·'-separated segment of a byline that is a name, date and status tails cut off."""
    for segment in _SEGMENT.split(value):
        segment = _TAIL.sub("", segment) if not _TAIL.match(segment) else ""
        if segment.strip() and not _NOT_A_NAME.search(segment):
            return _PLACE_TAIL.sub("", segment)
    return ""


def clean_authors(raw: list[str], *, site_name: str | None = None) -> list[str]:
    """Distinct person names from raw author strings; the outlet's own name only if nothing else.

    Strips 'By'-style prefixes, roles, interface text, e-mail addresses, URLs, dates and bracketed initials;
    splits on 'and' (in the corpus's languages), '&', commas, slashes; turns one 'Last, First' entry into
    'First Last'; keeps a news agency's credit as the agency; drops a place beside names and a handle beside
    the name it stands for.
    """
    names: list[str] = []
    for value in raw:
        # one line, no markup, bounded: hostile author strings must not reach the patterns below whole
        value = " ".join(_MARKUP.sub(" ", html.unescape(value or "")).split())[:MAX_AUTHOR_CHARS]
        value = _PARENTHESES.sub("", _URL.sub("", _EMAIL.sub("", _PREFIX.sub("", value))))
        value = _ROLE_SUFFIX.sub("", value)
        if enabled(PLACES):
            value = _PLACE_PREFIX.sub("", value)
        last_first = _LAST_FIRST.match(value)
        if (last_first and len(raw) > 1) or (last_first and " " not in last_first.group(1)):
            value = f"{last_first.group(2)} {last_first.group(1)}"
        parts = [_person(part) for part in split_names(_BRAND_PREFIX.sub("", _segment(value)))]
        parts = [part for part in parts if part and len(part) <= 80 and len(part.split()) <= MAX_NAME_WORDS]
        if enabled(PLACES) and any(len(p.split()) > 1 for p in parts):  # 'Jane Doe, Berlin': a place or desk
            parts = [p for p in parts if len(p.split()) > 1 or agency(p) or is_handle(p)]
        names += [part for part in parts if part not in names]
    if site_name and len(names) > 1:
        names = [n for n in names if n.casefold() != site_name.casefold()] or names
    return distinct_people(names)


def _person(part: str) -> str:
    """One name from one part of a byline: an agency's credit as the agency, else roles and interface text
    stripped; '' when nothing is left that could name a person."""
    part = _PREFIX.sub("", part).strip(" .,:;-|")
    credited = agency(part) if enabled(AGENCIES) else None
    if credited:
        return credited
    part = _ROLE.sub("", part).strip(" .,:;-|") if not enabled(ROLES) else part
    if enabled(SAME_PERSON) and " " in part:  # 'Williams Perdomo @wperdomod': the account beside the name
        part = _AT_HANDLE.sub("", part).strip() or part
    for _ in range(3):  # 'Johannes Ritter Korrespondent für Politik Follow': a role, then another, then a button
        stripped = _strip_role(part) if enabled(ROLES) else part
        stripped = _strip_interface(stripped) if enabled(INTERFACE) else stripped
        if stripped == part:
            break
        part = stripped
    part = _trim_lowercase_tail(re.sub(r"\s+", " ", part))
    if not part or not any(c.isalpha() for c in part) or _NOT_A_PERSON.match(part):
        return ""
    return part


def _trim_lowercase_tail(name: str) -> str:
    """'Kai Larsen kai larsen test' (an e-mail address flattened into words) → 'Kai Larsen'."""
    words = name.split()
    cut = next((i for i, w in enumerate(words) if i and w[:1].islower() and w not in _PARTICLES), len(words))
    head, tail = words[:cut], words[cut:]
    # only when the tail spells the name again: a sentence's lower-case words are no address
    if head and head[0][:1].isupper() and {w.casefold() for w in head} & set(tail):
        return " ".join(head)
    return name


# --- names as written: conjunctions, roles, interface text, agencies, handles ---------------------------

_PUNCTUATION_SPLIT = re.compile(r"\s*(?:,|;|&|\+|、|(?<=\w)\s*/\s*(?=\w)|\bو\b)\s*")
# 'and' in the corpus's languages between names: the one-letter ones in lower case only (an initial 'E.' or
# 'I' is no 'and'), the longer in any case ('Glen Owen And Brendan Carlin')
_CONJUNCTION = re.compile(r"\s+(?:(?i:and|und|et|og|och|en|ve|và|та)|y|e|i|и|і)\s+")
_CONJUNCTION_CAPITALS = re.compile(r"\s+(?:AND|UND|ET|OG|OCH|EN|VE)\s+")


def split_names(value: str) -> list[str]:
    """The parts of a byline that may each be a name: split on punctuation and on 'and' in any of the corpus's
    languages ('Jane Doe und John Roe', 'Kari Nordmann og Ola Nordmann')."""
    if not enabled(CONJUNCTIONS):
        return _SPLIT.split(value)
    parts = []
    for part in _PUNCTUATION_SPLIT.split(value):
        parts += (_CONJUNCTION_CAPITALS if part.isupper() else _CONJUNCTION).split(part)
    return parts


# The role a byline gives beside a name, in the corpus's languages: a noun, led by up to three modifiers.
_ROLE_NOUN = re.compile(
    r"(?i:\w*redakt(?:eur|eurin|ør|ör|or|orin)|redacteur|rédact(?:eur|rice)|redactora?|redatt(?:ore|rice)|editor|"
    r"editora|éditeur|\w*korrespondent(?:in)?|correspondent|corresponsal|correspondant(?:e)?|corrispondente|"
    r"correspondente|\w*reporter(?:in)?|repórter|reportera?|journalist(?:in)?|journaliste|giornalista|"
    r"periodista|jornalista|dziennikar(?:z|ka)|журналист(?:ка)?|корреспондент|редактор|columnist|kolumnist(?:in)?|"
    r"chroniqueu(?:r|se)|writer|contributor|mitarbeiter(?:in)?|volontär(?:in)?|praktikant(?:in)?|stagiaire|"
    r"photographer|fotograf(?:in)?|producer|analyst|moderator(?:in)?|inviat[oa]|envoyée?|intern|author|"
    r"autor(?:in)?|auteur(?:e)?|autore|yazar|penulis|wartawan)"
)
_ROLE_MODIFIER = re.compile(
    r"(?i:senior|chief|assistant|associate|deputy|managing|executive|political|foreign|staff|news|contributing|"
    r"special|national|international|business|sports?|science|health|tech|technology|economics|investigative|"
    r"digital|online|features|freelance|freie[rn]?|leitende[rn]?|stellvertretende[rn]?|chef|spécial|spéciale|"
    r"\w+(?:isch|lich|ig)e[rn]?)"
)
_ROLE_TAIL = re.compile(r"\s+(?:(?:for|für|pour|para|per|special to)\s+.*|en chef|at large)$", re.IGNORECASE)


def _strip_role(name: str) -> str:
    """'Jane Doe, assistant managing editor' → 'Jane Doe'; 'Redakteurin Lena Fischer' → 'Lena Fischer'. A role
    word is taken off only where two words of the name stay."""
    name = name.strip(" .,:;-|")
    words = name.split()
    if words and _ROLE_NOUN.fullmatch(words[-1]) and all(_modifier(w) for w in words[:-1]) and len(words) <= 4:
        return ""  # 'Corresponsal', 'Staff Writer': a role alone
    if len(words) > 2 and _ROLE_TAIL.search(name) and _ROLE_NOUN.fullmatch(words[-1]) is None:
        tail_free = _ROLE_TAIL.sub("", name)
        words = tail_free.split() if len(tail_free.split()) >= 2 else words
    end = len(words)
    if end > 2 and _ROLE_NOUN.fullmatch(words[-1].strip(",")):
        end -= 1
        while end > 2 and end > len(words) - 4 and _modifier(words[end - 1]):
            end -= 1
    start = 0
    if end - start > 2 and _ROLE_NOUN.fullmatch(words[0].strip(",:")):
        start = 1
    elif end > 3 and _modifier(words[0]) and _ROLE_NOUN.fullmatch(words[1].strip(",:")):
        start = 2
    return " ".join(words[start:end]).strip(" .,:;-|")


def _modifier(word: str) -> bool:
    word = word.strip(",")
    return (word[:1].islower() and word not in _PARTICLES) or bool(_ROLE_MODIFIER.fullmatch(word))


# Interface text set beside a name: buttons and links in the corpus's languages.
_INTERFACE = (
    r"follow|folgen|suivre|seguir|segui|seguire|volg|volgen|følg|följ|obserwuj|подписаться|abonnieren|subscribe|"
    r"more from|more by|mehr von|mehr vom autor|mehr zum autor|plus de|más de|altro di|meer van|mer fra|mer från|"
    r"alle artikel von|alle artikel|all articles by|all stories by|tous les articles de|view profile|view all|"
    r"see all|show authors|show more|show all|zum profil|profil|profile|ver biografía|ver perfil|biografie|"
    r"biografía|biography|bio|contact|kontakt|e-?mail|twitter|facebook|instagram|linkedin|mehr|more|plus|más|meer|"
    r"(?:name|nom|nombre|nome|naam|navn|namn|imię|имя|isim)\s*\*?|\S+\s*\*"
)
_INTERFACE_EDGE = re.compile(rf"^(?i:{_INTERFACE})(?:\s+|$)|(?:^|\s+)(?i:{_INTERFACE})$|\s*…\s*")


def _strip_interface(name: str) -> str:
    """'Victoria O’Regan Follow' → 'Victoria O’Regan'; 'Folgen', 'Name *' → ''. A name of two words is kept
    whole when taking a word off would leave one ('Daily Mail' is no 'Daily')."""
    stripped = _INTERFACE_EDGE.sub(" ", name).strip(" .,:;-|")
    words = stripped.split()  # 'Jörn Mecher am' (before a date cut off): one lower-case word after a name
    if (
        len(words) > 2
        and words[-1][:1].islower()
        and words[-2][:1].isupper()
        and all(w[:1].isupper() for w in words[:-1])
    ):
        stripped = " ".join(words[:-1])
    if not stripped or len(stripped.split()) >= 2 or len(name.split()) == 1 or _INTERFACE_EDGE.fullmatch(name):
        return stripped
    return name


# News agencies as bylines credit them (aliases folded): the wire services of citations.py and national ones.
_AGENCIES = frozenset(
    re.findall(
        r"[^|]+",
        "ap|associated press|the associated press|reuters|thomson reuters|afp|agence france-presse|"
        "agence france presse|dpa|deutsche presse-agentur|dpa-afx|apa|austria presse agentur|sda|keystone-sda|"
        "kna|epd|sid|ddp|dts|efe|agencia efe|europa press|ansa|adnkronos|agi|lusa|anp|belga|ntb|tt|ritzau|stt|"
        "pap|ctk|čtk|mti|bta|hina|tanjug|ukrinform|unian|interfax|tass|ria novosti|xinhua|kyodo|kyodo news|jiji|"
        "yonhap|pti|ians|ani|aap|canadian press|the canadian press|antara|bernama|anadolu|anadolu agency|aa|upi|"
        "kathpress|idea|kap|sputnik",
    )
)
_AGENCY_WORDS = re.compile(
    r"^(?:©|\(c\)|quelle|source|fuente|fonte|nachrichtenagentur|agentur|news agency|agency|agencia|agence|agenzia)"
    r"\s*:?\s*|\s*(?:nachrichtenagentur|news agency|agency|agentur|agencia)$|-infocom$",
    re.IGNORECASE,
)


def agency(name: str) -> str | None:
    """The agency a credit names, as written ('SID Nachrichtenagentur' → 'SID', '© dpa-infocom' → 'dpa'), or None."""
    credit = name.strip(" .,:;-|()")
    for _ in range(2):
        credit = _AGENCY_WORDS.sub("", credit).strip(" .,:;-|()")
    return credit if credit.casefold() in _AGENCIES else None


_HANDLE = re.compile(r"@?[A-Za-z0-9._-]+")
_AT_HANDLE = re.compile(r"(?:^|\s+)@[\w.]+")
_DOMAIN = re.compile(r"\.(?:[a-z]{2}|com|org|net|info|news|online|media)$", re.IGNORECASE)  # 'nieuwsblad.be'


def is_handle(name: str) -> bool:
    """'@janedoe', 'jane-doe', 'jane_doe', 'jdoe42', 'janedoe': an account's name, not a person's as written."""
    name = name.strip()
    if not _HANDLE.fullmatch(name) or agency(name) or _DOMAIN.search(name):
        return False
    if name.startswith("@") or "_" in name or re.search(r"\d|\w\.\w", name):
        return True
    return name == name.lower() and ("-" in name or len(name) >= 4)


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain)


def same_person(a: str, b: str) -> bool:
    """Whether two written names are one person: the same key, a handle or URL slug of the name ('jane-doe',
    'jdoe' for 'Jane Doe'), or one name's words inside the other's ('Jane Doe Follow', 'Jane Mary Doe')."""
    if name_key(a) == name_key(b):
        return True
    if not enabled(SAME_PERSON):
        return False
    for handle, name in ((a, b), (b, a)):
        if is_handle(handle) and not is_handle(name) and len(words := name.split()) >= 2:
            first, last, slug = _slug(words[0]), _slug(words[-1]), _slug(handle).rstrip("0123456789")
            if slug and slug in {_slug(name), first[:1] + last, first + last[:1], last + first[:1], last + first}:
                return True
    shorter, longer = sorted((set(name_key(a).split()), set(name_key(b).split())), key=len)
    return len(shorter) >= 2 and shorter <= longer


def distinct_people(names: list[str]) -> list[str]:
    """Each person once, in the first form written ('Jane Doe' over its handle 'jane-doe'); handles beside
    people's names dropped ('aligharib' beside 'Nikita Mazurov': an account, never a second author)."""
    if not enabled(SAME_PERSON):
        return names
    names = [_undoubled(n) for n in names]
    out: list[str] = []
    for name in names:
        match = next((i for i, known in enumerate(out) if same_person(name, known)), None)
        if match is None:
            out.append(name)
        elif is_handle(out[match]) and not is_handle(name):
            out[match] = name
    if any(not is_handle(n) for n in out):
        out = [n for n in out if not is_handle(n)]
    return out


def _undoubled(name: str) -> str:
    """'Martin Gramnæs Martin Gramnæs' (a name and its link's text, run together) → 'Martin Gramnæs'."""
    words = name.split()
    half = len(words) // 2
    return " ".join(words[:half]) if half >= 1 and len(words) % 2 == 0 and words[:half] == words[half:] else name


def deslugged(name: str) -> str:
    """A handle written as a URL slug, as a name: 'jane-doe', 'Herr_Rein' → 'Jane Doe', 'Herr Rein'."""
    pieces = re.split(r"[-_.]", name.lstrip("@"))
    if (
        enabled(SAME_PERSON)
        and is_handle(name)
        and len(pieces) >= 2
        and all(len(p) >= 2 and p.isalpha() for p in pieces)
    ):
        return " ".join(p[:1].upper() + p[1:] for p in pieces)
    return name


def split_authors(value: str | None) -> list[str]:
    """trafilatura's '; '-joined author string as a list."""
    return [part.strip() for part in (value or "").split(";") if part.strip()]
