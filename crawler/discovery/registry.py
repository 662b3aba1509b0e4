"""The outlet registry: `sources.toml`, an array of `[[outlet]]` tables, loaded and validated."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.durations import parse_duration

DEFAULT_SOURCES = "sources.toml"
REQUIRED = ("name", "homepage")
LIST_FIELDS = ("aliases", "feeds", "sitemaps")
KNOWN = {"name", "homepage", "language", "timezone", "every", "sitemap_window", *LIST_FIELDS}
TOP_LEVEL_OPTIONS = ("follow_citations",)  # citation hops `newswire crawl` follows by default (0 = off)


class RegistryError(ValueError):
    """A registry file that cannot be used; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Outlet:
    """One news outlet as the registry describes it."""

    name: str
    homepage: str
    aliases: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    language: str | None = None
    timezone: str | None = None  # IANA name; how the outlet's pages write times without a zone
    every: timedelta | None = None  # how often scheduled crawls visit it (`every = "15m"`); None: the default
    sitemap_window: timedelta | None = None  # sitemap entries older than this are skipped; None: 7 days
    slug: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slug", slugify(self.name))

    @property
    def hosts(self) -> set[str]:
        """Host names of the outlet's own addresses (homepage, feeds, sitemaps)."""
        return {urlsplit(u).hostname or "" for u in (self.homepage, *self.feeds, *self.sitemaps)} - {""}

    @property
    def origins(self) -> set[tuple[str, str, int]]:
        """(scheme, host, port) of the outlet's own well-formed addresses: what the registry vouches for."""
        origins = set()
        for url in (self.homepage, *self.feeds, *self.sitemaps):
            try:
                origins.add(origin_of(url))
            except ValueError:
                continue  # load_registry() refuses such a URL; an Outlet built in code may still hold one
        return origins


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, lower-case host, port with the scheme's default) of a URL; ValueError on a malformed one."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def slugify(name: str) -> str:
    """A lower-case, dash-separated identifier for file names and URLs."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "outlet"


_HOST = re.compile(r"(?=.{1,253}$)(?!-)[\w-]{1,63}(?<!-)(\.(?!-)[\w-]{1,63}(?<!-))*\.?", re.IGNORECASE)


def url_problem(value: object) -> str | None:
    """Why `value` is not a usable http(s) URL (scheme, host, port), or None when it is."""
    if not isinstance(value, str):
        return "not text"
    if any(c.isspace() or ord(c) < 32 for c in value.strip()):
        return "contains spaces or control characters"
    try:
        parts = urlsplit(value.strip())
        port = parts.port  # ValueError when out of range or not a number
        host = parts.hostname
    except ValueError as exc:
        return f"malformed ({exc})"
    if parts.scheme not in ("http", "https"):
        return "not an http(s) URL"
    if not host:
        return "no host"
    if port == 0:
        return "port 0"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.fullmatch(host):
            return f"not a host name: {host!r}"
    return None


def _check_entry(path: Path, index: int, entry: object) -> Outlet:
    where = f"{path}: outlet #{index}"
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a table, got {type(entry).__name__}")
    if isinstance(entry.get("name"), str):
        where += f" ({entry['name']!r})"
    unknown = sorted(set(entry) - KNOWN)
    if unknown:
        raise RegistryError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(KNOWN))})")
    for key in REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise RegistryError(f"{where}: field {key!r} is required and must be a non-empty string")
    if problem := url_problem(entry["homepage"]):
        raise RegistryError(f"{where}: field 'homepage': {problem}: {entry['homepage']!r}")
    for key in LIST_FIELDS:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise RegistryError(f"{where}: field {key!r} must be a list of strings")
        if key != "aliases":
            for url in value:
                if problem := url_problem(url):
                    raise RegistryError(f"{where}: field {key!r}: {problem}: {url!r}")
    language = entry.get("language")
    if language is not None and not (isinstance(language, str) and re.fullmatch(r"[A-Za-z]{2,3}(-\w+)?", language)):
        raise RegistryError(f"{where}: field 'language' must be a language code such as 'en' or 'ar'")
    timezone = entry.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise RegistryError(
                f"{where}: field 'timezone': unknown time zone {timezone!r} (use e.g. 'Europe/Paris')"
            ) from None
    durations = {}
    for name in ("every", "sitemap_window"):
        if entry.get(name) is not None:
            try:
                durations[name] = parse_duration(entry[name])
            except ValueError as exc:
                raise RegistryError(f"{where}: field '{name}': {exc}") from None
    return Outlet(
        name=entry["name"].strip(),
        homepage=entry["homepage"].strip(),
        aliases=tuple(a.strip() for a in entry.get("aliases", [])),
        feeds=tuple(entry.get("feeds", [])),
        sitemaps=tuple(entry.get("sitemaps", [])),
        language=language,
        timezone=timezone,
        **durations,
    )


def load_registry(path: str | Path = DEFAULT_SOURCES) -> list[Outlet]:
    """Read and validate a registry file; raise RegistryError with one clear line on any problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: no such registry file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"outlet", *TOP_LEVEL_OPTIONS})
    if extra:
        raise RegistryError(
            f"{path}: unknown top-level key {extra[0]!r} "
            f"(expected [[outlet]] tables and {', '.join(TOP_LEVEL_OPTIONS)})"
        )
    depth = data.get("follow_citations", 0)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise RegistryError(f"{path}: top-level 'follow_citations' must be a whole number of hops (0 = off)")
    entries = data.get("outlet", [])
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{path}: no [[outlet]] entries")
    outlets = [_check_entry(path, i, e) for i, e in enumerate(entries, start=1)]
    seen: dict[str, int] = {}
    for i, outlet in enumerate(outlets, start=1):
        if outlet.slug in seen:
            raise RegistryError(
                f"{path}: outlet #{i} ({outlet.name!r}): field 'name' duplicates outlet #{seen[outlet.slug]}"
            )
        seen[outlet.slug] = i
    return outlets


def follow_citations_depth(path: str | Path = DEFAULT_SOURCES) -> int:
    """The registry's top-level `follow_citations` (citation hops to follow by default; 0 when absent).

    Read after load_registry(), which validates it.
    """
    return int(tomllib.loads(Path(path).read_text(encoding="utf-8")).get("follow_citations", 0))


def select_outlets(outlets: list[Outlet], names: list[str] | tuple[str, ...]) -> list[Outlet]:
    """The outlets named (by name or slug, any case); all of them when `names` is empty."""
    if not names:
        return outlets
    by_key = {o.slug: o for o in outlets}
    chosen = []
    for name in names:
        outlet = by_key.get(slugify(name))
        if outlet is None:
            raise RegistryError(f"no outlet named {name!r} in the registry (have: {', '.join(by_key)})")
        chosen.append(outlet)
    return chosen
