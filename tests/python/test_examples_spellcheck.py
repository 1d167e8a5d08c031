# SPDX-License-Identifier: MIT
"""examples/spellcheck: run as a user would, then check the trace by reading it back.

The kind of each input (correct, one edit, two edits) is worked out here from the corpus
with an edits1 of our own, not taken from the example's output.
"""
import json
import os
import pathlib
import re
import statistics
import string
import subprocess
import sys

import pytest

import perflog
from conftest import Tree

RUN = pathlib.Path(__file__).resolve().parents[2] / "examples" / "spellcheck" / "run.py"
DICT = "/usr/share/dict/words"


def run(*args):
    p = subprocess.run([sys.executable, str(RUN), *map(str, args)], capture_output=True,
                       text=True, timeout=120, env=os.environ.copy())
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


def one_edit_away(word, vocab):
    for i in range(len(word) + 1):
        a, b = word[:i], word[i:]
        if b and a + b[1:] in vocab:
            return True
        if len(b) > 1 and a + b[1] + b[0] + b[2:] in vocab:
            return True
        for c in string.ascii_lowercase:
            if (b and a + c + b[1:] in vocab) or a + c + b in vocab:
                return True
    return False


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    assert os.path.exists(DICT), "the word list is missing: apt-get install wamerican"
    d = tmp_path_factory.mktemp("spell")
    out = run(d / "spell.zst")
    corpus = d / "spellcheck-corpus.txt"
    vocab = set(re.findall(r"\w+", corpus.read_text().lower()))
    tree = Tree(list(perflog.read(str(d / "spell.zst"))))
    return d, out, vocab, tree


def kind(word, vocab):
    return "correct" if word in vocab else "one" if one_edit_away(word, vocab) else "two"


def test_corpus_is_made_and_not_in_the_source_tree(default_run):
    d, out, vocab, _ = default_run
    assert f"corpus {d / 'spellcheck-corpus.txt'} ({len(vocab)} words)" in out
    assert 50000 < len(vocab) < 120000 and "'s" not in vocab
    assert not (RUN.parent / "spellcheck-corpus.txt").exists()


def test_words_needing_edits2_are_the_slow_ones(default_run):
    _, out, vocab, tree = default_run
    calls = tree.of_type("spell.correction")
    assert len(calls) == 250 and all(c.outcome == "succeeded" for c in calls)
    by_kind = {"correct": [], "one": [], "two": []}
    for c in calls:
        by_kind[kind(c.fields["word"], vocab)].append(c)
    assert [len(v) for v in by_kind.values()] == [150, 80, 20], out
    assert all(len(c.fields["word"]) >= 9 for c in by_kind["two"])
    ms = {k: [c.duration_ns / 1e6 for c in v] for k, v in by_kind.items()}
    # Two edits of a 9+ letter word try ~500k strings, one edit ~500: ~1000x apart.
    assert statistics.median(ms["two"]) > 20 * statistics.median(ms["one"]), ms
    assert min(ms["two"]) > statistics.median(ms["one"]), ms
    assert statistics.median(ms["one"]) > statistics.median(ms["correct"]), ms


def test_the_tree_shows_where_each_word_was_found(default_run):
    _, _, vocab, tree = default_run
    for c in tree.of_type("spell.correction"):
        word, k = c.fields["word"], kind(c.fields["word"], vocab)
        cand = [n for n in c.children if n.type == "spell.candidates"]
        assert len(cand) == 1 and cand[0].fields == {"word": word}
        known = [n for n in cand[0].children if n.type == "spell.known"]
        assert len(known) == {"correct": 1, "one": 2, "two": 3}[k], (word, k)
        assert known[0].fields["words"] == [word]
        if k != "correct":
            assert re.fullmatch(r"<set len=\d+>", known[1].fields["words"])
        if k == "two":
            assert known[2].fields["words"] == "<generator>"
            # edits2 runs lazily inside known(): an edits1 call per word one edit away.
            inner = [n for n in known[2].children if n.type == "spell.edits1"]
            assert len(inner) > 300
        assert all(p.fields.keys() == {"word"} for p in c.children if p.type == "spell.P")


def test_perfan_inputs_ranks_long_words_first(default_run):
    d, _, vocab, _ = default_run
    perfan = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", "build"), "analyzer", "perfan")
    if not perfan.exists():
        pytest.skip("perfan not built")
    p = subprocess.run([perfan, "inputs", "--type", "*correction", "--json", d / "spell.zst"],
                       capture_output=True, text=True, timeout=60, check=True)
    (t,) = json.loads(p.stdout)["types"]
    first = t["arguments"][0]
    assert first["name"] == "word" and first["grouping"] == "length"
    assert first["groups"][0]["min"] >= 8 and first["groups"][0]["tail_share"] > 0.9
    by_value = next(a for a in t["arguments"] if a["grouping"] == "value")
    top = by_value["groups"][0]
    assert top["kind"] == "string" and kind(top["value"], vocab) == "two"


def test_perfan_inputs_groups_sets_by_their_size(default_run):
    # The gates issue, part 4: known(words) gets sets, recorded as "<set len=N>"; perfan
    # groups len(words) by N (read back from the trace here), not by the length of the
    # placeholder text, and a group shows the sizes it held.
    d = default_run[0]
    perfan = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", "build"), "analyzer", "perfan")
    if not perfan.exists():
        pytest.skip("perfan not built")
    sizes = []
    for rec in perflog.read(str(d / "spell.zst")):
        if rec["kind"] == "start" and rec["type"] == "spell.known":
            m = re.fullmatch(r"<set len=(\d+)>", str(rec["fields"].get("words")))
            if m:
                sizes.append(int(m.group(1)))
    assert sizes and max(sizes) > 100
    p = subprocess.run([perfan, "inputs", "--type", "spell.known", "--json", d / "spell.zst"],
                       capture_output=True, text=True, timeout=60, check=True)
    (t,) = json.loads(p.stdout)["types"]
    (lengths,) = [a for a in t["arguments"] if a["name"] == "words" and a["grouping"] == "length"]
    groups = [g for g in lengths["groups"] if g["kind"] == "length"]
    assert max(g["max"] for g in groups) == max(sizes)  # not 15, "<set len=702>"'s length
    big = [g for g in groups if g["min"] >= 100]
    assert big and all(g["min"] in sizes and g["max"] in sizes for g in big)


def test_words_given_are_the_words_recorded(default_run, tmp_path):
    d, _, vocab, _ = default_run
    given = ["speling", "the", "korrectud", "the", "inconvienient"]
    out = run(tmp_path / "w.zst", "--corpus", d / "spellcheck-corpus.txt", *given)
    tree = Tree(list(perflog.read(str(tmp_path / "w.zst"))))
    calls = sorted(tree.of_type("spell.correction"), key=lambda n: n.ts_ns)
    assert [c.fields["word"] for c in calls] == given
    fixed = re.findall(r"^  (\w+) -> (\w+)", out, re.M)
    assert [w for w, _ in fixed] == given
    assert all(f in vocab for _, f in fixed) and dict(fixed)["the"] == "the"
    assert not (tmp_path / "spellcheck-corpus.txt").exists()
