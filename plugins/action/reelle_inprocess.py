# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run our AWS modules inside Ansible's worker process instead of a new Python.

Every file in this folder named after a module of ``plugins/modules`` is a
symbolic link to this one, so the task ``aws_network: ...`` uses this action.

A module normally costs one new interpreter per task: AnsiballZ payload,
``import boto3`` and the botocore service models, about 1.5 s of the ~2 s an
AWS task takes here. The ``reelle_preload`` callback imports boto3, our modules
and the service models once in the controller before the first AWS task; each
task's worker is forked from that process, so here the module's ``main()``
runs at once. The module sees exactly what it would see remotely: the same
arguments and internal ``_ansible_*`` keys (check mode, diff, no_log), JSON
encoded and decoded with the same serialization profile, and its result goes
through the same parser.

It falls back to the normal execution whenever running in the worker could
differ from the module's own interpreter: a connection other than ``local``,
become, async, an ``ansible_python_interpreter`` other
than the controller's Python, or ``REELLE_IN_PROCESS=0`` in the environment.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys

from ansible import constants as C
from ansible.module_utils import basic
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

display = Display()

PROFILE = "legacy"
MODULE_PACKAGE = "reelle_inprocess_modules"


def enabled():
    return os.environ.get("REELLE_IN_PROCESS", "1") != "0"


def register_module_utils():
    """Make ``ansible.module_utils.<name>`` importable for our module_utils files."""
    for folder in C.config.get_config_value("DEFAULT_MODULE_UTILS_PATH") or []:
        if not os.path.isdir(folder):
            continue
        for entry in sorted(os.listdir(folder)):
            name, ext = os.path.splitext(entry)
            fullname = f"ansible.module_utils.{name}"
            if ext != ".py" or name.startswith("_") or fullname in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(fullname, os.path.join(folder, entry))
            module = importlib.util.module_from_spec(spec)
            sys.modules[fullname] = module
            spec.loader.exec_module(module)


def load_module(name, path):
    """Import the module file once per process (the preload does it before forking)."""
    fullname = f"{MODULE_PACKAGE}.{name}"
    module = sys.modules.get(fullname)
    if module is not None and getattr(module, "__file__", None) == path:
        return module
    register_module_utils()
    spec = importlib.util.spec_from_file_location(fullname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    spec.loader.exec_module(module)
    return module


class ActionModule(NormalAction):
    def _in_process_reason(self, task_vars, wrap_async):
        """Why the module must run the normal way, or None when it can run here."""
        if not enabled():
            return "REELLE_IN_PROCESS=0"
        if wrap_async or self._task.async_val:
            return "async"
        if self._connection.transport != "local":
            return f"connection {self._connection.transport}"
        if self._play_context.become:
            return "become"
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = self._templar.template(interpreter)
        if interpreter is None:
            return "no ansible_python_interpreter"
        if os.path.realpath(interpreter) != os.path.realpath(sys.executable):
            return f"interpreter {interpreter}"
        return None

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False, **kwargs):
        task_vars = task_vars if task_vars is not None else {}
        module_name = module_name or self._task.action
        reason = self._in_process_reason(task_vars, wrap_async)
        context = None
        if reason is None:
            context = self._shared_loader_obj.module_loader.find_plugin_with_context(
                module_name, collection_list=self._task.collections
            )
            if not context.resolved or not context.plugin_resolved_path.endswith(".py"):
                reason = "module not found as a Python file"
        if reason is not None:
            display.vvv(f"reelle_inprocess: {module_name} runs the normal way ({reason})")
            return super()._execute_module(
                module_name=module_name, module_args=module_args, task_vars=task_vars, wrap_async=wrap_async, **kwargs
            )

        display.vvv(f"reelle_inprocess: running {module_name} in the worker process")
        module_args = self._task.args if module_args is None else module_args
        self._update_module_args(module_name, module_args, task_vars)
        # The task's `environment:` as the module's process would get it (this
        # worker process ends with the task).
        environment = {}
        self._compute_environment_string(environment)
        os.environ.update({key: str(value) for key, value in environment.items()})
        module = load_module(context.plugin_resolved_name.rpartition(".")[2], context.plugin_resolved_path)
        return self._run_main(module, module_args)

    def _run_main(self, module, module_args):
        # The same encoding as the module's payload and result on the wire.
        to_module = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        to_controller = get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER)
        recorded = []

        def record(_module, result):
            recorded.append(json.dumps(result, cls=to_controller))

        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=to_module).encode()
        basic._ANSIBLE_PROFILE = PROFILE
        # This worker exits after the task: the patch never reaches another task.
        basic.AnsibleModule._record_module_result = record
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        try:
            module.main()
        except SystemExit:
            pass
        finally:
            captured_out, captured_err = sys.stdout.getvalue(), sys.stderr.getvalue()
            sys.stdout, sys.stderr = stdout, stderr

        output = recorded[-1] if recorded else captured_out
        data = self._parse_returned_data({"stdout": output, "stderr": captured_err}, PROFILE)
        remove_internal_keys(data)
        for key in ("stdout", "stderr"):
            if key in data and f"{key}_lines" not in data:
                data[f"{key}_lines"] = (data.get(key) or "").splitlines()
        return data
