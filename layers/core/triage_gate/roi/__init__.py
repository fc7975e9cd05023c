"""ROI: turnaround, hours recovered, rework and escalations per workflow and week, against the baseline."""
