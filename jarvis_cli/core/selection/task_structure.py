"""The structure features of a prompt for task inference (`s:NAME` in task_features):
source-like lines, a signature with a docstring, `assert f(...) ==`, LaTeX, an
equation, a table, options (A)…(D), a list, how many numbers the prose has, its
length, money, percentages, long quotations, math symbols, two scripts.

Most are tested line by line with string methods rather than regular expressions:
every `jarvis select` compiles whatever patterns it uses once, and Python's regex
compiler costs about a millisecond for every few patterns of this size.
"""

from __future__ import annotations

import itertools
import re

_SOURCE_STARTS = (
    "def ",
    "class ",
    "import ",
    "#include",
    "function ",
    "const ",
    "let ",
    "var ",
    "fn ",
    "pub ",
    "public ",
    "private ",
    "return",
    "if (",
    "for (",
    "while (",
    "@",
    "package ",
    "func ",
    "SELECT ",
    "INSERT ",
    "CREATE TABLE ",
)
_BLOCK_STARTS = ("if", "elif", "else", "for", "while", "try", "except", "with")
_SIGNATURE_STARTS = ("public ", "private ", "static ", "func ", "fn ", "function ")
_LATEX_COMMANDS = tuple(
    "\\" + c
    for c in str.split(
        "frac dfrac cdot times sqrt sum prod int lim infty pi theta alpha beta le ge leq geq "
        "neq pmod binom lfloor lceil log sin cos tan angle triangle circ text mathbf begin"
    )
)
_MATH_SYMBOLS = "∫∑√∞≤≥≠∂πθ±×÷²³"  # noqa: RUF001 (the multiplication sign is meant)
_ASSIGNMENT = r"[\w.\[\]]+\s*[-+*/%]?=\s*\S"
_CALL = r"\b[a-z_]\w*\([^()\n]*\)"
_EQUATION = r"\b\d*[a-z]\s*\^\s*\d|\b(\d+\s*)?[a-z]\s*[-+*/]\s*\d+\s*=\s*-?\d|\b[a-z]\s*=\s*-?\d+\b"
_NUMBER = r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w.])"
_CURRENCY = ("$", "€", "£", "¥")
_MONEY_WORDS = (" dollar", " cent", " euro")
_QUOTES = ('"', '"'), ("“", "”"), ("«", "»")
# Letters by script, as code-point ranges (a regex class this wide is slow to compile):
# Latin, Greek, Hebrew/Arabic, Cyrillic, Indic, Thai/Lao, kana, CJK, Hangul.
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


def _bucket(value: int, bounds: tuple[int, ...]) -> int:
    for i, bound in enumerate(bounds):
        if value < bound:
            return i
    return len(bounds)


def _count_numbers(prose: str) -> int:
    """How many numbers `prose` has (`_NUMBER`); a text without a digit (`\\d` is any
    Unicode digit: only an ASCII text can be ruled out by the ten) compiles nothing."""
    if prose.isascii() and not any(d in prose for d in "0123456789"):
        return 0
    return len(re.findall(_NUMBER, prose))


def _is_source(line: str) -> bool:
    s = line.strip()
    return (
        s.startswith(_SOURCE_STARTS)
        or s.endswith((";", "{", "}", "};"))
        or (s.startswith(_BLOCK_STARTS) and s.endswith(":"))
        or (s.startswith("from ") and " import " in s)
        or ("=" in s and re.match(_ASSIGNMENT, s) is not None)
    )


def _is_signature(line: str) -> bool:
    s = line.strip()
    if s.startswith(("def ", "async def ")):
        return "(" in s and s.endswith(":")
    return s.startswith(_SIGNATURE_STARTS) and "(" in s and ")" in s and not s.endswith(";")


def _is_table_rule(line: str) -> bool:
    """A Markdown table's `|---|:--:|` line."""
    s = line.strip()
    return "|" in s and s.count("-") >= 3 and not s.strip("|:- ")


def _cells(line: str, sep: str) -> int:
    """How many separators make `line` a table row: 2+, or 1 in a short line with a
    number (two-column data such as `Jan,120`); else 0."""
    n = line.count(sep)
    if n == 1 and (len(line) > 40 or not any(ch.isdigit() for ch in line)):
        return 0
    return n


def _table_rows(lines: list[str]) -> int:
    """The longest run of lines with the same number of one separator (_cells)."""
    if any(_is_table_rule(line) for line in lines):
        return 10
    best = 0
    for sep in (",", "\t", "|", ";"):
        run, prev = 0, -1
        for line in lines:
            cur = _cells(line, sep)
            run = run + 1 if cur and cur == prev else (1 if cur else 0)
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


def _two_scripts(text: str) -> bool:
    """Whether two scripts each write 15 % or more of the letters (a translation)."""
    if text.isascii():
        return False
    counts = [0] * (len(_SCRIPTS) + 1)  # the last one: other letters (index -1)
    for ch in text:
        if ch.isalpha():
            counts[0 if ch.isascii() else _script(ch)] += 1
    total = sum(counts) or 1
    return sum(1 for n in counts[:-1] if n / total >= 0.15) >= 2


def _follows(text: str, marks: tuple[str, ...], reach: int) -> bool:
    """Whether a digit follows one of `marks` (or precedes it, reach < 0) within |reach|."""
    for mark in marks:
        parts = text.split(mark)
        for before, after in itertools.pairwise(parts):
            near = after[: reach + 1] if reach > 0 else before[reach - 1 :]
            if any(ch.isdigit() for ch in near):
                return True
    return False


def _dollar_math(lines: list[str]) -> bool:
    """`$…$` on one line, at most 80 characters inside."""
    return any(0 < len(inner) <= 80 for line in lines for inner in line.split("$")[1:-1:2])


def _quoted(lines: list[str]) -> bool:
    """A quotation of 40+ characters on one line."""
    for line in lines:
        for opening, closing in _QUOTES:
            start = line.find(opening)
            if start >= 0 and line.find(closing, start + 41) > 0:
                return True
    return False


def _option(line: str) -> bool:
    """`(A) …`, `A. …`, `b) …`: a multiple-choice option."""
    s = line.lstrip().removeprefix("(")
    return len(s) > 3 and s[0] in "ABCDEabcde" and s[1] in ").:" and s[2] == " "


def _bullet(line: str) -> bool:
    s = line.lstrip()
    if s[:2] in ("- ", "* ", "• "):
        return True
    head = s.split(" ", 1)[0]
    return len(head) > 1 and head[:-1].isdigit() and head[-1] in ".)"


def structure(text: str) -> set[str]:
    """The structure features of `text` (already clipped), as `s:NAME`."""
    lines = [line for line in text.splitlines() if line.strip()]
    found = set()
    if any(_is_signature(line) for line in lines):
        found.add("signature")
    if '"""' in text or "'''" in text or "/**" in text or "///" in text:
        found.add("docstring")
    if any(ln.lstrip().startswith("assert") and "==" in ln and "(" in ln for ln in lines):
        found.add("assert")
    if any(c in text for c in _LATEX_COMMANDS) or ("$" in text and _dollar_math(lines)):
        found.add("latex")
    if "(" in text and re.search(_CALL, text):
        found.add("call")
    if ("=" in text or "^" in text) and re.search(_EQUATION, text):
        found.add("equation")
    lowered = text.lower()
    if _follows(text, _CURRENCY, 2) or _follows(lowered, _MONEY_WORDS, -2):
        found.add("money")
    if "%" in text and _follows(text, ("%",), -2):
        found.add("percent")
    if _quoted(lines):
        found.add("quoted text")
    source = sum(1 for line in lines if _is_source(line))
    if source >= 3 and source >= 0.4 * len(lines):
        found.add("source lines")
    elif source >= 2:
        found.add("some source lines")
    rows = _table_rows(lines)
    if rows >= 3:
        found.add("table" if rows >= 6 else "short table")
    if sum(1 for line in lines if _option(line)) >= 3:
        found.add("options")
    if sum(1 for line in lines if _bullet(line)) >= 2:
        found.add("list")
    prose = text if rows < 3 else "\n".join(line for line in lines if line.count(",") < 2)
    # Buckets that only say "short" or "plain" are left out on purpose: short prompts
    # of every kind are common, and the development set's short ones are mostly general.
    numbers = _bucket(_count_numbers(prose), (1, 3, 6))
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
