"""Sentence streaming: cuts text that arrives piece by piece into sentences as soon as each is complete."""
from __future__ import annotations

_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘(["
_CLAUSE = ",;:—–"
# A period after these never ends a sentence ("Dr. Smith", "e.g. this").
_NEVER_END = frozenset({"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "e.g", "i.e", "cf", "approx"})
# A period after these ends a sentence only when the next word starts like a sentence ("... etc. Then").
_MAYBE_END = frozenset({"etc", "inc", "ltd", "co", "corp", "u.s", "u.k", "u.n", "e.u", "a.m", "p.m", "ph.d"})


class SentenceSplitter:
    """Feed text pieces with ``push``; get back each sentence the moment it is known to be complete.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any closing quotes or brackets) followed by
    whitespace, or at a newline. Abbreviations, initials, decimals, list markers and ellipses followed by a
    lowercase word do not end one.
    A run of ``max_words`` words or more without an end is cut at the next clause mark (``, ; : —``) so
    speech can start early; the first piece already after ``first_max_words``, and with no clause mark by twice
    that, at the next word (the first sound waits for it; later pieces are synthesized while earlier ones play).
    Sentences come back stripped, with inner whitespace collapsed to single spaces,
    so ``" ".join(all outputs) == " ".join(all input.split())``.
    """

    def __init__(self, max_words: int = 20, first_max_words: int | None = None) -> None:
        if max_words < 1 or (first_max_words is not None and first_max_words < 1):
            raise ValueError(f"max_words and first_max_words must be at least 1, got {max_words}, {first_max_words}")
        self.max_words = max_words
        self.first_max_words = first_max_words or max_words
        self._buf = ""
        self._first = True

    def push(self, text: str) -> list[str]:
        """Add a piece of text; return the sentences it completed (possibly none)."""
        self._buf += text
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """End of text: return everything still pending as sentences and reset."""
        out = self._drain(final=True)
        self._buf = ""
        return out

    def _drain(self, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            if self._first:
                cut = _find_cut(self._buf, final, self.first_max_words, hard_words=2 * self.first_max_words)
            else:
                cut = _find_cut(self._buf, final, self.max_words)
            if cut is None:
                return out
            end, rest = cut
            sentence = " ".join(self._buf[:end].split())
            if sentence:
                out.append(sentence)
                self._first = False
            self._buf = self._buf[rest:]
            if not self._buf:
                return out


def _find_cut(buf: str, final: bool, max_words: int, hard_words: int | None = None) -> tuple[int, int] | None:
    """(end of the first sentence, start of the rest), or None while more text is needed to decide.

    At ``final`` the end of the buffer counts as whitespace and as the end of a sentence. With ``hard_words``,
    a run that long without an end or a clause mark is cut after its last word.
    """
    n = len(buf)
    i = 0
    while i < n:
        c = buf[i]
        if c == "\n":
            return i, i + 1
        if c in _TERMINATORS:
            j = i
            while j < n and buf[j] in _TERMINATORS:
                j += 1
            k = j
            while k < n and buf[k] in _CLOSERS:
                k += 1
            if k == n:
                return (n, n) if final else None
            if buf[k].isspace():
                verdict = _ends_sentence(buf, i, j, k, final)
                if verdict is None:
                    return None
                if verdict:
                    return k, k
            i = k
            continue
        if _is_clause_mark(buf, i) and len(buf[: i + 1].split()) >= max_words:
            if i + 1 == n:
                return (n, n) if final else None
            if buf[i + 1].isspace():
                return i + 1, i + 1
        if hard_words is not None and c.isspace() and i > 0 and not buf[i - 1].isspace() \
                and len(buf[:i].split()) >= hard_words:
            return i, i
        i += 1
    return (n, n) if final else None


def _is_clause_mark(buf: str, i: int) -> bool:
    c = buf[i]
    # A hyphen counts only as a free-standing dash (" - "), never inside a word.
    return c in _CLAUSE or (c == "-" and i > 0 and buf[i - 1].isspace())


def _ends_sentence(buf: str, i: int, j: int, k: int, final: bool) -> bool | None:
    """Whether the terminator run buf[i:j] (closers up to k, then whitespace) ends a sentence; None = undecided."""
    run = buf[i:j]
    if "!" in run or "?" in run:
        return True
    if run != ".":
        return _next_starts_sentence(buf, k, final, allow_digit=True)
    word = buf[: i].rsplit(None, 1)[-1].lstrip(_OPENERS) if buf[:i].strip() else ""
    low = word.lower()
    if low in _NEVER_END or (low not in _MAYBE_END and _is_initials(word)):
        return False
    if word.isdigit() and len(buf[:i].split()) == 1:
        return False  # a list marker ("2. Walk in.") belongs to its item
    if "." in word or low in _MAYBE_END:
        return _next_starts_sentence(buf, k, final, allow_digit=False)
    return True


def _is_initials(word: str) -> bool:
    """"J" or "J.R.R": single capital letters joined by periods (the final period already cut off)."""
    return all(len(part) == 1 and part.isalpha() and part.isupper() for part in word.split("."))


def _next_starts_sentence(buf: str, k: int, final: bool, allow_digit: bool) -> bool | None:
    m = k
    while m < len(buf) and buf[m].isspace():
        if buf[m] == "\n":
            return True
        m += 1
    if m == len(buf):
        return True if final else None
    nxt = buf[m]
    if nxt.islower():
        return False
    return allow_digit or not nxt.isdigit()
