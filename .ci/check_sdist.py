"""Check that an sdist carries every tracked file the tests, docs and examples need.

Usage: python .ci/check_sdist.py dist/valueroute-X.tar.gz
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import PurePosixPath

# Tracked files an sdist has no use for.
NOT_SHIPPED = {".gitignore"}


def main(sdist: str) -> int:
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], check=True, capture_output=True, text=True
        ).stdout.splitlines()
    )
    with tarfile.open(sdist) as archive:
        shipped = {
            str(PurePosixPath(*PurePosixPath(name).parts[1:])) for name in archive.getnames()
        }
    missing = sorted(tracked - shipped - NOT_SHIPPED)
    if missing:
        print(f"{sdist} lacks {len(missing)} tracked files:", *missing[:50], sep="\n  ")
        return 1
    print(f"{sdist}: all {len(tracked - NOT_SHIPPED)} tracked files present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
