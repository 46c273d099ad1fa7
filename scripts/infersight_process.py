"""Running `infersight serve` from a measurement script, asking its API, and reading its figures from /proc.

Shared by scripts/scrape-scale.py, scripts/gateway-soak.py, scripts/demo-live-check.py
and scripts/quality/demo-judging-check.py.
"""
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


@contextlib.contextmanager
def serve(binary, port, config_body, prefix="infersight-"):
    """Runs `binary serve` on 127.0.0.1:`port` with `config_body` after its
    [server] and [storage] sections, in a temporary data directory; yields
    (process, base URL) once /-/ready answers, and stops and cleans up after."""
    work = tempfile.mkdtemp(prefix=prefix)
    config = os.path.join(work, "config.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{port}"\n[storage]\npath = "{work}/data"\n{config_body}')
    proc = subprocess.Popen([binary, "serve", "--config", config],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "log"), "w"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=1)
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.1)
        yield proc, base
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)


def stop(proc, timeout=60):
    """Stops `proc` as Ctrl-C would, and kills it if it has not exited after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def api(base, path, params=None, timeout=30):
    """The `data` of a Prometheus-style JSON answer from `base` + `path`; raises RuntimeError on an error status."""
    url = base + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "request failed"))
    return body["data"]


def cpu_seconds(pid):
    """User plus system CPU time of process `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mib(pid, field="VmRSS"):
    """A memory field of /proc/`pid`/status (VmRSS now, VmHWM the peak), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024
