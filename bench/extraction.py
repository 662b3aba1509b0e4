"""Extraction benchmark over ../shared/corpus: newswire side by side with trafilatura and peers, in one run.

Body text on three sets (aeb: article-extraction-benchmark, fundus: fundus bodies, treval:
trafilatura's evaluation segments), pooled and per site-grouped fold, with newswire's targets
against the best trafilatura row; an ablation of newswire's stages; loss lists; metadata on the
fundus pages; language detection from newswire's text against the pages' declarations.

Usage: python -m bench.extraction [--corpus ../shared/corpus] [--sets aeb,fundus,treval] [--json FILE]
       [--only-newswire] [--skip-ablation] [--misses] [--limit N]
Peers come from `pip install -e .[bench]`; a peer that is not installed is listed as absent.
Progress goes to stderr, the markdown report to stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import subprocess
import sys
import time
import warnings
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

warnings.filterwarnings("ignore")  # before the bench's modules: the peer libraries they load warn on import

from bench import analysis, report  # noqa: E402
from bench.corpus import SETS, Page, load  # noqa: E402
from bench.pagemeta import PageFacts, page_facts  # noqa: E402
from bench.peers import (  # noqa: E402
    BASELINE,
    Output,
    Row,
    body_rows,
    htmldate_meta,
    newswire_runner,
    package_version,
    run_safely,
)
from bench.peers import stages as newswire_stages  # noqa: E402
from bench.scoring import CorpusScore  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]

WARM_UP = 3  # pages run before timing a row: imports, caches and lazy set-up are not what pages/s measures


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def header_line(pages: dict[str, list[Page]]) -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    versions = ", ".join(f"{p} {package_version(p)}" for p in ("trafilatura", "htmldate", "dateparser", "lxml"))
    counts = ", ".join(f"{name} {len(p)}" for name, p in pages.items())
    return (
        f"# newswire extraction benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} "
        f"({platform.machine()}, {platform.processor() or 'cpu'}), Python {platform.python_version()}, "
        f"newswire {package_version('newswire')} (HEAD {commit or '?'}, working tree as run), {versions}; "
        f"pages: {counts}"
    )


# --- running rows ----------------------------------------------------------------------------------


def run_row(row: Row, pages: list[Page]) -> dict:
    """The row's outputs and scores on the pages, and its speed."""
    assert row.run is not None
    for page in pages[:WARM_UP]:
        run_safely(row.run, page)
    outputs, start = [], time.perf_counter()
    for page in pages:
        outputs.append(run_safely(row.run, page))
    seconds = time.perf_counter() - start
    scores = [analysis.score_output(p, o.text) for p, o in zip(pages, outputs, strict=True)]
    return {
        "version": row.version,
        "outputs": outputs,
        "scores": scores,
        "figures": analysis.by_fold(pages, scores),
        "pages_per_second": len(pages) / seconds if seconds else 0.0,
    }


def run_body(pages: dict[str, list[Page]], rows: list[Row]) -> dict[str, dict[str, dict]]:
    """Every row on every set: {set: {row: result}}, with each row's speed ratio to bare_extraction."""
    results: dict[str, dict[str, dict]] = {}
    for dataset, chosen in pages.items():
        results[dataset] = {}
        for row in rows:
            if row.run is None:
                results[dataset][row.name] = {"version": row.version, "absent": True}
                continue
            result = run_row(row, chosen)
            results[dataset][row.name] = result
            log(f"{dataset} / {row.name}: F1 {result['figures']['all'].f1:.3f}, {result['pages_per_second']:.1f} p/s")
        base = results[dataset].get(BASELINE, {}).get("pages_per_second")
        for result in results[dataset].values():
            if base and not result.get("absent"):
                result["ratio"] = result["pages_per_second"] / base
    return results


def _delta(new: CorpusScore, old: CorpusScore) -> dict[str, float]:
    return {m: getattr(new, m) - getattr(old, m) for m in ("f1", "precision", "recall")}


ABLATION_WORKERS = 2  # ablation passes are not timed, so they run two at a time
_ABLATION_PAGES: dict[str, list[Page]] = {}  # set before the pool forks; read by the workers


def _warm_worker() -> None:
    """Each ablation worker loads the extractor's lazy parts before its first timed pass."""
    from crawler.extract.dates import warm_date_parsers

    warm_date_parsers()
    run = newswire_runner()
    for chosen in _ABLATION_PAGES.values():
        for page in chosen[:WARM_UP]:
            run_safely(run, page)


def _ablated_outputs(task: tuple[str, str]) -> list[Output]:
    """One ablation pass: newswire with one stage off over one set."""
    stage, dataset = task
    run = newswire_runner(disabled=stage)
    return [run_safely(run, page) for page in _ABLATION_PAGES[dataset]]


def _stage_costs(task: tuple[str, int, tuple[str, ...]]) -> dict[str | None, float]:
    """CPU seconds of each variant — None: nothing off; a stage: that stage off — over every other page of a
    set (from `offset`), all variants run on one page before the next page, in a rotating order, so that
    whatever slows the machine down slows every variant alike."""
    dataset, offset, stage_names = task
    variants: list[str | None] = [None, *stage_names]
    runners = {variant: newswire_runner(disabled=variant) for variant in variants}
    spent = dict.fromkeys(variants, 0.0)
    for index, page in enumerate(_ABLATION_PAGES[dataset][offset::2]):
        turn = index % len(variants)
        for variant in variants[turn:] + variants[:turn]:
            start = time.process_time()
            run_safely(runners[variant], page)
            spent[variant] += time.process_time() - start
    return spent


def run_ablation(pages: dict[str, list[Page]], body: dict, stage_names: tuple[str, ...]) -> dict[str, dict]:
    """newswire with each stage off in turn: {stage: {set: result with deltas against full newswire}}.

    A stage's cost is the CPU ms per page newswire saves with it off (_stage_costs: every variant on each
    page in turn, CPU time of one process); a few tenths of a ms is noise, and a negative cost means the
    stage saves later work."""
    _ABLATION_PAGES.clear()
    _ABLATION_PAGES.update(pages)
    tasks = [(stage, dataset) for stage in stage_names for dataset in pages]
    cost_tasks = [(dataset, offset, stage_names) for dataset in pages for offset in (0, 1)]
    with multiprocessing.get_context("fork").Pool(ABLATION_WORKERS, initializer=_warm_worker) as pool:
        runs = pool.map(_ablated_outputs, tasks, chunksize=1)
        costs = pool.map(_stage_costs, cost_tasks, chunksize=1)
    spent: dict[str, dict[str | None, float]] = {dataset: {} for dataset in pages}
    for (dataset, _offset, _names), seconds in zip(cost_tasks, costs, strict=True):
        for variant, value in seconds.items():
            spent[dataset][variant] = spent[dataset].get(variant, 0.0) + value
    out: dict[str, dict] = {stage: {} for stage in stage_names}
    for (stage, dataset), outputs in zip(tasks, runs, strict=True):
        chosen, full = pages[dataset], body[dataset]["newswire"]["figures"]
        scores = [analysis.score_output(p, o.text) for p, o in zip(chosen, outputs, strict=True)]
        figures = analysis.by_fold(chosen, scores)
        delta = {key: _delta(figures[key], full[key]) for key in analysis.FOLD_KEYS}
        out[stage][dataset] = {"outputs": outputs, "scores": scores, "figures": figures, "delta": delta}
        out[stage][dataset] |= {"f1": figures["all"].f1, "version": package_version("newswire")}
        out[stage][dataset]["cost_ms"] = (spent[dataset][None] - spent[dataset][stage]) / len(chosen) * 1000
        log(f"ablation {stage} / {dataset}: ΔF1 {delta['all']['f1']:+.3f}")
    return out


# --- metadata and language -------------------------------------------------------------------------


def run_metadata(pages: list[Page], facts: list[PageFacts], body: dict[str, dict]) -> dict[str, dict]:
    """newswire and trafilatura metadata (from their body passes) and htmldate, checked per fold."""
    rows: dict[str, dict] = {}
    for name, source in (("newswire", "newswire"), ("trafilatura metadata", BASELINE)):
        result = body[source]
        metas = [o.meta for o in result["outputs"]]
        checks = [analysis.check_meta(p, f, m) for p, f, m in zip(pages, facts, metas, strict=True)]
        rows[name] = {"checks": checks, "metas": metas, "pages_per_second": result["pages_per_second"]}
    for page in pages[:WARM_UP]:
        htmldate_meta(page)
    start = time.perf_counter()
    metas = [htmldate_meta(p) for p in pages]
    seconds = time.perf_counter() - start
    checks = [analysis.check_meta(p, f, m, dates_only=True) for p, f, m in zip(pages, facts, metas, strict=True)]
    rows["htmldate"] = {"checks": checks, "metas": metas, "pages_per_second": len(pages) / seconds if seconds else 0}
    for row in rows.values():
        row["folds"] = analysis.meta_by_fold(pages, row["checks"])
    return rows


def ablation_meta(pages: list[Page], facts: list[PageFacts], ablation: dict, full: dict) -> dict[str, dict]:
    """The change in each fundus metadata figure (all pages) with each stage off."""
    out = {}
    for stage, per_set in ablation.items():
        metas = [o.meta for o in per_set["fundus"]["outputs"]]
        checks = [analysis.check_meta(p, f, m) for p, f, m in zip(pages, facts, metas, strict=True)]
        figures = analysis.meta_by_fold(pages, checks)["all"]
        out[stage] = {
            k: (figures[k] - full[k]) if figures[k] is not None and full[k] is not None else None
            for k in analysis.META_FIELDS
        }
    return out


def run_language(pages: dict[str, list[Page]], facts: dict[str, list[PageFacts]], body: dict) -> dict | None:
    """Language detected from newswire's text against the declaration, per set and pooled."""
    try:
        from crawler.extract.language import detect_language
    except ImportError:
        return None
    results = {}
    for dataset, chosen in pages.items():
        texts = [o.text for o in body[dataset]["newswire"]["outputs"]]
        results[dataset] = analysis.language_check(chosen, facts[dataset], texts, detect_language)
    results["all"] = analysis.merge_language(list(results.values()))
    return results


# --- JSON ------------------------------------------------------------------------------------------


def _per_page(pages: list[Page], result: dict) -> dict:
    out = {}
    for page, output, score in zip(pages, result["outputs"], result["scores"], strict=True):
        entry = {"precision": score.precision, "recall": score.recall, "words": output.words}
        out[page.id] = entry | {k: v for k, v in asdict(score).items() if k != "exact"}
    return out


def _row_json(pages: list[Page], result: dict) -> dict:
    if result.get("absent"):
        return {"version": result["version"], "absent": True}
    figures = {k: asdict(v) for k, v in result["figures"].items()}
    keep = ("version", "pages_per_second", "ratio", "delta", "cost_ms")
    return {k: result[k] for k in keep if k in result} | {"figures": figures, "per_page": _per_page(pages, result)}


def to_json(pages: dict[str, list[Page]], state: dict) -> dict:
    """Every figure of the run and the per-page scores, JSON-ready."""
    out: dict = {"header": state["header"], "sets": {}}
    for dataset, chosen in pages.items():
        out["sets"][dataset] = {
            "folds": {str(f): sorted({p.site for p in chosen if p.fold == f}) for f in range(3)},
            "rows": {name: _row_json(chosen, r) for name, r in state["body"][dataset].items()},
        }
    out["targets"] = [asdict(t) | {"delta": t.delta, "passed": t.passed} for t in state["targets"]]
    out["ablation"] = {
        stage: {d: _row_json(pages[d], r) for d, r in per_set.items()} for stage, per_set in state["ablation"].items()
    }
    out["ablation_metadata"] = state.get("ablation_meta", {})
    out["losses"] = {d: {k: [asdict(x) for x in v] for k, v in lists.items()} for d, lists in state["losses"].items()}
    if state.get("meta"):
        fundus = pages["fundus"]
        out["metadata"] = {
            name: {
                "folds": row["folds"],
                "pages_per_second": row["pages_per_second"],
                "per_page": {p.id: asdict(c) for p, c in zip(fundus, row["checks"], strict=True)},
            }
            for name, row in state["meta"].items()
        }
    if state.get("language"):
        out["language"] = {
            name: {
                "declared": r.declared,
                "empty": r.empty,
                "scored": r.scored,
                "accuracy": r.accuracy,
                "folds": {k: r.fold_accuracy(k) for k in analysis.FOLD_KEYS[1:]},
                "misses": {f"{d}->{g}": n for (d, g), n in (r.confusions or {}).items()},
            }
            for name, r in state["language"].items()
        }
    return out


# --- main ------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    parser.add_argument("--json", type=Path, default=None, help="write every figure and per-page scores here")
    parser.add_argument("--only-newswire", action="store_true", help="newswire and trafilatura rows only")
    parser.add_argument("--skip-ablation", action="store_true", help="do not run newswire with stages switched off")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: aeb,fundus,treval")
    parser.add_argument("--misses", action="store_true", help="print newswire's metadata misses")
    parser.add_argument("--limit", type=int, default=None, help="first N pages per set (smoke run)")
    args = parser.parse_args()
    args.sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    if unknown := set(args.sets) - set(SETS):
        parser.error(f"unknown sets: {', '.join(sorted(unknown))}")
    if not (args.corpus / "index.jsonl").exists():
        parser.error(f"no corpus at {args.corpus} (pass --corpus)")
    return args


def load_sets(corpus: Path, sets: tuple[str, ...], limit: int | None) -> dict[str, list[Page]]:
    every = load(corpus, sets)
    return {s: [p for p in every if p.dataset == s][:limit] for s in SETS if s in sets}


def compare_rows(pages: dict[str, list[Page]], body: dict) -> tuple[list[analysis.Target], dict[str, dict]]:
    """newswire's targets against the trafilatura rows, and the loss lists, per set."""
    found, losses = [], {}
    for dataset, chosen in pages.items():
        rows = {n: r for n, r in body[dataset].items() if not r.get("absent")}
        found += analysis.targets(dataset, {n: r["figures"] for n, r in rows.items()})
        outputs, scores = {n: r["outputs"] for n, r in rows.items()}, {n: r["scores"] for n, r in rows.items()}
        a, b = analysis.losses(chosen, outputs, scores)
        losses[dataset] = {"a": a, "b": b}
    return found, losses


def run_ablations(pages: dict[str, list[Page]], facts: dict, state: dict, skip: bool) -> None:
    """The ablation runs (when asked for and when newswire offers its stages), into `state`."""
    state["ablation"] = {}
    stage_names = newswire_stages()
    if skip:
        state["ablation_note"] = "skipped (--skip-ablation)"
    elif stage_names is None:
        state["ablation_note"] = "not run: crawler.extract has no STAGES / ExtractionContext yet"
    else:
        state["ablation"] = run_ablation(pages, state["body"], stage_names)
        if "fundus" in pages:
            full = state["meta"]["newswire"]["folds"]["all"]
            state["ablation_meta"] = ablation_meta(pages["fundus"], facts["fundus"], state["ablation"], full)


def print_body(pages: dict[str, list[Page]], state: dict) -> None:
    for dataset, chosen in pages.items():
        print("\n" + report.body_table(dataset, chosen, state["body"][dataset]))
    aeb = state["body"].get("aeb", {}).get("newswire", {}).get("figures")
    print("\n" + report.targets_table(state["targets"], aeb))
    print("\n" + report.recall_rule(state["body"]))


def print_ablation(state: dict) -> None:
    ablation = state["ablation"]
    if state.get("ablation_note"):
        print(f"\n## Ablation\n\n{state['ablation_note']}")
        return
    print("\n## Ablation: newswire with one stage switched off (changes against full newswire)")
    for dataset in next(iter(ablation.values()), {}):
        print("\n" + report.ablation_table(dataset, {stage: per_set[dataset] for stage, per_set in ablation.items()}))
    if state.get("ablation_meta"):
        print("\n" + report.ablation_meta_table(state["ablation_meta"]))


def print_misses(meta: dict, pages: list[Page]) -> None:
    misses = analysis.meta_misses(pages, meta["newswire"]["checks"], meta["newswire"]["metas"])
    for field, lines in misses.items():
        print(f"\n### newswire {field} misses ({len(lines)})\n")
        print("\n".join(f"- {line}" for line in lines) or "(none)")


def print_report(pages: dict[str, list[Page]], state: dict, misses: bool) -> None:
    print_body(pages, state)
    print_ablation(state)
    print("\n## Loss lists: where newswire loses text a trafilatura row keeps")
    for dataset, lists in state["losses"].items():
        print("\n" + report.loss_lists(dataset, lists["a"], lists["b"]))
    if state.get("meta"):
        print("\n" + report.meta_table(len(pages["fundus"]), state["meta"]))
        if misses:
            print_misses(state["meta"], pages["fundus"])
    if state["language"] is None:
        print("\n## Language\n\nnot run: crawler.extract.language.detect_language is not there yet")
    else:
        print("\n" + report.language_table(state["language"]))


def main() -> None:
    args = parse_args()
    pages = load_sets(args.corpus, args.sets, args.limit)
    facts = {d: [page_facts(p) for p in chosen] for d, chosen in pages.items()}
    state: dict = {"header": header_line(pages)}
    print(state["header"])
    state["body"] = run_body(pages, body_rows(args.only_newswire))
    state["targets"], state["losses"] = compare_rows(pages, state["body"])
    if "fundus" in pages:
        state["meta"] = run_metadata(pages["fundus"], facts["fundus"], state["body"]["fundus"])
    state["language"] = run_language(pages, facts, state["body"])
    run_ablations(pages, facts, state, args.skip_ablation)
    print_report(pages, state, args.misses)
    if args.json:
        args.json.write_text(json.dumps(to_json(pages, state), indent=1, default=str))
        print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
