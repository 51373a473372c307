# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table-driven tests of plugins/filter/sizes.py."""

import importlib.util
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

_PATH = Path(__file__).resolve().parents[2] / "plugins" / "filter" / "sizes.py"
_SPEC = importlib.util.spec_from_file_location("sizes_filter", _PATH)
sizes = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sizes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("3g", 3072),
        ("1G", 1024),
        ("512m", 512),
        ("512MB", 512),
        ("1.5g", 1536),
        ("2048k", 2),
        ("1k", 1),
        ("1073741824", 1024),
        ("1073741824b", 1024),
        ("1t", 1024 * 1024),
        (" 256m ", 256),
        (1073741824, 1024),
        (0, 0),
        (1048576.0, 1),
    ],
)
def test_docker_size_to_mb(value, expected):
    assert sizes.docker_size_to_mb(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "g", "1x", "-1g", "1 gigabyte", "1,5g", None, True, -5, [], {"size": "1g"}],
)
def test_docker_size_to_mb_rejects(value):
    with pytest.raises(AnsibleFilterError, match="docker_size_to_mb"):
        sizes.docker_size_to_mb(value)


def test_filter_map():
    assert sizes.FilterModule().filters() == {"docker_size_to_mb": sizes.docker_size_to_mb}


def test_docker_size_to_mb_names_the_source():
    with pytest.raises(AnsibleFilterError, match="my_role_memory_limit: '3x' is not a Docker size"):
        sizes.docker_size_to_mb("3x", "my_role_memory_limit")
