"""The local text classifier at inference time: pure Python, standard library only.

A model is TF-IDF features (word unigrams, bigrams and 5-letter word prefixes; sublinear TF;
L2-normalised) into a multinomial logistic regression, with a temperature fitted on held-out data so its
probabilities are calibrated. A text with no known term at all gets the training base rates.

The artifact is one JSON document (``"format": "triage-gate-textclf/1"``)::

    {"format", "featurizer": str, "labels": [str], "temperature": float, "weight_scale": float, "idf_scale": float,
     "bias": [int],                                   # per label, in units of weight_scale
     "prior": [float],                                # label shares in training: the answer without evidence
     "vocabulary": {term: [idf, k, w, k, w, ...]},    # idf in units of idf_scale, then (label index, weight)
     "metadata": {...}}

Weights are stored as integers and rows without their near-zero entries, which keeps the file small;
the training code evaluates exactly this form, so what was measured is what ships.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from triage_gate.localmodel.features import FEATURIZER, sublinear_tf, term_counts

FORMAT = "triage-gate-textclf/1"


class TextClassifier:
    """Calibrated probabilities over ``labels`` for one ticket text. Build with ``load`` or ``from_dict``."""

    def __init__(
        self,
        labels: list[str],
        bias: list[int],
        vocabulary: dict[str, list[int]],
        prior: list[float],
        *,
        temperature: float = 1.0,
        weight_scale: float = 1.0,
        idf_scale: float = 1.0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ValueError("a classifier needs at least two distinct labels")
        if len(bias) != len(labels):
            raise ValueError(f"bias has {len(bias)} entries for {len(labels)} labels")
        if len(prior) != len(labels) or not math.isclose(sum(prior), 1.0, abs_tol=1e-3) or min(prior) < 0:
            raise ValueError(f"prior must be {len(labels)} probabilities summing to 1")
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        self.labels = list(labels)
        self.temperature = float(temperature)
        self.metadata: dict[str, Any] = {**(metadata or {}), "temperature": self.temperature}
        self._bias = bias
        self._prior = list(prior)
        self._vocabulary = vocabulary
        self._weight_scale = float(weight_scale)
        self._idf_scale = float(idf_scale)

    # -- persistence ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        """Read an artifact written by ``to_dict`` (as JSON). Callers should cache the instance."""
        try:
            document = json.loads(Path(path).read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a JSON model artifact ({exc})") from exc
        try:
            return cls.from_dict(document)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextClassifier:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            found = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"unsupported model format {found!r}: expected {FORMAT!r}")
        if d.get("featurizer") != FEATURIZER:
            raise ValueError(
                f"model was trained on features {d.get('featurizer')!r}, this code computes {FEATURIZER!r}: retrain it"
            )
        try:
            labels, bias, vocabulary, prior = d["labels"], d["bias"], d["vocabulary"], d["prior"]
            if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
                raise ValueError("labels must be a list of strings")
            if not isinstance(vocabulary, dict):
                raise ValueError("vocabulary must be an object")
            return cls(
                labels,
                [int(b) for b in bias],
                vocabulary,
                [float(p) for p in prior],
                temperature=float(d["temperature"]),
                weight_scale=float(d["weight_scale"]),
                idf_scale=float(d["idf_scale"]),
                metadata=dict(d.get("metadata") or {}),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed {FORMAT} artifact: {exc!r}") from exc

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "featurizer": FEATURIZER,
            "labels": list(self.labels),
            "temperature": self.temperature,
            "weight_scale": self._weight_scale,
            "idf_scale": self._idf_scale,
            "bias": list(self._bias),
            "prior": list(self._prior),
            "metadata": dict(self.metadata),
            "vocabulary": self._vocabulary,
        }

    def dumps(self) -> str:
        """The artifact as compact JSON (what ``load`` reads)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    def save(self, path: str | Path) -> int:
        """Write the artifact; returns its size in bytes."""
        data = self.dumps().encode("utf-8")
        Path(path).write_bytes(data)
        return len(data)

    @property
    def languages(self) -> frozenset[str] | None:
        """The languages of the training text (``triage train`` detects and records them); None for a model
        trained before it did. A ticket in another language is outside what this model knows."""
        recorded = self.metadata.get("languages")
        supported = recorded.get("supported") if isinstance(recorded, dict) else None
        if not isinstance(supported, list) or not supported:
            return None
        return frozenset(str(code) for code in supported)

    # -- inference -------------------------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        return len(self._vocabulary)

    def logits(self, text: str) -> list[float]:
        """Uncalibrated class scores (temperature 1), in ``labels`` order; the bias alone without evidence."""
        return self._scores(*self._evidence(text))

    def _evidence(self, text: str) -> tuple[list[float], float]:
        """Per label, the sum of (TF-IDF value x weight) over the known terms; and the squared norm of the values."""
        vocabulary = self._vocabulary
        totals = [0.0] * len(self.labels)
        sum_squares = 0.0
        for term, count in term_counts(text).items():
            row = vocabulary.get(term)
            if row is None:
                continue
            value = sublinear_tf(count) * row[0]
            sum_squares += value * value
            pairs = iter(row[1:])
            for k, weight in zip(pairs, pairs, strict=True):
                totals[k] += value * weight
        return totals, sum_squares

    def _scores(self, totals: list[float], sum_squares: float) -> list[float]:
        # L2-normalising the feature vector divides every dot product by its norm; the idf scale cancels out
        # of that ratio and the weight scale is one factor, so both are applied once here, not per feature.
        scale = self._weight_scale
        factor = scale / math.sqrt(sum_squares) if sum_squares else 0.0
        return [b * scale + t * factor for b, t in zip(self._bias, totals, strict=True)]

    def predict_proba(self, text: str) -> dict[str, float]:
        """Calibrated probability of each label; the values sum to 1."""
        return dict(zip(self.labels, self._probabilities(text), strict=True))

    def predict(self, text: str) -> tuple[str, float]:
        """The most probable label and its calibrated probability."""
        probabilities = self._probabilities(text)
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return self.labels[best], probabilities[best]

    def top_terms(self, text: str, label: str, n: int = 5) -> list[tuple[str, float]]:
        """The terms of ``text`` that pushed hardest towards ``label``, with their share of its logit."""
        k = self.labels.index(label)
        found = [(term, sublinear_tf(count), self._vocabulary[term]) for term, count in term_counts(text).items()
                 if term in self._vocabulary]  # fmt: skip
        norm = math.sqrt(sum((tf * row[0]) ** 2 for _, tf, row in found)) or 1.0
        contributions = []
        for term, tf, row in found:
            pairs = iter(row[1:])
            weight = next((w for j, w in zip(pairs, pairs, strict=True) if j == k), 0)
            if weight > 0:
                contributions.append((term, tf * row[0] * weight * self._weight_scale / norm))
        contributions.sort(key=lambda item: -item[1])
        return contributions[:n]

    def _probabilities(self, text: str) -> list[float]:
        totals, sum_squares = self._evidence(text)
        if not sum_squares:
            # Not one known term (empty, another language, pure noise): the honest answer is the base rates.
            return list(self._prior)
        return softmax(self._scores(totals, sum_squares), self.temperature)


def softmax(scores: list[float], temperature: float = 1.0) -> list[float]:
    """Probabilities from scores divided by ``temperature`` (numerically safe)."""
    inverse_t = 1.0 / temperature
    top = max(scores)
    exps = [math.exp((s - top) * inverse_t) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]
