"""``python -m bnrates.bench``: the same as ``python -m bnrates bench`` (see :mod:`bnrates.bench`)."""

import sys

from . import main

sys.exit(main())
