"""The local model: a small calibrated text classifier that needs nothing but the standard library to run.

It classifies when no Anthropic key is configured and is the fallback while Claude is unavailable.
Inference (``TextClassifier``, ``tokenize``) is pure Python, fit for the Lambda layer; ``train`` needs
numpy and scipy (development only) and imports them when called.
"""

from triage_gate.localmodel.features import tokenize
from triage_gate.localmodel.metrics import accuracy, expected_calibration_error, macro_f1
from triage_gate.localmodel.model import FORMAT, TextClassifier
from triage_gate.localmodel.train import train

__all__ = ["FORMAT", "TextClassifier", "accuracy", "expected_calibration_error", "macro_f1", "tokenize", "train"]
