"""Day zero: pull a help desk's history (`triage history pull`), measure its manual baseline, and replay it
through the production decision code (`triage backtest`). `files` is the contract between the two."""
