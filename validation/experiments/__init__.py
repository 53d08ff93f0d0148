"""Experiments built from runs and the scorecard: the demo and the scorecard's run plan."""
