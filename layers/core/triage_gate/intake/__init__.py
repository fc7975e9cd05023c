"""Webhook intake: verify, validate, normalise, deduplicate and enqueue vendor events."""
