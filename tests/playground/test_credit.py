"""A model's training-data credit (issue #36: Twemoji is CC-BY 4.0) is shown wherever the playground shows its
samples: under every result and on its model card; a model without one shows none."""

from __future__ import annotations

from typing import Any

from tests.playground.test_yourimage import open_view


def test_a_credit_is_shown_under_every_result_and_on_the_card(
    page: Any, server_url: str, models: dict[str, dict[str, Any]]
) -> None:
    credited = [m for m in models.values() if m.get("credit")]
    assert credited, "no served model carries a credit (the emoji models do)"
    m = credited[0]
    open_view(page, server_url, "generate", f"model={m['name']}&seed=3&n=4", '"seed":3')
    assert page.inner_text("#view-generate .output .credit") == m["credit"]
    assert m["credit"] in page.inner_text("#card-facts")
    open_view(page, server_url, "interpolate", f"model={m['name']}&seed_a=1&seed_b=2", '"seed_a":1')
    assert page.inner_text("#view-interpolate .output .credit") == m["credit"]
    plain = next(x for x in models.values() if x["kind"] == "generator" and not x.get("credit"))
    open_view(page, server_url, "generate", f"model={plain['name']}&seed=5&n=4", '"seed":5')
    assert page.query_selector("#view-generate .output .credit") is None
    assert "Credit" not in page.inner_text("#card-facts")
