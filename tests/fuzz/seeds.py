"""Write the fuzzer's seed inputs (one file per corpus line) into a folder."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(CORPUS.glob("*/*.jsonl")):  # both kinds of reply, valid and invalid
        for line in name.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)["line"].encode("utf-8", "surrogatepass")  # a lone surrogate: bad UTF-8
            (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    for log in sorted((CORPUS / "logs").glob("*.log")):
        (out / log.name).write_bytes(log.read_bytes())


if __name__ == "__main__":
    main(sys.argv[1])
