"""`triage backtest`: replay a pulled help-desk history (``triage history pull``'s DIR) through the production
decision code on a time split, and report what Triage Gate would have done against the measured baseline.

``history`` reads DIR, ``split`` cuts it by time (never deciding on a ticket older than a training ticket),
``replay`` trains, calibrates and decides, ``measures`` turns the decisions into the report's figures,
``baseline`` writes the measured ``roi_baseline`` into the policy, ``cli`` is the command.
"""
