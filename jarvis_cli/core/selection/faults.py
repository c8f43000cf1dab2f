"""Which failed attempts are the model's own fault, for reliability and cooldowns.

Every attempt is recorded in `calls` with its outcome (`error_class`), and `jarvis
stats` / `jarvis log` show all of them. Selection judges a model only on the
attempts that say something about the model:

- counted (the model's fault): server errors and timeouts (`unavailable`),
  rate limits (`rate_limited`), dropped or truncated streams and malformed answers
  (`bad_response`, `stream_interrupted`), answers that do not match the request's
  schema (`bad_output`), and any other provider failure (`provider_error`);
- not counted: the user stopping the request (`interrupted`, Ctrl-C), budget
  refusals (`budget`; refused before sending, so normally not recorded at all), a
  missing or rejected key (`auth`, `no_key`: the key's fault, handled per provider),
  and a 4xx that the request caused (`bad_request`, `rejected`, `context_too_long`,
  `not_found`).

Successful attempts always count.
"""

from __future__ import annotations

# error_class values that are not the model's fault (see the module docstring).
NOT_MODEL_FAULTS = (
    "interrupted",
    "budget",
    "auth",
    "no_key",
    "bad_request",
    "rejected",
    "context_too_long",
    "not_found",
)

# Failures after which a model is worth resting (a cooldown), not the request fixing:
# a subset of the model's faults.
COOLDOWN_FAULTS = ("rate_limited", "unavailable", "bad_response")


def sql_list(classes: tuple[str, ...]) -> str:
    """`'a', 'b'` for an SQL IN list (the names are constants, never user input)."""
    return ", ".join(f"'{c}'" for c in classes)


# An SQL condition on a `calls` row: does it count for the model's reliability?
JUDGED_SQL = f"(ok = 1 OR error_class IS NULL OR error_class NOT IN ({sql_list(NOT_MODEL_FAULTS)}))"


def is_model_fault(ok: bool, error_class: str | None) -> bool:
    """Whether a failed attempt counts against its model (False for a success)."""
    return not ok and error_class not in NOT_MODEL_FAULTS
