"""PyTorch layer: the rolling-window Gram monitor, tasks, models, optimizers, the training
runner and the ``spectral-edge`` command line. May import ``numerics`` and ``theory``."""
