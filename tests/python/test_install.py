# SPDX-License-Identifier: MIT
"""`pip install` gives Python users everything: the package, `perfan` on PATH and its
manual page (the house-in-order issue, part 5). Installed into a temporary target from
this source tree, with the build's interpreter, and run from there."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

SRC = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""),
                    reason="pip's compilers would run with ASan preloaded")
def test_pip_install_ships_perfan(tmp_path):
    target = tmp_path / "target"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--disable-pip-version-check", "-q", "--target",
                        str(target), str(SRC)],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, PIP_NO_INDEX="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    perfan = target / "bin" / "perfan"
    assert perfan.is_file() and os.access(perfan, os.X_OK)
    assert (target / "man" / "man1" / "perfan.1").is_file()
    version = subprocess.run([str(perfan), "--version"], capture_output=True, text=True,
                             check=True).stdout
    env = dict(os.environ, PYTHONPATH=str(target))
    code = "import perflog, sys; perflog.start(sys.argv[1]); perflog.log('hi'); " \
           "perflog.stop(); print(perflog.__version__)"
    trace = tmp_path / "t.zst"
    py = subprocess.run([sys.executable, "-c", code, str(trace)], capture_output=True,
                        text=True, env=env, check=True, cwd=tmp_path).stdout.strip()
    assert version.split()[1] == py  # perfan --version and perflog.__version__ agree
    stats = subprocess.run([str(perfan), "timeline", str(trace)], capture_output=True,
                           text=True)
    assert stats.returncode == 0 and " hi" in stats.stdout, stats.stdout + stats.stderr
    if shutil.which("man"):
        where = subprocess.run(["man", "-w", "perfan"], capture_output=True, text=True,
                               env=dict(os.environ, MANPATH=str(target / "man")))
        assert where.stdout.strip() == str(target / "man" / "man1" / "perfan.1")
    # The pytest plugin is found by its entry point, from the installed copy.
    eps = subprocess.run(
        [sys.executable, "-c", "from importlib.metadata import entry_points; "
         "print([e.value for e in entry_points(group='pytest11') if e.name == 'perflog'])"],
        capture_output=True, text=True, env=env, check=True).stdout
    assert "perflog.pytest_plugin" in eps, eps
    helped = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True,
                            text=True, env=env, cwd=tmp_path)
    assert "--perflog-sla" in helped.stdout, helped.stdout[-2000:] + helped.stderr
