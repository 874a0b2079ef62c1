"""SQLite writers take turns (webapp/db/writer_queue.py): a writer waits for the last one to commit,
instead of finding the database busy, across threads and processes, and gives its turn back
however its transaction ends."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import make_app
from tests.contract import bearer
from webapp.db import writer_queue
from webapp.extensions import db

#: Long enough that a test which should not wait would fail rather than pass slowly.
PATIENCE = 10


def connect(path, timeout=PATIENCE) -> writer_queue.Connection:
    """A connection whose SQLite busy timeout is 0: if two writers ever met inside SQLite, the
    second would fail at once with "database is locked". Only the queue can make it wait."""
    connection = writer_queue.Connection(str(path), timeout=timeout, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout=0")
    return connection


@pytest.fixture
def path(tmp_path):
    """A WAL database with one table, kept open throughout, as the app's pool keeps it.

    The last connection to close a WAL database checkpoints it and removes the WAL, and one
    that opens meanwhile may find it busy for that moment: SQLite's busy timeout covers that in
    the app, and the open connection keeps it out of these tests, which set that timeout to 0.
    """
    path = tmp_path / "queue.sqlite3"
    # Made without the queue, so that no test finds a lock file it did not make itself.
    with contextlib.closing(sqlite3.connect(path)) as setup:
        setup.execute("CREATE TABLE rows (writer TEXT)")
        setup.commit()
    keeper = writer_queue.Connection(str(path))
    yield path
    keeper.close()


def rows(path) -> list[str]:
    with sqlite3.connect(path) as reader:
        return [writer for (writer,) in reader.execute("SELECT writer FROM rows ORDER BY rowid")]


def write_in_thread(
    path, name: str, statement: str = "INSERT INTO rows VALUES (?)"
) -> tuple[threading.Thread, list]:
    """Start a thread that runs ``statement`` (with ``name`` for its ``?``, if it has one) and
    commits; its errors land in the list."""
    errors: list[Exception] = []

    def write():
        connection = connect(path)
        try:
            connection.execute(statement, (name,) if "?" in statement else ())
            connection.commit()
        except Exception as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, errors


def test_a_writer_waits_for_the_open_write_transaction_to_commit(path):
    first = connect(path)
    first.execute("INSERT INTO rows VALUES ('first')")
    thread, errors = write_in_thread(path, "second")
    thread.join(0.3)
    assert thread.is_alive(), "the second writer should wait for its turn"
    assert errors == []
    first.commit()
    thread.join(PATIENCE)
    assert not thread.is_alive()
    assert errors == []
    assert rows(path) == ["first", "second"]
    first.close()


@pytest.mark.parametrize(
    "statement",
    [
        "WITH new (writer) AS (SELECT ?) INSERT INTO rows SELECT writer FROM new",
        "/* a comment first */ insert into rows values (?)",
        "CREATE TABLE IF NOT EXISTS later (x)",
    ],
    ids=["with-insert", "comment-first", "ddl"],
)
def test_every_statement_that_writes_waits_its_turn(path, statement):
    """SQLite itself says which statements write, so none slips past the queue by its wording
    (here the second writer's busy timeout is 0: without the queue it would fail at once)."""
    first = connect(path)
    first.execute("INSERT INTO rows VALUES ('first')")
    thread, errors = write_in_thread(path, "second", statement)
    thread.join(0.3)
    assert thread.is_alive(), "the second writer should wait for its turn"
    first.commit()
    thread.join(PATIENCE)
    assert not thread.is_alive()
    assert errors == []
    assert rows(path)[0] == "first"
    first.close()


def test_many_threads_writing_at_once_all_succeed(path):
    threads = [write_in_thread(path, f"writer-{number}") for number in range(12)]
    for thread, _errors in threads:
        thread.join(PATIENCE)
    assert [errors for _thread, errors in threads] == [[]] * 12
    assert sorted(rows(path)) == sorted(f"writer-{number}" for number in range(12))


@pytest.mark.parametrize("end", ["rollback", "close"])
def test_the_turn_is_given_back_however_the_transaction_ends(path, end):
    first = connect(path)
    first.execute("INSERT INTO rows VALUES ('undone')")
    getattr(first, end)()
    second = connect(path, timeout=0.5)
    second.execute("INSERT INTO rows VALUES ('second')")
    second.commit()
    assert rows(path) == ["second"]
    second.close()
    if end == "rollback":
        first.close()


def test_a_connection_dropped_mid_transaction_gives_its_turn_back(path):
    first = connect(path)
    first.execute("INSERT INTO rows VALUES ('dropped')")
    del first
    gc.collect()
    second = connect(path, timeout=0.5)
    second.execute("INSERT INTO rows VALUES ('second')")
    second.commit()
    assert rows(path) == ["second"]
    second.close()


def test_reads_do_not_wait_for_a_writer(path):
    writer = connect(path)
    writer.execute("INSERT INTO rows VALUES ('pending')")
    reader = connect(path, timeout=0.5)
    assert reader.execute("SELECT count(*) FROM rows").fetchone() == (0,)
    writer.commit()
    assert reader.execute("SELECT count(*) FROM rows").fetchone() == (1,)
    reader.close()
    writer.close()


def test_a_second_write_connection_on_the_same_thread_fails_instead_of_hanging(path):
    """It could only wait for itself: after the timeout it fails as SQLite would."""
    first = connect(path)
    first.execute("INSERT INTO rows VALUES ('first')")
    second = connect(path, timeout=0.3)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO rows VALUES ('second')")
    first.commit()
    second.execute("INSERT INTO rows VALUES ('second')")
    second.commit()
    assert rows(path) == ["first", "second"]
    first.close()
    second.close()


def _hold_a_write_transaction(path, holding, release):
    connection = connect(path)
    connection.execute("INSERT INTO rows VALUES ('other process')")
    holding.set()
    if release.wait(PATIENCE):
        connection.commit()
    connection.close()


@pytest.fixture
def other_process(path):
    """A forked process that opens a write transaction and holds it until told."""
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()
    process = context.Process(target=_hold_a_write_transaction, args=(path, holding, release))
    process.start()
    assert holding.wait(PATIENCE)
    yield process, release
    if process.is_alive():
        release.set()
        process.join(PATIENCE)
    if process.is_alive():  # a test failed before letting it finish
        process.kill()
        process.join()


def test_processes_take_turns(path, other_process):
    process, release = other_process
    thread, errors = write_in_thread(path, "this process")
    thread.join(0.3)
    assert thread.is_alive(), "this process should wait for the other's transaction"
    release.set()
    thread.join(PATIENCE)
    assert errors == []
    assert rows(path) == ["other process", "this process"]


def test_a_writer_waits_for_another_process_no_longer_than_its_timeout(path, other_process):
    """A process that keeps a write transaction open (a shell left mid-change) makes this
    process's writers fail after the busy timeout, as SQLite would, not hang; once it ends,
    the next writer goes ahead."""
    _process, release = other_process
    writer = connect(path, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        writer.execute("INSERT INTO rows VALUES ('too late')")
    assert 0.25 < time.monotonic() - started < 3
    # The turn is still being waited for on this process's behalf: the next writer fails too.
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        writer.execute("INSERT INTO rows VALUES ('still too late')")

    writer.close()

    release.set()
    after = connect(path)
    after.execute("INSERT INTO rows VALUES ('after it ended')")
    after.commit()
    after.close()
    assert rows(path) == ["other process", "after it ended"]


def test_a_killed_process_leaves_no_lock_behind(path, other_process):
    process, _release = other_process
    os.kill(process.pid, signal.SIGKILL)
    process.join(PATIENCE)
    writer = connect(path, timeout=PATIENCE)
    writer.execute("INSERT INTO rows VALUES ('after the kill')")
    writer.commit()
    writer.close()
    assert rows(path) == ["after the kill"]


def test_the_lock_file_takes_the_database_permissions_and_owner(path):
    """As SQLite's -wal and -shm files do: a command run as root must not leave a lock file
    that the server's user cannot open."""
    path.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)  # nobody: the server's user, say
    writer = connect(path)
    writer.execute("INSERT INTO rows VALUES ('first')")
    writer.commit()
    writer.close()
    database, lock = path.stat(), Path(f"{path}-lock").stat()
    assert stat.S_IMODE(lock.st_mode) == 0o640
    assert (lock.st_uid, lock.st_gid) == (database.st_uid, database.st_gid)


def test_the_app_connects_through_the_queue_in_wal_mode(tmp_path):
    # A file in SQLite's default journal mode (the tests' template is in WAL mode already).
    path = tmp_path / "app.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{path}")
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            assert isinstance(raw.driver_connection, writer_queue.Connection)
            assert raw.driver_connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert raw.driver_connection.execute("PRAGMA synchronous").fetchone() == (1,)
            busy = app.config["SQLITE_BUSY_TIMEOUT_MS"]
            assert raw.driver_connection.execute("PRAGMA busy_timeout").fetchone() == (busy,)
        finally:
            raw.close()
        db.engine.dispose()


def test_a_connection_handed_back_with_a_half_read_result_reads_what_is_there_now(tmp_path):
    """Python 3.11 keeps a half-read cursor's statement, and the snapshot it reads, open across
    a rollback: the pool's connection then answered the next request with the database as it
    was, and checkpoints could not pass it."""
    database = tmp_path / "app.sqlite3"
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{database}")
    factories.shares(app, {"profile_id": "first"}, {"profile_id": "second"})
    with app.app_context():
        with db.engine.connect() as connection:
            result = connection.exec_driver_sql("SELECT profile_id FROM shares ORDER BY id")
            assert result.fetchone() == ("first",)  # and the rest is never read
            lent = connection.connection.driver_connection
        with contextlib.closing(writer_queue.Connection(str(database))) as other:  # a worker
            other.execute("DELETE FROM shares")
            other.commit()
        with db.engine.connect() as connection:
            assert connection.connection.driver_connection is lent  # the pool's one connection
            assert connection.exec_driver_sql("SELECT count(*) FROM shares").scalar() == 0
        del result
        db.engine.dispose()


def test_an_in_memory_database_has_no_queue():
    connection = writer_queue.Connection(":memory:")
    connection.execute("CREATE TABLE rows (writer TEXT)")
    connection.execute("INSERT INTO rows VALUES ('only')")
    connection.commit()
    assert connection.execute("SELECT writer FROM rows").fetchall() == [("only",)]
    assert writer_queue.WriterQueue.of(":memory:") is None
    connection.close()


def _hold_the_app_database(path, holding, release):
    connection = writer_queue.Connection(str(path))
    connection.execute("INSERT INTO share_tallies VALUES ('held', '', 0)")
    holding.set()
    release.wait(PATIENCE)
    connection.rollback()
    connection.close()


def test_an_api_read_answers_503_while_another_process_holds_the_write_lock(tmp_path):
    """An API request writes its token's rate-limit count: it must not wait for a stuck
    process longer than the busy timeout, but answer 503 with Retry-After, as a busy SQLite
    does; once the other process is done, it is answered."""
    database = tmp_path / "app.sqlite3"
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{database}", SQLITE_BUSY_TIMEOUT_MS=300)
    plain = factories.token(app, "reader", "viewer")
    headers = bearer(plain)
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_the_app_database, args=(database, holding, release))
    holder.start()
    try:
        assert holding.wait(PATIENCE)
        started = time.monotonic()
        busy = app.test_client().get("/api/v3/shares", headers=headers)
        assert busy.status_code == 503, busy.get_data(as_text=True)
        assert busy.headers["Retry-After"] and time.monotonic() - started < 3
    finally:
        release.set()
        holder.join(PATIENCE)
    # The thread left waiting for the lock gives the turn back as soon as it is scheduled.
    deadline = time.monotonic() + PATIENCE
    while (status := app.test_client().get("/api/v3/shares", headers=headers).status_code) == 503:
        assert time.monotonic() < deadline, "the turn was never given back"
    assert status == 200
