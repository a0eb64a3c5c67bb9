"""The job registry: every loop is one registered job with a builder that resolves."""

from __future__ import annotations

import importlib

import pytest

from autotrader.core.errors import NotFoundError
from autotrader.core.jobs import JobRegistry, JobSpec
from autotrader.jobs import JOBS


@pytest.mark.parametrize("spec", list(JOBS), ids=lambda spec: spec.name)
def test_every_registered_job_names_a_builder_that_exists(spec):
    module_name, _, function = spec.builder.partition(":")
    assert callable(getattr(importlib.import_module(module_name), function))
    assert spec.interval > 0
    assert spec.summary


def test_the_registry_holds_every_loop_of_the_product():
    from autotrader.desk.vocabulary import DeskWorker

    assert {"ingest", "decisions", "mark-to-market", "housekeeping"} <= set(JOBS.names)
    assert {"desk-heartbeat", *(worker.job for worker in DeskWorker)} <= set(JOBS.names)


def test_a_job_cannot_be_registered_twice():
    spec = JobSpec("x", "does x", 1.0, "autotrader.core.housekeeping:housekeeping_job")
    with pytest.raises(ValueError, match="registered twice: x"):
        JobRegistry((spec, spec))


def test_an_unknown_job_is_a_not_found_error_listing_the_known_ones():
    with pytest.raises(NotFoundError, match="registered: ingest, decisions"):
        JOBS.get("nope")
