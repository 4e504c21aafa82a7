"""The test suite's background commands (tests/conftest.py): a process of a shared run that waits for a
command the other process started gets its exit status, or -9 when the command's runner was killed
outright and will write none."""

from __future__ import annotations

import subprocess
import sys

from conftest import Background


def test_a_waiter_reads_the_status_of_a_command_started_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("HATBOOK_TEST_SHARED", str(tmp_path))
    starter, waiter = Background(), Background()
    starter.start("echo", [sys.executable, "-c", "print('hello'); raise SystemExit(3)"])
    waiter.start("echo", ["false"])  # already started by the other process: nothing runs
    assert "echo" not in waiter.runs
    assert waiter.wait("echo") == (3, "hello\n")


def test_a_waiter_does_not_wait_for_a_command_killed_without_a_status(tmp_path, monkeypatch):
    monkeypatch.setenv("HATBOOK_TEST_SHARED", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "pid").write_text(f"{gone.pid}\n")  # its runner, killed before it wrote a status
    assert Background().wait("book") == (-9, "")
