"""GitHub step summary: the verdict, its target and its problems folded by cause, appended to
$GITHUB_STEP_SUMMARY.

The full report stays a file; the summary is capped at 1 MiB (GitHub's limit per step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List

from readiness.judge.merge import Matrix
from readiness.judge.verdict import Cause, Effect, Verdict
from readiness.render.common import Context, Output, causes_by_effect, scope_lines
from readiness.render.markdown import md

LIMIT_BYTES = 1024 * 1024
_SECTIONS = ((Effect.NO_GO, "Blocking"), (Effect.INCOMPLETE, "Missing evidence"),
             (Effect.INCONCLUSIVE, "INCONCLUSIVE"), (Effect.WAIVED, "Waived"), (Effect.WARNING, "Warnings"))
_NOTE = "\n\n_Summary cut to fit GitHub's 1 MiB limit: the full report is in report.md and report.html._\n"


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    lines = [f"## readiness: {verdict.state.value}", "", f"**{md(verdict.target.title())}**: "
             f"run `{md(matrix.run_id or 'none')}`, {md(verdict.policy_label)}, exit code {verdict.exit_code}.", ""]
    groups = causes_by_effect(verdict)
    for effect, title in _SECTIONS:
        causes = groups.get(effect)
        if causes:
            lines += [f"### {title}", ""] + [line for cause in causes for line in _items(cause)] + [""]
    lines += ["### Scope", ""] + [f"- {md(line)}" for line in scope_lines(verdict)]
    return [Output("github-summary.md", cap("\n".join(lines) + "\n", LIMIT_BYTES))]


def _items(cause: Cause) -> List[str]:
    return [f"- {md(cause.text)}"] + ([f"  - {md(cause.why)}"] if cause.why else [])


def cap(text: str, limit: int) -> str:
    """`text` cut at a line boundary so that it, with a closing note, fits in `limit` bytes."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(_NOTE.encode("utf-8"))
    head = data[:room].decode("utf-8", errors="ignore")
    return head[: head.rfind("\n") + 1] + _NOTE


def append(outputs: List[Output]) -> List[str]:
    """Append to $GITHUB_STEP_SUMMARY when set; otherwise write nothing."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return []
    with Path(target).open("a", encoding="utf-8") as handle:
        for output in outputs:
            handle.write(output.text)
    return [target]
