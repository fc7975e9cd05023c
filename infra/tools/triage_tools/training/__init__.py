"""Training the local model (``triage train``) and the metrics it reports; development time only.

Training needs numpy and scipy (imported when ``train`` runs); the model it writes is read by the pure-Python
inference in :mod:`triage_gate.localmodel`, which is what ships in the Lambda layer.
"""

from triage_tools.training.metrics import accuracy, expected_calibration_error, macro_f1
from triage_tools.training.train import train

__all__ = ["accuracy", "expected_calibration_error", "macro_f1", "train"]
