"""Markdown tables of the extraction benchmark's figures, ready to paste into a README."""

from __future__ import annotations

from collections.abc import Sequence

from bench.analysis import AEB_PRECISION, FOLD_KEYS, LanguageResult, Loss, Target, worst_fold
from bench.corpus import SET_NAMES, Page
from bench.peers import TRAFILATURA_ROWS
from bench.scoring import CorpusScore


def fmt(value: float | None, digits: int = 3, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _cells(values: Sequence[str], widths: Sequence[int]) -> str:
    padded = (v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True)))
    return "| " + " | ".join(padded) + " |"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    rule = "|" + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
    return "\n".join([_cells(header, widths), rule, *(_cells([str(c) for c in row], widths) for row in rows)])


def _fold_cell(score: CorpusScore) -> str:
    if not score.pages:
        return "-"
    return f"{score.f1:.3f} ({score.precision:.2f}/{score.recall:.2f})"


def fold_sizes(pages: Sequence[Page]) -> str:
    parts = []
    for key in FOLD_KEYS[1:]:
        chosen = [p for p in pages if str(p.fold) == key]
        parts.append(f"fold {key}: {len(chosen)} pages, {len({p.site for p in chosen})} sites")
    return "; ".join(parts)


def body_table(dataset: str, pages: Sequence[Page], rows: dict[str, dict]) -> str:
    """One set: each row's pooled P/R/F1, each fold's F1 (P/R), the worst fold, speed."""
    metric = "with/without segments pooled" if dataset == "treval" else "4-token shingles, means of page ratios"
    title = (
        f"## Body text: {dataset} ({SET_NAMES[dataset]}), {len(pages)} pages, "
        f"{len({p.site for p in pages})} sites ({metric})"
    )
    header = ["row", "version", "F1", "prec.", "recall", "acc.", *(f"fold {k} F1 (P/R)" for k in FOLD_KEYS[1:])]
    header += ["worst fold", "pages/s", "× bare"]
    lines = []
    for name, row in rows.items():
        if row.get("absent"):
            lines.append([name, "absent", *["-"] * (len(header) - 2)])
            continue
        figs: dict[str, CorpusScore] = row["figures"]
        total = figs["all"]
        worst = worst_fold(figs)
        cells = [name, row["version"], fmt(total.f1), fmt(total.precision), fmt(total.recall), fmt(total.accuracy)]
        cells += [_fold_cell(figs[k]) for k in FOLD_KEYS[1:]]
        cells += [f"{figs[worst].f1:.3f} (fold {worst})", f"{row['pages_per_second']:.1f}", fmt(row.get("ratio"), 2)]
        lines.append(cells)
    return f"{title}\n\n{fold_sizes(pages)}\n\n{table(header, lines)}"


def targets_table(all_targets: list[Target], aeb_figures: dict[str, CorpusScore] | None) -> str:
    """newswire F1 minus the best trafilatura row's F1 on each fold, marked PASS/FAIL."""
    header = ["set", "fold", "newswire F1", "best trafilatura row", "its F1", "Δ F1", "target", "verdict"]
    rows = []
    for t in all_targets:
        verdict = ("PASS" if t.passed else "FAIL") if t.fold != "all" else "(info)"
        fold = "all" if t.fold == "all" else f"fold {t.fold}"
        rows.append([t.dataset, fold, fmt(t.newswire), t.best_row, fmt(t.best), fmt(t.delta, sign=True)])
        rows[-1] += [f"≥ {t.margin:+.2f}", verdict]
    text = "## Targets: newswire against the best trafilatura row per fold\n\n" + table(header, rows)
    if aeb_figures:
        pooled = aeb_figures["all"].precision
        folds = ", ".join(f"fold {k} {aeb_figures[k].precision:.3f}" for k in FOLD_KEYS[1:])
        verdict = "PASS" if pooled >= AEB_PRECISION else "FAIL"
        text += f"\n\naeb precision (pooled): {pooled:.3f}, target ≥ {AEB_PRECISION}: **{verdict}** ({folds})"
    failed = [t for t in all_targets if t.fold != "all" and not t.passed]
    text += f"\n\nfold targets: {len(failed)} FAIL of {sum(t.fold != 'all' for t in all_targets)}"
    return text


RECALL_SLACK = 0.01  # issue 26, item 5: newswire's recall at most this far below trafilatura's best


def recall_rule(body: dict[str, dict[str, dict]]) -> str:
    """Per set: newswire's recall (all pages) against the highest recall of any trafilatura row."""
    lines = []
    for dataset, rows in body.items():
        if "newswire" not in rows or rows["newswire"].get("absent"):
            continue
        ours = rows["newswire"]["figures"]["all"].recall
        theirs = {
            r: rows[r]["figures"]["all"].recall for r in TRAFILATURA_ROWS if r in rows and not rows[r].get("absent")
        }
        if not theirs:
            continue
        best = max(theirs, key=theirs.__getitem__)
        verdict = "PASS" if ours >= theirs[best] - RECALL_SLACK - 1e-9 else "FAIL"
        lines.append(
            f"{dataset}: newswire {ours:.3f}, {best} {theirs[best]:.3f}, Δ {ours - theirs[best]:+.3f}: {verdict}"
        )
    return f"recall rule (≥ best trafilatura recall − {RECALL_SLACK}): " + "; ".join(lines)


def ablation_table(dataset: str, stages: dict[str, dict]) -> str:
    """newswire with one stage off: pooled F1, its change, each fold's change and the worst, and what the
    stage costs (CPU ms per page saved with it off; noise is a few tenths of a ms)."""
    header = ["stage off", "F1", "Δ F1", "Δ prec.", "Δ recall", *(f"Δ fold {k}" for k in FOLD_KEYS[1:])]
    header += ["worst Δ", "cost ms/page"]
    rows = []
    for stage, entry in stages.items():
        d = entry["delta"]
        present = [k for k in FOLD_KEYS[1:] if entry["figures"][k].pages]
        folds = [fmt(d[k]["f1"], sign=True) if k in present else "-" for k in FOLD_KEYS[1:]]
        worst = min((d[k]["f1"] for k in present), default=None)
        pooled = [fmt(d["all"][m], sign=True) for m in ("f1", "precision", "recall")]
        cost = entry.get("cost_ms")
        spent = "-" if cost is None else f"{cost:.1f}"
        rows.append([stage, fmt(entry["f1"]), *pooled, *folds, fmt(worst, sign=True), spent])
    return f"### Ablation on {dataset}\n\n" + table(header, rows)


def ablation_meta_table(stages: dict[str, dict]) -> str:
    """The change in fundus metadata (all pages) with each stage off."""
    fields = ("title_strict", "title_lenient", "authors", "date_day", "date_minute")
    header = ["stage off", *(f"Δ {f.replace('_', ' ')}" for f in fields)]
    rows = [[stage, *(fmt(delta.get(f), sign=True) for f in fields)] for stage, delta in stages.items()]
    return "### Ablation on fundus metadata (all pages)\n\n" + table(header, rows)


def loss_lists(dataset: str, recall_losses: list[Loss], empty_losses: list[Loss]) -> str:
    """The two loss lists of one set, as markdown lists."""

    def line(loss: Loss) -> str:
        return (
            f"- {loss.label} — newswire {loss.newswire_words} words, recall {loss.newswire_recall:.2f}; "
            f"{loss.row} {loss.row_words} words, recall {loss.row_recall:.2f}, precision {loss.row_precision:.2f}"
        )

    parts = [f"### Losses on {dataset}"]
    for tag, label, items in (
        ("a", "newswire recall < ½ a trafilatura row's recall, that row's precision ≥ 0.8", recall_losses),
        ("b", "newswire < 20 words, a trafilatura row ≥ 100 words", empty_losses),
    ):
        if items:
            parts.append(f"loss list ({tag}), {label}: {len(items)} pages\n\n" + "\n".join(line(x) for x in items))
        else:
            parts.append(f"loss list ({tag}): empty")
    return "\n\n".join(parts)


def meta_table(pages: int, rows: dict[str, dict]) -> str:
    """Metadata rows on the fundus pages, all pages and each fold."""
    fields = ("title_strict", "title_lenient", "authors", "date_day", "date_minute")
    header = ["row", "fold", "pages", "title strict", "title lenient", "authors F1", "date day", "date ±1 min"]
    header.append("pages/s")
    lines = []
    for name, row in rows.items():
        for key in FOLD_KEYS:
            figs = row["folds"][key]
            n = max(figs[f"{f}_pages"] for f in fields)
            speed = f"{row['pages_per_second']:.1f}" if key == "all" and row.get("pages_per_second") else ""
            lines.append([name if key == "all" else "", key, str(n), *(fmt(figs[f]) for f in fields), speed])
    note = (
        "title lenient: equal to the expected title, or to the page's own `<h1>` or `og:title` without the site "
        "name when that form has more than half of the expected title's words; dates without offset read as UTC; "
        "newswire's and trafilatura's pages/s are those of their body pass"
    )
    counts = rows["newswire"]["folds"]["all"] if "newswire" in rows else {}
    scored = ", ".join(f"{f.replace('_', ' ')} {counts.get(f + '_pages', 0)}" for f in fields)
    return f"## Metadata: {pages} fundus pages\n\n{table(header, lines)}\n\n(pages scored: {scored}; {note})"


def language_table(results: dict[str, LanguageResult]) -> str:
    """Detection accuracy from newswire's text, against the declared language, per set and fold."""
    header = ["set", "declared", "empty text", "scored", "accuracy", *(f"fold {k}" for k in FOLD_KEYS[1:])]
    rows = []
    for name, r in results.items():
        cells = [name, str(r.declared), str(r.empty), str(r.scored), fmt(r.accuracy)]
        rows.append(cells + [fmt(r.fold_accuracy(k)) for k in FOLD_KEYS[1:]])
    text = (
        "## Language: detect_language(newswire text) against the declaration\n\n"
        "(declared: `<html lang>`, else `og:locale`, else http-equiv content-language, primary subtag; "
        "pages with empty text are skipped)\n\n" + table(header, rows)
    )
    pooled = results.get("all")
    if pooled and pooled.confusions:
        common = ", ".join(f"{d}→{g or 'none'} {n}" for (d, g), n in pooled.confusions.most_common(12))
        text += f"\n\nmost common misses (declared→detected): {common}"
    return text
