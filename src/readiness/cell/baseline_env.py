"""The baseline a cell may be given beside the current target (`--baseline-ref REF`): the environment
variables validate sets for the cell's pytest, and the record a timed check reads them into."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

BASELINE_REF_ENV = "READINESS_BASELINE_REF"  # the ref as the user gave it ("HEAD", "main", "v1.2")
BASELINE_SHA_ENV = "READINESS_BASELINE_SHA"  # its full commit sha
BASELINE_PYTHON_ENV = "READINESS_BASELINE_PYTHON"  # the interpreter of the baseline's environment
BASELINE_PYTHONPATH_ENV = "READINESS_BASELINE_PYTHONPATH"  # optional: PYTHONPATH for the baseline's processes
BASELINE_ERROR_ENV = "READINESS_BASELINE_ERROR"  # set instead of PYTHON: why the baseline was not built here
BASELINE_ENV_NAMES = (BASELINE_REF_ENV, BASELINE_SHA_ENV, BASELINE_PYTHON_ENV, BASELINE_PYTHONPATH_ENV,
                      BASELINE_ERROR_ENV)


@dataclass(frozen=True)
class Baseline:
    """The target at a baseline ref, as this cell has it: installed (`python`) or not (`error`)."""

    ref: str
    sha: str
    python: Optional[str] = None
    pythonpath: Optional[str] = None
    error: Optional[str] = None

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    def argv(self, current_argv: Sequence[str]) -> List[str]:
        """The baseline's command for a command started by the current interpreter: argv[0] replaced
        by the baseline's interpreter (a command started otherwise needs its own baseline_argv)."""
        if self.python is None:
            raise ValueError(f"the baseline at {self.ref} was not built in this cell: {self.error}")
        if not current_argv:
            raise ValueError("an empty command has no baseline")
        return [self.python, *current_argv[1:]]

    def env(self, current_env: Optional[Mapping[str, str]]) -> Optional[Dict[str, str]]:
        """The baseline's environment: the current one, with PYTHONPATH set where the baseline has its own."""
        if self.pythonpath is None:
            return None if current_env is None else dict(current_env)
        base = dict(os.environ if current_env is None else current_env)
        base["PYTHONPATH"] = self.pythonpath
        return base


def baseline_from(environ: Mapping[str, str]) -> Optional[Baseline]:
    """The baseline validate gave this cell, or None when it gave none (no READINESS_BASELINE_REF)."""
    ref = environ.get(BASELINE_REF_ENV, "")
    if not ref:
        return None
    python = environ.get(BASELINE_PYTHON_ENV) or None
    error = environ.get(BASELINE_ERROR_ENV) or None
    if python is None and error is None:
        error = f"{BASELINE_REF_ENV} is set but neither {BASELINE_PYTHON_ENV} nor {BASELINE_ERROR_ENV} is"
    return Baseline(ref=ref, sha=environ.get(BASELINE_SHA_ENV, ""), python=None if error else python,
                    pythonpath=environ.get(BASELINE_PYTHONPATH_ENV) or None, error=error)
