"""Generate jarvis_cli/data/quality.json: per catalog model, quality scores in 0..1.

    .venv/bin/python scripts/build_quality.py [--data DIR] [--check]

DIR defaults to ../shared/data/quality (beside the repository; see its README). The
catalog is the committed jarvis_cli/data/catalog.json (run build_catalog.py first).
`--check` exits 1 if the committed quality.json differs from what would be built.
Otherwise the file is written and the coverage is printed: per provider, how many
catalog chat models got a benchmark score, a family prior or nothing, and every
benchmark row that matched no catalog model.

The rules (each a judgment call, written down so it can be reviewed):

1. LiveBench. A category score is the mean of its tasks' scores (LiveBench's own
   definition); a task score of 0.0 is a failed run, not a measurement, and is left
   out like an empty cell. `overall` is the mean of the category scores other than
   instruction following: the 2026-06-25 table has no instruction-following tasks,
   so including it would make overalls from the two tables incomparable.
   Scores are divided by 100.
2. Names. A LiveBench row names a model *configuration*. `normalise_benchmark`
   strips configuration suffixes (CONFIG_SUFFIX: effort and thinking settings) and
   date suffixes, giving a base name; `catalog_key` lower-cases a catalog name,
   drops the organisation path and deployment tags (`-tput`, `-fp8`, `:free`) and a
   date suffix, and writes Claude versions with dashes and Fireworks' `k2p6` as
   `k2.6`. A base name scores every catalog model (under every provider) with the
   same key, plus the keys in ALIASES (names that differ for no rule-worthy reason).
3. Configurations. Rows of one base name are merged across tables: for the same
   configuration the newer table wins. Then the API default configuration is
   taken, because that is what jarvis gets when it sends a plain request: the
   unsuffixed (or `-base`) row when listed, else the vendor default in
   DEFAULT_CONFIG; else the per-category median of all listed configurations —
   never the best one.
4. Aider polyglot. Used only for models LiveBench does not score. Rows that pair two
   models (architect/editor, `+`) or name a moving alias (`deepseek-chat`,
   `*-latest`, `sonnet`) are skipped. Several rows of one model: rows run without
   effort/thinking flags are the default configuration, else the median.
   pass_rate_2 (percent of the 225 exercises solved within two tries) is put on
   LiveBench's scale with a least-squares line fitted on the models both score
   (one line for `coding`, one for `overall`; printed below), clipped to 0..1.
5. Family priors. A catalog chat model without a score gets the scores of the
   newest scored catalog model of the same models.dev family released on or before
   it (the rule "a newer release is at least as good as an older one": a model
   inherits from its predecessor, never from a successor). Ties go to the smallest
   model id. The model's name must bear its family out (`family_fits`: each word
   of the family starts a word of the name), as models.dev mislabels some.
   Speech, image and realtime models (NO_PRIOR) get no prior: text
   benchmarks say nothing about them. No family, no release date or no scored
   predecessor: no entry; the
   runtime then uses quality.DEFAULT_QUALITY with source "none".
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "quality"
CATALOG = REPO / "jarvis_cli" / "data" / "catalog.json"
TARGET = REPO / "jarvis_cli" / "data" / "quality.json"

# Newest first: for the same configuration the first table listing it wins.
LIVEBENCH_TABLES = (
    ("2026-06-25", "livebench_table_2026_06_25.csv"),
    ("2026-01-08", "livebench_table_2026_01_08.csv"),
)
LIVEBENCH_CATEGORIES = "livebench_categories_2026_01_08.json"
AIDER_FILE = "aider_polyglot_leaderboard.yml"
AIDER_SOURCE = "aider polyglot"
# Speech, image and realtime models share a family with text models in models.dev
# (gpt-audio is family "gpt") but the text benchmarks say nothing about them.
NO_PRIOR = re.compile(r"audio|realtime|tts|transcribe|image", re.IGNORECASE)
CATEGORY_NAMES = {
    "Reasoning": "reasoning",
    "Coding": "coding",
    "Agentic Coding": "agentic_coding",
    "Mathematics": "mathematics",
    "Data Analysis": "data_analysis",
    "Language": "language",
    "IF": "instruction_following",
}
NOT_IN_OVERALL = frozenset({"instruction_following"})
COVERAGE_PROVIDERS = (
    "openai",
    "anthropic",
    "gemini",
    "deepseek",
    "mistral",
    "xai",
    "groq",
    "together",
    "openrouter",
)

# Configuration suffixes of LiveBench names, stripped from the end one at a time.
CONFIG_SUFFIX = re.compile(
    r"-(?:thinking-(?:\d+k|auto)|(?:minimal|low|medium|high|xhigh|max)-effort"
    r"|minimal|low|medium|high|xhigh|highthinking|nothinking|base)$"
)
# Dates: 2025-12-11, 20251101, 11-2025 (month-year), 06-05 (month-day).
DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{4}|[01]\d-[0-3]\d)$")
CATALOG_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")
# The configuration the vendor's API uses when a request sets none, by base-name
# prefix (first match); consulted only when no unsuffixed/`-base` row is listed.
DEFAULT_CONFIG: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Anthropic: effort defaults to high, extended thinking is off unless requested.
    ("claude-", ("high-effort",)),
    # OpenAI: GPT-5.1 and GPT-5.2 default to reasoning effort "none".
    ("gpt-5.1", ("nothinking",)),
    ("gpt-5.2", ("nothinking",)),
    # OpenAI: other reasoning models default to "medium".
    ("gpt-5", ("medium",)),
    # Google: Gemini 2.5/3 think by default (dynamic/high thinking level).
    ("gemini-", ("high", "highthinking")),
)
# Base names (after normalise_benchmark) -> further catalog keys they score. Only
# names that no rule above relates; each line is a reviewed fact.
ALIASES: dict[str, tuple[str, ...]] = {
    "claude-4-1-opus": ("claude-opus-4-1",),
    "claude-4-sonnet": ("claude-sonnet-4",),
    # DeepSeek's API serves V3.2 as deepseek-chat (non-thinking) and
    # deepseek-reasoner (thinking); models.dev dates both 2025-12-01.
    "deepseek-v3.2": ("deepseek-chat",),
    "deepseek-v3.2-thinking": ("deepseek-reasoner",),
    # ChatGPT's "Instant" model is the API's chat-latest model.
    "gpt-5.3-instant": ("gpt-5.3-chat-latest", "gpt-5.3-chat"),
    # Kimi K2.5/K2.6 are hybrid models listed without the mode in the catalog.
    "kimi-k2-instruct": ("kimi-k2",),
    "kimi-k2.5-thinking": ("kimi-k2.5",),
    "kimi-k2.6-thinking": ("kimi-k2.6",),
    "qwen3-235b-a22b-instruct-2507": ("qwen3-235b-a22b-2507",),
    # Qwen3 dense models think unless told not to.
    "qwen3-32b-thinking": ("qwen3-32b",),
}
# Aider model keys -> the catalog key of the same model under its later name.
AIDER_ALIASES = {
    # Google: the GA gemini-2.5-pro is the 06-05 preview.
    "gemini-2.5-pro-preview-06-05": "gemini-2.5-pro",
}
# Aider --model values that moved to other models since the run (or mean two).
AIDER_MOVING = re.compile(r"^(?:deepseek-chat|deepseek-reasoner|sonnet|r1|.*-latest)$")
AIDER_PREFIX = re.compile(
    r"^(?:openrouter/|openai/|anthropic/|gemini/|deepseek/|xai/|mistral/|nvidia_nim/"
    r"|fireworks_ai/accounts/fireworks/models/)+"
)


class Scored(NamedTuple):
    categories: dict[str, float]  # 0..1
    source: str
    date: str


# --- names -------------------------------------------------------------------------


def normalise_benchmark(name: str) -> tuple[str, str]:
    """A LiveBench row name -> (base name, configuration label)."""
    base = name.strip().lower()
    config: list[str] = []
    while True:
        if m := CONFIG_SUFFIX.search(base):
            config.insert(0, m.group()[1:])
            base = base[: m.start()]
        elif m := DATE_SUFFIX.search(base):
            base = base[: m.start()]
        else:
            break
    label = "-".join(config)
    return base, "" if label == "base" else label


def catalog_key(name: str) -> str:
    """A catalog model name -> the key benchmark base names are compared with."""
    key = name.lower().rsplit("/", 1)[-1].split(":", 1)[0]
    if name.startswith("accounts/fireworks/"):
        key = re.sub(r"(?<=\d)p(?=\d)", ".", key)
    key = re.sub(r"-(?:tput|fp8)$", "", key)
    key = CATALOG_DATE_SUFFIX.sub("", key)
    if key.startswith("claude-"):
        key = re.sub(r"(?<=\d)\.(?=\d)", "-", key)
    return key


def default_labels(base: str) -> tuple[str, ...]:
    for prefix, labels in DEFAULT_CONFIG:
        if base.startswith(prefix):
            return labels
    return ()


# --- LiveBench ---------------------------------------------------------------------


def row_categories(row: dict[str, str], tasks: dict[str, list[str]]) -> dict[str, float]:
    """Category -> mean of its measured task scores (0..100); 0.0 and blanks are missing."""
    out: dict[str, float] = {}
    for category, names in tasks.items():
        values = []
        for task in names:
            raw = (row.get(task) or "").strip()
            if raw and float(raw) > 0.0:
                values.append(float(raw))
        if values:
            out[category] = statistics.fmean(values)
    return out


def pick_configuration(base: str, configs: dict[str, tuple[dict[str, float], str]]) -> Scored:
    """The documented choice among one model's configurations (rule 3)."""
    for label in ("", *default_labels(base)):
        if label in configs:
            scores, date = configs[label]
            return Scored({c: v / 100 for c, v in scores.items()}, f"livebench {date}", date)
    merged: dict[str, float] = {}
    for category in CATEGORY_NAMES.values():
        values = [s[category] for s, _ in configs.values() if category in s]
        if values:
            merged[category] = statistics.median(values) / 100
    date = max(d for _, d in configs.values())
    return Scored(merged, f"livebench {date}", date)


def livebench(data: Path) -> tuple[dict[str, Scored], list[str]]:
    """Base name -> chosen scores; and every row name (for the unmatched report)."""
    raw_map = json.loads((data / LIVEBENCH_CATEGORIES).read_text())
    tasks = {CATEGORY_NAMES[k]: v for k, v in raw_map.items()}
    by_base: dict[str, dict[str, tuple[dict[str, float], str]]] = defaultdict(dict)
    rows: list[str] = []
    for date, filename in LIVEBENCH_TABLES:
        with (data / filename).open(newline="") as f:
            for row in csv.DictReader(f):
                rows.append(row["model"])
                base, label = normalise_benchmark(row["model"])
                scores = row_categories(row, tasks)
                if scores and label not in by_base[base]:
                    by_base[base][label] = (scores, date)
    return {base: pick_configuration(base, c) for base, c in sorted(by_base.items())}, rows


# --- Aider -------------------------------------------------------------------------


def read_aider(path: Path) -> list[dict[str, str]]:
    """The leaderboard's entries (a flat YAML list of `key: value` maps)."""
    entries: list[dict[str, str]] = []
    for line in path.read_text().splitlines():
        if line.startswith("- "):
            entries.append({})
            line = "  " + line[2:]
        if not line.startswith("  ") or ":" not in line or not entries:
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        entries[-1][key] = value
    return entries


def aider_model(command: str) -> tuple[str, bool] | None:
    """(catalog key, is default configuration) of a leaderboard command, or None to skip."""
    command = command.split("#", 1)[0]
    if "--architect" in command or "--editor-model" in command:
        return None
    m = re.search(r"--model\s+(\S+)", command)
    if m is None:
        return None
    name = AIDER_PREFIX.sub("", m.group(1))
    if AIDER_MOVING.match(name.rsplit("/", 1)[-1]):
        return None
    default = "--reasoning-effort" not in command and "--thinking-tokens" not in command
    key = catalog_key(name)
    return AIDER_ALIASES.get(key, key), default


def aider(data: Path) -> tuple[dict[str, tuple[float, str]], list[str]]:
    """Catalog key -> (pass_rate_2 in 0..1, date); and the skipped/used row labels."""
    runs: dict[str, list[tuple[bool, float, str]]] = defaultdict(list)
    labels: list[str] = []
    for entry in read_aider(data / AIDER_FILE):
        label = f"{entry.get('model', '?')} [{entry.get('command', '')}]"
        labels.append(label)
        parsed = aider_model(entry.get("command", ""))
        if parsed is None or "+" in entry.get("model", ""):
            continue
        key, default = parsed
        runs[key].append((default, float(entry["pass_rate_2"]) / 100, entry.get("date", "")))
    out: dict[str, tuple[float, str]] = {}
    for key, found in sorted(runs.items()):
        chosen = [r for r in found if r[0]] or found
        out[key] = (statistics.median(r[1] for r in chosen), max(r[2] for r in chosen))
    return out, labels


def fit(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (slope, intercept) of y on x; identity with fewer than 4 pairs."""
    if len(pairs) < 4:
        return 1.0, 0.0
    slope, intercept = statistics.linear_regression([x for x, _ in pairs], [y for _, y in pairs])
    return slope, intercept


# --- the table -----------------------------------------------------------------------


def overall_of(categories: dict[str, float]) -> float:
    values = [v for c, v in categories.items() if c not in NOT_IN_OVERALL]
    return statistics.fmean(values) if values else statistics.fmean(categories.values())


class Build(NamedTuple):
    entries: dict[str, tuple[float, dict[str, float], str, str]]  # id -> overall, cats, src, date
    chat_models: dict[str, list[str]]  # provider -> chat model ids
    unmatched_livebench: list[str]
    unmatched_aider: list[str]
    fits: dict[str, tuple[float, float, int]]


def build(data: Path, catalog_path: Path = CATALOG) -> Build:
    catalog = json.loads(catalog_path.read_text())
    fields = catalog["fields"]
    rows = [dict(zip(fields, r, strict=True)) for r in catalog["models"]]
    chat = [r for r in rows if r["type"] == "chat"]
    by_key: dict[str, list[str]] = defaultdict(list)
    for r in chat:
        by_key[catalog_key(r["name"])].append(f"{r['provider']}/{r['name']}")

    lb, lb_rows = livebench(data)
    scored: dict[str, Scored] = {}
    lb_by_key: dict[str, Scored] = {}
    matched_bases: set[str] = set()
    for base, score in lb.items():
        for key in (base, *ALIASES.get(base, ())):
            lb_by_key.setdefault(key, score)
            for model_id in by_key.get(key, []):
                scored.setdefault(model_id, score)
                matched_bases.add(base)
    unmatched_lb = sorted(n for n in lb_rows if normalise_benchmark(n)[0] not in matched_bases)

    ad, ad_labels = aider(data)
    fits: dict[str, tuple[float, float, int]] = {}
    for target in ("coding", "overall"):
        pairs = []
        for key, (rate, _) in ad.items():
            s = lb_by_key.get(key)
            if s is None:
                continue
            y = s.categories.get("coding") if target == "coding" else overall_of(s.categories)
            if y is not None:
                pairs.append((rate, y))
        slope, intercept = fit(sorted(pairs))
        fits[target] = (slope, intercept, len(pairs))
    matched_aider: set[str] = set()
    for key, (rate, date) in ad.items():
        ids = [i for i in by_key.get(key, []) if i not in scored]
        if by_key.get(key):
            matched_aider.add(key)
        if not ids:
            continue
        slope, intercept, _ = fits["coding"]
        coding = min(1.0, max(0.0, slope * rate + intercept))
        slope, intercept, _ = fits["overall"]
        overall = min(1.0, max(0.0, slope * rate + intercept))
        for model_id in ids:
            scored[model_id] = Scored({"coding": coding, "__overall": overall}, AIDER_SOURCE, date)
    unmatched_ad = sorted(
        label
        for label in ad_labels
        if (p := aider_model(label.split(" [", 1)[1][:-1])) is None or p[0] not in matched_aider
    )

    entries: dict[str, tuple[float, dict[str, float], str, str]] = {}
    for model_id, s in scored.items():
        cats = dict(s.categories)
        overall = cats.pop("__overall", None)
        entries[model_id] = (
            overall_of(cats) if overall is None else overall,
            cats,
            s.source,
            s.date,
        )

    # Family priors (rule 5), from benchmark-scored models only.
    scored_rows = [r for r in chat if f"{r['provider']}/{r['name']}" in entries]
    for r in sorted(chat, key=lambda r: (r["provider"], r["name"])):
        model_id = f"{r['provider']}/{r['name']}"
        if model_id in entries or not r["family"] or not r["release_date"]:
            continue
        if NO_PRIOR.search(r["name"]) or not family_fits(r["family"], r["name"]):
            continue
        older = [
            s
            for s in scored_rows
            if s["family"] == r["family"]
            and s["release_date"]
            and s["release_date"] <= r["release_date"]
        ]
        if not older:
            continue
        best = min(
            older, key=lambda s: (_neg_date(s["release_date"]), f"{s['provider']}/{s['name']}")
        )
        prior_id = f"{best['provider']}/{best['name']}"
        overall, cats, _, date = entries[prior_id]
        entries[model_id] = (overall, cats, f"family prior: {prior_id}", date)

    chat_models: dict[str, list[str]] = defaultdict(list)
    for r in chat:
        chat_models[r["provider"]].append(f"{r['provider']}/{r['name']}")
    return Build(entries, dict(chat_models), unmatched_lb, unmatched_ad, fits)


def family_fits(family: str, name: str) -> bool:
    """Whether every word of `family` starts a word of `name` (rule 5's sanity check).

    models.dev's family is sometimes wrong (gpt-5.2-chat-latest is tagged gpt-codex,
    Inflection's models gpt, gpt-4o-mini-search-preview o-mini); a prior is only
    given when the name bears the family out.
    """
    words = re.split(r"[-/:._]", name.lower())
    return all(any(w.startswith(f) for w in words) for f in family.lower().split("-"))


def _neg_date(date: str) -> tuple[int, ...]:
    return tuple(-int(p) for p in date.split("-"))


def render(result: Build) -> str:
    from jarvis_cli.core.registry.quality import CATEGORIES, QUALITY_FORMAT

    sources = sorted({e[2] for e in result.entries.values()})
    index = {s: i for i, s in enumerate(sources)}
    head = {
        "format": QUALITY_FORMAT,
        "generated_by": "scripts/build_quality.py",
        "sources": sources,
        "notice": (
            "LiveBench (livebench.ai, Apache-2.0) tables of 2026-01-08 and 2026-06-25; "
            "Aider polyglot leaderboard (aider.chat, Apache-2.0); see jarvis_cli/data/NOTICE"
        ),
        "categories": list(CATEGORIES),
    }
    lines = []
    for model_id, (overall, cats, source, date) in sorted(result.entries.items()):
        scores = [None if c not in cats else round(cats[c], 4) for c in CATEGORIES]
        row = [model_id, round(overall, 4), scores, index[source], date]
        lines.append(json.dumps(row, separators=(",", ":")))
    text = json.dumps(head, indent=1)[:-2]
    return text + ',\n "models": [\n' + ",\n".join(lines) + "\n]}\n"


def print_coverage(result: Build) -> None:
    print("coverage of catalog chat models (benchmark / family prior / none):")
    for provider in COVERAGE_PROVIDERS:
        ids = result.chat_models.get(provider, [])
        bench = sum(1 for i in ids if i in result.entries and "prior" not in result.entries[i][2])
        prior = sum(1 for i in ids if i in result.entries and "prior" in result.entries[i][2])
        note = "" if ids else "  (no chat models of this provider in the catalog)"
        print(
            f"  {provider:<11} {len(ids):>4} chat models: {bench:>3} benchmark, "
            f"{prior:>3} family prior, {len(ids) - bench - prior:>3} none{note}"
        )
    for target, (slope, intercept, n) in result.fits.items():
        print(
            f"aider -> livebench {target}: {slope:.3f} * pass_rate + {intercept:.3f} (fit on {n})"
        )
    print(f"LiveBench rows that matched no catalog model ({len(result.unmatched_livebench)}):")
    for name in result.unmatched_livebench:
        print(f"  {name}")
    print(f"Aider rows not used ({len(result.unmatched_aider)}):")
    for label in result.unmatched_aider:
        print(f"  {label}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--check", action="store_true", help="fail if quality.json is stale")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    result = build(args.data)
    text = render(result)
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is stale; run scripts/build_quality.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print_coverage(result)
    print(f"wrote {TARGET} ({len(result.entries)} models, {len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
