"""CI spreads the suite over xdist workers with `--dist loadgroup` and relies on it to run the
own_databases tests one after another, one worker per vendor (tests/conftest.py). A pytest or
pytest-xdist upgrade once made the grouping a silent no-op (pytest-dev/pytest-xdist#1386); this
runs our grouping hook under xdist on a few stand-in tests and checks where each one ran."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STAND_INS = """
import json, os, pytest

pytestmark = pytest.mark.own_databases

@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
@pytest.mark.parametrize("n", range(3))
def test_vendor(vendor, n, record):
    record(vendor)

@pytest.mark.own_databases("postgresql")
def test_marked_postgresql(record):
    record("postgresql")

@pytest.mark.parametrize("n", range(4))
def test_other(n, record):
    record("other")
"""

CONFTEST = """
import json, os, pytest
from tests.conftest import pytest_collection_modifyitems  # noqa: F401  (the hook under test)

@pytest.fixture
def record(request, tmp_path_factory):
    def write(kind):
        line = json.dumps([kind, os.environ["PYTEST_XDIST_WORKER"], request.node.nodeid])
        with open(os.environ["GROUPING_LOG"], "a") as log:
            log.write(line + "\\n")
    return write
"""


@pytest.mark.slow
def test_loadgroup_keeps_each_vendors_own_database_tests_on_one_worker(tmp_path):
    (tmp_path / "test_stand_ins.py").write_text(STAND_INS)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n  own_databases: x\n  slow: x\n")
    log = tmp_path / "log.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "4", "--dist", "loadgroup", "-p", "no:django"]
        + ["-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "GROUPING_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers: dict[str, set[str]] = defaultdict(set)
    for kind, worker, _ in map(json.loads, log.read_text().splitlines()):
        workers[kind].add(worker)
    assert len(workers["sqlite"]) == 1, workers
    assert len(workers["postgresql"]) == 1, workers  # the marked test joins its vendor's group
