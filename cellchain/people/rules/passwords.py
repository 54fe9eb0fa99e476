"""What a new password must be (docs/rules.md, "People and access"; OWASP ASVS 2.1.1, 2.1.7; 21 CFR 11.300).

The rule applies when a password is set (a new account, a change); a stored password that was set under an
older rule keeps working until its owner changes it. Pure Python: the list of common passwords is a data
file beside this module.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cellchain.core.words import N_, translated

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200  # hashing a megabyte-long "password" would be a cheap way to tie up a worker
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _base_words(password: str) -> set[str]:
    """The password lower-cased, and again without the digits and marks people add to meet a length rule
    ("Password2024!" is "password"), and one half of a doubled word ("monkeymonkey")."""
    lowered = password.strip().lower()
    stripped = lowered.rstrip("0123456789!@#$%^&*?.-_ ").lstrip("0123456789!@#$%^&*?.-_ ")
    words = {lowered, stripped}
    for word in (lowered, stripped):
        half = len(word) // 2
        if half and word[:half] == word[half:]:
            words.add(word[:half])
    return {w for w in words if w}


def password_problem(password: str, *, username: str = "", full_name: str = "") -> str | None:
    """Why ``password`` may not be set, in words for the person choosing it, or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return translated(N_("at least {n} characters")).format(n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return translated(N_("at most {n} characters")).format(n=MAX_PASSWORD_LENGTH)
    if not password.strip():
        return translated(N_("choose a password that is not only spaces"))
    if len(set(password)) < 4:
        return translated(N_("use more than three different characters"))
    words = _base_words(password)
    personal = {part for part in (username.lower(), *full_name.lower().split()) if len(part) >= 3}
    if words & personal or any(part in password.lower() for part in personal if len(part) >= 5):
        return translated(N_("do not use your username or name in the password"))
    if words & common_passwords():
        return translated(N_("this password is on the list of common passwords; choose a less common one"))
    return None
