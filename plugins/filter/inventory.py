"""Inventory validation: every role's inputs, checked before anything is touched.

`role_input_problems` reads each named role's `meta/argument_specs.yml` (types,
choices, required) and `vars/checks.yml` (range and shape rules that an
argument spec cannot express) and checks the values the host sees for those
variables (inventory and extra vars). It returns every problem at once, each
naming the variable; values of `no_log` options are never shown.
"""

import os
import re
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleError, AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from jinja2 import Undefined, UndefinedError

DOCKER_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$", re.IGNORECASE)


def _is_port(value):
    try:
        return 1 <= int(value) <= 65535 and str(value).strip().lstrip("-").isdigit()
    except (TypeError, ValueError):
        return False


def _is_memory_size(value):
    return isinstance(value, int | str) and not isinstance(value, bool) and DOCKER_SIZE.match(str(value)) is not None


def _in_range(value, low, high):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return (low is None or number >= low) and (high is None or number <= high)


def _check(rule, value):
    """Return None when value passes rule, else what was expected."""
    kind = rule["rule"]
    if kind == "port":
        return None if _is_port(value) else "a port number from 1 to 65535"
    if kind == "memory_size":
        return None if _is_memory_size(value) else "a size such as 512m, 1g or a number of bytes"
    if kind == "nonempty":
        return None if value not in (None, "", [], {}) else "a non-empty value"
    if kind in ("path_exists", "path_exists_or_empty"):
        if kind == "path_exists_or_empty" and value in (None, ""):
            return None
        ok = isinstance(value, str) and value != "" and os.path.exists(value)
        return None if ok else "an existing path on the controller"
    if kind == "range":
        low, high = rule.get("min"), rule.get("max")
        if _in_range(value, low, high):
            return None
        if high is None:
            return f"a number of at least {low}"
        return f"a number of at most {high}" if low is None else f"a number from {low} to {high}"
    raise AnsibleFilterError(f"unknown inventory check rule {kind!r} for {rule.get('var')}")


def _load_yaml(path, default):
    if not os.path.isfile(path):
        return default
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or default


class _Unresolved(Exception):
    pass


def _plain(value):
    """A plain copy of value; raises _Unresolved when it holds an undefined reference."""
    if isinstance(value, Undefined):
        raise _Unresolved
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _host_values(hostvars, names):
    """Values the host sees for names, and the names that refer to facts only known later."""
    values, deferred = {}, set()
    for name in names:
        try:
            if name in hostvars:
                values[name] = _plain(hostvars[name])
        except (AnsibleError, UndefinedError, _Unresolved):
            # Refers to something only known later (a fact set by an earlier
            # role); the role's own argument spec checks it when it runs.
            deferred.add(name)
    return values, deferred


def _show(value, secret):
    return "(hidden)" if secret else repr(value)


def role_problems(hostvars, role_dir, role):
    spec_file = os.path.join(role_dir, role, "meta", "argument_specs.yml")
    specs = _load_yaml(spec_file, {})
    if "argument_specs" not in specs:
        return [f"{role}: no meta/argument_specs.yml to validate against"]
    options = specs["argument_specs"]["main"].get("options", {})
    checks = _load_yaml(os.path.join(role_dir, role, "vars", "checks.yml"), {}).get(f"{role}_checks", [])
    names = set(options) | {rule["var"] for rule in checks}
    values, deferred = _host_values(hostvars, names)
    # A required input is satisfied by the role's own default or by a value
    # that is only known once an earlier role has run.
    defaults = _load_yaml(os.path.join(role_dir, role, "defaults", "main.yml"), {})
    spec = {
        name: dict(option, required=False) if name in defaults or name in deferred else option
        for name, option in options.items()
    }
    problems = []
    result = ArgumentSpecValidator(spec).validate({k: v for k, v in values.items() if k in options})
    problems.extend(f"{role}: {message}" for message in result.error_messages)
    mistyped = {name for name in values if any(f"'{name}'" in message for message in result.error_messages)}
    for rule in checks:
        name = rule["var"]
        if name not in values or name in mistyped:
            continue
        expected = _check(rule, values[name])
        if expected:
            secret = options.get(name, {}).get("no_log", False)
            problems.append(f"{role}: {name} must be {expected}, got {_show(values[name], secret)}")
    return problems


def role_input_problems(hostvars, role_dir, roles):
    """Every problem with the inputs of roles, as a list of messages."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("role_input_problems expects the host's variables (hostvars[inventory_hostname])")
    if not os.path.isdir(role_dir):
        raise AnsibleFilterError(f"role_input_problems: no roles directory at {role_dir}")
    problems = []
    for role in roles:
        if not os.path.isdir(os.path.join(role_dir, role)):
            problems.append(f"{role}: no such role in {role_dir}")
            continue
        problems.extend(role_problems(hostvars, role_dir, role))
    return problems


class FilterModule:
    def filters(self):
        return {"role_input_problems": role_input_problems}
