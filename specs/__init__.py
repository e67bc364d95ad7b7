"""The committed spec data, shipped inside the package as `conformance.specs`.

Read it with importlib.resources (`conformance.spec.data`), never by a path
relative to the checkout: an installed wheel has no checkout.
"""
