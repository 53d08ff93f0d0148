"""One module per ``spectral-edge`` subcommand, each with ``configure(parser)`` (adds the
arguments and sets ``func``); ``validation.cli.COMMANDS`` lists them with their help lines."""
