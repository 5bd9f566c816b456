"""`python -m cli ...` runs the `tintype` console script."""

import sys

from cli.main import main

sys.exit(main())
