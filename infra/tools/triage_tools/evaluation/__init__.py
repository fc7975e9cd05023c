"""Evaluation and calibration: replay labelled tickets through the production pipeline and measure it."""
