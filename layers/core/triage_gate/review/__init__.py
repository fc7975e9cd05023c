"""The exception queue worked from Slack: review messages, one-click outcomes, the feedback loop."""
