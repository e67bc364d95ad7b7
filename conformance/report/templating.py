"""The Jinja2 environment for the templates shipped in conformance/report/templates/."""

from __future__ import annotations

import json
from typing import Any

import jinja2


def script_json(value: Any) -> str:
    """JSON safe to place inside <script type="application/json"> (no '</script>' breakout)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace(
        "\u2028", "\\u2028").replace("\u2029", "\\u2029")


def environment(autoescape: bool = True) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=autoescape,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        undefined=jinja2.ChainableUndefined,  # partial results may lack optional keys
    )
    env.filters["script_json"] = lambda v: jinja2.utils.markupsafe.Markup(script_json(v))
    return env
