"""One module per ``spectral-edge`` subcommand, each with ``register(subparsers)``."""
