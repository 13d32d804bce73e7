"""`kazoo-bridge demo` (issue #2 item 8, issue #4 item 5): the real binary with its bundled simulator shows
lifecycle events as they happen and each delivery to its local REST hook receiver, signature checked,
and stops cleanly on Ctrl-C (SIGINT)."""

import os
import re
import signal
import subprocess
import threading
import time
import unittest

from harness import BRIDGE, bridge_env


class DemoTest(unittest.TestCase):
    def test_demo_shows_events_and_signed_deliveries_then_stops_on_ctrl_c(self):
        proc = subprocess.Popen([BRIDGE, "demo"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=bridge_env())
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
        reader.start()
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                snapshot = list(lines)
                events = [l for l in snapshot if re.match(r"\d\d:\d\d:\d\d  call\.\S+", l)]
                deliveries = [l for l in snapshot if "-> hook receiver:" in l]
                if len(events) >= 3 and len(deliveries) >= 3:
                    break
                self.assertIsNone(proc.poll(), "the demo exited early:\n" + "".join(snapshot))
                time.sleep(0.1)
            text = "".join(lines)
            self.assertIn("Ctrl-C stops the demo", text)
            self.assertGreaterEqual(len(events), 3, text)
            self.assertGreaterEqual(len(deliveries), 3, text)
            self.assertTrue(all("signature verified" in l for l in deliveries), text)
            # Every delivery is of a lifecycle event the terminal showed first (printed when produced,
            # delivered once committed), carries its event id as webhook-id, and comes once.
            shown_types = {e.split()[1] for e in events}
            ids = []
            for l in deliveries:
                m = re.search(r"hook receiver: (call\.\S+)\s+.*\((evt_[a-z0-9]+)\)", l)
                self.assertIsNotNone(m, l)
                self.assertIn(m.group(1), shown_types, l)
                ids.append(m.group(2))
            self.assertEqual(len(ids), len(set(ids)), "a delivery came twice:\n" + text)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=30), 0, "".join(lines))


if __name__ == "__main__":
    unittest.main()
