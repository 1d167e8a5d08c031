# SPDX-License-Identifier: MIT
"""python -m perflog: run a program with recording on and named functions decorated.

    python -m perflog -o trace.zst -f mymod:handle -f __main__:main script.py args...
    python -m perflog -o trace.zst -f mypkg.db:Pool.query -m mypkg.server args...

See docs/python.md ("Running a program unmodified") and perflog/_launch.py.
"""
import sys

from perflog._launch import main

if __name__ == "__main__":
    sys.exit(main())
