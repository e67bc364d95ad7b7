import pytest


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run from a temporary directory (the cleanup ledger and default report dir land there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
