"""The target a verdict speaks of, for the title of every report: as the cells recorded it, else
as the policy names it (`target.name`, then the `[project]` table beside the policy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

from readiness.judge.matrix import Matrix
from readiness.judge.policy import Policy
from readiness.model.document import Target


@dataclass(frozen=True)
class TargetName:
    """Name, version, commits and dirty flags of the target, and where the name came from."""

    name: Optional[str] = None
    version: Optional[str] = None
    commits: Tuple[str, ...] = ()
    dirty: Optional[bool] = None
    source: str = "the cells"

    def title(self) -> str:
        """`mylib 1.4.0 (commit 0a1b2c3d4e5f, uncommitted changes)`, or `target not recorded`."""
        if not self.name:
            return "target not recorded"
        facts = self.facts()
        head = f"{self.name} {self.version or ''}".strip()
        return f"{head} ({', '.join(facts)})" if facts else head

    def facts(self) -> List[str]:
        facts = []
        if len(self.commits) == 1:
            facts.append(f"commit {self.commits[0][:12]}")
        elif self.commits:
            facts.append(f"commits differ between cells: {', '.join(c[:12] for c in self.commits)}")
        if self.dirty is not None:
            facts.append("uncommitted changes" if self.dirty else "no uncommitted changes")
        if self.source != "the cells":
            facts.append(f"named by {self.source}")
        return facts


def target_of(matrix: Matrix, policy: Policy) -> TargetName:
    """The target as the cells recorded it; the policy's names fill in what no cell recorded."""
    targets = [doc.target for doc in matrix.documents.values()]
    commits = tuple(sorted({t.commit for t in targets if t.commit}))
    dirty = _dirty(targets)
    named = next((t for t in targets if t.name), None)
    if named is not None:
        return TargetName(named.name, named.version, commits, dirty)
    name, version, source = _from_policy(policy)
    return TargetName(name, version, commits, dirty, source)


def _dirty(targets: Iterable[Target]) -> Optional[bool]:
    """True when any cell saw uncommitted changes; None when no cell could tell."""
    flags = [t.dirty for t in targets if t.dirty is not None]
    return any(flags) if flags else None


def _from_policy(policy: Policy) -> Tuple[Optional[str], Optional[str], str]:
    where = policy.source if not policy.is_default else "pyproject.toml"
    if policy.target.name:
        # [project]'s version is the target's only when [project] names the target itself.
        version = policy.project.version if policy.project.name == policy.target.name else None
        return policy.target.name, version, f"target.name in {where}"
    if policy.project.name:
        return policy.project.name, policy.project.version, f"[project] in {where}"
    return None, None, "the cells"
