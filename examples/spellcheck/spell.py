# SPDX-License-Identifier: MIT
"""Peter Norvig's spelling corrector (https://norvig.com/spell-correct.html), recorded.

Norvig's structure, unchanged but for the @perflog decorators. A profiler says that
edits1() and known() take the time; the trace says which *words* do: those that are
misspelled twice, whose candidates come from edits2(), and the longer the worse
(len(word) ** 2 strings to try).

Usage as a module: spell.train(text); spell.correction("speling") -> "spelling".
"""
import re
from collections import Counter

from perflog import perflog

WORDS = Counter()  # word -> count in the corpus; filled by train()
TOTAL = 0          # sum(WORDS.values()), kept so that P() does not sum on every call


def words(text):
    return re.findall(r"\w+", text.lower())


def train(text):
    """Count the words of text into WORDS."""
    global TOTAL
    WORDS.update(words(text))
    TOTAL = sum(WORDS.values())


# WORDS is a module global, never an argument: a Counter passed to a recorded function
# would be recorded (as a dict: its first 16 items) on every call. N is the same for
# every call, so only the word is recorded.
@perflog(args=["word"])
def P(word, N=None):
    "Probability of `word`."
    return WORDS[word] / (N or TOTAL)


@perflog
def correction(word):
    "Most probable spelling correction for word."
    # sorted(): many corpus counts tie, and max() over a set would then pick by the
    # string hash, which changes from run to run (PYTHONHASHSEED).
    return max(sorted(candidates(word)), key=P)


@perflog
def candidates(word):
    "Generate possible spelling corrections for word."
    return known([word]) or known(edits1(word)) or known(edits2(word)) or [word]


# Its argument is recorded as ["word"], "<set len=N>" or "<generator>" (edits2's): the
# converter never iterates a container it cannot read cheaply.
@perflog
def known(words):
    "The subset of `words` that appear in the dictionary of WORDS."
    return set(w for w in words if w in WORDS)


@perflog
def edits1(word):
    "All edits that are one edit away from `word`."
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [L + R[1:] for L, R in splits if R]
    transposes = [L + R[1] + R[0] + R[2:] for L, R in splits if len(R) > 1]
    replaces = [L + c + R[1:] for L, R in splits if R for c in letters]
    inserts = [L + c + R for L, R in splits for c in letters]
    return set(deletes + transposes + replaces + inserts)


# Not decorated: it returns a lazy generator at once, so its action would last a
# microsecond. The work runs inside known(), which consumes it (its edits1() calls are
# children of that known() call).
def edits2(word):
    "All edits that are two edits away from `word`."
    return (e2 for e1 in edits1(word) for e2 in edits1(e1))
