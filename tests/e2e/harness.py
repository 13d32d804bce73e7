"""End-to-end harness: the real kazoo-bridge and kazoo-sim binaries as processes over loopback.

Only the Python standard library is used (Debian's python3). Paths come from the environment that CTest
sets: KAZOO_BRIDGE_BIN, KAZOO_SIM_BIN, KAZOO_BRIDGE_SOURCE_DIR.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BRIDGE = os.environ.get("KAZOO_BRIDGE_BIN", "build/dev/src/kazoo-bridge")
SIM = os.environ.get("KAZOO_SIM_BIN", "build/dev/tools/kazoo-sim/kazoo-sim")
SOURCE_DIR = os.environ.get("KAZOO_BRIDGE_SOURCE_DIR", ".")
SCENARIOS_DIR = os.path.join(SOURCE_DIR, "tools", "kazoo-sim", "scenarios")


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def http(method, url, body=None, headers=None, timeout=10):
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), dict(e.headers)


class Simulator:
    """kazoo-sim as a child process; `info` is its start line (ws_url, api_url, api_key, account_id)."""

    def __init__(self, workdir, *args):
        self.log_path = os.path.join(workdir, "kazoo-sim.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SIM, "--ws-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("kazoo-sim did not start: " + open(self.log_path).read()[-2000:])
        self.info = json.loads(line)
        self.control = self.info["api_url"].rsplit("/v2", 1)[0] + "/sim"

    def play(self, scenario, flavour="kz43", count=1, **extra):
        status, body, _ = http("POST", self.control + "/play",
                               {"scenario": scenario, "flavour": flavour, "count": count, **extra})
        if status // 100 != 2:
            raise AssertionError(f"/sim/play {scenario}: {status} {body}")
        return json.loads(body) if body else {}

    def fault(self, kind, **extra):
        status, body, _ = http("POST", self.control + "/fault", {"kind": kind, **extra})
        if status // 100 != 2:
            raise AssertionError(f"/sim/fault {kind}: {status} {body}")
        return json.loads(body) if body else {}

    def stats(self):
        status, body, _ = http("GET", self.control + "/stats")
        return json.loads(body)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Bridge:
    """kazoo-bridge serve as a child process with its own config file and SQLite database."""

    def __init__(self, workdir, sim, extra_toml="", env=None, listen="127.0.0.1:0"):
        self.workdir = workdir
        self.db = os.path.join(workdir, "kb.db")
        self.config = os.path.join(workdir, "kb.toml")
        with open(self.config, "w") as f:
            f.write(f"""[server]
listen = "{listen}"
[storage]
database = "{self.db}"
[kazoo]
api_url = "{sim.info['api_url']}"
websocket_url = "{sim.info['ws_url']}"
api_key = "{sim.info['api_key']}"
{extra_toml}
[log]
level = "debug"
""")
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.log_path = os.path.join(workdir, "kazoo-bridge.log")
        self.port = None

    def start(self, wait_ready=True):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([BRIDGE, "serve", "--config", self.config], stdout=self.log,
                                     stderr=self.log, env=self.env)
        self.port = wait_for(self._find_port, what="kazoo-bridge to listen")
        if wait_ready:
            wait_for(lambda: self.get("/readyz")[0] == 200, what="kazoo-bridge /readyz")
        return self

    def _find_port(self):
        if self.proc.poll() is not None:
            raise AssertionError("kazoo-bridge exited: " + self.log_text()[-3000:])
        for line in self.log_text().splitlines():
            if "listening on http" in line:
                return int(line.rsplit(":", 1)[1].split()[0])
        return None

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def get(self, path):
        return http("GET", f"http://127.0.0.1:{self.port}{path}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            code = self.proc.wait(timeout)
        else:
            code = self.proc.returncode if self.proc else None
        if getattr(self, "log", None):
            self.log.close()
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def cli(self, *args, check=True):
        r = subprocess.run([BRIDGE, *args, "--config", self.config], capture_output=True, text=True,
                           env=self.env, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"kazoo-bridge {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    def events(self, *args):
        out = self.cli("events", "--json", "--limit", "1000000", *args).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def calls(self, *args):
        out = self.cli("calls", "--json", "--limit", "1000000", *args).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


class E2ETest(unittest.TestCase):
    """Each test gets a temp dir, a simulator and (when it asks) a bridge; all are stopped at the end."""

    sim_args = ()

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="kb-e2e-")
        self.sim = Simulator(self.workdir, *self.sim_args)
        self.bridges = []

    def bridge(self, **kw):
        b = Bridge(self.workdir, self.sim, **kw)
        self.bridges.append(b)
        return b

    def tearDown(self):
        for b in self.bridges:
            try:
                b.stop(signal.SIGKILL)
            except Exception:
                pass
        self.sim.stop()
        failed = any(err for _, err in (self._outcome.errors if hasattr(self._outcome, "errors") else []))
        if os.environ.get("KB_E2E_KEEP") or failed:
            print(f"\n[e2e] kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
