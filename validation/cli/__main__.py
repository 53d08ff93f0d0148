"""``python -m spectral_edge.validation.cli``: the same as the ``spectral-edge`` command."""

import sys

from spectral_edge.validation.cli import main

sys.exit(main())
