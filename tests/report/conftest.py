"""Fixtures for the report tests (helpers live in report_synthetic.py)."""

from __future__ import annotations

import pytest

from report_synthetic import write_run


@pytest.fixture
def run_dir(tmp_path):
    writer, _ = write_run(tmp_path)
    return writer.report_dir
