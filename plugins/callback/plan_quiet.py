# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short screen output for plan and drift runs (scripts/plan.sh selects it).

The default output, minus what makes a check-mode run long to read: tasks that
report ok or skipped are not shown, and per-task diffs are not printed (the
``plan`` callback's table at the end lists the changed attributes instead).
Failures, warnings, changed tasks and the recap are shown as usual.
"""

from __future__ import annotations

DOCUMENTATION = """
    name: plan_quiet
    type: stdout
    short_description: default output without ok/skipped results and without diffs
    description:
      - The default stdout callback with display_ok_hosts and display_skipped_hosts
        off and no per-task diff; used by plan and drift runs, whose table
        (the plan callback) is what the reader wants.
    extends_documentation_fragment:
      - default_callback
      - result_format_callback
    requirements:
      - set as stdout callback (ANSIBLE_STDOUT_CALLBACK=plan_quiet)
"""

from ansible.plugins.callback.default import CallbackModule as DefaultCallback


class CallbackModule(DefaultCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "plan_quiet"

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._plugin_options["display_ok_hosts"] = False
        self._plugin_options["display_skipped_hosts"] = False

    def v2_on_file_diff(self, result):
        """Diffs are summarised by the plan table."""
