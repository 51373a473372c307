# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""inventory_check's filter: argument specs and vars/checks.yml rules, all problems at once."""

import pytest
import yaml
from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from inventory import FilterModule, disjoint_cidr_problems, problem_sources, role_input_problems, variable_sources

SPEC = {
    "argument_specs": {
        "main": {
            "options": {
                "svc_port": {"type": "int"},
                "svc_source": {"type": "str", "choices": ["registry", "offline"]},
                "svc_memory": {"type": "str"},
                "svc_path": {"type": "str"},
                "svc_password": {"type": "str", "no_log": True},
                "svc_required": {"type": "str", "required": True},
            }
        }
    }
}
CHECKS = {
    "svc_checks": [
        {"var": "svc_port", "rule": "port"},
        {"var": "svc_memory", "rule": "memory_size"},
        {"var": "svc_path", "rule": "path_exists"},
        {"var": "svc_password", "rule": "range", "min": 1, "max": 5},
    ]
}


class LazyVars(dict):
    """Like hostvars: reading a variable that refers to an unknown fact raises."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if value == "{{ later }}":
            raise AnsibleUndefinedVariable("'later' is undefined")
        return value


@pytest.fixture
def role_dir(tmp_path):
    (tmp_path / "svc" / "meta").mkdir(parents=True)
    (tmp_path / "svc" / "vars").mkdir()
    (tmp_path / "svc" / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(SPEC))
    (tmp_path / "svc" / "vars" / "checks.yml").write_text(yaml.safe_dump(CHECKS))
    return tmp_path


GOOD = {"svc_port": 5432, "svc_source": "offline", "svc_memory": "1g", "svc_required": "x", "svc_password": 3}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({}, []),
        ({"svc_port": "70000"}, ["svc: svc_port must be a port number from 1 to 65535, got '70000'"]),
        ({"svc_port": 0}, ["svc: svc_port must be a port number from 1 to 65535, got 0"]),
        ({"svc_port": "abc"}, ["svc_port"]),
        ({"svc_source": "floppy"}, ["svc_source", "registry, offline"]),
        ({"svc_memory": "lots"}, ["svc: svc_memory must be a size such as 512m, 1g or a number of bytes, got 'lots'"]),
        ({"svc_memory": "512m"}, []),
        ({"svc_path": "/nonexistent/x"}, ["svc_path must be an existing path on the controller"]),
        ({"svc_password": 9}, ["svc_password must be a number from 1 to 5, got (hidden)"]),
        ({"svc_port": "{{ later }}"}, []),
    ],
)
def test_role_input_problems(role_dir, override, expected):
    values = LazyVars(GOOD, **override)
    problems = role_input_problems(values, str(role_dir), ["svc"])
    if not expected:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        for fragment in expected:
            assert fragment in problems[0]


def test_all_problems_are_reported_at_once(role_dir):
    values = LazyVars(svc_port=-1, svc_memory="x", svc_source="y")
    problems = role_input_problems(values, str(role_dir), ["svc", "missing_role"])
    text = "\n".join(problems)
    for fragment in ("svc_port", "svc_memory", "svc_source", "svc_required", "missing_role: no such role"):
        assert fragment in text
    assert len(problems) == 5


def test_bad_arguments_raise_filter_errors(role_dir):
    with pytest.raises(AnsibleFilterError):
        role_input_problems("not a mapping", str(role_dir), ["svc"])
    with pytest.raises(AnsibleFilterError):
        role_input_problems({}, str(role_dir / "nope"), ["svc"])


def test_filter_is_registered():
    assert FilterModule().filters()["role_input_problems"] is role_input_problems


# --- where each variable comes from --------------------------------------------


@pytest.fixture
def inventory(tmp_path, role_dir, monkeypatch):
    """An inventory directory: group_vars/all split per concern, a group file, host_vars."""
    monkeypatch.chdir(tmp_path)
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "group_vars" / "all" / "svc.yml").write_text("svc_port: 5432\nsvc_memory: 1g\nsvc_tpl: '{{ x }}'\n")
    (inv / "group_vars" / "all" / "vault.yml").write_text("svc_secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n")
    (inv / "group_vars" / "regions.yml").write_text("svc_memory: 2g\n")
    (inv / "host_vars" / "h1").mkdir(parents=True)
    (inv / "host_vars" / "h1" / "svc.yml").write_text("svc_source: offline\n")
    (role_dir / "svc" / "defaults").mkdir()
    (role_dir / "svc" / "defaults" / "main.yml").write_text("svc_port: 80\nsvc_path: /tmp\n")
    return inv


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("svc_port", "inv/group_vars/all/svc.yml"),  # the inventory wins over the role default
        ("svc_memory", "inv/group_vars/regions.yml"),  # a group's file wins over group_vars/all
        ("svc_source", "inv/host_vars/h1/svc.yml"),  # host_vars win over groups
        ("svc_secret", "inv/group_vars/all/vault.yml"),  # vaulted values are read without decrypting
        ("svc_path", "role default roles/svc/defaults/main.yml"),
    ],
)
def test_variable_sources(inventory, role_dir, variable, expected):
    sources = variable_sources(str(inventory), "h1", ["regions"], str(role_dir), ["svc"])
    assert sources[variable]["file"] == expected


def test_variable_sources_of_a_host_outside_the_group(inventory, role_dir):
    sources = variable_sources(str(inventory), "h2", [], str(role_dir), ["svc"])
    assert sources["svc_memory"]["file"] == "inv/group_vars/all/svc.yml"
    assert "svc_source" not in sources


def test_problem_sources_names_the_file_of_every_variable_in_a_message(inventory, role_dir):
    sources = variable_sources(str(inventory), "h1", ["regions"], str(role_dir), ["svc"])
    problems = ["svc: svc_port must be a port, got 0", "svc_memory / svc_path: too small", "nothing named here"]
    values = {"svc_port": 5432, "svc_memory": "2g", "svc_path": "/tmp"}
    assert problem_sources(problems, sources, values) == [
        "svc: svc_port must be a port, got 0 [svc_port: inv/group_vars/all/svc.yml]",
        "svc_memory / svc_path: too small [svc_memory: inv/group_vars/regions.yml; "
        "svc_path: role default roles/svc/defaults/main.yml]",
        "nothing named here",
    ]


def test_problem_sources_says_extra_vars_when_the_value_is_not_the_file_s(inventory, role_dir):
    sources = variable_sources(str(inventory), "h1", ["regions"], str(role_dir), ["svc"])
    # -e svc_port=0 overrides the file; a templated value cannot be compared and keeps its file.
    values = {"svc_port": "0", "svc_tpl": "resolved"}
    assert problem_sources(["svc_port bad", "svc_tpl bad"], sources, values) == [
        "svc_port bad [svc_port: extra vars (overrides inv/group_vars/all/svc.yml)]",
        "svc_tpl bad [svc_tpl: inv/group_vars/all/svc.yml]",
    ]


def test_source_filters_reject_bad_input(tmp_path):
    with pytest.raises(AnsibleFilterError):
        variable_sources(str(tmp_path / "nope"), "h1", [])
    with pytest.raises(AnsibleFilterError):
        variable_sources(str(tmp_path), "h1", "regions")
    with pytest.raises(AnsibleFilterError):
        problem_sources("one message", {})
    with pytest.raises(AnsibleFilterError):
        disjoint_cidr_problems({}, "h1", [], "aws_vpc")


@pytest.mark.parametrize(
    ("hostvars", "expected"),
    [
        ({"a": {"vpc": "10.0.0.0/16"}, "b": {"vpc": "10.1.0.0/16"}}, []),
        (
            {"a": {"vpc": "10.0.0.0/16"}, "b": {"vpc": "10.0.128.0/17"}},
            ["vpc 10.0.0.0/16 overlaps vpc 10.0.128.0/17 of b"],
        ),
        (
            {"a": {"vpc": "10.0.0.0/16", "peers": ["10.0.1.0/24"]}, "b": {}},
            ["vpc 10.0.0.0/16 overlaps peers 10.0.1.0/24"],
        ),
        ({"a": {"vpc": "not a cidr"}, "b": {"vpc": "10.0.0.0/16"}}, []),  # the role's own checks report it
        ({"a": {}, "b": {"vpc": "10.0.0.0/16"}}, []),
    ],
)
def test_disjoint_cidr_problems(hostvars, expected):
    assert disjoint_cidr_problems(hostvars, "a", ["a", "b"], ["vpc", "peers"]) == expected


def test_source_filters_are_registered():
    filters = FilterModule().filters()
    assert filters["variable_sources"] is variable_sources
    assert filters["problem_sources"] is problem_sources
    assert filters["disjoint_cidr_problems"] is disjoint_cidr_problems
