"""Language identification with fastText's compressed ``lid.176.ftz`` (176 languages, 0.9 MB, in the layer),
through fasttext-predict (the predict-only build of fastText: a 0.3 MB wheel, no numpy at run time).

Chosen by measurement on the project's own multilingual sample (infra/bench/bench_language.py): the best
accuracy of the candidates small enough for the layer, ~41 µs per ticket, ~25 ms to load at a cold start
(in the background, while the help desk answers: see :class:`FastTextLanguageDetector`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import fasttext

from triage_gate.triage.language import Detection

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "lid.176.ftz"
_PREFIX = "__label__"


class FastTextLanguageDetector:
    """Loads the model once per instance and keeps it while the instance is warm.

    Loading costs ~25 ms of CPU (fastText hashes every word's character n-grams) and holds the GIL
    throughout, so a thread cannot run it beside Python work; it can run while this thread waits on the
    network. The triage service calls :meth:`prepare` just before it fetches the ticket from the help desk,
    a request that takes longer than the load, so a cold start's first ticket finds the model loaded.
    :meth:`detect` waits for a load in progress, or loads the model itself.
    """

    def __init__(self, model_path: Path = MODEL_PATH) -> None:
        self.model_path = model_path
        self._model: Any = None
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None

    def prepare(self) -> None:
        """Start loading the model in the background, unless it is loaded or loading."""
        if self._model is not None or self._loading is not None:
            return
        self._loading = threading.Thread(target=self._load_in_background, name="language-model-load", daemon=True)
        self._loading.start()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        with self._lock:  # one load at a time; a caller that arrives during one waits for it
            if self._model is None:
                self._model = fasttext.load_model(str(self.model_path))
            return self._model

    def _load_in_background(self) -> None:
        try:
            self._load()
        except Exception:  # not lost: detect() loads again and raises it in the request
            return

    def detect(self, text: str) -> Detection | None:
        """The most probable language of one line of text; None when there is nothing to read."""
        line = " ".join(text.split())
        if not line:
            return None
        model = self._model if self._model is not None else self._load()
        labels, probabilities = model.predict(line, k=1)
        if not labels:
            return None
        code = str(labels[0]).removeprefix(_PREFIX)
        return Detection(code, min(1.0, float(probabilities[0])))
