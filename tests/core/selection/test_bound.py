"""The token bound's rule, its calibration fit, and the output limit (issue 23)."""

from __future__ import annotations

import random

from jarvis_cli.core.selection.bound import PER_MESSAGE, PER_REQUEST, InputShape, fit
from jarvis_cli.core.selection.cost import output_limit


def test_the_rule_counts_utf8_bytes_messages_tools_and_schema() -> None:
    shape = InputShape.of(["hi", "你好"], tools=[{"type": "function"}], schema={"a": 1})
    assert (shape.ascii_bytes, shape.other_bytes, shape.messages) == (2, 6, 2)
    assert shape.rule_bound() == 2 + 6 + 2 * PER_MESSAGE + PER_REQUEST + shape.extra_tokens
    assert shape.extra_tokens == len('{"type": "function"}') + len('{"a": 1}') + 2 * 16


def test_output_limit_explicit_wins_default_capped_by_the_model() -> None:
    assert output_limit("chat", None, 1024, None) == 1024
    assert output_limit("chat", None, 1024, 200) == 200
    assert output_limit("chat", 5000, 1024, 200) == 5000  # an explicit --max-tokens wins
    assert output_limit("embedding", None, 1024, None) == 0


def test_the_fit_is_an_envelope_over_every_sample_and_tighter_than_the_rule() -> None:
    rng = random.Random(7)
    samples = []
    for _ in range(40):
        a, o, m = rng.randint(0, 400), rng.choice([0, 0, rng.randint(0, 300)]), rng.randint(1, 6)
        billed = 25 + 5 * m + round(a / 3.7) + round(o / 2.2)
        samples.append((a, o, m, billed))
    f = fit(samples, len(samples))
    for a, o, m, billed in samples:
        shape = InputShape(a, o, m)
        assert billed <= f.bound(shape) <= shape.rule_bound()
        assert f.bound(shape) <= 2 * billed + 20
    assert 0 < f.typical <= 1


def test_an_unseen_kind_of_bytes_keeps_the_rule_ratio() -> None:
    english = [(200, 0, 1, 80), (40, 0, 1, 30), (400, 0, 2, 140)]
    f = fit(english, 3)
    assert f.other_ratio == 1.0 and f.ascii_ratio < 1.0
    assert f.bound(InputShape(0, 300, 1)) >= 300  # CJK never seen: still bytes-bounded
