"""Words that say what kind of task a prompt is, per category: prior knowledge that the
development set alone teaches too thinly (a user's "fix the bug", "prove that",
"proofread", "who is lying", "in fewer than 4 sentences"). Each list becomes one
feature, `k:CATEGORY`: its weight is fitted with the others, and at inference it
also adds a fixed prior to its category (`priors` in the weight table). The lists
are what a person would write, not any benchmark's template; a few entries are in
other languages (Chinese, Russian, German, French, Spanish) for common requests.
All patterns are lower-case and matched against lower-cased text (case-insensitive
patterns with this many alternatives cost milliseconds to compile).
"""

from __future__ import annotations

import re

_STEM = r"\w*"


def _words(*terms: str) -> re.Pattern[str]:
    """One pattern for a category's lower-case terms, each matched as a whole word:
    ASCII terms between non-ASCII-alphanumerics (so "用Python写" finds "python"),
    other alphabetic terms between non-letters, and terms of scripts written without
    spaces (Chinese, Japanese) anywhere."""
    ascii_terms = [t for t in terms if t.isascii()]
    unspaced = [t for t in terms if not t.isascii() and "\u3040" <= t[0] <= "\u9fff"]
    other = [t for t in terms if t not in ascii_terms and t not in unspaced]
    parts = [r"(?<![a-z0-9])(" + "|".join(ascii_terms) + r")(?![a-z0-9])"]
    if other:
        parts.append(r"(?<![^\W\d_])(" + "|".join(other) + r")(?![^\W\d_])")
    if unspaced:
        parts.append("(" + "|".join(unspaced) + ")")
    return re.compile("|".join(parts))


LEXICON: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "coding",
        _words(
            r"code",
            r"coding",
            r"codebase",
            r"functions?",
            r"methods?",
            r"bugs?",
            r"debug" + _STEM,
            r"refactor" + _STEM,
            r"compil" + _STEM,
            r"exceptions?",
            r"stack ?trace",
            r"segfault",
            r"python",
            r"javascript",
            r"typescript",
            r"java",
            r"c\+\+",
            r"c#",
            r"rust",
            r"golang",
            r"ruby",
            r"php",
            r"kotlin",
            r"swift",
            r"bash",
            r"sql",
            r"regex",
            r"api",
            r"endpoints?",
            r"scripts?",
            r"programs?",
            r"programming",
            r"algorithms?",
            r"implement" + _STEM,
            r"unit tests?",
            r"git",
            r"docker" + _STEM,
            r"kubernetes",
            r"css",
            r"html",
            r"react",
            r"node(js)?",
            r"npm",
            r"pip",
            r"librar(y|ies)",
            r"variables?",
            r"arrays?",
            r"recursion",
            r"classes",
            r"函数",
            r"代码",
            r"编程",
            r"程序",
            r"функци" + _STEM,
            r"код" + _STEM,
            r"программ" + _STEM,
            r"funktion",
            r"función",
            r"fonction",
        ),
    ),
    (
        "mathematics",
        _words(
            r"prove",
            r"proofs?",
            r"theorems?",
            r"lemma",
            r"solve",
            r"equations?",
            r"integrals?",
            r"derivatives?",
            r"differentiate",
            r"probability",
            r"polynomials?",
            r"matri(x|ces)",
            r"eigen" + _STEM,
            r"calculate",
            r"how many",
            r"how much",
            r"remainder",
            r"divisible",
            r"primes?",
            r"fractions?",
            r"ratio",
            r"area",
            r"perimeter",
            r"volume",
            r"radius",
            r"triangles?",
            r"angles?",
            r"digits?",
            r"integers?",
            r"expected value",
            r"geometry",
            r"algebra",
            r"calculus",
            r"计算",
            r"多少",
            r"сколько",
            r"wie viele",
            r"combien",
            r"cuántos",
        ),
    ),
    (
        "reasoning",
        _words(
            r"puzzles?",
            r"riddles?",
            r"logic(al)?",
            r"deduc" + _STEM,
            r"premises?",
            r"conclusions?",
            r"valid",
            r"invalid",
            r"true or false",
            r"lies",
            r"liars?",
            r"tells the truth",
            r"lying",
            r"knights?",
            r"knaves?",
            r"left of",
            r"right of",
            r"leftmost",
            r"rightmost",
            r"ordering",
            r"yesterday",
            r"tomorrow",
            r"mm/dd/yyyy",
            r"which of the following",
            r"arguments?",
            r"fallac" + _STEM,
            r"syllogism",
            r"(taller|shorter|older|younger|heavier|lighter|faster|slower) than",
            r"therefore",
            r"if all",
        ),
    ),
    (
        "data_analysis",
        _words(
            r"data",
            r"analy[sz]\w* (the |this |my |our |these )?(data|numbers|results|figures)",
            r"surveys?",
            r"sales",
            r"revenue",
            r"datasets?",
            r"data ?frames?",
            r"pandas",
            r"csv",
            r"tables?",
            r"spreadsheets?",
            r"excel",
            r"columns?",
            r"rows",
            r"pivot",
            r"average",
            r"mean",
            r"median",
            r"regression",
            r"statistic" + _STEM,
            r"charts?",
            r"plots?",
            r"trends?",
            r"outliers?",
            r"distribution",
            r"aggregat" + _STEM,
        ),
    ),
    (
        "instruction_following",
        re.compile(
            r"\b(at (least|most)|fewer than|less than|more than|exactly|no more than) "
            r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten) "
            r"(words?|sentences?|paragraphs?|lines?|bullets?|bullet points?|sections?"
            r"|characters?|letters?|times)\b"
            r"|\b(all )?(lower|upper) ?case\b|\bcapital letters\b|\bdo not use\b|\bwithout using"
            r"|\bwrap (the|your)( entire| whole)? (answer|response|output)|\bin json format\b"
            r"|\bin xml\b|\bxml (tags?|format)\b|\bend your (response|answer)\b|\bp\.s\.\B"
            r"|\bpostscript\b|\bno commas?\b|\bdouble (angular|quotation)\b|\bplaceholders?\b"
            r"|\brespond (only )?(with|in)\b|\banswer (only )?with\b|\bseparated by\b"
            r"|\bfirst word\b|\bresponse (must|should)\b"
        ),
    ),
    (
        "language",
        _words(
            r"translat" + _STEM,
            r"summar" + _STEM,
            r"paraphras" + _STEM,
            r"rephras" + _STEM,
            r"rewrite",
            r"reword",
            r"proofread" + _STEM,
            r"grammar",
            r"grammatical" + _STEM,
            r"spelling",
            r"misspell" + _STEM,
            r"synonyms?",
            r"antonyms?",
            r"idioms?",
            r"headline",
            r"tl;?dr",
            r"in (english|french|german|spanish|chinese|japanese|russian|italian)",
            r"into (english|french|german|spanish|chinese|japanese|russian|italian)",
            r"翻译",
            r"总结",
            r"перевед" + _STEM,
            r"перевод" + _STEM,
            r"übersetz" + _STEM,
            r"tradu" + _STEM,
        ),
    ),
)


def keyword_features(lowered: str) -> set[str]:
    """`k:CATEGORY` for each category whose words appear in `lowered` (lower-cased:
    the patterns are, as case-insensitive ones cost milliseconds to compile)."""
    return {f"k:{category}" for category, pattern in LEXICON if pattern.search(lowered)}
