"""Stand-in for the get-pip.py script that ansible-test downloads to put pip into its venvs.

That download host is not reachable from our machines, the package index is. This bootstraps
pip with the interpreter's own ensurepip, then installs what ansible-test asked for (its pinned
pip, setuptools) from the index. tools/sanity.sh puts it in ansible-test's cache only where no
real get-pip script is cached.
"""

import ensurepip
import os
import runpy
import ssl
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
# ansible-test runs this with a reduced environment (no PIP_CERT / SSL_CERT_FILE), and the
# bundled pip trusts only its own CA list: point it at the system's CA bundle.
paths = ssl.get_default_verify_paths()
system_cafile = paths.cafile or paths.openssl_cafile
if os.path.isfile(system_cafile):
    args = ["--cert", system_cafile, *args]
sys.argv = ["pip", "install", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
