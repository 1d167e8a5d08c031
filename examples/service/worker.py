# SPDX-License-Identifier: MIT
"""The worker processes of examples/service: each export continues the task of the
request that asked for it (perflog.continue_task), recorded into the worker's own file."""
import csv
import io
import os
import signal
import sqlite3
import zlib

import perflog
from perflog import perflog as pl

import store

_db = None


def init(out_dir, db_path, options=None):
    """Pool initializer: one trace file (perflog.start @options: rotation) and one
    read-only connection per process."""
    global _db
    # Ctrl-C reaches the whole group: the server stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    perflog.start(os.path.join(out_dir, "worker-{pid}.zst"), **(options or {}))
    _db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def export(task, user, days):
    """Run in a worker: `task` is perflog.current_task() of the caller."""
    with perflog.continue_task(task):
        return build(user, days)


@pl(action_type="export.build")
def build(user, days):
    store.archive_read(days)
    rows = store.query(_db, "SELECT id, day, amount FROM events WHERE user = ? AND day >= ?"
                       " ORDER BY day", (user, store.DAYS - days))
    with perflog.action("export.csv", rows=len(rows)) as a:
        buf = io.StringIO()
        csv.writer(buf).writerows(rows)
        data = buf.getvalue().encode()
        a.add(bytes=len(data))
    with perflog.action("export.compress", bytes=len(data)) as a:
        packed = zlib.compress(data, 9)
        a.add(compressed=len(packed))
    return {"user": user, "days": days, "rows": len(rows), "bytes": len(packed),
            "worker": os.getpid()}
