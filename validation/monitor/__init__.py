"""The streaming rolling-window Gram monitor (``GramMonitor``) for any PyTorch loop."""

from spectral_edge.validation.monitor.gram import ATTENTION_PATTERN, GramMonitor, select_parameters

__all__ = ["ATTENTION_PATTERN", "GramMonitor", "select_parameters"]
