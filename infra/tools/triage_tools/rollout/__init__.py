"""``triage rollout status`` and ``triage rollout promote``: the promotion gate, operated.

The evidence and the bar are the runtime's own (:mod:`triage_gate.rollout_status`, :mod:`triage_gate.rollout_gate`),
so the weekly digest says what these commands say. Here: where the flags live and how a change is written
(:mod:`.flags`: the local flags file, or AppConfig — a hosted configuration version and a deployment with the
stack's strategy), the change itself (:mod:`.change`), the audit trail (:mod:`.audit`), the commands
(:mod:`.cli`, :mod:`.commands`; where each of them is: :mod:`.sources`).
"""
