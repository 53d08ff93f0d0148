"""The streaming rolling-window Gram monitor (``GramMonitor``) for any PyTorch loop.

Rooms: :mod:`.gram` (the monitor), :mod:`.selection` (which parameters), :mod:`.storage` and
:mod:`.sketch` (one class per storage mode), :mod:`.records` (window statistics, history,
kept Grams), :mod:`.readout` (the readers), :mod:`.state` (checkpoint form and checks),
:mod:`.settings` (argument checks), :mod:`.shards` (the sum over a shard group).
"""

from spectral_edge.validation.monitor.gram import GramMonitor
from spectral_edge.validation.monitor.selection import ATTENTION_PATTERN, select_parameters

__all__ = ["ATTENTION_PATTERN", "GramMonitor", "select_parameters"]
