"""Running a validation: plans, the run folder, processes, lanes, services, coverage, validate."""
