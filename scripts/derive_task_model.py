"""Derive jarvis_cli/data/task_model.tsv, the weights of task inference, from the
labelled development set of real prompts in ../shared/data/tasks/ (see its README).

    .venv/bin/python scripts/derive_task_model.py [--data DIR] [--check | --cv]

Writes the weights and prints, for the held-out part, the accuracy per category and
per source and the confusion matrix. `--check` derives again and exits 1 if the
result differs from the committed file (it is deterministic), else prints the same
figures.

The method (each choice written down so it can be reviewed):

1. Split. A prompt is held out when sha256("20261205:" + id) falls in the lowest
   30 % (HELD_OUT); about 60 prompts of each category. Only the other 70 % is used
   to fit and tune; the held-out figures are reported, never tuned on.
2. Features. `jarvis_cli.core.selection.task_features.features`, the very function
   the runtime uses: words, word pairs, characters of unspaced scripts, meaningful
   punctuation and structure (code, LaTeX, tables, numbers, length, script).
3. Benchmark boilerplate is not learnt. A line of 40+ characters found in 4 or more
   training prompts (a benchmark's fixed instruction: MMLU's "The following are
   multiple choice questions …", BBH's task preambles, FOLIO's question, a CSV that
   several DABench questions share) and the few framing strings in BOILERPLATE are
   removed from the *training* text, so the model learns from what a user's prompt of
   that kind says, not from one benchmark's template. Inference sees the prompt as is.
4. Model. A multinomial logistic regression over the binary features, each prompt's
   feature vector scaled to unit length (so a long prompt does not shout), fitted by
   Adagrad with an L2 penalty, EPOCHS passes in a seeded order. Each source is
   weighted so that every category weighs the same and, within it, a source of n
   prompts weighs like sqrt(n) (one big benchmark does not define a category).
5. Prior knowledge (PRIORS): a keyword list of a category (`task_lexicon.py`, what a
   user writes: "bug", "prove", "proofread", "who is lying", "in fewer than 4
   sentences") or a table adds a fixed logit to that category at inference. It is
   not fitted (fitted, the model would learn it away on this set, whose prompts are
   longer and more formulaic than a user's); the held-out figures include it.
   A code fence, a diff or a stack trace is coding before the model is asked
   (`task.py`). `general`, jarvis's default, gets GENERAL_PRIOR on its bias: when
   the evidence is weak, the overall score is the safe choice. Both priors were
   chosen by a 5-fold cross-validation on the training part (`--cv` prints the grid;
   the held-out part is not used): the settings with the best worst category are
   within 1-2 prompts of each other, and of those the larger keyword prior is taken,
   as it weighs what a user writes (the development set's prompts rarely say "fix
   the bug").
6. Size. Features seen in fewer than MIN_DF training prompts are dropped; after
   fitting, the MAX_FEATURES features with the largest weights are kept and weights
   are rounded to integers (x SCALE). The file stays under 300 KB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_cli.core.selection.task_features import features  # noqa: E402

OUT = ROOT / "jarvis_cli" / "data" / "task_model.tsv"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "tasks"
SEED = 20261205
HELD_OUT = 0.30
CLASSES = (
    "coding",
    "data_analysis",
    "general",
    "instruction_following",
    "language",
    "mathematics",
    "reasoning",
)
MIN_DF = 2
MAX_DF = 0.25
KEYWORD_PRIOR = 1.5
# Rule 5: prior knowledge, a fixed logit added to one class when a feature is present.
PRIORS: dict[str, tuple[str, float]] = {
    **{f"k:{c}": (c, KEYWORD_PRIOR) for c in CLASSES if c != "general"},
    "s:table": ("data_analysis", 2.0),
    "s:short table": ("data_analysis", 2.0),
}
EPOCHS = 12
RATE = 0.5
L2 = 1e-5
MAX_FEATURES = 5000
GENERAL_PRIOR = 0.6
CV_GENERAL_PRIORS = (0.0, 0.3, 0.6, 0.9)
CV_KEYWORD_PRIORS = (1.0, 1.5, 2.0)
SCALE = 100
REPEATED_LINE_CHARS = 40
REPEATED_LINE_PROMPTS = 4
BOILERPLATE = (
    re.compile(r"^The following are multiple choice questions \(with answers\) about .*$", re.M),
    re.compile(r"^Answer:\s*$", re.M),
    re.compile(r"Your code should pass these tests:"),
    re.compile(r"^.*@\w+\[[^\]]*\].*$", re.M),  # DABench's answer-format constraints
    re.compile(r"^Question:\s*", re.M),
)


def held_out(prompt_id: str) -> bool:
    """Whether a prompt is in the held-out part (a fixed function of its id)."""
    digest = hashlib.sha256(f"{SEED}:{prompt_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000 < HELD_OUT


def load(data: Path) -> list[dict[str, str]]:
    with (data / "prompts.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def strip_boilerplate(rows: list[dict[str, str]]) -> tuple[list[str], int]:
    """The training texts without repeated template lines (rule 3), and how many went."""
    seen: Counter[str] = Counter()
    for row in rows:
        seen.update(
            {
                line.strip()
                for line in row["prompt"].splitlines()
                if len(line.strip()) >= REPEATED_LINE_CHARS
            }
        )
    repeated = {line for line, n in seen.items() if n >= REPEATED_LINE_PROMPTS}
    texts, removed = [], 0
    for row in rows:
        kept = []
        for line in row["prompt"].splitlines():
            if line.strip() in repeated:
                removed += 1
            else:
                kept.append(line)
        text = "\n".join(kept)
        for pattern in BOILERPLATE:
            text = pattern.sub("", text)
        texts.append(text)
    return texts, removed


def source_weights(rows: list[dict[str, str]]) -> list[float]:
    """Rule 4's example weights: equal per category, sqrt(n) per source within it."""
    per_source = Counter((r["category"], r["source"].split(":")[0]) for r in rows)
    per_category: dict[str, float] = defaultdict(float)
    for (category, _), n in per_source.items():
        per_category[category] += math.sqrt(n)
    weights = []
    for r in rows:
        key = (r["category"], r["source"].split(":")[0])
        share = math.sqrt(per_source[key]) / per_category[r["category"]]
        weights.append(share / per_source[key] * len(rows) / len(CLASSES))
    return weights


def fit(docs: list[set[str]], labels: list[int], weights: list[float]) -> dict[str, list[float]]:
    """Multinomial logistic regression by Adagrad (rule 4); feature -> class weights."""
    df: Counter[str] = Counter(f for doc in docs for f in doc)
    ceiling = MAX_DF * len(docs)
    vocab = {f for f, n in df.items() if n >= MIN_DF and (n <= ceiling or f[0] in "skp")}
    w: dict[str, list[float]] = {f: [0.0] * len(CLASSES) for f in [*sorted(vocab), ""]}
    g2: dict[str, list[float]] = {f: [1e-8] * len(CLASSES) for f in w}
    rng = random.Random(SEED)
    order = list(range(len(docs)))
    k = len(CLASSES)
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            norm = 1.0 / math.sqrt(len(docs[i]) or 1)
            feats = [f for f in sorted(docs[i]) if f in vocab]
            scores = list(w[""])
            for f in feats:
                wf = w[f]
                for c in range(k):
                    scores[c] += wf[c] * norm
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            grad = [
                (e / total - (1.0 if c == labels[i] else 0.0)) * weights[i]
                for c, e in enumerate(exps)
            ]
            for f, x in [*((f, norm) for f in feats), ("", 1.0)]:
                wf, gf = w[f], g2[f]
                for c in range(k):
                    g = grad[c] * x + L2 * wf[c]
                    gf[c] += g * g
                    wf[c] -= RATE * g / math.sqrt(gf[c])
    return w


def to_table(w: dict[str, list[float]], general_prior: float = GENERAL_PRIOR) -> str:
    """Rule 6: the largest weights, as integers, centred per feature; the file's text
    (a JSON header line, then `NAME<TAB>w1,w2,…` per feature; see task_model.py)."""
    bias = w.pop("")
    centred = {f: [x - sum(ws) / len(ws) for x in ws] for f, ws in w.items()}
    ranked = sorted(centred, key=lambda f: (-max(abs(x) for x in centred[f]), f))
    kept = {}
    for f in ranked[:MAX_FEATURES]:
        ints = [round(x * SCALE) for x in centred[f]]
        if any(ints):
            kept[f] = ints
    header = {
        "about": "jarvis task inference weights; derived by scripts/derive_task_model.py "
        "from ../shared/data/tasks (see jarvis_cli/data/task_model.NOTICE)",
        "classes": list(CLASSES),
        "scale": SCALE,
        "bias": [
            round((b - sum(bias) / len(bias) + (general_prior if c == "general" else 0)) * SCALE)
            for c, b in zip(CLASSES, bias, strict=True)
        ],
        "priors": {f: list(p) for f, p in sorted(PRIORS.items())},
    }
    lines = [json.dumps(header, ensure_ascii=False, separators=(",", ":"))]
    rows = [f"{f}\t{','.join(map(str, ws))}" for f, ws in sorted(kept.items())]
    assert rows == sorted(rows), "task_model.py finds a feature's line by bisection"
    lines += rows
    return "\n".join(lines) + "\n"


def report(rows: list[dict[str, str]], guesses: list[str]) -> float:
    """Print accuracy per category and source and the confusion matrix; overall accuracy."""
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, guess in zip(rows, guesses, strict=True):
        confusion[row["category"]][guess] += 1
        tally = by_source[f"{row['category']} {row['source'].split(':')[0]}"]
        tally[0] += guess == row["category"]
        tally[1] += 1
    right = sum(confusion[c][c] for c in CLASSES)
    short = [c[:8] for c in CLASSES]
    print(f"held-out: {len(rows)} prompts, accuracy {right / len(rows):.3f}")
    print(f"{'true / guessed':<22}" + "".join(f"{s:>9}" for s in short) + "  accuracy")
    for c in CLASSES:
        n = sum(confusion[c].values())
        cells = "".join(f"{confusion[c][g]:>9}" for g in CLASSES)
        print(f"{c:<22}{cells}  {confusion[c][c] / n:.3f} ({n})")
    print("by source:", "; ".join(f"{s} {a}/{n}" for s, (a, n) in sorted(by_source.items())))
    return right / len(rows)


def derive(data: Path) -> str:
    rows = load(data)
    train = [r for r in rows if not held_out(r["id"])]
    texts, removed = strip_boilerplate(train)
    print(f"training: {len(train)} prompts; {removed} repeated template lines left out")
    docs = [features(t) for t in texts]
    labels = [CLASSES.index(r["category"]) for r in train]
    return to_table(fit(docs, labels, source_weights(train)))


def cross_validate(data: Path) -> None:
    """5 folds of the training part (by hash of id): accuracy per category for each
    pair of CV_KEYWORD_PRIORS x CV_GENERAL_PRIORS (rule 5)."""
    from jarvis_cli.core.selection.task_model import TaskModel

    train = [r for r in load(data) if not held_out(r["id"])]
    fold = [int(hashlib.sha256(f"cv:{r['id']}".encode()).hexdigest()[:8], 16) % 5 for r in train]
    grid = [(k, g) for k in CV_KEYWORD_PRIORS for g in CV_GENERAL_PRIORS]
    right: Counter[tuple[float, float, str]] = Counter()
    total: Counter[str] = Counter(r["category"] for r in train)
    for k in range(5):
        part = [r for r, f in zip(train, fold, strict=True) if f != k]
        texts, _ = strip_boilerplate(part)
        labels = [CLASSES.index(r["category"]) for r in part]
        model = TaskModel(to_table(fit([features(t) for t in texts], labels, source_weights(part))))
        bias, priors = list(model.bias), dict(model.priors)
        general = CLASSES.index("general")
        for keyword, prior in grid:
            model.bias = list(bias)
            model.bias[general] += (prior - GENERAL_PRIOR) * SCALE
            model.priors = {
                f: (c, v * keyword / KEYWORD_PRIOR if f.startswith("k:") else v)
                for f, (c, v) in priors.items()
            }
            for r, f in zip(train, fold, strict=True):
                if f == k:
                    guess = model.classify(r["prompt"]).category
                    right[keyword, prior, r["category"]] += guess == r["category"]
    for keyword, prior in grid:
        per = {c: right[keyword, prior, c] / total[c] for c in CLASSES}
        overall = sum(right[keyword, prior, c] for c in CLASSES) / len(train)
        cells = ", ".join(f"{c[:8]} {a:.3f}" for c, a in per.items())
        print(
            f"keyword prior {keyword}, general prior {prior}: overall {overall:.3f}, "
            f"worst {min(per.values()):.3f}; {cells}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--cv", action="store_true", help="cross-validate GENERAL_PRIOR")
    args = parser.parse_args()
    if args.cv:
        cross_validate(args.data)
        return 0
    text = derive(args.data)
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} differs from what the data derives", file=sys.stderr)
            return 1
    else:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}: {len(text.encode()) // 1024} KB")

    # The committed file is now what was derived: measure inference as `select` runs it.
    from jarvis_cli.core.selection.task import infer_task

    rows = [r for r in load(args.data) if held_out(r["id"])]
    report(rows, [infer_task(r["prompt"]).category for r in rows])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
