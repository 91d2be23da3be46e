"""`python -m bot` is the same program as the `fanbot` console script."""

import sys

from .cli import main

sys.exit(main())
