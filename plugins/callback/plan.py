# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a check-mode run: what a converge would create, update or delete.

Active only when the playbook runs in check mode (``--check``, or an AWX job
template of type check); otherwise it does nothing. It collects one row per
resource from every task result:

- modules built on ``ChangeSet`` return ``changes`` (their plan rows:
  ``action``, ``resource``, ``attributes``) and are taken as they are;
- any other module that reports ``changed`` gives one row, its action and
  changed attributes read from its ``diff`` (run with ``--diff``) where it has one.

The tier of a row is the first part of its play's name (``Network | ...``).
At the end of the run it prints the rows as a table grouped by tier, then a
count line. The rows a host has collected so far are also published to that
host as the fact ``plan_rows`` (an empty list from the host's first result
on), so a later play of the same run can act on them: ``playbooks/drift.yml``
fails when there are any, and when the fact is missing (this callback did not
run). ansible-runner/AWX replace ``callback_plugins`` with their own folder
(ANSIBLE_CALLBACK_PLUGINS); ``playbooks/callback_plugins/plan.py`` (a link to
this file) is found next to the playbook all the same.
"""

from __future__ import annotations

DOCUMENTATION = """
    name: plan
    type: aggregate
    short_description: table of what a check-mode run would change, grouped by tier
    description:
      - In check mode, collects the plan rows of every task (the C(changes) of
        ChangeSet-based modules, or one row per changed task with the attributes
        of its diff) and prints them at the end as a table grouped by tier.
      - Publishes the rows collected for a host as the fact C(plan_rows).
      - Does nothing outside check mode.
    requirements:
      - callback_plugins pointing at this folder (ansible.cfg); it needs no enabling
"""

from collections.abc import Mapping

from ansible import context
from ansible.plugins.callback import CallbackBase

ACTIONS = ("create", "update", "delete", "change")
ATTRIBUTES_WIDTH = 70


def _paths(before, after, prefix="", depth=2):
    """Dotted paths of the keys whose values differ between two dicts."""
    paths = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        path = f"{prefix}{key}"
        if depth > 1 and isinstance(old, Mapping) and isinstance(new, Mapping):
            paths.extend(_paths(old, new, f"{path}.", depth - 1) or [path])
        else:
            paths.append(path)
    return paths


def _absent(state):
    if isinstance(state, Mapping):
        return not state or state.get("state") == "absent" or state.get("exists") is False
    return state in (None, "", "absent")


def row_from_diff(diff):
    """(action, attributes) of a changed task from its diff (a dict or a list of dicts)."""
    diffs = diff if isinstance(diff, list) else [diff]
    action, attributes = None, []
    for item in diffs:
        if not isinstance(item, Mapping) or "before" not in item and "after" not in item:
            continue
        before, after = item.get("before"), item.get("after")
        if _absent(before) and not _absent(after):
            action = action or "create"
        elif _absent(after) and not _absent(before):
            action = action or "delete"
        else:
            action = action or "update"
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            attributes.extend(path for path in _paths(before, after) if path not in ("state", "exists"))
    return action or "change", attributes


def _resource_name(result, task):
    args = (result.get("invocation") or {}).get("module_args") or {}
    module = task.action.rsplit(".", 1)[-1]
    for key in ("name", "path", "dest", "repository", "key"):
        if isinstance(args.get(key), str) and args[key]:
            return f"{module} {args[key]}"
    # The task's own name, without its role's prefix ("role : ").
    return f"{module} ({task.get_name().rsplit(' : ', 1)[-1]})"


def rows_of(result, task):
    """Plan rows of one task result ([] when the task changes nothing)."""
    if result.get("skipped") or result.get("failed"):
        return []
    if isinstance(result.get("results"), list):
        return [row for item in result["results"] if isinstance(item, Mapping) for row in rows_of(item, task)]
    changes = result.get("changes")
    if isinstance(changes, list) and all(isinstance(c, Mapping) and "action" in c for c in changes):
        return [
            {
                "action": str(change["action"]),
                "resource": str(change.get("resource", "")),
                "attributes": [str(a) for a in change.get("attributes") or []],
            }
            for change in changes
        ]
    if not result.get("changed"):
        return []
    action, attributes = row_from_diff(result.get("diff"))
    return [{"action": action, "resource": _resource_name(result, task), "attributes": attributes}]


def _attributes_text(attributes):
    text = ", ".join(attributes)
    if len(text) <= ATTRIBUTES_WIDTH:
        return text
    shown = []
    for index, attribute in enumerate(attributes):
        rest = len(attributes) - index
        if len(", ".join([*shown, attribute])) + len(f", +{rest} more") > ATTRIBUTES_WIDTH:
            return ", ".join(shown) + f", +{rest} more"
        shown.append(attribute)
    return text


def render(rows):
    """The plan table and count line (a list of lines)."""
    if not rows:
        return ["Plan: no changes. The live state matches the inventory."]
    hosts = sorted({row["host"] for row in rows})
    columns = ["TIER", *(["HOST"] if len(hosts) > 1 else []), "ACTION", "RESOURCE", "ATTRIBUTES"]
    tiers = list(dict.fromkeys(row["tier"] for row in rows))
    table = []
    for tier in tiers:
        for row in (row for row in rows if row["tier"] == tier):
            cells = [tier, *([row["host"]] if len(hosts) > 1 else []), row["action"], row["resource"]]
            table.append([*cells, _attributes_text(row["attributes"])])
    widths = [max(len(line[i]) for line in [columns, *table]) for i in range(len(columns) - 1)]

    def line(cells):
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, [*widths, 0], strict=True)).rstrip()

    lines = [line(columns)]
    previous = None
    for cells in table:
        lines.append(line([cells[0] if cells[0] != previous else "", *cells[1:]]))
        previous = cells[0]
    counts = {action: sum(1 for row in rows if row["action"] == action) for action in ACTIONS}
    summary = f"Plan: {counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete"
    if counts["change"]:
        summary += f", {counts['change']} other change{'s' if counts['change'] > 1 else ''}"
    return [*lines, "", f"{summary} ({', '.join(hosts)})."]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "plan"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super().__init__()
        self.rows = []
        self.tier = ""
        self.variable_manager = None
        self.published = set()

    @property
    def active(self):
        return bool(context.CLIARGS.get("check"))

    def v2_playbook_on_play_start(self, play):
        self.tier = play.get_name().split("|", 1)[0].strip()
        self.variable_manager = play.get_variable_manager()

    def v2_runner_on_ok(self, result):
        if not self.active:
            return
        host = result.host.get_name()
        found = [dict(row, tier=self.tier, host=host) for row in rows_of(result.result, result.task)]
        self.rows.extend(found)
        if self.variable_manager is None or (host in self.published and not found):
            return
        # Published on the host's first result too (empty), so a reader can
        # tell "no rows" from "this callback did not run".
        self.published.add(host)
        mine = [
            {key: row[key] for key in ("tier", "action", "resource", "attributes")}
            for row in self.rows
            if row["host"] == host
        ]
        self.variable_manager.set_nonpersistent_facts(host, {"plan_rows": mine})

    def v2_playbook_on_stats(self, stats):
        if not self.active:
            return
        self._display.banner("PLAN (check mode: nothing was changed)")
        for text in render(self.rows):
            self._display.display(text)
