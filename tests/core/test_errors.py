"""Domain errors cross process boundaries as themselves."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from core.errors import Conflict, Invalid, NotFound


def _refuse(field: str) -> None:
    raise Invalid(field, "one of day, week")


@pytest.mark.parametrize("kind", [Invalid, NotFound, Conflict])
def test_a_domain_error_survives_pickling(kind: type) -> None:
    error = pickle.loads(pickle.dumps(kind("model", "unknown model 'x'")))
    assert type(error) is kind
    assert (error.field, error.reason, str(error)) == (
        "model",
        "unknown model 'x'",
        "model: unknown model 'x'",
    )


def test_one_raised_in_a_worker_process_reaches_the_caller() -> None:
    with ProcessPoolExecutor(1) as pool, pytest.raises(Invalid) as info:
        pool.submit(_refuse, "season").result()
    assert info.value.field == "season"
