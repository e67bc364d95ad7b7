"""Fixtures for the reference target tests (helpers live in refhelpers.py)."""

import pytest

from refhelpers import InProcess


@pytest.fixture
def ref():
    return InProcess()


@pytest.fixture(params=["current", "2019-12"])
def edition(request):
    return request.param
