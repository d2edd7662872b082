"""The built wheel carries the grammar and works on its own, away from the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import lark

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_into_a_clean_venv_and_parses_the_corpus(tmp_path: Path) -> None:
    # Build without network: the test extra brings hatchling into this environment.
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("irs_grammar-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "irs_grammar/grammar/inquiry.lark" in names
    assert "irs_grammar/grammar/transaction.lark" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\nirs_grammar = irs_grammar.pytest_plugin" in declared

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Install by unpacking (a wheel is a zip laid out for site-packages), and
    # give the clean venv this environment's lark: nothing else of ours.
    zipfile.ZipFile(wheel).extractall(purelib)
    shutil.copytree(Path(lark.__file__).parent, Path(purelib) / "lark")
    assert sysconfig.get_paths()["purelib"] != purelib

    corpus = ROOT / "corpus" / "inquiry" / "documented.log"
    script = (
        "import sys, irs_grammar, irs_grammar.wire.grammar as g\n"
        "assert irs_grammar.__file__.startswith(sys.argv[2]), irs_grammar.__file__\n"
        "assert str(g.grammar_path()).startswith(sys.argv[2]), g.grammar_path()\n"
        "lines = open(sys.argv[1], encoding='utf-8').read().splitlines()\n"
        "print(sum(irs_grammar.serialize(irs_grammar.parse(l)) == l for l in lines))\n"
        # The transaction grammar %imports the inquiry one: that must resolve inside the wheel too.
        "print(irs_grammar.parse_reply('R#1 A FAILED. TRXID: -. @12:00:00.000000 01/01/2025').status)\n"
        # The fake endpoint needs nothing but the standard library (and the package).
        "from urllib.request import urlopen\n"
        "from irs_grammar.testing import FakeIRS\n"
        "with FakeIRS().running() as f:\n"
        "    url = f.buy_request('DN1', '0817345544').to_url(f.url)\n"
        "    print(irs_grammar.parse_reply(urlopen(url, data=b'').read().decode()).status)\n"
    )
    result = subprocess.run(
        [str(python), "-I", "-c", script, str(corpus), purelib],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["7", "FAILED", "INPROGRESS"]
