#!/usr/bin/env python3
"""`python -m conformance.targets.emulators`, kept under this path for command lines that name it
(tox.ini's gate-moto, examples/github-actions, the README)."""

import sys

from conformance.targets.emulators import main

if __name__ == "__main__":
    sys.exit(main())
