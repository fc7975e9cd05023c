"""The local model artifacts, loaded once per process and kept warm."""

from __future__ import annotations

from typing import Any

from triage_gate.localmodel import TextClassifier


class LocalModelCache:
    def __init__(self) -> None:
        self._models: dict[str, Any] = {}

    def classify(self, workflow: str, task: str, model_path: str, text: str) -> tuple[str, float]:
        model = self._models.get(model_path)
        if model is None:
            model = self._models[model_path] = TextClassifier.load(model_path)
        label, probability = model.predict(text)
        return str(label), float(probability)
