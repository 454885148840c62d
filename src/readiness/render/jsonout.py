"""JSON output: the verdict (kind readiness/verdict, what a deploy gate reads) and the matrix."""

from __future__ import annotations

from typing import List

from readiness.judge import merge
from readiness.judge import verdict as verdict_module
from readiness.judge.merge import Matrix
from readiness.judge.verdict import Verdict
from readiness.render.common import Context, Output


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    return [Output("verdict.json", verdict_module.dumps(verdict)), Output("matrix.json", merge.dumps(matrix))]
