"""`python -m readiness` runs the command line."""

import sys

from readiness.cli import main

sys.exit(main())
