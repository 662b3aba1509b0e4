"""Publication dates: parse every candidate to aware UTC, keep its source, choose the most reliable."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import dateparser
from dateutil import parser as dateutil_parser
from lxml import etree
from lxml.html import HtmlElement

# Most reliable first. A source missing the time of day can borrow it from a later one (same day).
SOURCE_RANK = ("json-ld", "meta", "itemprop", "time-element", "feed", "sitemap", "byline", "htmldate", "url")
FUTURE_TOLERANCE = timedelta(hours=26)
EARLIEST = datetime(1991, 8, 6, tzinfo=UTC)  # the first web page: no page was published before it
URL_DATE_TOLERANCE = timedelta(
    days=3
)  # a date further from the day in the URL is another date (an update, a related story)
# Languages tried on a page that declares none: the news languages we meet most.
COMMON_LANGUAGES = ("en", "fr", "de", "es", "pt", "it", "ru", "tr", "ar", "nl", "pl", "id", "sv", "uk")
_HAS_TIME = re.compile(r"\d{1,2}\s*[:h.]\s*\d{2}(?!\d)|\d\s*[ap]\.?m\b|T\d{2}", re.IGNORECASE)
_HAS_YEAR = re.compile(r"(?<!\d)(1[89]\d{2}|2[01]\d{2})(?!\d)")
_URL_DATE = re.compile(r"/(20\d{2}|19\d{2})[/-](0?[1-9]|1[0-2])(?:[/-](0?[1-9]|[12]\d|3[01]))?(?:[/-]|$)")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", re.IGNORECASE)
# Where a byline's date stands: <time>, and elements whose class or id names a date or byline. The values of
# class and id are tested in Python, each once: EXSLT's re:test in the XPath called Python for every element
# anyway, at twice the cost.
_TIMES_AND_NAMES = etree.XPath("//time | //*/@class | //*/@id")
_DATE_CLASS = re.compile("date|time|byline|posted|publish|meta|dateline", re.IGNORECASE)
_DATE_ID = re.compile("date|time|byline|posted|publish", re.IGNORECASE)


@dataclass(frozen=True)
class DateCandidate:
    """A parsed date with where it came from and whether the source gave a time of day."""

    value: datetime
    raw: str
    source: str
    has_time: bool
    offset: int | None = None  # minutes east of UTC the date was written in (None: a day, or not known)


def _iso(raw: str, zone: tzinfo = UTC) -> datetime | None:
    text = raw.strip()
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def page_zone(raw_candidates: list[tuple[str, str]]) -> tzinfo | None:
    """The UTC offset the page writes its machine-readable dates in, if any has one."""
    for _source, raw in raw_candidates:
        value = _iso(raw)
        if value is not None and re.search(r"[+-]\d{2}:?\d{2}$", raw.strip()):
            return value.tzinfo
    return None


def _dateparser_zone(zone: tzinfo) -> str:
    """A zone name dateparser understands for `zone` (IANA names as they are; whole-hour offsets as Etc/GMT)."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None) or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    return "UTC" if rest or not hours else f"Etc/GMT{-hours:+d}"


def _rfc822(text: str, zone: tzinfo = UTC) -> datetime | None:
    if not re.match(r"(\w{3},\s*)?\d{1,2}\s+\w{3}\s+\d{4}\s+\d", text):
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


_EN_MONTH = re.compile(
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sept?(ember)?|oct(ober)?|nov(ember)?|"
    r"dec(ember)?)\b\.?",
    re.IGNORECASE,
)
# Unambiguous time-zone abbreviations seen in English bylines, as UTC offsets in seconds.
TZ_ABBREVIATIONS = {
    "GMT": 0, "UTC": 0, "Z": 0, "BST": 3600, "CET": 3600, "CEST": 7200, "EET": 7200, "EEST": 10800,
    "EST": -18000, "EDT": -14400, "CST": -21600, "CDT": -18000, "MST": -25200, "MDT": -21600,
    "PST": -28800, "PDT": -25200, "JST": 32400, "KST": 32400, "AEST": 36000, "AEDT": 39600,
}  # fmt: skip
_DATEUTIL_SAFE = re.compile(r"^[\w\s,.:/+-]+$")
_DAY_NUMBER = re.compile(r"(?<![\d:])\d{1,2}(?![\d:])")


def _english_with_year(text: str, languages: list[str] | None, zone: tzinfo = UTC) -> datetime | None:
    """Fast path for English dates with a year ('November 19, 2019 5:30 PM'): dateutil, not dateparser."""
    if (languages and "en" not in languages[:1]) or not _HAS_YEAR.search(text) or not _EN_MONTH.search(text):
        return None
    if not _DATEUTIL_SAFE.match(text) or len(text) > 60 or not _DAY_NUMBER.search(text):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)  # unknown zone: read as UTC
            value = dateutil_parser.parse(text, default=datetime(2000, 1, 1), tzinfos=TZ_ABBREVIATIONS)
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_date(raw: str, source: str, **kwargs) -> DateCandidate | None:
    """Parse one date string to a candidate in UTC, or None (see _parse_date); never raises."""
    try:
        return _parse_date(raw, source, **kwargs)
    except (ValueError, OverflowError):  # year 0001 with an offset, 29 February of a common year, …
        return None


def _parse_date(
    raw: str,
    source: str,
    *,
    languages: list[str] | None = None,
    now: datetime | None = None,
    year_hint: int | None = None,
    zone: tzinfo = UTC,
) -> DateCandidate | None:
    """Parse one date string to a candidate in UTC, or None.

    ISO 8601 is read directly; anything else goes to dateparser (in `languages` when given), with
    relative dates counted from `now`. A date written without a year takes `year_hint`, else the
    year of `now`, moved a year back if that would put it after `now`; a date with no day is refused.
    A date written without a zone is read in `zone` (the outlet's or the page's; default UTC).
    """
    now = now or datetime.now(UTC)
    text = _ORDINAL.sub(r"\1", raw.translate(_EASTERN_DIGITS)).strip()
    if not text or len(text) > 200:
        return None
    if not _HAS_TIME.search(text):
        zone = UTC  # a day without a time names a calendar day: keep it, don't shift it across midnight
    value = _iso(text, zone) or _rfc822(text, zone) or _english_with_year(text, languages, zone)
    offset = _written_offset(value, text, zone) if value is not None and _HAS_TIME.search(text) else None
    if value is None:
        settings = {
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": _dateparser_zone(zone),
            "TO_TIMEZONE": "UTC",
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": now.astimezone(UTC).replace(tzinfo=None),
            "REQUIRE_PARTS": ["day", "month"],
        }
        try:
            value = dateparser.parse(text, languages=languages or None, settings=settings)
        except (ValueError, OverflowError, TypeError):
            value = None
        if value is None:
            return None
        if not _HAS_YEAR.search(text) and not re.search(r"\d+\s*\w+\s+ago|ago\s|منذ|il y a|vor\s", text, re.I):
            value = value.replace(year=year_hint or now.year)
            if value > now + FUTURE_TOLERANCE:
                value = value.replace(year=value.year - 1)
    return DateCandidate(value.astimezone(UTC), raw.strip(), source, bool(_HAS_TIME.search(text)), offset)


_SAYS_UTC = re.compile(r"(?:[zZ]|[+-]00:?00|\b(?:UTC|GMT)\b)\s*$")


def _written_offset(value: datetime, text: str, zone: tzinfo) -> int | None:
    """The offset `text` was written in: its own, else the zone it was read in — unless that zone is only
    the UTC default (a date with no zone of its own, from an outlet that names none: not known)."""
    if value.tzinfo is zone and zone is UTC and not _SAYS_UTC.search(text):
        return None
    return _minutes_east(value)


def _minutes_east(value: datetime) -> int | None:
    """The UTC offset of an aware datetime in whole minutes (None beyond ±18 h: not a real zone)."""
    delta = value.utcoffset()
    minutes = None if delta is None else int(delta.total_seconds() // 60)
    return minutes if minutes is not None and abs(minutes) <= 18 * 60 else None


def url_date(url: str) -> DateCandidate | None:
    """The day a URL's path names (/2025/07/23/…), if any; the month alone is not enough."""
    match = _URL_DATE.search(url)
    if not match or not match.group(3):
        return None
    try:
        value = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), tzinfo=UTC)
    except ValueError:
        return None
    return DateCandidate(value, match.group(0), "url", False)


def warm_date_parsers() -> None:
    """Load what dateparser loads lazily, once per process, for the languages this module asks it for and for
    htmldate's search (every locale): ~3.5 s of CPU that the first page needing them would pay otherwise
    (in each extraction worker, unshared). Called by the workers' fork server (crawler/processing/warm.py) and the
    benchmarks."""
    from htmldate.extractors import get_external_parser

    unparsable = "qq 13 zz 2020 xx"  # no locale reads it: every one is loaded trying
    dateparser.parse(unparsable, languages=list(COMMON_LANGUAGES))
    get_external_parser().get_date_data(unparsable)


def byline_dates(tree: HtmlElement, limit: int = 5) -> list[tuple[str, str]]:
    """Date-looking texts from <time> elements and date/byline blocks, as (source, raw) pairs."""
    found: list[tuple[str, str]] = []
    for node in _date_nodes(tree):
        if node.tag == "time" and node.get("datetime"):
            found.append(("time-element", node.get("datetime")))
        else:
            text = re.sub(r"\s+", " ", node.text_content()).strip()
            if 4 <= len(text) <= 120 and re.search(r"\d", text.translate(_EASTERN_DIGITS)):
                found.append(("byline", text))
        if len(found) >= limit:
            break
    return found


def _date_nodes(tree: HtmlElement) -> list[HtmlElement]:
    """<time> elements and elements whose class or id names a date or byline, in document order."""
    nodes: dict[HtmlElement, None] = {}
    for item in _TIMES_AND_NAMES(tree):
        if isinstance(item, str):  # an attribute's value, which knows its attribute and element
            if (_DATE_CLASS if item.attrname == "class" else _DATE_ID).search(item):  # type: ignore[attr-defined]
                nodes.setdefault(item.getparent(), None)  # type: ignore[attr-defined]
        else:
            nodes.setdefault(item, None)
    return list(nodes)


def _strip_byline_words(text: str) -> list[str]:
    """Variants of a byline text to try, in any language: each segment between separators such as
    '·' or '|', cut to start at the word before its first digit ('July 23rd') and at the digit itself
    ('21 août 2023' out of 'Publié le 21 août 2023'), then whole."""
    variants: list[str] = []
    for segment in re.split(r"\s*[|•·—]\s*", text):
        segment = segment.strip(" :,-")
        digit = re.search(r"\d", segment.translate(_EASTERN_DIGITS))
        if not digit:
            continue
        word_start = segment.rfind(" ", 0, max(0, digit.start() - 1)) + 1
        for variant in (segment[word_start:], segment[digit.start() :], segment):
            if variant and variant not in variants:
                variants.append(variant)
    return variants or [text]


def choose_date(
    raw_candidates: list[tuple[str, str]],
    *,
    url: str,
    languages: list[str] | None,
    now: datetime | None = None,
    more: Callable[[], Iterable[tuple[str, str]]] | None = None,
    zone: tzinfo | None = None,
) -> DateCandidate | None:
    """Parse every (source, raw) candidate and pick the most reliable plausible one.

    Dates after `now` (plus a day of clock skew) are rejected. If the chosen date has no time of
    day, the time is taken from another candidate on the same day that has one. Dates more than three
    days from the day the URL names are rejected too. `more` supplies costlier candidates (byline
    texts, then htmldate's search), asked for only when no candidate so far has a time of day, and read
    only until one has. Times written without a zone
    are read in `zone` (the outlet's), else in the offset of the page's own machine-readable dates,
    else UTC.
    """
    now = now or datetime.now(UTC)
    zone = zone or page_zone(raw_candidates) or UTC
    from_url = url_date(url)
    year_hint = from_url.value.year if from_url else None
    if not languages:
        languages = list(COMMON_LANGUAGES)  # dateparser would otherwise try ~200 locales (slow)
    elif "en" not in languages:
        languages = [*languages, "en"]

    def first_plausible(source: str, raw: str) -> DateCandidate | None:
        for variant in _strip_byline_words(raw) if source == "byline" else [raw]:
            candidate = parse_date(variant, source, languages=languages, now=now, year_hint=year_hint, zone=zone)
            if candidate and _plausible(candidate.value, now, from_url):
                return DateCandidate(candidate.value, raw.strip(), source, candidate.has_time, candidate.offset)
        return None

    parsed: list[DateCandidate] = []
    for source, raw in sorted(raw_candidates, key=lambda c: _rank(c[0])):
        if parsed and (parsed[0].has_time or (_rank(source) >= _rank("byline") and any(c.has_time for c in parsed))):
            break  # a reliable complete date is found: parse nothing further
        if candidate := first_plausible(source, raw):
            parsed.append(candidate)
    if more is not None and not any(c.has_time for c in parsed):
        for source, raw in more():
            if candidate := first_plausible(source, raw):
                parsed.append(candidate)
                if candidate.has_time:
                    break
    if from_url:
        parsed.append(from_url)
    if not parsed:
        return None
    parsed.sort(key=lambda c: _rank(c.source))
    best = parsed[0]
    if not best.has_time:
        for other in parsed[1:]:
            if other.has_time and other.value.date() == best.value.date():
                return other
    return best


def _plausible(value: datetime, now: datetime, from_url: DateCandidate | None) -> bool:
    """Not before the web (a CMS's empty date: 0001-01-01, 1970-01-01), not after the fetch (give or take
    clock skew), and near the day the URL names, if it names one."""
    if value < EARLIEST or value > now + FUTURE_TOLERANCE:
        return False
    return from_url is None or abs(value - from_url.value) <= URL_DATE_TOLERANCE


def _rank(source: str) -> int:
    return SOURCE_RANK.index(source) if source in SOURCE_RANK else len(SOURCE_RANK)
