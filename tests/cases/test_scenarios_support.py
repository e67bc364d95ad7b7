"""Shared set-up for the H4b case tests: an in-process reference target, a driver, a context."""

from __future__ import annotations

import contextlib

from conformance.cases.base import CaseContext, CollectContext
from conformance.cases.kernel import run_case
from conformance.spec import edition_model
from conformance.spec.requirements import load_requirements
from conformance.targets import StoreDriver, config_from_options, open_target


def collect_context(edition: str, seed: int = 0) -> CollectContext:
    return CollectContext(edition=edition, model=edition_model(edition),
                          requirements=load_requirements(edition=edition), seed=seed)


@contextlib.contextmanager
def _context(tmp_path, config, edition: str, *, faults=(), strictness: str, seed: int, options):
    """A CaseContext on the target `config` names; its stores and the target are cleaned up after."""
    target = open_target(config, edition=edition, faults=list(faults), announce=lambda line: None)
    driver = StoreDriver(target, ledger_dir=tmp_path / "ledger")
    ctx = CaseContext(target=target, edition=edition, strictness=strictness, seed=seed, driver=driver,
                      model=edition_model(edition), options=dict(options or {}))
    try:
        yield ctx
    finally:
        driver.cleanup()
        target.close()


def reference_context(tmp_path, edition: str = "current", *, faults=(), strictness: str = "code", seed: int = 0,
                      options=None):
    return _context(tmp_path, config_from_options(target="reference"), edition, faults=faults,
                    strictness=strictness, seed=seed, options=options)


def run(case, ctx):
    return run_case(case, ctx)


def stores_left(ctx) -> list:
    obs = ctx.target.call("DescribeCustomKeyStores", {})
    return (obs.body or {}).get("CustomKeyStores") or []


@contextlib.contextmanager
def served_reference(edition: str = "current", faults=(), control: bool = False):
    """The reference emulator served on a free 127.0.0.1 port (a URL target)."""
    import threading

    from werkzeug.serving import make_server

    from conformance.reference import ReferenceConfig, make_app

    app = make_app(ReferenceConfig(edition=edition, faults=tuple(faults), control_api=control))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def url_context(tmp_path, url: str, edition: str = "current", *, strictness: str = "code", seed: int = 0,
                options=None):
    return _context(tmp_path, config_from_options(endpoint_url=url), edition,
                    strictness=strictness, seed=seed, options=options)
