"""Print the [project] dependencies of a pyproject.toml, one per line (for pip -r)."""

import sys
import tomllib

with open(sys.argv[1], "rb") as handle:
    print("\n".join(tomllib.load(handle)["project"]["dependencies"]))
