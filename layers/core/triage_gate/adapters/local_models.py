"""The local model artifacts, loaded once per process and kept warm."""

from __future__ import annotations

from triage_gate.localmodel import TextClassifier


class LocalModelCache:
    def __init__(self) -> None:
        self._models: dict[str, TextClassifier] = {}

    def classify(self, workflow: str, task: str, model_path: str, text: str) -> tuple[str, float]:
        label, probability = self._model(model_path).predict(text)
        return str(label), float(probability)

    def languages(self, model_path: str) -> frozenset[str] | None:
        return self._model(model_path).languages

    def _model(self, model_path: str) -> TextClassifier:
        model = self._models.get(model_path)
        if model is None:
            model = self._models[model_path] = TextClassifier.load(model_path)
        return model
