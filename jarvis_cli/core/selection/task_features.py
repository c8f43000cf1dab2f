"""The features that task inference reads from a prompt (shared by the runtime model
and by `scripts/derive_task_model.py`, so both see exactly the same thing).

A prompt becomes a set of named features:

- `w:WORD`: a lower-cased word (letters and digits; a number is `#`, digits inside a
  word become `#`, so "300 words" and "50 words" are one feature `b:# words`);
- `b:W1 W2`: two consecutive words;
- `c:XY`: two consecutive characters of a script written without spaces
  (Chinese, Japanese, Korean, Thai), so those prompts have word-like features too;
- `p:SYMBOL`: punctuation that carries meaning (`==`, `->`, `{`, `$`, `\\`, `>>>`, …);
- `s:NAME`: structure (`task_structure.py`): source-like lines, a
  Python signature with a docstring, `assert f(...) ==`, LaTeX, an equation, a table,
  how many numbers the prose has, its length, its script(s), options (A)…(D).

Only the first HEAD_CHARS and the last TAIL_CHARS characters are read, so a long
pasted file costs no more than that (format constraints are often at the end).
"""

from __future__ import annotations

import re

from jarvis_cli.core.selection.task_lexicon import keyword_features, keyword_match
from jarvis_cli.core.selection.task_structure import structure

HEAD_CHARS = 2_500
TAIL_CHARS = 700
MAX_WORD = 24

_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
# Scripts written without spaces between words: Thai, kana, CJK ideographs, Hangul.
# (Code-point ranges, not regex classes: a class this wide costs ms to compile.)
_UNSPACED = ((0x0E00, 0x0E7F), (0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF))
_PLAIN_SYMBOLS = ("==", "->", "=>", "::", "$", "^", "!", ">>>", "()")
# (name, a character the pattern needs or "", pattern): tried only on a text holding
# that character, through re's cache, so a prose prompt compiles none of them.
_SYMBOLS: tuple[tuple[str, str, str], ...] = (
    ("[]", "[", r"\w\["),
    ("\\", "\\", r"\\[a-z]"),
    ("_", "_", r"[a-z]_[a-z]"),
    ("camel", "", r"\b[a-z]+[A-Z]"),
    ("<tag>", "<", r"</?[a-zA-Z]+>"),
    ("*", "*", r"\*\*?\w"),
)


def clip(text: str) -> str:
    """The part of `text` that inference reads: its head and its tail."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text
    return text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]


def _unspaced(ch: str) -> bool:
    point = ord(ch)
    # _UNSPACED, spelled out: this runs once per character of non-Latin words.
    return (
        0x3040 <= point <= 0x30FF
        or 0x3400 <= point <= 0x9FFF
        or 0xAC00 <= point <= 0xD7AF
        or 0x0E00 <= point <= 0x0E7F
    )


def _split_unspaced(token: str) -> list[str]:
    """A token as runs of unspaced-script and other characters ("用python写" has three)."""
    if max(token) < "\u0e00":  # ASCII, Latin, Cyrillic, Greek, Indic, …: no unspaced run
        return [token]
    runs: list[str] = []
    kind = None
    for ch in token:
        this = _unspaced(ch)
        if this is kind:
            runs[-1] += ch
        else:
            runs.append(ch)
            kind = this
    return runs


def _words(lowered: str) -> list[str]:
    """The words of lower-cased text, numbers as `#` (a run of an unspaced script is one
    word, split into character pairs by `features`)."""
    return [
        "#" if token.isdigit() else _DIGITS.sub("#", token)
        for whole in _TOKEN.findall(lowered)
        for token in _split_unspaced(whole)
        if len(token) <= MAX_WORD or _unspaced(token[0])
    ]


def features(prompt: str) -> set[str]:
    """The feature names of `prompt` (clipped; see the module docstring)."""
    text = clip(prompt)
    lowered = text.lower()
    words = _words(lowered)
    feats = structure(text) | keyword_features(words, lowered)
    feats.update(f"p:{name}" for name in _PLAIN_SYMBOLS if name in text)
    if "{" in text or "}" in text:
        feats.add("p:{")
    if ";\n" in text or text.rstrip().endswith(";"):
        feats.add("p:;eol")
    feats.update(
        f"p:{name}"
        for name, needs, pattern in _SYMBOLS
        if needs in text and re.search(pattern, text)  # "" is in every text
    )
    prev = ""
    for word in words:
        if not word.isascii() and any(_unspaced(ch) for ch in word):
            chars = [ch for ch in word if _unspaced(ch)]
            for i in range(1, len(chars)):
                feats.add(f"c:{chars[i - 1]}{chars[i]}")
            prev = ""
            continue
        feats.add(f"w:{word}")
        if prev:
            feats.add(f"b:{prev} {word}")
        prev = word
    return feats


def describe(feature: str, prompt: str) -> str:
    """A feature as a person reads it: a word in quotes, a structure by its name."""
    kind, _, name = feature.partition(":")
    if kind == "k":
        lowered = clip(prompt).lower()
        found = keyword_match(name, _words(lowered), lowered)
        return repr(found.replace("#", "N")) if found else f"{name} words"
    if kind == "s":
        return name
    if kind == "p":
        return f"{name!r} sign"
    return "numbers" if name == "#" else repr(name.replace("#", "N"))
