# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the module of this name in Ansible's worker process: see plugins/plugin_utils/inprocess.py."""

from ansible_collections.reelle.infra.plugins.plugin_utils.inprocess import ActionModule  # noqa: F401
