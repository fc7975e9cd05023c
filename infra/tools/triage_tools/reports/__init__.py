"""The reports operators read: ``triage eval`` (:mod:`.eval`) and ``triage report`` (:mod:`.roi`)."""
