# SPDX-License-Identifier: MIT
"""Terminal injection (the hardening issue's finding 5): names, thread names, exception
texts and file names from a trace hold ESC, BEL, C1 controls and newlines. Every perfan
subcommand that prints for a person shows them escaped by one rule (analyzer/fmt/text.h),
warnings included; --json stays exact."""
import json
import os
import pathlib
import subprocess
import threading

import pytest

import perflog

SRC = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", SRC / "build"))
PERFAN = BUILD / "analyzer" / "perfan"
EVIL = "evil\x1b[31mred\x07\u009b2J\rline\nTYPE COUNT"
CONTROLS = [b"\x1b", b"\x07", b"\xc2\x9b", b"\r"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    if not PERFAN.exists():
        pytest.skip("perfan is not built")
    d = tmp_path_factory.mktemp("hostile")
    path = d / "x.zst: ok\nTYPE COUNT\nall good.zst"  # a file name that forges lines
    perflog.start(str(path))

    def worker():
        threading.current_thread().name = EVIL
        for i in range(5):
            try:
                with perflog.action(EVIL, **{EVIL: EVIL, "n": i}):
                    raise ValueError(EVIL)
            except ValueError:
                pass
        with perflog.action("ok.type", n=1):
            pass
        perflog.log(EVIL, msg=EVIL)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    perflog.stop()
    return path


COMMANDS = [
    ["stats"], ["slowest"], ["inflight"], ["sla", "--max", "3600s"], ["timeline"],
    ["inputs", "--type", "*"], ["tree", "--slowest", "3"], ["diff", "{0}"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c[0])
def test_no_control_character_reaches_the_terminal(hostile, cmd):
    args = [a.format(hostile) for a in cmd]
    p = subprocess.run([str(PERFAN), *args, str(hostile)], capture_output=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    for out in (p.stdout, p.stderr):
        for c in CONTROLS:
            assert c not in out, (cmd, c, out[:2000])
    text = p.stdout.decode()
    assert not any(line.startswith("TYPE COUNT") for line in text.splitlines())
    if cmd[0] in ("stats", "slowest", "timeline", "sla"):
        assert "evil\\x1b[31mred\\x07\\u009b2J\\rline\\nTYPE COUNT" in text, text


def test_warnings_name_files_escaped(hostile, tmp_path):
    cut = tmp_path / "cut\x1b]0;title\x07\nperfan: all good.zst"
    data = hostile.read_bytes()
    cut.write_bytes(data[: len(data) - 7])
    p = subprocess.run([str(PERFAN), "stats", str(cut)], capture_output=True, timeout=60)
    assert b"\x1b" not in p.stderr and b"\x07" not in p.stderr
    lines = p.stderr.decode().splitlines()
    assert len(lines) == 1 and "\\x1b]0;title\\x07\\nperfan: all good.zst" in lines[0], lines


def test_json_stays_exact(hostile):
    p = subprocess.run([str(PERFAN), "slowest", "--json", str(hostile)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    calls = json.loads(p.stdout)["calls"]
    assert any(c["type"] == EVIL and c["exception"]["message"] == EVIL for c in calls)
