"""Patterns that mean the same in Python and in DuckDB: globs and a portable regex dialect.

Activity rules are evaluated by two engines that must agree event for event: Python (the live
path and the reference count) and DuckDB's RE2 (bulk imports and recounts). Globs compile to a
regex both read identically, and Python matches them without regexes in linear time; bot
patterns are limited to a dialect both engines agree on, small enough that no client-sent user
agent can make Python's backtracking engine spin. Pure: standard library only.
"""

from __future__ import annotations

import functools
import re
from typing import Final


def glob_to_regex(pattern: str) -> str:
    """A full-match regex for a glob: ``*`` any run, ``?`` one character, all else literal.

    ASCII characters other than letters and digits become ``\\xHH`` escapes and non-ASCII
    characters stay literal, which Python's ``re`` and RE2 (DuckDB) read identically; ``(?s:)``
    lets the wildcards cross newlines in both.
    """
    parts = []
    for ch in pattern:
        if ch == "*":
            if not parts or parts[-1] != ".*":  # a run of stars is one star (and no backtracking)
                parts.append(".*")
        elif ch == "?":
            parts.append(".")
        elif ch.isascii() and not ch.isalnum():
            parts.append(f"\\x{ord(ch):02x}")
        else:
            parts.append(ch)
    return "(?s:" + "".join(parts) + ")"


def glob_match(pattern: str, text: str) -> bool:
    """Whether the glob matches the whole ``text``: what ``glob_to_regex`` means, in linear time.

    Python's backtracking ``re`` takes exponential time on ``*a*a*b`` against a long URL, and
    URLs come from clients; so Python matches globs directly (anchored ends, then each middle
    segment at its leftmost place), while DuckDB runs the regex on RE2, which is linear.
    """
    first, *rest = pattern.split("*")
    if not rest:
        return len(text) == len(first) and _segment_at(first, text, 0)
    *middle, last = rest
    end = len(text) - len(last)
    if end < len(first) or not (_segment_at(first, text, 0) and _segment_at(last, text, end)):
        return False
    position = len(first)
    for segment in middle:
        if "?" in segment:
            found = _segment_regex(segment).search(text, position, end)
            start = -1 if found is None else found.start()
        else:
            start = text.find(segment, position, end)
        if start < 0:
            return False
        position = start + len(segment)
    return True


def _segment_at(segment: str, text: str, at: int) -> bool:
    return all(
        s == "?" or s == t for s, t in zip(segment, text[at : at + len(segment)], strict=True)
    )


@functools.lru_cache(maxsize=1024)
def _segment_regex(segment: str) -> re.Pattern[str]:
    return re.compile("(?s:" + ".".join(re.escape(part) for part in segment.split("?")) + ")")


_PORTABLE_TOKEN: Final = re.compile(
    r"""\\[!-/:-@\[-`{-~]                                  # escaped punctuation
      | \[\^?(?:\\[!-/:-@\[-`{-~]|-(?!-)|[^]\\\[&~|-])+\]  # a simple [class]
      | \(\?: | \((?!\?) | [)|.^]                           # groups, alternation, any, start
      | (?:[*+?]|\{[0-9]{1,3}(?:,[0-9]{0,3})?\})\??        # a quantifier, maybe lazy
      | [ !"#%&',\-/0-9:;<=>@A-Z_`a-z~]                    # a literal
    """,
    re.VERBOSE,
)


def portable_regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is outside the regex dialect Python ``re`` and RE2 agree on, or None.

    Allowed: printable ASCII literals, escaped punctuation (``\\.``), ``. | ^ ( ) (?:)``,
    quantifiers ``* + ? {m,n}`` (lazy too) and simple ``[classes]``. Refused because the
    engines differ: ``\\d \\w \\s \\b`` (Unicode in Python, ASCII in RE2), ``$`` (Python also
    matches before a final newline), lookarounds, backreferences, inline flags, possessive
    quantifiers and nested set syntax. Repetition is kept small — no repeated groups, at most
    two quantifiers, one unbounded, counts up to 16 — because user agents are client-controlled
    and Python's backtracking would otherwise be a denial-of-service lever.
    """
    i, previous, quantifiers = 0, "", []
    while i < len(pattern):
        token = _PORTABLE_TOKEN.match(pattern, i)
        quantifier = token is not None and token.group()[0] in "*+?{"
        if quantifier and previous == ")":
            return "repeat single characters or [classes], not groups (slow to match)"
        if quantifier:
            quantifiers.append(token.group())  # type: ignore[union-attr]
        if token is None or (quantifier and previous[:1] in ("*", "+", "?", "{")):
            return (
                f"not portable at {pattern[i : i + 12]!r}: use ASCII literals, \\-escaped"
                " punctuation, . | ^ ( ) (?:) * + ? {m,n} and simple [classes] (\\d \\w \\s \\b $"
                " and (?...) constructs differ between Python and DuckDB)"
            )
        i, previous = token.end(), token.group()
    unbounded = [q for q in quantifiers if q[0] in "*+" or q.rstrip("?").endswith(",}")]
    counts = [int(n) for q in quantifiers for n in re.findall("[0-9]+", q)]
    if len(quantifiers) > 2 or len(unbounded) > 1 or max(counts, default=0) > 16:
        return "at most two repetitions, one of them unbounded (* + {m,}), counts up to 16"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    if compiled.search("") is not None:
        return "matches the empty string, so every user agent would be a bot"
    return None


# Unicode simple case folding gives two ASCII letters a non-ASCII partner. RE2 merges an
# alternation of classes (``[kK]|[sS]``) into one case-folded class that then matches the Kelvin
# sign and the long s as well, so classes list those partners outright and both engines agree.
FOLD_PARTNERS: Final = {"k": "\u212a", "s": "\u017f"}


def ascii_caseless(pattern: str) -> str:
    """``pattern`` (portable dialect) with each ASCII letter matching both cases, flag-free.

    Python's IGNORECASE and RE2's ``(?i)`` fold different non-ASCII letters (Python lets ``i``
    match ``İ``, RE2 does not), so the rule spells case out: ``bot`` → ``[bB][oO][tT]``.
    """
    out = []
    for token in _PORTABLE_TOKEN.finditer(pattern):
        text = token.group()
        if text.startswith("["):
            negate = text.startswith("[^")
            body, chars, i = text[1 + negate : -1], set(), 0
            while i < len(body):
                low, i = (body[i + 1], i + 2) if body[i] == "\\" else (body[i], i + 1)
                high = low
                if i + 1 < len(body) and body[i] == "-":  # a range low-high
                    i += 1
                    high, i = (body[i + 1], i + 2) if body[i] == "\\" else (body[i], i + 1)
                chars.update(chr(c) for c in range(ord(low), ord(high) + 1))
            chars |= {c.swapcase() for c in chars}
            chars |= {FOLD_PARTNERS[c] for c in chars if c in FOLD_PARTNERS}
            listed = "".join(f"\\x{ord(c):02x}" if c.isascii() else c for c in sorted(chars))
            out.append(f"[{'^' * negate}{listed}]")
        elif text.isalpha():
            out.append(f"[{text.lower()}{text.upper()}{FOLD_PARTNERS.get(text.lower(), '')}]")
        else:
            out.append(text)
    return "".join(out)
