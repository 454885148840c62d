"""The script every candidate interpreter runs once to say what it is (native and Wine alike)."""

# Runs under any Python from 2.7 on, so that an old one is rejected for its version and not for
# a syntax error.
PROBE_SCRIPT = """\
import json, platform, struct, sys, sysconfig
print(json.dumps({
    "version_info": list(sys.version_info[:5]),
    "version": platform.python_version(),
    "implementation": platform.python_implementation().lower(),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "machine": platform.machine(),
    "bits": struct.calcsize("P") * 8,
    "platform": sys.platform,
    "executable": sys.executable,
    "venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
}))
"""
