"""Make common-passwords.txt.gz from a list of passwords, one a line, most common first.

    python security/data/build_common_passwords.py SOURCE.txt [COUNT]

Keeps the first COUNT lines (100,000), in the form the console compares them in (NFKC,
case-folded: security.passwords.password_key), without duplicates, sorted, gzip'd with
no time stamp so that the same source always gives the same file.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from security.passwords import COMMON_PASSWORDS_FILE, password_key  # noqa: E402


def build(source: Path, count: int) -> int:
    """Write the file from the first `count` passwords of `source`; return its length."""
    lines = source.read_text(encoding="utf-8").splitlines()[:count]
    keys = sorted({password_key(line) for line in lines if line})
    data = ("\n".join(keys) + "\n").encode("utf-8")
    COMMON_PASSWORDS_FILE.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return len(keys)


if __name__ == "__main__":
    written = build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
    print(f"{written} passwords in {COMMON_PASSWORDS_FILE}")
