"""The emulator's state: one SQLite file shared by the web process and every worker.

Why SQLite and not memory: the dashboard runs several processes (web, django-q2
workers) that must all see the same emulated Azure, and a VM started by a worker must
show up as "starting" on the page. WAL mode lets readers run while one writer works;
``BEGIN IMMEDIATE`` takes the write lock up front so read-modify-write sequences never
deadlock on lock upgrades; the busy timeout makes concurrent writers queue instead of
failing. Transactions stay short (one request each).

Resources are stored as ARM JSON (``body``) plus the emulator's private bookkeeping
(``emu``: power state, pending operation, generalized flags). Listings page by the
integer ``seq`` (keyset), so 10,000 VMs never need to be loaded at once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    tenant_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_groups (
    sub TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    PRIMARY KEY (sub, name_lc)
);
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    sub TEXT NOT NULL,
    rg_lc TEXT NOT NULL,
    parent_lc TEXT NOT NULL DEFAULT '',
    name_lc TEXT NOT NULL,
    body TEXT NOT NULL,
    emu TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_resources_key
    ON resources (kind, sub, rg_lc, parent_lc, name_lc);
CREATE INDEX IF NOT EXISTS ix_resources_sub ON resources (kind, sub, seq);
CREATE INDEX IF NOT EXISTS ix_resources_rg ON resources (kind, sub, rg_lc, parent_lc, seq);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    location TEXT NOT NULL,
    kind TEXT NOT NULL,
    resource_seq INTEGER,
    started REAL NOT NULL,
    due REAL NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'InProgress',
    params TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS ix_operations_due ON operations (settled, due);
CREATE TABLE IF NOT EXISTS fault_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT,
    path_contains TEXT NOT NULL,
    status INTEGER NOT NULL,
    retry_after INTEGER,
    drop_conn INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    timeout INTEGER NOT NULL DEFAULT 0,
    applied INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS operation_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path_contains TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    remaining INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    at REAL NOT NULL,
    duration_ms REAL NOT NULL,
    lost TEXT NOT NULL DEFAULT '',
    caller TEXT NOT NULL DEFAULT ''
);
"""
# Columns added after state files were first written: (table, column, declaration).
ADDED_COLUMNS = (
    ("fault_queue", "timeout", "INTEGER NOT NULL DEFAULT 0"),
    ("fault_queue", "applied", "INTEGER NOT NULL DEFAULT 0"),
    ("request_log", "lost", "TEXT NOT NULL DEFAULT ''"),
    ("request_log", "caller", "TEXT NOT NULL DEFAULT ''"),
)

RESOURCE_TABLES = ("subscriptions", "resource_groups", "resources", "operations")


@dataclass
class Resource:
    """One stored ARM resource: its REST body and the emulator's private state."""

    seq: int
    kind: str
    sub: str
    rg_lc: str
    parent_lc: str
    name_lc: str
    body: dict[str, Any]
    emu: dict[str, Any]


def _row_to_resource(row: sqlite3.Row | tuple[Any, ...]) -> Resource:
    seq, kind, sub, rg_lc, parent_lc, name_lc, body, emu = row
    return Resource(seq, kind, sub, rg_lc, parent_lc, name_lc, json.loads(body), json.loads(emu))


_COLUMNS = "seq, kind, sub, rg_lc, parent_lc, name_lc, body, emu"


class Store:
    """Thread-safe access to the state file (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self.conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        self._add_missing_columns(conn)

    @staticmethod
    def _add_missing_columns(conn: sqlite3.Connection) -> None:
        """Bring a state file written by an older emulator up to the current schema."""
        for table, column, declaration in ADDED_COLUMNS:
            have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode; transactions are explicit)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short ``BEGIN IMMEDIATE`` transaction (re-entrant: nests into an open one)."""
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for multi-statement reads."""
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # --- meta (settings persisted for every process) ---------------------------------

    def meta_get(self, key: str, default: Any = None) -> Any:
        row = self.conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def meta_set(self, key: str, value: Any) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def meta_delete(self, *keys: str) -> None:
        with self.write() as conn:
            conn.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in keys])


# --- resources ------------------------------------------------------------------------


def get_resource(
    conn: sqlite3.Connection, kind: str, sub: str, rg: str, name: str, parent: str = ""
) -> Resource | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM resources WHERE kind = ? AND sub = ? AND rg_lc = ? "  # noqa: S608
        "AND parent_lc = ? AND name_lc = ?",
        (kind, sub.lower(), rg.lower(), parent.lower(), name.lower()),
    ).fetchone()
    return None if row is None else _row_to_resource(row)


def get_resource_by_seq(conn: sqlite3.Connection, seq: int) -> Resource | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM resources WHERE seq = ?",  # noqa: S608
        (seq,),
    ).fetchone()
    return None if row is None else _row_to_resource(row)


def insert_resource(
    conn: sqlite3.Connection,
    kind: str,
    sub: str,
    rg: str,
    name: str,
    body: dict[str, Any],
    emu: dict[str, Any],
    parent: str = "",
) -> int:
    cur = conn.execute(
        "INSERT INTO resources (kind, sub, rg_lc, parent_lc, name_lc, body, emu) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            sub.lower(),
            rg.lower(),
            parent.lower(),
            name.lower(),
            json.dumps(body),
            json.dumps(emu),
        ),
    )
    return int(cur.lastrowid or 0)


def insert_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Bulk insert ``(kind, sub, rg, parent, name, body, emu)`` tuples (seeding)."""
    conn.executemany(
        "INSERT INTO resources (kind, sub, rg_lc, parent_lc, name_lc, body, emu) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (k, s.lower(), r.lower(), p.lower(), n.lower(), json.dumps(b), json.dumps(e))
            for k, s, r, p, n, b, e in rows
        ],
    )


def save_resource(conn: sqlite3.Connection, res: Resource) -> None:
    conn.execute(
        "UPDATE resources SET body = ?, emu = ? WHERE seq = ?",
        (json.dumps(res.body), json.dumps(res.emu), res.seq),
    )


def delete_resource(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute("DELETE FROM resources WHERE seq = ?", (seq,))


def page_resources(
    conn: sqlite3.Connection,
    kind: str,
    sub: str,
    *,
    rg: str | None = None,
    parent: str = "",
    after: int = 0,
    limit: int = 100,
) -> list[Resource]:
    """Up to ``limit`` resources with ``seq > after``, in ``seq`` order (keyset paging)."""
    if rg is None:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM resources WHERE kind = ? AND sub = ? AND seq > ? "  # noqa: S608
            "ORDER BY seq LIMIT ?",
            (kind, sub.lower(), after, limit),
        ).fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM resources WHERE kind = ? AND sub = ? AND rg_lc = ? "  # noqa: S608
            "AND parent_lc = ? AND seq > ? ORDER BY seq LIMIT ?",
            (kind, sub.lower(), rg.lower(), parent.lower(), after, limit),
        ).fetchall()
    return [_row_to_resource(r) for r in rows]


def count_resources(conn: sqlite3.Connection, kind: str) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM resources WHERE kind = ?", (kind,)).fetchone()[0])


# --- subscriptions and resource groups ------------------------------------------------


def subscription_row(conn: sqlite3.Connection, sub: str) -> tuple[str, str, str] | None:
    row = conn.execute(
        "SELECT id, display_name, tenant_id FROM subscriptions WHERE id = ?", (sub.lower(),)
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def subscription_rows(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT id, display_name, tenant_id FROM subscriptions ORDER BY seq")
    return [(r[0], r[1], r[2]) for r in rows]


def resource_group(conn: sqlite3.Connection, sub: str, rg: str) -> tuple[str, str] | None:
    """``(name as created, location)`` of a resource group, or None."""
    row = conn.execute(
        "SELECT name, location FROM resource_groups WHERE sub = ? AND name_lc = ?",
        (sub.lower(), rg.lower()),
    ).fetchone()
    return None if row is None else (row[0], row[1])
