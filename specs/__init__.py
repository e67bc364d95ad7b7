"""The committed spec data, shipped inside the package as `conformance.specs`.

conformance/specs is a symlink to this folder. Read it with importlib.resources
(`conformance.spec.data`), never by a path relative to the checkout: an installed
wheel has no checkout.
"""
