"""What an extraction does per page, counted while it runs: HTML parses, whole-tree copies, pruning passes and
trafilatura extraction passes (for bench.extraction_speed; never on a timed pass: the counting hook slows
every Python call).

Counted with a profile hook on the functions that do the work: lxml.html's parsers called from outside
lxml.html (one parse however they call each other) and resiliparse's text extractor (parses); copy.copy and
copy.deepcopy of an lxml element (tree copies);
trafilatura's tree_cleaning and prune_unwanted_nodes and our prune_boilerplate (pruning passes);
trafilatura's trafilatura_sequence (extraction passes: its main pass, whichever mode).
"""

from __future__ import annotations

import copy
import sys
from collections import Counter
from types import CodeType, FrameType
from typing import Any

import lxml.html
from lxml import etree
from trafilatura import core, htmlprocessing

from crawler.extract import boilerplate, safety_net

KINDS = ("parses", "tree copies", "pruning passes", "trafilatura passes")


def _code(function: Any) -> CodeType:
    return function.__code__


class WorkCounter:
    """A context manager that counts, while active, the work each KINDS names."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._parsers = {
            _code(getattr(lxml.html, name))
            for name in ("fromstring", "document_fromstring", "fragment_fromstring", "fragments_fromstring")
        }
        self._kinds: dict[CodeType, str] = {
            _code(safety_net.independent_text): "parses",  # resiliparse parses the raw page again
            _code(htmlprocessing.tree_cleaning): "pruning passes",
            _code(htmlprocessing.prune_unwanted_nodes): "pruning passes",
            _code(boilerplate.prune_boilerplate): "pruning passes",
            _code(core.trafilatura_sequence): "trafilatura passes",
        }
        self._copies = {_code(copy.copy), _code(copy.deepcopy)}

    def _hook(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        if code in self._parsers:
            caller = frame.f_back
            if caller is None or caller.f_code.co_filename != code.co_filename:  # not one lxml parser calling another
                self.counts["parses"] += 1
        elif code in self._copies:
            if isinstance(frame.f_locals.get("x"), etree._Element):
                self.counts["tree copies"] += 1
        elif (kind := self._kinds.get(code)) is not None:
            self.counts[kind] += 1

    def __enter__(self) -> WorkCounter:
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)

    def per_page(self, pages: int) -> dict[str, float]:
        return {kind: self.counts[kind] / max(1, pages) for kind in KINDS}
