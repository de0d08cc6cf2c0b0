"""Security tools named in a CloudTrail user agent: the logic behind ``cspm.tools``.

Offensive frameworks, secret scanners, audit tools and penetration-testing distributions
leave their name in the user agent (``stratus-red-team_<uuid>``, ``TruffleHog``,
``Scout Suite/5.14``, ``Linux/6.5.0-kali3-amd64``, Prowler's partner mark ``APN_1826889``).
:func:`tools` returns the canonical names found, in a fixed order:

===================  ======================================================
name                 found as (case-insensitive)
===================  ======================================================
``kali``             ``kali`` as a word (``-kali3-``, ``.kali.``, ``#kali``)
``parrot``           ``parrot`` as a word (``-13parrot1-``)
``pentoo``           ``pentoo`` as a word
``stratus-red-team`` ``stratus-red-team``
``grimoire``         ``grimoire_`` (Datadog's Grimoire: ``exec-env/grimoire_<uuid>``)
``pacu``             ``pacu`` as a word
``cloudfox``         ``cloudfox``
``weirdaal``         ``weirdaal``
``trufflehog``       ``trufflehog``
``scoutsuite``       ``scout suite`` or ``scoutsuite``
``prowler``          ``prowler`` or ``apn_1826889``
``cloudsploit``      ``cloudsploit``
``steampipe``        ``steampipe``
``pmapper``          ``pmapper``
``cloudmapper``      ``cloudmapper``
===================  ======================================================

"As a word" means the letters before and after are not ASCII letters, so ``kalimantan``
or ``pacuaviation`` do not count (digits and punctuation around the name do).

The user agent is chosen by the caller: these names say what a caller *announces*, never
that a call is harmless. Verdicts are remembered per user-agent text (agents repeat), at
most :data:`MEMO_ENTRIES`; only the first :data:`SCAN_CHARS` characters are read.
"""

from __future__ import annotations

from typing import Any

#: (canonical name, fragments, must be a whole word)
TOOLS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("kali", ("kali",), True),
    ("parrot", ("parrot",), True),
    ("pentoo", ("pentoo",), True),
    ("stratus-red-team", ("stratus-red-team",), False),
    ("grimoire", ("grimoire_",), False),
    ("pacu", ("pacu",), True),
    ("cloudfox", ("cloudfox",), False),
    ("weirdaal", ("weirdaal",), False),
    ("trufflehog", ("trufflehog",), False),
    ("scoutsuite", ("scout suite", "scoutsuite"), False),
    ("prowler", ("prowler", "apn_1826889"), False),
    ("cloudsploit", ("cloudsploit",), False),
    ("steampipe", ("steampipe",), False),
    ("pmapper", ("pmapper",), False),
    ("cloudmapper", ("cloudmapper",), False),
)
MEMO_ENTRIES = 2048
SCAN_CHARS = 2048

_memo: dict[str, tuple[str, ...]] = {}


def _is_letter(ch: str) -> bool:
    return "a" <= ch <= "z"


def _word_at(text: str, frag: str) -> bool:
    start = text.find(frag)
    while start >= 0:
        end = start + len(frag)
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if not (before and _is_letter(before)) and not (after and _is_letter(after)):
            return True
        start = text.find(frag, start + 1)
    return False


def _scan(agent: str) -> tuple[str, ...]:
    text = agent[:SCAN_CHARS].lower()
    found = []
    for name, frags, word in TOOLS:
        for frag in frags:
            if frag in text and (not word or _word_at(text, frag)):
                found.append(name)
                break
    return tuple(found)


def tool_names(rec: dict[str, Any]) -> tuple[str, ...]:
    """Canonical names of the security tools the record's user agent names (``()``: none).

    A function of ``userAgent`` alone, remembered per agent: the rule index keys on it.
    """
    agent = rec.get("userAgent")
    if agent.__class__ is not str or not agent:
        return ()
    found = _memo.get(agent)
    if found is None:
        found = _scan(agent)
        if len(_memo) >= MEMO_ENTRIES:
            _memo.clear()
        _memo[agent] = found
    return found


def tools(rec: dict[str, Any]) -> list[str] | None:
    """Canonical names of the security tools the record's user agent names, or None."""
    return list(tool_names(rec)) or None
