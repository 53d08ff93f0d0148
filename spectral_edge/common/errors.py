"""The exception every layer raises for input a user can get wrong.

The CLI turns it (and any ``ValueError``) into one line on stderr and exit status 2.

>>> try:
...     raise InputError("window must be >= 2, got 1")
... except ValueError as err:
...     print(err)
window must be >= 2, got 1
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: NaN/Inf or zero updates, wrong shapes, W < 2, corrupt files, ..."""
