"""docs/cluster.md's Dask job, run as printed on a local cluster of two workers.

Its output must be what the single-machine commands give for the same logs:
the same records (`irs-grammar parse --format parquet`) and the same counts and
invalid lines (`irs-grammar validate --format json`).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tests.command import run as cli
from tests.corpus import CORPUS

DOC = Path(__file__).resolve().parent.parent / "docs/cluster.md"


def the_documented_job(folder: Path) -> Path:
    """The job's code, as docs/cluster.md prints it, in a file of its own."""
    job = folder / "job.py"
    job.write_text(DOC.read_text(encoding="utf-8").split("```python\n")[1].split("```")[0], encoding="utf-8")
    return job


def test_the_documented_dask_job_gives_what_the_commands_give(tmp_path: Path) -> None:
    logs, out = tmp_path / "logs", tmp_path / "parquet"
    logs.mkdir()
    out.mkdir()
    sources = {
        "both-kinds.log.gz": (CORPUS / "logs/both-kinds.log").read_bytes(),
        "mixed.log.gz": (CORPUS / "logs/mixed.log").read_bytes(),
        "many.log.gz": (CORPUS / "logs/both-kinds.log").read_bytes()
        * 9_000,  # 126,000 lines: several batches
    }
    for name, data in sources.items():
        (logs / name).write_bytes(gzip.compress(data, compresslevel=1))
    # In a process of its own, as a user runs it (and Dask's global pickling hooks stay there).
    ran = subprocess.run(
        [sys.executable, str(the_documented_job(tmp_path)), str(logs), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    report: dict[str, Any] = json.loads(ran.stdout.splitlines()[-1])

    paths = sorted(str(logs / name) for name in sources)
    expected_report = json.loads(cli("validate", "--format", "json", *paths).stdout)
    del expected_report["errors_shown"]
    assert report["summary"] == {k: v for k, v in expected_report.items() if k != "errors"}
    assert report["errors"] == expected_report["errors"]  # objects, as validate's

    for path in paths:
        single = tmp_path / "single.parquet"
        assert cli("parse", "--format", "parquet", "-o", str(single), path).returncode == 1
        distributed = pq.read_table(out / (Path(path).name.removesuffix(".gz") + ".parquet"))
        assert distributed.equals(pq.read_table(single)), path
    total = pa.concat_tables(pq.read_table(p) for p in sorted(out.glob("*.parquet")))
    assert total.num_rows == 12 + 4 + 12 * 9_000
