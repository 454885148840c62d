"""The target of the speed benchmark: a little pure-Python work to check."""

import hashlib

ROUNDS = 5500  # about 2 ms of arithmetic on CPython 3.10 to 3.13 on this 2-core machine


def churn(seed: int) -> str:
    """Fold `seed` through ROUNDS rounds of arithmetic and sha256; deterministic."""
    value = seed
    for i in range(ROUNDS):
        value = (value * 1103515245 + 12345 + i) % (1 << 31)
    return hashlib.sha256(str(value).encode()).hexdigest()
