"""Adapters: the only modules that talk to AWS and vendors. Each implements a port in ``ports``."""
