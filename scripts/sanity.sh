#!/usr/bin/env bash
# ansible-test sanity over the collection reelle.infra (the repository root).
#
# ansible-test wants the collection at .../ansible_collections/<namespace>/<name>
# and its dependencies beside it: this copies the collection's files (those git
# tracks or would track, as in the working tree) and amazon.aws from the
# environment into a folder outside the repository (ansible-test would otherwise
# see only what git tracks there): $REELLE_SANITY_DIR or /tmp/reelle-sanity. Each
# test runs there in its own virtual environment (--venv; packages from PyPI, cached by pip).
# Usage: scripts/sanity.sh [ansible-test sanity options], e.g. --test pep8
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.venv/bin"
TREE="${REELLE_SANITY_DIR:-${TMPDIR:-/tmp}/reelle-sanity}/ansible_collections"
# Every sanity test that applies here but pylint (the project lints with ruff)
# and the PowerShell/shell ones (no .ps1; shell scripts are not collection content).
TESTS=(--test validate-modules --test pep8 --test import --test ansible-doc --test compile
       --test runtime-metadata --test action-plugin-docs --test shebang --test symlinks
       --test no-assert --test empty-init --test line-endings --test no-smart-quotes
       --test no-get-exception --test replace-urlopen --test use-compat-six
       --test use-argspec-type-path --test no-illegal-filenames --test yamllint --test ignores)

# pip's get-pip.py is downloaded by ansible-test from a host this machine cannot
# reach; scripts/get_pip_offline.py does the same from ensurepip and PyPI.
requirements=$("$BIN/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" "$requirements")
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$ROOT/scripts/get_pip_offline.py" "$cache"
fi

# A fresh copy, keeping ansible-test's virtual environments (tests/output) from the last run.
mkdir -p "$TREE/reelle/infra"
find "$TREE/reelle/infra" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$TREE/reelle/infra/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
mkdir -p "$TREE/reelle/infra" "$TREE/amazon"
amazon=$("$BIN/python" -c 'import ansible_collections.amazon.aws as m; print(m.__path__[0])')
[ -e "$TREE/amazon/aws" ] || cp -r "$amazon" "$TREE/amazon/aws"
cd "$ROOT"
git ls-files -co --exclude-standard -- galaxy.yml meta plugins roles playbooks \
  README.md CHANGELOG.md COPYING | rsync -a --files-from=- ./ "$TREE/reelle/infra/"
cd "$TREE/reelle/infra"
if [ $# -eq 0 ]; then set -- "${TESTS[@]}"; fi
exec "$BIN/ansible-test" sanity --venv --python 3.11 --color no "$@"
