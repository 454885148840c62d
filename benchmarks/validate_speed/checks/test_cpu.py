"""A synthetic CPU-bound check suite: 300 checks of about 2 ms of pure Python work each, no sleeps."""

import pytest
from speed_target import churn


@pytest.mark.parametrize("seed", range(300))
def test_churn_gives_a_sha256_digest(seed: int) -> None:
    digest = churn(seed)
    assert len(digest) == 64 and int(digest, 16) >= 0
