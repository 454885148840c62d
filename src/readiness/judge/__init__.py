"""Pure functions over documents: merge, policy, baselines, comparison, verdict."""
