# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run our AWS modules inside Ansible's worker process instead of a new Python.

Each module of the collection has an action plugin of its name in
``plugins/action`` that imports ``ActionModule`` from here, so the task
``reelle.infra.aws_network: ...`` uses this action. Collection module_utils
are imported through Ansible's collection loader; for modules of a
``library`` folder (tests/fixtures/inprocess), ``ansible.module_utils.<name>``
is looked up in the configured module_utils folders.

A module normally costs one new interpreter per task: AnsiballZ payload,
``import boto3`` and the botocore service models, about 1.5 s of the ~2 s an
AWS task takes here. The ``reelle_preload`` callback imports boto3, our modules
and the service models once in the controller before the first AWS task; each
task's worker is forked from that process, so here the module's ``main()``
runs at once. The module sees exactly what it would see remotely: the same
arguments and internal ``_ansible_*`` keys (check mode, diff, no_log), JSON
encoded and decoded with the same serialization profile, and its result goes
through the same parser. An exception from the module (or its import) gives
the failed result the AnsiballZ wrapper gives, and each call puts back what it
changed in the process (os.environ, sys.argv, AnsibleModule's globals, stdout):
the items of a loop and the attempts of `until` run in the same worker.

It falls back to the normal execution whenever running in the worker could
differ from the module's own interpreter: a connection other than ``local``,
become, async, an ``ansible_python_interpreter`` other
than the controller's Python, or ``REELLE_IN_PROCESS=0`` in the environment.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import io
import json
import os
import sys

from ansible import constants as C
from ansible.module_utils import basic
from ansible.module_utils._internal import _deprecator, _errors, _messages, _traceback
from ansible.module_utils.common import warnings as _warnings
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.display import Display
from ansible.vars.clean import remove_internal_keys

display = Display()

PROFILE = "legacy"
MODULE_PACKAGE = "reelle_inprocess_modules"


def enabled():
    return os.environ.get("REELLE_IN_PROCESS", "1") != "0"


def module_utils_folders():
    return [folder for folder in C.config.get_config_value("DEFAULT_MODULE_UTILS_PATH") or [] if os.path.isdir(folder)]


class ModuleUtilsFinder(importlib.abc.MetaPathFinder):
    """Finds ``ansible.module_utils.<name>`` in our module_utils folders, after Ansible's own finders.

    Imported on demand, as a module's payload carries only the module_utils it
    imports: a file that fails to import fails its importers only, and, the
    import system removing it from ``sys.modules``, fails them the same way
    every time.
    """

    reelle_module_utils = True

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package != "ansible.module_utils" or name.startswith("_"):
            return None
        for folder in module_utils_folders():
            location = os.path.join(folder, f"{name}.py")
            if os.path.isfile(location):
                return importlib.util.spec_from_file_location(fullname, location)
        return None


def register_module_utils():
    """Make ``ansible.module_utils.<name>`` importable for our module_utils files."""
    # One finder for the process, whoever imports this file first.
    if not any(getattr(finder, "reelle_module_utils", False) for finder in sys.meta_path):
        sys.meta_path.append(ModuleUtilsFinder())


def load_module(name, path):
    """Import the module file once per process (the preload does it before forking).

    A module that fails to import leaves nothing in ``sys.modules``: the next
    call imports it again and fails the same way.
    """
    fullname = f"{MODULE_PACKAGE}.{name}"
    module = sys.modules.get(fullname)
    loaded = getattr(module, "__file__", None)
    if loaded is not None and os.path.realpath(loaded) == os.path.realpath(path):
        return module
    register_module_utils()
    spec = importlib.util.spec_from_file_location(fullname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if sys.modules.get(fullname) is module:
            del sys.modules[fullname]
        raise
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
        # The task's `environment:` as the module's process would get it, for this call only.
        environment = {}
        self._compute_environment_string(environment)
        name = context.plugin_resolved_name.rpartition(".")[2]
        return self._run_main(name, context.plugin_resolved_path, module_args, environment)

    def _run_main(self, name, path, module_args, environment):
        """Import the module and run its main() as AnsiballZ would, then put the process back as it was.

        Everything a module process changes and the worker keeps (os.environ,
        sys.argv, the AnsibleModule globals, stdout/stderr, the working
        directory) is restored after the call, whatever it ends with: the items
        of a loop and the attempts of `until` run one after another here.
        """
        # The same encoding as the module's payload and result on the wire.
        to_module = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        to_controller = get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER)
        recorded = []

        def record(_module, result):
            recorded.append(json.dumps(result, cls=to_controller))

        saved = _ProcessState()
        captured_out, captured_err = io.StringIO(), io.StringIO()
        try:
            os.environ.update({key: str(value) for key, value in environment.items()})
            sys.argv = [path]
            basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=to_module).encode()
            basic._ANSIBLE_PROFILE = PROFILE
            basic.AnsibleModule._record_module_result = record
            _deprecator._path_as_plugininfo = _payload_plugininfo(name, path, saved.path_as_plugininfo)
            sys.stdout, sys.stderr = captured_out, captured_err
            try:
                module = load_module(name, path)
                module.main()
                raise RuntimeError("New-style module did not handle its own exit.")
            except SystemExit:
                pass
            except Exception as error:  # what the AnsiballZ wrapper returns for an uncaught exception
                recorded.append(json.dumps(_exception_result(error), cls=to_controller))
        finally:
            saved.restore()

        output = recorded[-1] if recorded else captured_out.getvalue()
        data = self._parse_returned_data({"stdout": output, "stderr": captured_err.getvalue()}, PROFILE)
        remove_internal_keys(data)
        for key in ("stdout", "stderr"):
            if key in data and f"{key}_lines" not in data:
                data[f"{key}_lines"] = (data.get(key) or "").splitlines()
        return data


def _exception_result(error):
    """The result ansible.module_utils._internal._ansiballz._loader gives for an exception from a module."""
    return {
        "failed": True,
        "exception": _messages.ErrorSummary(
            event=_errors.EventFactory.from_exception(
                error, _traceback.is_traceback_enabled(_traceback.TracebackEvent.ERROR)
            ),
        ),
    }


def _payload_plugininfo(name, path, original):
    """Who a deprecation without collection_name names: from our files, what their AnsiballZ payload paths give.

    In the payload a library module is ``ansible/legacy/<name>.py`` (module
    ``ansible.legacy.<name>``) and a module_utils file is under
    ``ansible/module_utils`` (ansible-core); here they are at their own paths,
    which name no one. Collection files have the same paths in both.
    """
    module_file = os.path.realpath(path)
    utils_folders = tuple(os.path.join(os.path.realpath(folder), "") for folder in module_utils_folders())
    module_info = _messages.PluginInfo(resolved_name=f"ansible.legacy.{name}", type=_messages.PluginType.MODULE)

    def path_as_plugininfo(location):
        real = os.path.realpath(location)
        if real == module_file and "/ansible_collections/" not in real:
            return module_info
        if real.startswith(utils_folders):
            return _deprecator.ANSIBLE_CORE_DEPRECATOR
        return original(location)

    return path_as_plugininfo


class _ProcessState:
    """What a module call may change in the worker process, saved to be restored after it."""

    def __init__(self):
        self.environ = dict(os.environ)
        self.argv_list, self.argv = sys.argv, list(sys.argv)
        self.cwd = os.getcwd()
        self.stdout, self.stderr = sys.stdout, sys.stderr
        self.args = (basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS)
        # Defined in AnsibleModule's class body (not inherited); replaced while a module runs.
        self.record = basic.AnsibleModule.__dict__["_record_module_result"]
        self.path_as_plugininfo = _deprecator._path_as_plugininfo
        self.warnings = dict(_warnings._global_warnings)
        self.deprecations = dict(_warnings._global_deprecations)
        # Warnings recorded by this call belong to this call's result only.
        _warnings._global_warnings.clear()
        _warnings._global_deprecations.clear()

    def restore(self):
        sys.stdout, sys.stderr = self.stdout, self.stderr
        for key in [key for key in os.environ if key not in self.environ]:
            del os.environ[key]
        for key, value in self.environ.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        sys.argv = self.argv_list
        sys.argv[:] = self.argv
        if os.getcwd() != self.cwd:
            os.chdir(self.cwd)
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = self.args
        basic.AnsibleModule._record_module_result = self.record
        _deprecator._path_as_plugininfo = self.path_as_plugininfo
        _warnings._global_warnings.clear()
        _warnings._global_warnings.update(self.warnings)
        _warnings._global_deprecations.clear()
        _warnings._global_deprecations.update(self.deprecations)
