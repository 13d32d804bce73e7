"""End-to-end harness: the real kazoo-bridge and kazoo-sim binaries as processes over loopback.

Only the Python standard library is used (Debian's python3). Paths come from the environment that CTest
sets: KB_E2E_BRIDGE_BIN, KB_E2E_SIM_BIN, KB_E2E_SOURCE_DIR (not KAZOO_BRIDGE_*: the daemon rejects
unknown KAZOO_BRIDGE_* variables as typos).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BRIDGE = os.environ.get("KB_E2E_BRIDGE_BIN", "build/dev/src/kazoo-bridge")
SIM = os.environ.get("KB_E2E_SIM_BIN", "build/dev/tools/kazoo-sim/kazoo-sim")
SOURCE_DIR = os.environ.get("KB_E2E_SOURCE_DIR", ".")
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


PAYLOAD_KEYS = (
    "id", "type", "occurred_at", "account_id", "call_id", "direction", "from_number", "from_name",
    "to_number", "to_name", "user_id", "user_name", "extension", "started_at", "answered_at", "ended_at",
    "duration_s", "talk_s", "hangup_cause", "recording_url", "park_slot", "queue_id", "summary", "raw")
"""Every key of design.md's lifecycle event payload (always present, null when unknown)."""

CALL_KEYS = tuple(k for k in PAYLOAD_KEYS if k not in ("id", "type", "occurred_at", "raw", "summary")) + (
    "status", "answered")
"""Keys of one `calls --json` line: the payload keys describing the call plus status and answered."""

_METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format 0.0.4 -> {(name, ((label, value), ...)): float}. Raises on a bad line,
    so a test reading /metrics also checks the format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("#") and not re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ", line):
                raise AssertionError(f"bad metrics comment line: {line!r}")
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            raise AssertionError(f"bad metrics sample line: {line!r}")
        labels = tuple(sorted(_LABEL.findall(m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(samples, name, **labels):
    """The value of one sample (labels given exactly), or None."""
    return samples.get((name, tuple(sorted(labels.items()))))


def metric_by(samples, name, label):
    """{label value: sample value} of every sample of `name`."""
    return {dict(lbl).get(label): v for (n, lbl), v in samples.items() if n == name}


def load_fixture():
    with open(os.path.join(SOURCE_DIR, "tools", "kazoo-sim", "fixtures", "account.json")) as f:
        return json.load(f)


def load_scenario(name):
    with open(os.path.join(SCENARIOS_DIR, name + ".json")) as f:
        return json.load(f)


def scenario_names():
    return sorted(n[:-5] for n in os.listdir(SCENARIOS_DIR) if n.endswith(".json"))


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}")


def secrets_in_log(text, api_key):
    """What a log must never contain: the Kazoo API key and Kazoo auth tokens (JWT-looking eyJ...)."""
    found = []
    if api_key and api_key in text:
        found.append("the API key")
    found += [f"a token {t[:12]}..." for t in sorted(set(_JWT.findall(text)))]
    return found


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
        self.proc.stdout.close()
        self.log.close()


def bridge_env(extra=None):
    """The environment for kazoo-bridge: ours without any KAZOO_BRIDGE_* variable, so that a developer's
    exported overrides cannot change what a test sees (each test passes its own in `extra`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAZOO_BRIDGE_")}
    env.update(extra or {})
    return env


class Bridge:
    """kazoo-bridge serve as a child process with its own config file and SQLite database."""

    def __init__(self, workdir, sim, extra_toml="", env=None, listen="127.0.0.1:0", server_toml="",
                 api_key_in_env=True, name="kb"):
        """extra_toml goes into [kazoo], server_toml into [server]. The API key is passed as
        KAZOO_BRIDGE_KAZOO_API_KEY (what the systemd unit does) unless api_key_in_env is False."""
        self.workdir = workdir
        self.sim = sim
        self.db = os.path.join(workdir, name + ".db")
        self.config = os.path.join(workdir, name + ".toml")
        key_line = "" if api_key_in_env else 'api_key = "%s"' % sim.info["api_key"]
        with open(self.config, "w") as f:
            f.write(f"""[server]
listen = "{listen}"
{server_toml}
[storage]
database = "{self.db}"
[kazoo]
api_url = "{sim.info['api_url']}"
websocket_url = "{sim.info['ws_url']}"
{key_line}
{extra_toml}
[log]
level = "debug"
""")
        os.chmod(self.config, 0o600)
        self.serve_env = bridge_env(dict(env or {}, **(
            {"KAZOO_BRIDGE_KAZOO_API_KEY": sim.info["api_key"]} if api_key_in_env else {})))
        # Read-only commands (calls, events, migrate) get no API key: they must not need one.
        self.env = bridge_env(env)
        self.proc = None
        self.log_path = os.path.join(workdir, name + ".log")
        self.port = None

    def start(self, wait_ready=True):
        """Start (or restart: same config and database, the log is appended to) and wait for the port."""
        self.log = open(self.log_path, "a")
        self.log_offset = self.log.tell()
        self.proc = subprocess.Popen([BRIDGE, "serve", "--config", self.config], stdout=self.log,
                                     stderr=self.log, env=self.serve_env)
        self.port = wait_for(self._find_port, what="kazoo-bridge to listen")
        if wait_ready:
            wait_for(lambda: self.get("/readyz")[0] == 200, what="kazoo-bridge /readyz")
            # And the start-up reconciliation is done: a call played while its Crossbar snapshot is in flight
            # may be seen live (already answered) before its frames arrive, which would make the expected
            # sequences of a test depend on timing.
            self.wait_reconciled(1)
        return self

    def wait_reconciled(self, count, timeout=20):
        """Until `count` reconciliations (one per (re)connect and account) have been handed to the tracker."""
        wait_for(lambda: (metric(self.metrics(), "kazoo_bridge_kazoo_reconciliations_total") or 0) >= count,
                 timeout=timeout, what=f"{count} reconciliation(s)")

    def _find_port(self):
        if self.proc.poll() is not None:
            raise AssertionError("kazoo-bridge exited: " + self.log_text()[-3000:])
        m = re.search(r"listening on https?://[^\s:]+:(\d+)", self.log_text()[self.log_offset:])
        return int(m.group(1)) if m else None

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def get(self, path):
        return http("GET", f"http://127.0.0.1:{self.port}{path}")

    def metrics(self):
        status, body, _ = self.get("/metrics")
        if status != 200:
            raise AssertionError(f"/metrics: {status} {body[:200]}")
        return parse_metrics(body)

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

    def _problems(self):
        # Failures/errors recorded so far (subtests included); inside tearDown the outcome's own success
        # flag is reset, so compare the result's lists with their size at setUp.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        return len(result.failures) + len(result.errors) if result is not None else 0

    def setUp(self):
        self._problems_at_setup = self._problems()
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
        # Every test also checks that no secret reached the daemon's log (design: secrets never reach logs).
        leaks = []
        for b in self.bridges:
            if os.path.exists(b.log_path):
                leaks += [f"{b.log_path}: {x}" for x in secrets_in_log(b.log_text(), self.sim.info["api_key"])]
        if leaks:
            print(f"\n[e2e] kept {self.workdir}")
            raise AssertionError("secrets in the daemon log: " + "; ".join(leaks))
        failed = self._problems() > self._problems_at_setup
        if os.environ.get("KB_E2E_KEEP") or failed:
            print(f"\n[e2e] kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
