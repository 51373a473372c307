"""inventory_check's filter: argument specs and vars/checks.yml rules, all problems at once."""

import pytest
import yaml
from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from inventory import FilterModule, role_input_problems

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
