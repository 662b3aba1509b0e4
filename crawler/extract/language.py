"""The page's language: what it declares, checked against (or replaced by) what its text is written in.

Detection is py3langid (a naive-Bayes model over byte n-grams, 97 languages, ~4 ms a page here;
lingua's low-accuracy mode took ~25 ms). Tags are normalized with langcodes to their BCP 47
language subtag ('en-US' → 'en', 'iw' → 'he', 'eng' → 'en').
"""

from __future__ import annotations

from functools import lru_cache

import langcodes
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

DETECT_CHARS = 1000  # the text's opening is enough, and the cost grows with the length
MIN_DETECT_CHARS = 40  # below this a detector guesses
TRUST_DETECTION = 0.9  # probability above which the text overrules a declaration
MIN_OVERRULE_CHARS = 400  # … and only on a text this long


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def language_tag(value: str | None) -> str | None:
    """The BCP 47 language subtag of a declared tag ('en_GB' → 'en'), or None for anything that is not one."""
    if not value or not value.strip():
        return None
    try:
        language = langcodes.Language.get(value.strip().replace("_", "-"), normalize=True).language
    except (langcodes.LanguageTagError, ValueError):
        return None
    return language if language and language != "und" and langcodes.tag_is_valid(language) else None


def detect(text: str) -> tuple[str, float] | None:
    """(language subtag, probability) of `text` by its wording, or None when it is too short to tell."""
    sample = " ".join(text[:DETECT_CHARS].split())
    if len(sample) < MIN_DETECT_CHARS:
        return None
    language, probability = _identifier().classify(sample)
    tag = language_tag(language)
    return (tag, float(probability)) if tag else None


def detect_language(text: str) -> str | None:
    """The language subtag `text` is written in, or None when it is too short to tell."""
    found = detect(text)
    return found[0] if found else None


def choose_language(declared: str | None, text: str, outlet: str | None = None) -> str | None:
    """The page's language: its declaration unless a long text says otherwise with confidence; the text's
    when nothing is declared; the outlet's when the text is too short to tell."""
    declared = language_tag(declared)
    found = detect(text)
    if found is None:
        return declared or language_tag(outlet)
    detected, probability = found
    if declared is None or declared == detected:
        return detected or declared
    if probability >= TRUST_DETECTION and len(text) >= MIN_OVERRULE_CHARS:
        return detected  # WordPress themes say lang="en-US" on German blogs
    return declared
