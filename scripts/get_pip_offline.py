"""Stand-in for pip's get-pip.py where ansible-test cannot download it.

ansible-test creates its sanity virtual environments without pip and runs
get-pip.py (downloaded from ci-files.testing.ansible.com, which this machine
cannot reach) with pip's usual arguments, e.g. ``pip==24.2 --no-setuptools``.
This does the same from what Python and PyPI provide: pip from ``ensurepip``,
then ``pip install`` of the requested packages. ``make sanity`` puts it where
ansible-test caches the real script (~/.ansible/test/cache/get_pip_<version>.py).
"""

import subprocess
import sys


def main():
    packages = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    if packages:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *packages], check=True)


if __name__ == "__main__":
    main()
