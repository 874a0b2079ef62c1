"""SQLite for a web server: WAL, a busy timeout, and write transactions that take turns.

SQLite lets one connection write at a time. A writer that finds the database busy polls it,
sleeping 1, 2, 5, 10 ms and longer between tries, so under load the write lock often sits free
while every waiter sleeps. Here a connection first takes its database's ``WriterQueue`` before
its first statement that writes and gives it back when its transaction ends; the next writer,
blocked rather than asleep, starts the moment the last one commits. The queue is a thread lock
within a process and an ``flock`` on ``<database>-lock`` between processes, so every worker and
server on the machine takes its turn (SQLite works on one machine only, so that is all of them).

Which statements write, SQLite says: its authorizer names what a statement does as SQLite
compiles it (``EXPLAIN`` compiles without running), and the answer is kept per statement text.
docs/design.md has the figures that keep this code here (a third of the p99 latency under load).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import stat
import threading
import time
import weakref

from flask import Flask

#: What SQLite's authorizer reports for a statement that changes the database file.
_WRITE_ACTIONS = frozenset(
    getattr(sqlite3, f"SQLITE_{name}")
    for name in (
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE_INDEX",
        "CREATE_TABLE",
        "CREATE_TRIGGER",
        "CREATE_VIEW",
        "CREATE_VTABLE",
        "DROP_INDEX",
        "DROP_TABLE",
        "DROP_TRIGGER",
        "DROP_VIEW",
        "DROP_VTABLE",
        "ALTER_TABLE",
        "REINDEX",
        "ANALYZE",
    )
)
#: Statement text -> whether it writes, learnt once per text (a process runs a few hundred).
_WRITERS: dict[str, bool] = {}
_WRITERS_MAX = 10_000


def writes(connection: sqlite3.Connection, sql: str, parameters) -> bool:
    """Whether ``sql`` changes the database (a temporary table aside), as SQLite compiles it."""
    known = _WRITERS.get(sql)
    if known is not None:
        return known
    found = []

    def authorizer(action, _arg1, _arg2, database, _trigger):
        if action in _WRITE_ACTIONS and database != "temp":
            found.append(action)
        return sqlite3.SQLITE_OK

    connection.set_authorizer(authorizer)
    try:
        sqlite3.Connection.execute(connection, f"EXPLAIN {sql}", parameters).close()
    except sqlite3.Error:
        return False  # the statement itself will fail, and say why
    finally:
        connection.set_authorizer(None)
    if len(_WRITERS) >= _WRITERS_MAX:
        _WRITERS.clear()
    _WRITERS[sql] = bool(found)
    return bool(found)


def _is_file(database: str) -> bool:
    """Whether ``database`` names a file (not memory, not a ``file:`` URI)."""
    return database not in ("", ":memory:") and not database.startswith("file:")


def create_owner_only(database: str) -> None:
    """Make a database file that does not exist yet, empty and readable by its owner alone.

    SQLite would make it readable by everyone on the machine (0644 under the usual umask), and
    it holds password and token hashes and every share code. Its ``-wal`` and ``-shm`` files,
    and the queue's ``-lock``, take the database file's permissions. An empty file is an empty
    database; a file that exists is left as it is (``init-db`` warns when others can read it).
    """
    if not _is_file(database):
        return
    # OSError: there already, or in a directory that is not (SQLite then says what is wrong).
    with contextlib.suppress(OSError):
        os.close(os.open(database, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))


def unmade(database: str) -> bool:
    """Whether opening ``database`` would make a new database rather than read one: its file
    is not there yet (in a directory that is), or is empty. A missing directory, or one that
    cannot be read, is no database to make: opening it fails, and says why."""
    if not _is_file(database):
        return False
    try:
        found = os.stat(database)
    except FileNotFoundError:
        return os.path.isdir(os.path.dirname(database) or ".")
    except OSError:
        return False
    return stat.S_ISREG(found.st_mode) and found.st_size == 0


def exposed_files(database: str) -> list[str]:
    """The database's files (itself, ``-wal``, ``-shm``, ``-lock``) that others may read."""
    if not _is_file(database):
        return []
    found = []
    for path in (database, f"{database}-wal", f"{database}-shm", f"{database}-lock"):
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_mode & 0o077:
                found.append(path)
    return found


class WriterQueue:
    """The turn to write to one database file, shared by every connection on this machine."""

    _queues: dict[tuple[int, str], WriterQueue] = {}
    _queues_lock = threading.Lock()

    def __init__(self, path: str):
        self.database_path = path
        self.lock_path = f"{path}-lock"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None

    @classmethod
    def of(cls, database: str) -> WriterQueue | None:
        """The queue of a database file; None for an in-memory database or a ``file:`` URI,
        which keep SQLite's own waiting."""
        if not _is_file(database):
            return None
        # Per process: a forked child must not share its parent's lock file descriptor.
        key = (os.getpid(), os.path.realpath(database))
        with cls._queues_lock:
            queue = cls._queues.get(key)
            if queue is None:
                queue = cls._queues[key] = cls(key[1])
        return queue

    def join(self, timeout: float) -> None:
        """Wait for this thread's turn: first among this process's threads, then among
        processes; either wait longer than ``timeout`` fails as SQLite would ("database is
        locked", which the app answers with a 503), never a hang.

        A thread that writes on a second connection while its first holds the turn thus gets
        an error; so does every writer while another process keeps a transaction open (a
        ``flask shell`` left mid-change, a long import) past the busy timeout.
        """
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self._fd is None:
                self._fd = self._open_lock_file()
            taken = self._flock_by(deadline)
        except BaseException:
            self._thread_lock.release()
            raise
        if not taken:
            raise sqlite3.OperationalError("database is locked")

    def _flock_by(self, deadline: float) -> bool:
        """Take the lock file by ``deadline``: at once when it is free, else blocked in a thread
        of its own, so that the turn starts the moment the other process's transaction ends
        (the kernel drops the lock of a process that dies). Python cannot block on ``flock``
        with a timeout, so on time-out that thread is left waiting: it gives the lock and this
        process's turn back when it gets them, and this process's writers wait until then."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        decided = threading.Lock()
        outcome = {"taken": False, "given_up": False}
        got = threading.Event()

        def wait() -> None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            with decided:
                if outcome["given_up"]:
                    self.leave()
                    return
                outcome["taken"] = True
            got.set()

        threading.Thread(target=wait, name="writer-queue", daemon=True).start()
        got.wait(max(0.0, deadline - time.monotonic()))
        with decided:
            outcome["given_up"] = not outcome["taken"]
            return outcome["taken"]

    def _open_lock_file(self) -> int:
        """The lock file, made as SQLite makes its ``-wal`` and ``-shm`` files: with the
        database's permissions and owner, so that a command run as root leaves a file that the
        server's user can still open."""
        try:
            return os.open(self.lock_path, os.O_RDWR)
        except FileNotFoundError:
            pass
        database = os.stat(self.database_path)
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            return os.open(self.lock_path, os.O_RDWR)
        os.fchmod(fd, database.st_mode & 0o666)
        if os.geteuid() == 0:
            os.fchown(fd, database.st_uid, database.st_gid)
        return fd

    def leave(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


class Connection(sqlite3.Connection):
    """The app's sqlite3 connections: WAL, so that readers never wait for the writer; commits
    without an fsync (a power cut may lose the last ones, never corrupt the file); and a turn in
    the ``WriterQueue`` before each write transaction."""

    def __init__(self, database, timeout=5.0, *args, **kwargs):
        create_owner_only(os.fsdecode(database))
        super().__init__(database, timeout, *args, **kwargs)
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        self._queue = WriterQueue.of(os.fsdecode(database))
        self._timeout = timeout
        self._writing = False
        self.execute("PRAGMA journal_mode=WAL")
        self.execute("PRAGMA synchronous=NORMAL")

    def cursor(self, factory=None):
        cursor = super().cursor(factory or Cursor)
        self._cursors.add(cursor)
        return cursor

    # sqlite3's shortcuts make a plain cursor: go through ours.
    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)

    def before_statement(self, sql: str, parameters) -> None:
        """Join the queue before the first write of a transaction."""
        if self._queue is None or self._writing:
            return
        if writes(self, sql, parameters):
            self._queue.join(self._timeout)
            self._writing = True

    def _done(self) -> None:
        if getattr(self, "_writing", False):  # False too when __init__ failed
            self._writing = False
            self._queue.leave()

    def commit(self):
        try:
            super().commit()
        finally:
            self._done()

    def rollback(self):
        # A cursor left half-read keeps its statement, and the snapshot it reads, open across
        # a rollback (Python 3.11 stopped resetting them): back in the pool, the connection
        # would go on reading the database as it was, and a checkpoint could not pass it.
        # SQLAlchemy rolls back each connection it takes back, so none is lent out stale.
        for cursor in list(self._cursors):
            cursor.close()
        try:
            super().rollback()
        finally:
            self._done()

    def close(self):
        try:
            super().close()
        finally:
            self._done()

    def __del__(self):
        # A connection dropped mid-transaction without a close (SQLite rolls it back) must not
        # keep the turn, or every later writer of this process would wait for it in vain.
        self._done()


class Cursor(sqlite3.Cursor):
    """A cursor whose connection takes its turn before a statement that writes."""

    def execute(self, sql, parameters=(), /):
        self.connection.before_statement(sql, parameters)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        rows = list(seq_of_parameters)
        self.connection.before_statement(sql, rows[0] if rows else ())
        return super().executemany(sql, rows)


def configure(app: Flask) -> None:
    """Engine options for a SQLite database; set before the engine is made."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    connect_args = options.setdefault("connect_args", {})
    connect_args.setdefault("factory", Connection)
    # sqlite3's timeout is SQLite's busy timeout, and the queue's wait within a process.
    connect_args.setdefault("timeout", app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
