"""Triage Gate: the shared package, shipped to every function as a Lambda layer.

Domain modules (``intake``, ``messages``, ``config``) never import boto3 or vendor SDKs; only
``adapters`` talks to the outside, and ``wiring`` is the one place that chooses adapters.
"""

__version__ = "0.1.0"
