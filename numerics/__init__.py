"""NumPy/SciPy layer: spectral statistics, gap ODEs, the exact discrete simulator, fits.

May import ``theory`` (for lambdified right-hand sides), never ``validation`` or torch.
``spectral_edge.numerics.spectra`` holds the one definition of every spectral statistic.
"""
