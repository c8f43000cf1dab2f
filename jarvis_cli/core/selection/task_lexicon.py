"""Words that say what kind of task a prompt is, per category: prior knowledge that the
development set alone teaches too thinly (a user's "fix the bug", "prove that",
"proofread", "who is lying", "in fewer than 4 sentences"). Each list becomes one
feature, `k:CATEGORY`: its weight is fitted with the others, and at inference it
also adds a fixed prior to its category (`priors` in the weight table). The lists
are what a person would write, not any benchmark's template; a few entries are in
other languages (Chinese, Russian, German, French, Spanish) for common requests.

Matching is by set look-up over the prompt's lower-cased words, not by regular
expressions: a pattern with this many alternatives costs milliseconds to compile,
and every `jarvis select` would pay that once.
"""

from __future__ import annotations


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


NUMBER_WORDS = frozenset(_split("one two three four five six seven eight nine ten"))


class Lexicon:
    """A category's terms (a plain class: a NamedTuple costs a millisecond to create)."""

    __slots__ = ("phrases", "raw", "stems", "words")

    def __init__(self, words: str, stems: str, phrases: tuple[str, ...], raw: str) -> None:
        self.words = frozenset(words.split())  # whole words
        self.stems = tuple(stems.split())  # word beginnings ("debug" finds "debugging")
        self.phrases = phrases  # word sequences, matched on word boundaries
        self.raw = tuple(raw.split())  # substrings: punctuation, unspaced scripts


def _lex(words: str, stems: str = "", phrases: tuple[str, ...] = (), raw: str = "") -> Lexicon:
    return Lexicon(words, stems, phrases, raw)


_COMPARATIVES = _split("taller shorter older younger heavier lighter faster slower")

LEXICON: dict[str, Lexicon] = {
    "coding": _lex(
        "code coding codebase function functions method methods bug bugs exception exceptions "
        "segfault python javascript typescript java rust golang ruby php kotlin swift bash sql "
        "regex api endpoint endpoints script scripts program programs programming algorithm "
        "algorithms git css html react node nodejs npm pip library libraries variable "
        "variables array arrays recursion classes funktion función fonction",
        "debug refactor compil implement docker kubernetes функци код программ",
        ("unit test", "unit tests", "stack trace"),
        "c++ c# node.js 函数 代码 编程 程序",
    ),
    "mathematics": _lex(
        "prove proof proofs theorem theorems lemma solve equation equations integral integrals "
        "derivative derivatives differentiate probability polynomial polynomials matrix "
        "matrices calculate remainder divisible prime primes fraction fractions ratio area "
        "perimeter volume radius triangle triangles angle angles digit digits integer integers "
        "geometry algebra calculus сколько combien cuántos",
        "eigen",
        ("how many", "how much", "expected value", "wie viele"),
        "计算 多少",
    ),
    "reasoning": _lex(
        "puzzle puzzles riddle riddles logic logical premise premises conclusion conclusions "
        "valid invalid lies liar liars lying knight knights knave knaves leftmost rightmost "
        "ordering yesterday tomorrow argument arguments syllogism therefore",
        "deduc fallac",
        (
            "true or false",
            "tells the truth",
            "left of",
            "right of",
            "which of the following",
            "if all",
            *(f"{word} than" for word in _COMPARATIVES),
        ),
        "mm/dd/yyyy",
    ),
    "data_analysis": _lex(
        "data dataset datasets dataframe dataframes pandas csv table tables spreadsheet "
        "spreadsheets excel column columns rows pivot average mean median regression chart "
        "charts plot plots trend trends outlier outliers distribution survey surveys sales "
        "revenue",
        "statistic aggregat",
        (
            "data frame",
            "data analysis",
            *(
                f"{verb} {det}{what}"
                for verb in ("analyze", "analyse")
                for det in ("", "the ", "this ", "my ", "our ", "these ")
                for what in ("data", "numbers", "results", "figures")
            ),
        ),
    ),
    # Format constraints; "at least 300 words" and the like are found by
    # `_counted_constraint`, as the number varies.
    "instruction_following": _lex(
        "lowercase uppercase postscript placeholder placeholders",
        "",
        (
            "lower case",
            "upper case",
            "capital letters",
            "do not use",
            "without using",
            *(
                f"wrap {det}{whole}{what}"
                for det in ("the ", "your ")
                for whole in ("", "entire ", "whole ")
                for what in ("answer", "response", "output")
            ),
            "in json format",
            "in xml",
            "xml tags",
            "xml tag",
            "xml format",
            "end your response",
            "end your answer",
            "no commas",
            "no comma",
            "double angular",
            "double quotation",
            "respond with",
            "respond only",
            "respond in",
            "answer with",
            "answer only with",
            "separated by",
            "first word",
            "response must",
            "response should",
        ),
        "p.s.",
    ),
    "language": _lex(
        "rewrite reword grammar spelling synonym synonyms antonym antonyms idiom idioms "
        "headline tldr",
        "translat summar paraphras rephras proofread grammatical misspell перевед перевод "
        "übersetz tradu",
        tuple(
            f"{prep} {lang}"
            for prep in ("in", "into")
            for lang in _split("english french german spanish chinese japanese russian italian")
        ),
        "tl;dr 翻译 总结",
    ),
}

# Two words before a count ("no more" than N: `_counted_constraint` skips the "than").
_COUNT_LEAD = frozenset(
    (
        ("at", "least"),
        ("at", "most"),
        ("fewer", "than"),
        ("less", "than"),
        ("more", "than"),
        ("no", "more"),
    )
)
_COUNT_UNITS = frozenset(
    _split(
        "word words sentence sentences paragraph paragraphs line lines bullet bullets section "
        "sections character characters letter letters times"
    )
)


def _counted_constraint(words: list[str]) -> str | None:
    """ "at least 300 words", "exactly 3 bullet points", "fewer than four sentences"."""
    for i, word in enumerate(words):
        if word == "exactly":
            start = i + 1
        elif (word, words[i + 1] if i + 1 < len(words) else "") in _COUNT_LEAD:
            start = i + 2 + (words[i + 1] == "more" and word == "no")
        else:
            continue
        if (
            start + 1 < len(words)
            and (words[start] == "#" or words[start] in NUMBER_WORDS)
            and words[start + 1] in _COUNT_UNITS
        ):
            return " ".join(words[i : start + 2])
    return None


def keyword_match(
    category: str, words: list[str], lowered: str, joined: str | None = None
) -> str | None:
    """The first term of `category`'s list in the prompt: its lower-cased words, its
    lower-cased text, and the words joined by single spaces (computed if not given)."""
    lexicon = LEXICON[category]
    for word in words:
        if word in lexicon.words or word.startswith(lexicon.stems):
            return word
    if lexicon.phrases:
        joined = joined or f" {' '.join(words)} "
        for phrase in lexicon.phrases:
            if f" {phrase} " in joined:
                return phrase
    for term in lexicon.raw:
        if term in lowered:
            return term
    if category == "instruction_following":
        return _counted_constraint(words)
    return None


def keyword_features(words: list[str], lowered: str) -> set[str]:
    """`k:CATEGORY` for each category with a term in the prompt."""
    joined = f" {' '.join(words)} "
    return {f"k:{c}" for c in LEXICON if keyword_match(c, words, lowered, joined) is not None}
