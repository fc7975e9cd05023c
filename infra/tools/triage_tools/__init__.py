"""Triage Gate's operator and developer tools: the ``triage`` command, evaluation and calibration, training
the local model, the eval and ROI reports, and in-memory ports for tests and benchmarks.

Never shipped to AWS: it depends on ``triage_gate`` (the Lambda layer), and nothing in the layer imports it.
"""
