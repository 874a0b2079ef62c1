"""The generated secret key: one key, whole, even when several workers start at once."""

from __future__ import annotations

import multiprocessing
import stat

from webapp import _instance_secret

STARTERS = 6
ROUNDS = 20


def _start(instance, barrier, results):
    """One gunicorn worker's first moments: wait for the others, then read or make the key."""
    barrier.wait(timeout=10)
    try:
        results.put(_instance_secret(instance))
    except Exception as error:  # reported to the test, which names it
        results.put(repr(error))


def test_workers_starting_together_share_one_whole_key(tmp_path):
    # Before the key was linked into place, about one round in four had a worker fail with
    # FileExistsError (or read an empty key), so twenty rounds catch a regression.
    context = multiprocessing.get_context("fork")
    for round_number in range(ROUNDS):
        instance = tmp_path / f"instance-{round_number}"
        instance.mkdir()
        barrier, results = context.Barrier(STARTERS), context.Queue()
        starters = [
            context.Process(target=_start, args=(instance, barrier, results))
            for _ in range(STARTERS)
        ]
        for process in starters:
            process.start()
        keys = [results.get(timeout=20) for _ in starters]
        for process in starters:
            process.join(timeout=10)
        assert len(set(keys)) == 1, keys
        assert len(keys[0]) == 64 and int(keys[0], 16) >= 0
        assert [path.name for path in instance.iterdir()] == ["secret_key"]
        assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600


def test_an_existing_key_is_kept(tmp_path):
    (tmp_path / "secret_key").write_text("kept-key\n")
    assert _instance_secret(tmp_path) == "kept-key"
