"""`python -m conformance`: the same CLI as `kms-conformance`."""

import sys

from conformance.cli import main

sys.exit(main())
