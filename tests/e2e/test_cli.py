"""The command line an operator types (design.md, "Executables"): help/version, exit codes, check-config,
serve's failure message, calls/events output and filters, migrate; read-only commands need no API key."""
import json
import os
import socket
import subprocess
import unittest

from harness import BRIDGE, CALL_KEYS, PAYLOAD_KEYS, E2ETest, bridge_env, wait_for

COMMANDS = ("serve", "check-config", "migrate", "calls", "events", "demo")


def run(*args, env=None, timeout=30):
    return subprocess.run([BRIDGE, *args], capture_output=True, text=True, timeout=timeout,
                          env=bridge_env(env))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


BAD_CONFIG = """[server]
listen = "127.0.0.1:notaport"
max_body_bytes = 5
colour = "blue"
[storage]
synchronous = "sometimes"
[kazoo]
api_url = "ftp://kazoo.example.com/v2"
ping_interval_ms = -3
[log]
level = "loud"
"""
# key path of every problem in BAD_CONFIG (websocket_url and api_key are required and missing)
BAD_KEYS = ("server.listen", "server.max_body_bytes", "server.colour", "storage.synchronous", "kazoo.api_url",
            "kazoo.ping_interval_ms", "kazoo.websocket_url", "kazoo.api_key", "log.level")


class CliWithoutDaemonTest(E2ETest):
    def test_help_and_version_exit_0(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for cmd in COMMANDS:
            self.assertIn(cmd, r.stdout, "--help lists every command")
        for cmd in COMMANDS:
            r = run(cmd, "--help")
            self.assertEqual(r.returncode, 0, f"{cmd} --help: {r.stderr}")
            self.assertIn("Usage", r.stdout + r.stderr, cmd)
        r = run("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), r"^kazoo-bridge \d+\.\d+\.\d+")

    def test_unknown_command_and_option_exit_2(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("frobnicate", r.stderr)
        r = run("calls", "--frob")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--frob", r.stderr)

    def test_check_config_prints_every_problem_with_its_key_path(self):
        path = write(os.path.join(self.workdir, "bad.toml"), BAD_CONFIG)
        r = run("check-config", "--config", path, env={})
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        out = r.stdout + r.stderr
        for key in BAD_KEYS:
            lines = [ln for ln in out.splitlines() if key + ":" in ln]
            self.assertEqual(len(lines), 1, f"{key} reported once: {out}")
        # A missing file is a problem too, not a crash.
        r = run("check-config", "--config", os.path.join(self.workdir, "missing.toml"), env={})
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.toml", r.stdout + r.stderr)

    def test_check_config_accepts_a_good_file_and_env_overrides(self):
        path = write(os.path.join(self.workdir, "good.toml"), f"""[storage]
database = "{self.workdir}/x.db"
[kazoo]
api_url = "{self.sim.info['api_url']}"
websocket_url = "{self.sim.info['ws_url']}"
""")
        r = run("check-config", "--config", path, env={"KAZOO_BRIDGE_KAZOO_API_KEY": "k" * 64})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # The environment overrides the file: a bad value there is reported with the key path.
        r = run("check-config", "--config", path,
                env={"KAZOO_BRIDGE_KAZOO_API_KEY": "k" * 64, "KAZOO_BRIDGE_LOG_LEVEL": "loud"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("log.level", r.stdout + r.stderr)

    def _assert_one_line_failure(self, r, must_contain):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        last = r.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("kazoo-bridge: "), f"reason line: {last!r}")
        self.assertIn(must_contain, last)
        self.assertNotIn("terminate called", r.stderr)
        self.assertNotIn("listening on", r.stderr, "it must not have started serving")

    def test_serve_with_bad_config_fails_with_a_one_line_reason(self):
        path = write(os.path.join(self.workdir, "bad.toml"), BAD_CONFIG)
        r = run("serve", "--config", path, env={})
        self._assert_one_line_failure(r, "configuration")
        self.assertNotIn("Traceback", r.stderr)
        # Runtime start failures too: a database that cannot be created.
        path = write(os.path.join(self.workdir, "nodb.toml"), f"""[storage]
database = "{self.workdir}/no/such/dir/kb.db"
[kazoo]
api_url = "{self.sim.info['api_url']}"
websocket_url = "{self.sim.info['ws_url']}"
""")
        r = run("serve", "--config", path, env={"KAZOO_BRIDGE_KAZOO_API_KEY": self.sim.info["api_key"]})
        self._assert_one_line_failure(r, "database")
        # A port that is taken.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            path = write(os.path.join(self.workdir, "port.toml"), f"""[server]
listen = "127.0.0.1:{s.getsockname()[1]}"
[storage]
database = "{self.workdir}/port.db"
[kazoo]
api_url = "{self.sim.info['api_url']}"
websocket_url = "{self.sim.info['ws_url']}"
""")
            r = run("serve", "--config", path, env={"KAZOO_BRIDGE_KAZOO_API_KEY": self.sim.info["api_key"]})
            self._assert_one_line_failure(r, str(s.getsockname()[1]))

    def test_migrate_prints_the_schema_version_without_kazoo_settings(self):
        # Only [storage]: the read-only/maintenance commands need no Kazoo section and no API key.
        path = write(os.path.join(self.workdir, "ro.toml"), f'[storage]\ndatabase = "{self.workdir}/m.db"\n')
        for _ in range(2):  # idempotent
            r = run("migrate", "--config", path, env={})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout + r.stderr, r"schema version \d+")
        for cmd in (("calls",), ("calls", "--json"), ("events",), ("events", "--json")):
            r = run(*cmd, "--config", path, env={})
            self.assertEqual(r.returncode, 0, f"{cmd}: {r.stderr}")
        self.assertEqual(run("events", "--json", "--config", path, env={}).stdout, "")


class CliWithDataTest(E2ETest):
    def test_calls_and_events_output_and_filters(self):
        bridge = self.bridge().start()
        answered = self.sim.play("inbound_answered", speed=100)["instances"][0]["call_ids"]
        wait_for(lambda: any(e["type"] == "call.ended" for e in bridge.events()), what="first call to end")
        missed = self.sim.play("inbound_missed_voicemail", speed=100)["instances"][0]["call_ids"]
        wait_for(lambda: any(e["type"] == "call.missed" for e in bridge.events()), what="missed call")
        # A third call stays in progress (slow): answered after ~1.5 s, ends after ~16 s.
        live = self.sim.play("inbound_answered", speed=4)["instances"][0]["call_ids"]
        wait_for(lambda: any(e["type"] == "call.answered" and e["call_id"] in live for e in bridge.events()),
                 what="third call answered")

        # calls --json: newest first, design keys + status + answered, one line per call.
        calls = bridge.calls()
        self.assertEqual(len(calls), 3, calls)
        self.assertIn(calls[0]["call_id"], live)
        self.assertIn(calls[1]["call_id"], missed)
        self.assertIn(calls[2]["call_id"], answered)
        for c in calls:
            for k in CALL_KEYS:
                self.assertIn(k, c)
        self.assertEqual((calls[0]["status"], calls[0]["answered"]), ("answered", True))
        self.assertIsNone(calls[0]["ended_at"])
        self.assertEqual((calls[1]["status"], calls[1]["answered"]), ("ended", False))
        self.assertEqual((calls[2]["status"], calls[2]["answered"]), ("ended", True))
        self.assertEqual([c["call_id"] for c in bridge.calls("--limit", "1")], [calls[0]["call_id"]])

        # calls table: a header and one row per call, newest first, with the status.
        table = bridge.cli("calls").stdout.strip().splitlines()
        self.assertEqual(len(table), 4, table)
        self.assertIn("STATUS", table[0])
        for row, c in zip(table[1:], calls):
            self.assertIn(c["call_id"], row)
            self.assertIn(c["status"], row)

        # events: oldest first, --type / --call / --limit.
        events = bridge.events()
        self.assertEqual(len({e["id"] for e in events}), len(events))
        for e in events:
            for k in PAYLOAD_KEYS:
                self.assertIn(k, e)
        missed_events = bridge.events("--type", "call.missed")
        self.assertEqual(len(missed_events), 1)
        self.assertIn(missed_events[0]["call_id"], missed)
        self.assertEqual(missed_events, [e for e in events if e["type"] == "call.missed"])
        started = bridge.events("--type", "call.started")
        self.assertEqual([e["call_id"] for e in started], [c["call_id"] for c in reversed(calls)])
        call_id = calls[2]["call_id"]
        by_call = bridge.events("--call", call_id)
        self.assertEqual([e["type"] for e in by_call],
                         ["call.started", "call.ringing", "call.answered", "call.ended"])
        self.assertEqual(by_call, [e for e in events if e["call_id"] == call_id])
        self.assertEqual(bridge.events("--call", call_id, "--type", "call.answered"), [by_call[2]])
        # --limit N: the N most recent, still oldest first.
        self.assertEqual(bridge.events("--limit", "2"), events[-2:])
        self.assertEqual(bridge.events("--call", call_id, "--limit", "1"), by_call[-1:])
        # Text output: one line per event with its type and call id.
        text = bridge.cli("events", "--call", call_id).stdout.strip().splitlines()
        self.assertEqual(len(text), 4)
        self.assertTrue(all(call_id in ln for ln in text))
        bad = bridge.cli("events", "--limit", "abc", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--limit", bad.stderr)

        # None of this needed the API key (bridge.cli runs without KAZOO_BRIDGE_KAZOO_API_KEY).
        self.assertNotIn("KAZOO_BRIDGE_KAZOO_API_KEY", bridge.env)
        with open(bridge.config) as f:
            self.assertNotIn(self.sim.info["api_key"], f.read())
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    unittest.main()
