# Copyright: the reelle infrastructure authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Size filters.

`docker_size_to_mb` turns a Docker memory size into whole mebibytes, rounded up:
"512m" -> 512, "1g" -> 1024, "1.5g" -> 1536, "2048k" -> 2, "1073741824" (bytes,
Docker's unit when none is given) -> 1024, "0" (no limit / service off) -> 0.
Units are Docker's binary ones (b, k, m, g, t, an optional trailing "b" as in
"512mb"), case-insensitive. Anything else raises AnsibleFilterError naming the
value: booleans, negative numbers, unknown units, empty strings, undefined values.
The optional argument names where the value came from, for that message:
`limits | map('docker_size_to_mb', 'my_role_memory_limits')`.
"""

import math
import re

from ansible.errors import AnsibleFilterError

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$", re.IGNORECASE)
_BYTES_PER_UNIT = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_MIB = 1024**2


def docker_size_to_mb(value, source="value"):
    """Return the Docker size `value` in whole MiB (rounded up); `source` names it in errors."""
    where = f"docker_size_to_mb: {source}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AnsibleFilterError(f"{where}: expected a size such as 512m or 1g, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise AnsibleFilterError(f"{where}: a size cannot be negative, got {value!r}")
        return math.ceil(value / _MIB)
    match = _SIZE.match(value.strip())
    if match is None:
        raise AnsibleFilterError(
            f"{where}: {value!r} is not a Docker size (a number with an optional unit b, k, m, g or t)"
        )
    number, unit = match.groups()
    return math.ceil(float(number) * _BYTES_PER_UNIT[unit.lower()] / _MIB)


class FilterModule:
    def filters(self):
        return {"docker_size_to_mb": docker_size_to_mb}
