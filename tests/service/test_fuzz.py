"""Fuzzing a real server from its own OpenAPI document with schemathesis.

For every operation, schema-valid and schema-violating requests are generated (well over 1,000 in all).
No answer may be a 5xx, and every answer must conform to the document: documented status code, content
type, headers and body schema, and 401 whenever the key is left out. The server has API and admin keys
and lowered limits, so those parts of the document are exercised too. Runs are derandomized, so CI sees
the same requests every time.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .launch import Launched, serving

ADMIN_KEY = "fuzz-admin-key-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}", "X-API-Key": ADMIN_KEY}  # admin keys are valid on every route
EXAMPLES = 90  # per operation and mode (fewer where there is less to vary)
MIN_REQUESTS = 1000
# Fixed, not generated: the keys (so that requests reach the routes; schemathesis checks separately that
# leaving them out gets 401), and a deadline too long to turn into a 504.
FIXED_HEADERS = AUTH | {"X-Deadline-Ms": "120000"}
# Schema-valid requests may still be refused for reasons the document cannot express (a label on an
# unconditional model, an unknown model name): those are 4xx with a reason, not "rejected valid data".
EXCLUDED = [positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzz_server(served_models_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    limits = {"max_n": 8, "max_steps": 8, "max_sweep": 8, "max_terms": 3, "max_term_seeds": 4}
    keys = {"admin_keys": ADMIN_KEY, "api_keys": "fuzz-api-key-0123456789"}
    with serving(served_models_dir, log, max_batch=16, **limits, **keys) as server:
        yield server


@st.composite
def cases(draw: st.DrawFn, operation: Any, mode: GenerationMode, names: list[str]) -> Any:
    """Generated cases; valid ones name a served model half the time, so models are really sampled."""
    case = draw(operation.as_strategy(generation_mode=mode, headers=FIXED_HEADERS))
    if mode is GenerationMode.POSITIVE:
        if "name" in (case.path_parameters or {}) and draw(st.booleans()):
            case.path_parameters["name"] = draw(st.sampled_from(names))
        if isinstance(case.body, dict) and draw(st.booleans()):
            case.body["model"] = draw(st.sampled_from(names))
    return case


def fuzz(server: Launched, operation: Any, mode: GenerationMode, names: list[str], sent: Counter, problems: list):
    @given(case=cases(operation, mode, names))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=server.url, timeout=60)
        sent[operation.label] += 1
        try:
            case.validate_response(response, headers=AUTH, excluded_checks=EXCLUDED)
        except BaseException as failure:  # schemathesis reports check failures as an exception group
            if isinstance(failure, KeyboardInterrupt):
                raise
            problems.append(f"{operation.label} [{mode.value}] {failure}")

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters, no body)
        run()


def test_fuzz_every_operation_no_5xx_and_every_answer_conforms(fuzz_server: Launched):
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json", headers=AUTH)
    names = [m["name"] for m in httpx.get(f"{fuzz_server.url}/models", headers=AUTH).json()["models"]]
    operations = [result.ok() for result in schema.get_all_operations()]
    sent: Counter[str] = Counter()
    problems: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(fuzz_server, operation, mode, names, sent, problems)
    distinct = {re.sub(r"\d+", "N", p.split("Reproduce")[0]): p for p in problems}
    assert not problems, f"{len(problems)} non-conforming answers:\n" + "\n\n".join(list(distinct.values())[:8])
    assert sum(sent.values()) >= MIN_REQUESTS, sent
    assert len(operations) >= 15 and all(sent[op.label] for op in operations), sent
    metrics = httpx.get(f"{fuzz_server.url}/metrics", headers=AUTH).text
    served_5xx = r'gan_http_requests_total\{method="\w+",route="(?!/readyz")[^"]*",status="5'  # /readyz: 503 at start
    assert not re.search(served_5xx, metrics), metrics
    assert fuzz_server.proc.poll() is None
