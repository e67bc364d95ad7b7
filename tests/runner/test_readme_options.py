"""The README documents every `kms-conformance run` option and every exit code our tools use."""

from __future__ import annotations

import re
from pathlib import Path

import conformance.errors as errors
from conformance.runner.options import OPTIONS, options_table_markdown

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_option_table_is_the_option_table():
    block = re.search(r"<!-- run-options: begin -->\n(.*?)\n<!-- run-options: end -->", README, re.S)
    assert block, "README lost its run-options markers"
    assert block.group(1) == options_table_markdown(), "regenerate with conformance.runner.options.options_table_markdown()"
    for option in OPTIONS:
        assert f"| `{option.flags[0]}" in block.group(1), option.field


def test_the_readme_lists_every_exit_code():
    codes = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert codes >= {0, 1, 2, 3, 130}
    listed = {int(m) for m in re.findall(r"^\| (\d+) \| ", README, re.M)}
    assert listed == codes
