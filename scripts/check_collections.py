# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail when an installed collection's version differs from requirements.yml.

Galaxy is unreachable from these machines, so the collections come from the
`ansible` bundle; this keeps requirements.yml (used by AWX and execution
environments) honest about what the bundle really ships.
"""

import json
import sys
from pathlib import Path

import ansible_collections
import yaml


def installed_version(name):
    namespace, collection = name.split(".")
    for root in ansible_collections.__path__:
        manifest = Path(root, namespace, collection, "MANIFEST.json")
        if manifest.is_file():
            return json.loads(manifest.read_text())["collection_info"]["version"]
    return None


def main(path):
    wanted = yaml.safe_load(Path(path).read_text())["collections"]
    problems = []
    for item in wanted:
        found = installed_version(item["name"])
        if found != item["version"]:
            problems.append(f"{item['name']}: requirements.yml pins {item['version']}, installed {found}")
    if problems:
        sys.exit("collection pins out of date:\n  " + "\n  ".join(problems))
    print(f"collections match requirements.yml ({len(wanted)} pinned)")


if __name__ == "__main__":
    main(sys.argv[1])
