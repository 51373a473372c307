# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory validation: every role's inputs, checked before anything is touched.

`role_input_problems` reads each named role's `meta/argument_specs.yml` (types,
choices, required) and `vars/checks.yml` (range and shape rules that an
argument spec cannot express) and checks the values the host sees for those
variables (inventory and extra vars). It returns every problem at once, each
naming the variable; values of `no_log` options are never shown.

`variable_sources` maps every variable the inventory or a role's defaults set to
the file that sets it for a host (host_vars over group_vars of the host's
groups over group_vars/all; `role default roles/<role>/defaults/main.yml` when
no inventory file does). `problem_sources` appends to each problem the file of
every variable it names, and says `extra vars` when the value the host sees is
not the one the file holds. `disjoint_cidr_problems` reports CIDRs (named
variables, across the play's hosts) that overlap.
"""

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence

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


class _TolerantLoader(yaml.SafeLoader):
    """Reads inventory files that hold `!vault` or `!unsafe` values (their value is not needed)."""


_TolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
VARS_EXTENSIONS = ("", ".yml", ".yaml", ".json")
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _vars_files(folder, name):
    """Files Ansible reads for group or host `name` under folder, in load order."""
    files = [os.path.join(folder, name + ext) for ext in VARS_EXTENSIONS]
    found = [path for path in files if os.path.isfile(path)]
    directory = os.path.join(folder, name)
    if os.path.isdir(directory):
        for root, dirs, names in os.walk(directory):
            dirs.sort()
            found.extend(
                os.path.join(root, entry)
                for entry in sorted(names)
                if entry.endswith(VARS_EXTENSIONS[1:]) or "." not in entry
            )
    return found


def _top_level(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_TolerantLoader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, Mapping) else {}


def _shown_path(path):
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def variable_sources(inventory_dir, host, groups, role_dir=None, roles=()):
    """{variable: {"file": shown path, "value": value in that file}} for one host."""
    if not isinstance(inventory_dir, str) or not os.path.isdir(inventory_dir):
        raise AnsibleFilterError(f"variable_sources: no inventory directory at {inventory_dir!r}")
    if isinstance(groups, str) or not isinstance(groups, Sequence):
        raise AnsibleFilterError(f"variable_sources: groups must be a list of group names, got {groups!r}")
    sources = {}
    for role in roles if role_dir else ():
        defaults = os.path.join(role_dir, role, "defaults", "main.yml")
        for name, value in _top_level(defaults).items():
            sources[name] = {"file": f"role default roles/{role}/defaults/main.yml", "value": value}
    # Later files win, as in Ansible: group_vars/all, then the host's groups, then host_vars.
    layers = [("group_vars", "all"), *(("group_vars", group) for group in groups if group != "all")]
    for folder, name in [*layers, ("host_vars", host)]:
        for path in _vars_files(os.path.join(inventory_dir, folder), name):
            for variable, value in _top_level(path).items():
                sources[variable] = {"file": _shown_path(path), "value": value}
    return sources


def _plain_scalar(value):
    return isinstance(value, bool | int | float) or (isinstance(value, str) and "{{" not in value and "{%" not in value)


def _source_text(name, source, hostvars):
    if hostvars is not None and _plain_scalar(source["value"]):
        try:
            actual = _plain(hostvars[name]) if name in hostvars else source["value"]
        except (AnsibleError, UndefinedError, _Unresolved):
            actual = source["value"]
        if actual != source["value"] and str(actual) != str(source["value"]):
            return f"{name}: extra vars (overrides {source['file']})"
    return f"{name}: {source['file']}"


def problem_sources(problems, sources, hostvars=None):
    """Each problem with the file of every variable it names appended: `... [name: file]`."""
    if isinstance(problems, str) or not isinstance(problems, Sequence):
        raise AnsibleFilterError(f"problem_sources: problems must be a list of messages, got {problems!r}")
    if not isinstance(sources, Mapping):
        raise AnsibleFilterError("problem_sources: sources must be the result of variable_sources")
    annotated = []
    for problem in problems:
        names = [name for name in dict.fromkeys(VARIABLE_NAME.findall(str(problem))) if name in sources]
        texts = [_source_text(name, sources[name], hostvars) for name in names]
        annotated.append(f"{problem} [{'; '.join(texts)}]" if texts else str(problem))
    return annotated


def _host_networks(hostvars, host, names):
    """[(variable, network)] of the CIDRs the host sets in names (lists allowed)."""
    found = []
    for name in names:
        try:
            value = _plain(hostvars[host][name]) if name in hostvars[host] else None
        except (AnsibleError, UndefinedError, _Unresolved, KeyError):
            continue
        for cidr in value if isinstance(value, list) else [value]:
            try:
                found.append((name, ipaddress.ip_network(str(cidr).strip(), strict=False)))
            except ValueError:
                continue  # the role's own checks report a CIDR that does not parse
    return found


def disjoint_cidr_problems(hostvars, host, hosts, names):
    """Overlaps between the CIDRs in variables `names` of `host`, and with those of the other `hosts`."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise AnsibleFilterError(f"disjoint_cidr_problems: names must be a list of variable names, got {names!r}")
    mine = _host_networks(hostvars, host, names)
    pairs = [(a, b, "") for index, a in enumerate(mine) for b in mine[index + 1 :]]
    for other_host in hosts:
        if other_host != host:
            others = _host_networks(hostvars, other_host, names)
            pairs.extend((a, b, f" of {other_host}") for a in mine for b in others)
    return [
        f"{name} {network} overlaps {other_name} {other}{where}"
        for (name, network), (other_name, other), where in pairs
        if network.overlaps(other)
    ]


def upstream_output(hostvars, host, path, consumer=""):
    """The value at `path` (dotted) of another host's published outputs.

    Cross-host wiring (the standby's database settings come from the primary's
    Aurora outputs) must not fall back to an empty value when the upstream play
    did not run in this invocation (`--limit`, `--tags`): a task definition
    without a database would be deployed silently. When the output variable
    (the path's first part) is missing on `host`, this raises an error naming
    what is missing, where it should have come from and how to get it. When the
    variable exists but the path in it does not (check mode on an empty
    account, a teardown's stubs), the value is "" and the consuming role decides
    (aws_compute refuses an empty database on a real run).
    """
    consumer = consumer or "this host"
    try:
        value = hostvars[host]
    except (KeyError, UndefinedError) as error:
        raise AnsibleFilterError(f"{consumer} needs outputs of {host}, which is not in the inventory") from error
    variable, *rest = str(path).split(".")
    try:
        value = value[variable]
    except (KeyError, TypeError, UndefinedError):
        value = None
    if value is None or isinstance(value, Undefined):
        raise AnsibleFilterError(
            f"{consumer} needs {path} from {host}, and this run has not produced {variable}: the play that "
            f"publishes it did not run for {host} (a --limit or --tags that leaves it out, or an earlier failure). "
            f"Run that play for {host} in the same invocation."
        )
    for key in rest:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError, UndefinedError):
            return ""
        if isinstance(value, Undefined):
            return ""
    return "" if value is None else value


class FilterModule:
    def filters(self):
        return {
            "role_input_problems": role_input_problems,
            "variable_sources": variable_sources,
            "problem_sources": problem_sources,
            "disjoint_cidr_problems": disjoint_cidr_problems,
            "upstream_output": upstream_output,
        }
