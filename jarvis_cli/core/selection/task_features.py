"""The features that task inference reads from a prompt (shared by the runtime model
and by `scripts/derive_task_model.py`, so both see exactly the same thing).

A prompt becomes a set of named features:

- `w:WORD`: a lower-cased word (letters and digits; a number is `#`, digits inside a
  word become `#`, so "300 words" and "50 words" are one feature `b:# words`);
- `b:W1 W2`: two consecutive words;
- `c:XY`: two consecutive characters of a script written without spaces
  (Chinese, Japanese, Korean, Thai), so those prompts have word-like features too;
- `p:SYMBOL`: punctuation that carries meaning (`==`, `->`, `{`, `$`, `\\`, `>>>`, …);
- `s:NAME`: structure — a code fence, a diff, a stack trace, source-like lines, a
  Python signature with a docstring, `assert f(...) ==`, LaTeX, an equation, a table,
  how many numbers the prose has, its length, its script(s), options (A)…(D).

Only the first HEAD_CHARS and the last TAIL_CHARS characters are read, so a long
pasted file costs no more than that (format constraints are often at the end).
"""

from __future__ import annotations

import re

from jarvis_cli.core.selection.task_lexicon import LEXICON, keyword_features

HEAD_CHARS = 2_500
TAIL_CHARS = 700
MAX_WORD = 24

_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
# Scripts written without spaces between words: Thai, kana, CJK ideographs, Hangul.
# (Code-point ranges, not regex classes: a class this wide costs ms to compile.)
_UNSPACED = ((0x0E00, 0x0E7F), (0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF))
_SCRIPTS = (
    (0x0041, 0x024F),
    (0x0370, 0x03FF),
    (0x0400, 0x04FF),
    (0x0590, 0x08FF),
    (0x0900, 0x0DFF),
    (0x0E00, 0x0EFF),
    (0x3040, 0x30FF),
    (0x3400, 0x9FFF),
    (0xAC00, 0xD7AF),
)
_ASCII_LETTER = re.compile(r"[a-zA-Z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_MATH_SYMBOLS = "∫∑√∞≤≥≠∂πθ±×÷²³"  # noqa: RUF001 (the multiplication sign is meant)

_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)
_DIFF = re.compile(r"^(diff --git |@@ -\d+(,\d+)? \+\d+(,\d+)? @@|--- a/|\+\+\+ b/)", re.MULTILINE)
_TRACE = re.compile(
    r"Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(.*:\d+\)|Exception in thread "
    r"|panicked at |^\s*File \".*\", line \d+|\bSegmentation fault\b|^error\[E\d+\]",
    re.MULTILINE,
)
_SOURCE_LINE = re.compile(
    r"^\s*(def |class |import |from \S+ import |#include|function |const |let |var |fn "
    r"|pub |public |private |return\b|if \(|for \(|while \(|}\s*;?\s*$|.*[;{]\s*$|@\w+|package "
    r"|func |SELECT |INSERT |CREATE TABLE |(if|elif|else|for|while|try|except|with)\b.*:\s*$"
    r"|[\w.\[\]]+\s*[-+*/%]?=\s*\S)"
)
_SIGNATURE = re.compile(
    r"^\s*(async\s+)?(def\s+\w+\s*\(.*\)\s*(->.*)?:|(public|private|static|func|fn|function)\b"
    r"[^=\n]*\w+\s*\([^)]*\)\s*[^;\n]*\{?\s*$)",
    re.MULTILINE,
)
_DOCSTRING = re.compile(r"\"\"\"|'''|^\s*/\*\*|^\s*///?\s", re.MULTILINE)
_ASSERT_EQ = re.compile(r"^\s*assert\b.*\(.*\)\s*==", re.MULTILINE)
_CALL = re.compile(r"\b[a-z_]\w*\([^()\n]*\)")
_LATEX = re.compile(
    r"\\(frac|dfrac|cdot|times|sqrt|sum|prod|int|lim|infty|pi|theta|alpha|beta|le|ge|leq|geq"
    r"|neq|pmod|binom|lfloor|lceil|log|sin|cos|tan|angle|triangle|circ|text|mathbf|begin)\b"
    r"|\$[^$\n]{1,80}\$"
)
_EQUATION = re.compile(
    r"\b\d*[a-z]\s*\^\s*\d|\b\d+\s*[a-z]\s*[-+*/]\s*\d+\s*=\s*-?\d|\b[a-z]\s*[-+*/]\s*\d+\s*=\s*-?\d"
    r"|\b[a-z]\s*=\s*-?\d+\b"
)
_MD_TABLE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.MULTILINE)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(\.\d+)?(?![\w.])")
_MONEY = re.compile(r"[$€£¥]\s?\d|\d\s?(dollars?|cents?|euros?)\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d\s?%")
_OPTION = re.compile(r"^\s*\(?[A-Ea-e][).:]\s+\S", re.MULTILINE)
_BULLET = re.compile(r"^\s*([-*•]|\d+[.)])\s+\S", re.MULTILINE)
_QUOTED = re.compile(r"[\"“«„「『][^\"”»“」』\n]{40,}[\"”»“」』]")
_SYMBOLS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.MULTILINE))
    for name, pattern in (
        ("==", r"=="),
        ("->", r"->"),
        ("=>", r"=>"),
        ("{", r"[{}]"),
        (";eol", r";\s*$"),
        ("()", r"\w\(\)"),
        ("[]", r"\w\["),
        (">>>", r"^\s*>>>"),
        ("::", r"::"),
        ("$", r"\$"),
        ("\\", r"\\[a-z]"),
        ("^", r"\^"),
        ("_", r"[a-z]_[a-z]"),
        ("camel", r"\b[a-z]+[A-Z]\w*\b"),
        ("<tag>", r"</?[a-zA-Z]+>"),
        ("*", r"\*\*?\w"),
        ("!", r"!"),
    )
)


def clip(text: str) -> str:
    """The part of `text` that inference reads: its head and its tail."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def _bucket(value: int, bounds: tuple[int, ...]) -> int:
    for i, bound in enumerate(bounds):
        if value < bound:
            return i
    return len(bounds)


def _table(text: str, lines: list[str]) -> int:
    """The longest run of lines with the same number (>= 2) of one separator."""
    if _MD_TABLE.search(text):
        return 10
    best = 0
    for sep in (",", "\t", "|", ";"):
        run, prev = 0, -1
        for line in lines:
            cur = line.count(sep)
            run = run + 1 if cur >= 2 and cur == prev else (1 if cur >= 2 else 0)
            prev = cur
            best = max(best, run)
    return best


def _script(ch: str) -> int:
    """The index in _SCRIPTS of a letter's script, -1 for none of them."""
    point = ord(ch)
    for i, (low, high) in enumerate(_SCRIPTS):
        if low <= point <= high:
            return i
    return -1


def _unspaced(ch: str) -> bool:
    point = ord(ch)
    return any(low <= point <= high for low, high in _UNSPACED)


def _two_scripts(text: str) -> bool:
    """Whether two scripts each write 15 % or more of the letters (a translation)."""
    if text.isascii():
        return False
    counts = [0] * (len(_SCRIPTS) + 1)  # the last one: other letters (index -1)
    counts[0] = len(_ASCII_LETTER.findall(text))
    for ch in _NON_ASCII.findall(text):
        if ch.isalpha():
            counts[_script(ch)] += 1
    total = sum(counts) or 1
    return sum(1 for n in counts[:-1] if n / total >= 0.15) >= 2


def _structure(text: str) -> set[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    found = {
        name
        for name, pattern in (
            ("fence", _FENCE),
            ("diff", _DIFF),
            ("trace", _TRACE),
            ("signature", _SIGNATURE),
            ("docstring", _DOCSTRING),
            ("assert", _ASSERT_EQ),
            ("call", _CALL),
            ("latex", _LATEX),
            ("equation", _EQUATION),
            ("money", _MONEY),
            ("percent", _PERCENT),
            ("quoted text", _QUOTED),
        )
        if pattern.search(text)
    }
    source = sum(1 for line in lines if _SOURCE_LINE.match(line))
    if source >= 3 and source >= 0.4 * len(lines):
        found.add("source lines")
    elif source >= 2:
        found.add("some source lines")
    rows = _table(text, lines)
    if rows >= 3:
        found.add("table" if rows >= 6 else "short table")
    options = len(_OPTION.findall(text))
    if options >= 3:
        found.add("options")
    if len(_BULLET.findall(text)) >= 2:
        found.add("list")
    prose = text if rows < 3 else "\n".join(line for line in lines if line.count(",") < 2)
    # Buckets that only say "short" or "plain" are left out on purpose: short prompts
    # of every kind are common, and the development set's short ones are mostly general.
    numbers = _bucket(len(_NUMBER.findall(prose)), (1, 3, 6))
    if numbers:
        found.add(f"numbers {('0', '1-2', '3-5', '6+')[numbers]}")
    length = _bucket(len(text), (250, 800, 2500))
    if length:
        found.add(f"length {length}")
    lines_bucket = _bucket(len(lines), (2, 4, 12))
    if lines_bucket:
        found.add(f"lines {lines_bucket}")
    if text.rstrip().endswith("?"):
        found.add("ends with ?")
    if any(ch in text for ch in _MATH_SYMBOLS):
        found.add("math symbol")
    if _two_scripts(text[:1500]):
        found.add("two scripts")
    return {f"s:{name}" for name in found}


def features(prompt: str) -> set[str]:
    """The feature names of `prompt` (clipped; see the module docstring)."""
    text = clip(prompt)
    lowered = text.lower()
    feats = _structure(text) | keyword_features(lowered)
    for name, pattern in _SYMBOLS:
        if pattern.search(text):
            feats.add(f"p:{name}")
    prev = ""
    for match in _TOKEN.finditer(lowered):
        token = match.group(0)
        if not token.isascii() and any(_unspaced(ch) for ch in token):
            chars = [ch for ch in token if _unspaced(ch)]
            for i in range(1, len(chars)):
                feats.add(f"c:{chars[i - 1]}{chars[i]}")
            prev = ""
            continue
        if len(token) > MAX_WORD:
            prev = ""
            continue
        word = "#" if token.isdigit() else _DIGITS.sub("#", token)
        feats.add(f"w:{word}")
        if prev:
            feats.add(f"b:{prev} {word}")
        prev = word
    return feats


def describe(feature: str, prompt: str) -> str:
    """A feature as a person reads it: a word in quotes, a structure by its name."""
    kind, _, name = feature.partition(":")
    if kind == "k":
        found = dict(LEXICON)[name].search(clip(prompt).lower())
        return f"{found.group(0).lower()!r}" if found else f"{name} words"
    if kind == "s":
        return name
    if kind == "p":
        return f"{name!r} sign"
    return "numbers" if name == "#" else repr(name.replace("#", "N"))
