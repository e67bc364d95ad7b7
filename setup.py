"""Adds `conformance.specs` (the committed spec data in specs/) to the discovered packages.

pyproject.toml cannot both discover packages and add one mapped from another folder;
everything else about the build is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["conformance*"]), "conformance.specs"])
