# SPDX-License-Identifier: MIT
"""perflog.dbapi: DB-API 2 queries recorded as ``db.query`` actions.

    conn = perflog.dbapi.connect(sqlite3.connect("app.db"))
    conn.execute("select * from items where id = ?", (17,))     # recorded

Each ``execute``/``executemany`` of a cursor (and the connection's ``execute`` shortcuts,
as sqlite3 has) is an action with ``statement``, the SQL text normalised so that queries
group: string and number literals replaced by ``?``, ``IN`` lists ``in (?, ?, ?)`` (of any
length) folded to ``in (?...)``, whitespace collapsed - the parameters themselves are never recorded
(they may be personal data); ``executemany`` adds ``batch``, the number of parameter sets.
The END has ``rows``, the cursor's ``rowcount`` when the driver knows it (not -1), and a
failing statement is the action's failure with the driver's exception.
"""

import re

import perflog

ACTION_TYPE = "db.query"
__all__ = ["connect", "normalize"]

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.$:])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b|\b0x[0-9a-fA-F]+\b")
_LIST = re.compile(r"\b(in)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalize(sql):
    """@sql with its literals replaced by ``?``: ``select * from t where id = 17 and name =
    'x'`` -> ``select * from t where id = ? and name = ?``; ``in (1, 2, 3)`` -> ``in
    (?...)``."""
    s = _STRING.sub("?", str(sql))
    s = _NUMBER.sub("?", s)
    s = _LIST.sub(lambda m: f"{m.group(1)} (?...)", s)
    return _SPACE.sub(" ", s).strip()


class Cursor:
    """A DB-API cursor whose statements are recorded; everything else is the driver's."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, *args, **kwargs):
        with perflog.action(ACTION_TYPE, statement=normalize(sql)) as action:
            result = self._cursor.execute(sql, *args, **kwargs)
            _rows(action, self._cursor)
        return self if result is self._cursor else result

    def executemany(self, sql, seq, *args, **kwargs):
        seq = list(seq)
        with perflog.action(ACTION_TYPE, statement=normalize(sql), batch=len(seq)) as action:
            result = self._cursor.executemany(sql, seq, *args, **kwargs)
            _rows(action, self._cursor)
        return self if result is self._cursor else result

    def __iter__(self):
        return iter(self._cursor)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._cursor.close()
        return False

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def _rows(action, cursor):
    n = getattr(cursor, "rowcount", -1)
    if isinstance(n, int) and n >= 0:
        action.add(rows=n)


class Connection:
    """A DB-API connection whose cursors record their statements."""

    def __init__(self, conn):
        self._conn = conn

    def cursor(self, *args, **kwargs):
        return Cursor(self._conn.cursor(*args, **kwargs))

    def execute(self, sql, *args, **kwargs):  # sqlite3's shortcut
        return self.cursor().execute(sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        return self.cursor().executemany(sql, *args, **kwargs)

    def __enter__(self):
        self._conn.__enter__()
        return self

    def __exit__(self, *exc):
        return self._conn.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def connect(conn):
    """Wrap the DB-API connection @conn (sqlite3, psycopg, ...): its cursors' statements are
    recorded as ``db.query`` actions."""
    return Connection(conn)
