"""A synthetic I/O-bound check suite: about a second of waiting per cell, like network checks."""

import time

import pytest


@pytest.mark.parametrize("n", range(10))
@pytest.mark.check(id="io.wait", category="integration")
def test_waits_like_a_network_call(n: int) -> None:
    time.sleep(0.1)
