"""Training runs: configuration, tasks, models, optimizers, the instrumented training loop,
the run directory and the grid engine. Importing this package imports nothing heavy."""
