# SPDX-License-Identifier: MIT
"""Traces and what perfan derives from them hold the calls' inputs (passwords, tokens,
user data): they must never end up readable by others. The hardening issue's finding 3
(an existing file reused with its owner and mode) and 12 (file_mode accepting setuid and
group/other write), for the writer (through perflog.start) and for perfan's -o files.

The rule (pl_output_open() in perflog/writer.h): a new file is created exclusively with
the configured mode; an existing path is reused only if it is the user's own regular file
with one link (emptied, and given the configured mode); a symlink, another user's file,
another hard link, a FIFO or a directory is refused."""
import os
import pathlib
import pwd
import stat
import subprocess

import pytest

import perflog

SRC = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("PERFLOG_BUILD_DIR", SRC / "build"))
PERFAN = BUILD / "analyzer" / "perfan"
SECRET = "hunter2-" + "x" * 20


def _record(path, **options):
    perflog.start(str(path), **options)
    try:
        perflog.log("login", password=SECRET)
        with perflog.action("authenticate", password=SECRET):
            pass
    finally:
        perflog.stop()


def _mode(path):
    return stat.S_IMODE(path.lstat().st_mode)


def _others_file(path, mode=0o666):
    """@path created by another user (nobody), as the report's reproduction does."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a file owned by another user")
    nobody = pwd.getpwnam("nobody")
    path.write_bytes(b"theirs")
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    os.chmod(path, mode)
    # The directory must let them in, as /tmp does.
    os.chmod(path.parent, 0o1777)
    return nobody


@pytest.fixture
def trace_dir(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    return d


# ---- the writer --------------------------------------------------------------------------

def test_another_users_file_is_refused(trace_dir):
    path = trace_dir / "v.zst"
    nobody = _others_file(path)
    with pytest.raises(FileExistsError, match="another user's file"):
        _record(path)
    st = path.stat()
    assert st.st_uid == nobody.pw_uid and path.read_bytes() == b"theirs"
    assert SECRET.encode() not in path.read_bytes()


def test_own_world_readable_file_gets_the_configured_mode(trace_dir):
    path = trace_dir / "mine.zst"
    path.write_bytes(b"old")
    os.chmod(path, 0o666)
    _record(path)
    assert _mode(path) == 0o600
    assert [r["type"] for r in perflog.read(str(path)) if r["kind"] == "message"] == ["login"]
    _record(path, file_mode=0o640)
    assert _mode(path) == 0o640


def test_other_hard_link_is_refused(trace_dir):
    path = trace_dir / "linked.zst"
    path.write_bytes(b"old")
    os.link(path, trace_dir / "elsewhere")
    with pytest.raises(FileExistsError, match="hard links"):
        _record(path)
    assert path.read_bytes() == b"old"


def test_symlink_fifo_and_directory_are_refused(trace_dir):
    target = trace_dir / "target"
    target.write_bytes(b"keep")
    (trace_dir / "link.zst").symlink_to(target)
    with pytest.raises(FileExistsError, match="symbolic link"):
        _record(trace_dir / "link.zst")
    assert target.read_bytes() == b"keep"
    os.mkfifo(trace_dir / "fifo.zst")
    with pytest.raises(FileExistsError, match="not a regular file"):
        _record(trace_dir / "fifo.zst")  # and does not hang on a FIFO nobody reads
    (trace_dir / "dir.zst").mkdir()
    with pytest.raises(OSError):
        _record(trace_dir / "dir.zst")


def test_new_file_is_created_exclusively_with_the_mode(trace_dir):
    old = os.umask(0)
    try:
        _record(trace_dir / "new.zst")
        _record(trace_dir / "new644.zst", file_mode=0o644)
    finally:
        os.umask(old)
    assert _mode(trace_dir / "new.zst") == 0o600
    assert _mode(trace_dir / "new644.zst") == 0o644


@pytest.mark.parametrize("mode", [0o4777, 0o2700, 0o1600, 0o666, 0o620, 0o602, 0o10000, -1])
def test_file_mode_takes_permission_bits_without_group_or_other_write(trace_dir, mode):
    with pytest.raises(ValueError, match="file_mode"):
        perflog.start(str(trace_dir / "m.zst"), file_mode=mode)
    assert not (trace_dir / "m.zst").exists()


def test_race_a_planted_file_never_receives_the_trace(trace_dir):
    # The default name is predictable (perflog-{pid}.zst): another user who creates it
    # first gets a refusal, never the trace. Many tries, with the file planted just
    # before each start.
    if os.geteuid() != 0:
        pytest.skip("needs root to create a file owned by another user")
    nobody = pwd.getpwnam("nobody")
    os.chmod(trace_dir, 0o1777)
    for i in range(50):
        path = trace_dir / f"perflog-{i}.zst"
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o666)
        os.fchown(fd, nobody.pw_uid, nobody.pw_gid)
        os.close(fd)
        with pytest.raises(FileExistsError):
            _record(path)
        assert path.stat().st_size == 0


# ---- perfan's outputs --------------------------------------------------------------------

@pytest.fixture
def a_trace(tmp_path):
    path = tmp_path / "in.zst"
    _record(path)
    return path


def _perfan(*args):
    if not PERFAN.exists():
        pytest.skip("perfan is not built")
    return subprocess.run([str(PERFAN), *map(str, args)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("cmd", [["export", "--format", "jsonl"], ["report"]])
def test_perfan_outputs_follow_the_same_rule(cmd, a_trace, trace_dir):
    own = trace_dir / "own.out"
    own.write_text("old")
    os.chmod(own, 0o666)
    p = _perfan(*cmd, "-o", own, a_trace)
    assert p.returncode == 0, p.stderr
    assert _mode(own) == 0o600 and SECRET in own.read_text()

    linked = trace_dir / "linked.out"
    linked.write_text("old")
    os.link(linked, trace_dir / "other-name")
    p = _perfan(*cmd, "-o", linked, a_trace)
    assert p.returncode == 3 and "hard links: refused" in p.stderr
    assert linked.read_text() == "old"

    if os.geteuid() == 0:
        theirs = trace_dir / "theirs.out"
        _others_file(theirs)
        p = _perfan(*cmd, "-o", theirs, a_trace)
        assert p.returncode == 3 and "another user's file: refused" in p.stderr
        assert theirs.read_bytes() == b"theirs"
