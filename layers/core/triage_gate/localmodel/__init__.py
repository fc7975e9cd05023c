"""The local model: a small calibrated text classifier that needs nothing but the standard library to run.

It classifies when no Anthropic key is configured and is the fallback while Claude is unavailable.
Inference (``TextClassifier``, ``tokenize``) is pure Python, fit for the Lambda layer; training (numpy and
scipy, development only) is ``triage_tools.training``, outside the layer.
"""

from triage_gate.localmodel.features import tokenize
from triage_gate.localmodel.model import FORMAT, TextClassifier

__all__ = ["FORMAT", "TextClassifier", "tokenize"]
