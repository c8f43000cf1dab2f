"""The exit-6 refusal: which models came closest to qualifying, and the fix for each.

Split from qualify.py (which decides the exclusions) so each stays one idea.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from jarvis_cli.core.errors import NoSuitableModelError
from jarvis_cli.core.selection.types import Exclusion, SelectionRequest


def exclusion_summary(excluded: Sequence[Exclusion], limit: int = 3) -> list[tuple[str, int]]:
    """The most common exclusion categories with counts, most common first."""
    counts = Counter(e.code for e in excluded)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# Exclusions of models that a small change would make qualify, nearest first, with the
# one-line fix for each; "no key" and the like are only counted after them.
CLOSEST_CODES = (
    "type",
    "cooldown",
    "price_unknown",
    "budget",
    "min_quality",
    "latency",
    "context",
    "capability",
    "variant",
    "version",
    "unavailable",
)
# A "type" exclusion is a near miss only when the type is unknown (a name that says
# "not chat"): `models set --type` is then the fix. A model of a known other kind (an
# embedding model for a chat request) is no near miss: offering to make it a chat model
# led every refusal of a fresh install, whatever limit the user had set.
_TYPE_NEAR_MISS = "type unknown"
# Codes about the provider rather than the model: counted, never listed first.
PROVIDER_CODES = frozenset({"no_key", "not_set_up", "provider", "provider_unknown"})
CLOSEST_SHOWN = 5


class NoModelFound(NoSuitableModelError):
    """NoSuitableModelError that keeps every exclusion, for `select --explain`."""

    def __init__(self, message: str, *, hint: str | None, excluded: Sequence[Exclusion]) -> None:
        super().__init__(message, hint=hint)
        self.excluded = tuple(excluded)


def fix_for(e: Exclusion, request: SelectionRequest) -> str:
    """The one-line fix for a model excluded by `e`."""
    code, model_id = e.code, e.model_id
    if code == "type":
        return f"jarvis models set {model_id} --type {request.kind}"
    if code == "cooldown":
        return e.reason.rpartition("(")[2].rstrip(")") or "wait for the cooldown to end"
    if code == "price_unknown":
        return f"jarvis models set {model_id} --input-price USD --output-price USD"
    if code == "budget":
        return f"raise --max-cost to {e.reason.split()[1]}"
    if code == "min_quality":
        if "cost strategy" in e.reason:
            return "--min-quality 0"
        return (
            f"lower --min-quality to {-_distance(e):.2f}" if _distance(e) else "lower --min-quality"
        )
    if code == "latency":
        needed = _latency_ms(e)
        return (
            f"raise --max-latency to {needed:.0f} or more, lower --output-tokens, or measure "
            f"it: `jarvis models probe {model_id}`"
        )
    if code == "context":
        return "shorten the input or lower --output-tokens"
    if code == "capability":
        return "drop the --capability it lacks, if the request can do without it"
    if code == "variant":
        return f"--model {model_id}"
    if code == "version":
        return "--all-versions"
    if code == "unavailable":
        return f"jarvis models sync {model_id.partition('/')[0]}"
    return "see `jarvis select --all --explain`"


def _binding(request: SelectionRequest) -> tuple[str, ...]:
    """The exclusion codes of the limits this request sets (--max-latency, --max-cost,
    --min-quality): relaxing one is the fix the user most likely wants, so they lead
    (a budget refusal used to lead with `models set dall-e-3 --type chat`)."""
    codes: list[str] = []
    if request.max_latency_ms is not None:
        codes.append("latency")
    if request.max_cost_usd is not None:
        codes += ["budget", "price_unknown"]
    if request.min_quality is not None:
        codes.append("min_quality")
    return tuple(codes)


def _distance(e: Exclusion) -> float:
    """How far a model is from its limit, so that the nearest comes first: the expected
    latency, the estimated cost, or (negated) the quality its reason states; else 0
    (until then a budget refusal offered the first model by id, not the cheapest)."""
    if e.code == "latency":
        return _latency_ms(e)
    words = e.reason.split()
    try:
        if e.code == "budget":  # "estimated $0.002501 > max $0.001"
            return float(words[1].lstrip("$"))
        if e.code == "min_quality":  # "quality 0.50 (source) < --min-quality 0.9"
            return -float(words[1])
    except (IndexError, ValueError):
        pass
    return 0.0


def _latency_ms(e: Exclusion) -> float:
    """The expected latency a `latency` exclusion states ("expected latency 3,700 ms ...")."""
    words = e.reason.split()
    try:
        return float(words[2].replace(",", ""))
    except (IndexError, ValueError):
        return 0.0


def no_suitable_model(
    request: SelectionRequest,
    excluded: Sequence[Exclusion],
    total: int,
    usable_providers: Mapping[str, bool] | None = None,
) -> NoModelFound:
    """The exit-6 error: the models closest to qualifying with their fixes first (those
    of providers that can be called now), then the counts of the other reasons."""
    if total == 0:
        return NoModelFound(
            "no suitable model: the registry is empty",
            hint="run `jarvis models sync` or add a provider with `jarvis providers add`",
            excluded=excluded,
        )
    usable = usable_providers or {}
    first = _binding(request)  # the limits the user set bind: their fixes first
    codes = (*first, *(c for c in CLOSEST_CODES if c not in first))
    rank = {code: k for k, code in enumerate(codes)}
    close = sorted(
        (
            e
            for e in excluded
            if e.code in rank
            and usable.get(e.model_id.partition("/")[0], not usable)
            and (e.code != "type" or e.reason.startswith(_TYPE_NEAR_MISS))
        ),
        key=lambda e: (rank[e.code], _distance(e), e.model_id),
    )
    lines = [
        f"no suitable model for this {request.kind} request: {total} models excluded",
    ]
    if close:
        lines.append("closest to qualifying:")
        seen: set[str] = set()
        for e in close:
            if len(seen) >= CLOSEST_SHOWN:
                break
            if e.code in seen and len(close) > CLOSEST_SHOWN:
                continue  # one per reason first, so different fixes are shown
            seen.add(e.code)
            lines.append(f"  {e.model_id}: {e.reason} -> {fix_for(e, request)}")
    by_code: dict[str, Exclusion] = {}
    for e in excluded:
        by_code.setdefault(e.code, e)
    counts = sorted(
        exclusion_summary(excluded, limit=len(by_code)),
        key=lambda kv: (kv[0] in PROVIDER_CODES, -kv[1], kv[0]),
    )
    parts = [
        f"{count} {code.replace('_', ' ')} (e.g. {by_code[code].model_id}: {by_code[code].reason})"
        for code, count in counts
    ]
    lines.append(f"exclusions by reason: {'; '.join(parts)}")
    return NoModelFound(
        "\n".join(lines),
        hint="relax the constraints, add a key (`jarvis keys add PROVIDER`), or see "
        "`jarvis select --all --explain`",
        excluded=excluded,
    )
