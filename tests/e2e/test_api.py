"""The authenticated API of the real daemon: its bearer challenges (RFC 6750) on /api/v1/*, and the
parties it records for each call (call_parties), which decide what a `calls`-scope token sees.
Tokens themselves come from the OAuth server (another branch); without it every token is unknown."""
import json
import sqlite3
import unittest

from harness import E2ETest, http, wait_for


class ApiTest(E2ETest):
    def test_bearer_challenges_of_the_v1_routes(self):
        bridge = self.bridge().start()
        for path in ("/api/v1/me", "/api/v1/calls", "/api/v1/calls/some-call"):
            status, body, headers = bridge.get(path)
            self.assertEqual(status, 401, body)
            self.assertEqual(headers.get("WWW-Authenticate"), 'Bearer realm="kazoo-bridge"')
            self.assertEqual(json.loads(body)["error"], "unauthorized")
        status, body, headers = self._get(bridge, "/api/v1/calls", {"Authorization": "Bearer no-such-token"})
        self.assertEqual(status, 401, body)
        self.assertIn('error="invalid_token"', headers.get("WWW-Authenticate", ""))
        status, body, _ = self._get(bridge, "/api/v1/me?access_token=abc")
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["error"], "invalid_request")
        self.assertNotIn("no-such-token", bridge.log_text())

    def test_every_user_of_a_call_is_recorded_as_a_party(self):
        bridge = self.bridge().start()
        for scenario in ("ring_group_lose_race", "blind_transfer"):
            self.sim.play(scenario, speed=100)
        wait_for(lambda: sum(e["type"] == "call.ended" for e in bridge.events()) >= 2, what="both calls to end")
        named = {}
        for e in bridge.events():
            for key in ("user_id", "from_user_id"):
                if e.get(key):
                    named.setdefault(e["call_id"], set()).add(e[key])
        self.assertEqual(len(named), 2, named)
        db = sqlite3.connect(f"file:{bridge.db}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT call_id, user_id FROM call_parties").fetchall()
        finally:
            db.close()
        stored = {}
        for call_id, user_id in rows:
            stored.setdefault(call_id, set()).add(user_id)
        self.assertEqual(stored, named)
        self.assertTrue(any(len(users) >= 2 for users in stored.values()), stored)

    @staticmethod
    def _get(bridge, path, headers=None):
        return http("GET", f"http://127.0.0.1:{bridge.port}{path}", headers=headers)


if __name__ == "__main__":
    unittest.main()
