# SPDX-License-Identifier: MIT
"""The service's data: a SQLite database made at start-up, the recorded query, a cache."""
import random
import sqlite3
import threading
import time
from collections import OrderedDict

import perflog
from perflog import perflog as pl

USERS = 1000
DAYS = 365
ARCHIVE_AFTER = 90  # days: older events live in the archive, a slow storage


def create(path, rows=200_000, seed=1):
    """users(id, name, token) and events(user, day, amount), `rows` random events."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, token TEXT UNIQUE);
        CREATE TABLE events(id INTEGER PRIMARY KEY, user INTEGER, day INTEGER, amount INTEGER);
    """)
    db.executemany("INSERT INTO users VALUES (?, ?, ?)",
                   ((i, f"user{i}", f"tok{i}") for i in range(USERS)))
    db.executemany("INSERT INTO events(user, day, amount) VALUES (?, ?, ?)",
                   ((rng.randrange(USERS), rng.randrange(DAYS), rng.randrange(1, 1000))
                    for _ in range(rows)))
    # Only `day` is indexed, not `user`: a query for one user's last D days walks every
    # event of those D days. The slow inputs are the long ranges.
    db.execute("CREATE INDEX events_day ON events(day)")
    db.commit()
    db.close()


@pl(action_type="archive.read", args=["days"])
def archive_read(days):
    """The part of a range older than ARCHIVE_AFTER days comes from the archive: 1 ms per
    archived day, on every machine. The slow inputs are slow by design, so the demo's
    `perfan sla --p99 200ms` fails (exit 1) whatever the machine's speed: a 365-day range
    spends 275 ms here alone."""
    if days > ARCHIVE_AFTER:
        time.sleep((days - ARCHIVE_AFTER) / 1000)


@pl(action_type="sql.query", args=["sql", "params"])
def query(db, sql, params=()):
    rows = db.execute(sql, params).fetchall()
    return rows


class Cache:
    """A thread-safe LRU dict whose lookups are recorded (hit or miss)."""

    def __init__(self, size=256):
        self.data, self.size, self.lock = OrderedDict(), size, threading.Lock()

    def get(self, key):
        with perflog.action("cache.get", key=key) as a, self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            a.add(hit=value is not None)
            return value

    def put(self, key, value):
        with self.lock:
            self.data[key] = value
            if len(self.data) > self.size:
                self.data.popitem(last=False)
