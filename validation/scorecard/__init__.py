"""The scorecard: predictions P1–P16 scored on run directories, the report and its figures.

Nothing here imports torch: a scorecard can be regenerated on a machine without it.
"""
