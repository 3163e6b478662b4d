"""``python -m conv1dt.bench``: see :mod:`conv1dt.bench`."""
import sys

from .cli import main

sys.exit(main())
