"""What the crawl knows of a page before it is read: one frozen options object for an extraction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crawler.extract.citations import OutletDirectory
from crawler.extract.record import DiscoveryHints

# The stages of the body pipeline, each of which can be switched off to measure what it buys.
PRECISION_FIRST = "precision-first"  # trafilatura's precision mode for the first pass (else its balanced mode)
WORDING_RULES = "wording-rules"  # share prompts, CTAs, "Read more" lines, tail headings
LINK_LIST_DROP = "link-list-drop"  # short blocks that are mostly links
BOILERPLATE_PRUNING = "boilerplate-pruning"  # forms, buttons, blocks named share/newsletter/related…
BYLINE_IN_BODY = "byline-in-body"  # a byline paragraph at the top or end of the text becomes the authors
SAFETY_NET = "safety-net"  # story text the first pass lost, taken back where independent extractors agree
STANDFIRST = "standfirst"  # the page's description, shown between headline and story, opens the text
STAGES = (
    PRECISION_FIRST,
    WORDING_RULES,
    LINK_LIST_DROP,
    BOILERPLATE_PRUNING,
    BYLINE_IN_BODY,
    SAFETY_NET,
    STANDFIRST,
)


@dataclass(frozen=True)
class ExtractionContext:
    """The options of one extraction.

    `fetched_at` anchors relative and year-less dates (default: now); `hints` is what the feed or
    sitemap said of the URL; `language` and `timezone` (IANA name) are the outlet's, used when the
    page says nothing; `directory` names the outlets whose citations to recognise (default: the
    well-known ones); `outlet_names` are the registry's names of the outlet the page belongs to (never
    an author, never cited by its own pages); `disabled` switches stages off (see STAGES), for the
    benchmark's ablation.
    """

    fetched_at: datetime | None = None
    hints: DiscoveryHints | None = None
    language: str | None = None
    timezone: str | None = None
    directory: OutletDirectory | None = None
    outlet_names: tuple[str, ...] = ()
    disabled: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        unknown = set(self.disabled) - set(STAGES)
        if unknown:
            raise ValueError(f"unknown extraction stage(s): {', '.join(sorted(unknown))}")

    def on(self, stage: str) -> bool:
        """Whether `stage` runs."""
        return stage not in self.disabled
