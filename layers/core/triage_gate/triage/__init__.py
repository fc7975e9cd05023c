"""Guarded classification: from a TicketEvent to a decision (apply, review or record only)."""
