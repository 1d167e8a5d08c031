# SPDX-License-Identifier: MIT
"""Correct a deterministic mix of words with Norvig's corrector, recording every call.

    run.py TRACE [--corpus FILE] [WORD ...]

Without WORDs, a text of 250 words (80 distinct, common ones repeated): 150 correct, 80
misspelled once (edits1 finds them), 20 long ones misspelled twice (only edits2 finds
them), shuffled; a summary per kind follows.
With WORDs: those, each printed with its correction. The corpus (default: beside TRACE)
is made on first use from the word list of Debian's wamerican package, with Zipf-like
counts. Then: perfan inputs --type '*correction' TRACE  (which words are slow?)
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time

import perflog
import spell

DICT = "/usr/share/dict/words"  # Debian package wamerican
KINDS = [("correct", 150, 30), ("one edit", 80, 30), ("two edits, long", 20, 20)]  # words, distinct


def make_corpus(path):
    """Write a text where the rank-r word of DICT occurs max(1, 20000 // r) times (Zipf)."""
    try:
        with open(DICT, encoding="utf-8") as f:
            vocab = sorted({w.lower() for w in f.read().split() if not w.endswith("'s")})
    except OSError as e:
        sys.exit(f"run.py: {e}: install the word list (apt-get install wamerican)")
    vocab = [w for w in vocab if w.isascii() and w.isalpha()]
    rng = random.Random(1)
    ranked = sorted(vocab, key=lambda w: len(w) + 4 * rng.random())  # short ones first, mostly
    # A temporary file of its own, then a rename: runs in parallel never see half a corpus.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for rank, w in enumerate(ranked, 1):
            f.write(" ".join([w] * max(1, 20000 // rank)) + "\n")
    os.replace(tmp, path)


def misspell(rng, word, edits):
    for _ in range(edits):
        i = rng.randrange(len(word))
        op = rng.choice("rdit")
        if op == "r":
            word = word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1:]
        elif op == "d":
            word = word[:i] + word[i + 1:]
        elif op == "i":
            word = word[:i] + rng.choice("aeioulnrst") + word[i:]
        else:
            word = word[:i] + word[i + 1:i + 2] + word[i] + word[i + 2:]
    return word


def kind_of(word):
    """Which step of candidates() finds the word (unrecorded: __wrapped__ is the function)."""
    if word in spell.WORDS:
        return "correct"
    if any(e in spell.WORDS for e in spell.edits1.__wrapped__(word)):
        return "one edit"
    return "two edits"


def make_inputs():
    """The default mix: (kind, word) pairs, the same on every run."""
    rng = random.Random(2)
    common = [w for w, _ in spell.WORDS.most_common(20000)]
    pools = {"one edit": [w for w in common if 4 <= len(w) <= 8],
             "two edits, long": [w for w in spell.WORDS if 10 <= len(w) <= 13]}
    inputs = []
    for kind, n, distinct in KINDS:
        if kind == "correct":
            found = rng.sample(common[:2000], distinct)
        else:
            found = []
            while len(found) < distinct:
                m = misspell(rng, rng.choice(pools[kind]), 1 if kind == "one edit" else 2)
                if kind.startswith(kind_of(m)) and m not in found:
                    found.append(m)
        # Every word once, then repeats weighted like Zipf: the first ones are common.
        weights = [1 / r for r in range(1, distinct + 1)]
        words = found + rng.choices(found, weights, k=n - distinct)
        inputs += [(kind, w) for w in words]
    rng.shuffle(inputs)
    return inputs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--corpus", help="word corpus (made when missing; default: beside TRACE)")
    ap.add_argument("words", nargs="*", default=[], metavar="WORD",
                    help="words to correct (optional: a built-in text of 250 words)")
    args = ap.parse_intermixed_args()
    corpus = args.corpus or os.path.join(os.path.dirname(args.trace) or ".",
                                         "spellcheck-corpus.txt")
    for d in {os.path.dirname(corpus), os.path.dirname(args.trace)} - {""}:
        os.makedirs(d, exist_ok=True)
    if not os.path.exists(corpus):
        make_corpus(corpus)
    with open(corpus, encoding="utf-8") as f:
        spell.train(f.read())
    inputs = [(kind_of(w), w) for w in args.words] if args.words else make_inputs()

    perflog.start(args.trace)
    times = []
    t0 = time.perf_counter()
    for kind, word in inputs:
        t = time.perf_counter()
        fixed = spell.correction(word)
        times.append((time.perf_counter() - t, kind, word, fixed))
    total = time.perf_counter() - t0
    perflog.stop()

    print(f"spellcheck: {len(inputs)} words corrected in {total:.1f} s; "
          f"corpus {corpus} ({len(spell.WORDS)} words), trace {args.trace}")
    if args.words:
        for s, kind, word, fixed in times:
            print(f"  {word} -> {fixed}  ({kind}, {s * 1e3:.2f} ms)")
        return
    print(f"  {'input kind':<18} {'words':>5} {'median':>10} {'max':>10}")
    for kind, _, _ in KINDS:
        ms = [s * 1e3 for s, k, _, _ in times if k == kind]
        print(f"  {kind:<18} {len(ms):>5} {statistics.median(ms):>7.3f} ms {max(ms):>7.3f} ms")
    s, _, word, fixed = max(times)
    print(f"  slowest: {word} -> {fixed} ({s * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
