"""Live reload (docs/operations.md): SIGHUP, file watch and the admin API; an invalid file
keeps the old config and reports file and line; a reload under load loses nothing."""

import http.client
import json
import os
import re
import signal
import threading
import time
import unittest

from harness import EvmeshTestCase, request, wait_until
from security_harness import bearer, evmeshctl, hash_key

ADMIN_KEY = "admin-key-0123456789"
ADMIN_LISTENING = re.compile(r"admin listening on 127\.0\.0\.1:(\d+)")


class ReloadCase(EvmeshTestCase):
    start_daemon = False

    def config(self, tag, extra_subscription=False):
        text = f"""
auth:
  anonymous: true
  api_keys:
    - principal: admin
      hash: {self.admin_hash}
admin:
  listen: 127.0.0.1:0
  principals: [admin]
subscriptions:
  - id: all
    sink: {self.sink.url}/all
"""
        if extra_subscription:
            text += f"  - id: second\n    sink: {self.second.url}/second\n"
        text += f"""
policy:
  name: tagging
  rules:
    - name: tag
      action: set-extension
      extension: generation
      value: "{tag}"
"""
        return text

    def write(self, text):
        # write then rename, as editors do; the watch sees the rename
        tmp = self.daemon.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.daemon.config_path)

    def setUp(self):
        super().setUp()
        self.admin_hash = hash_key(ADMIN_KEY)
        self.sink = self.make_sink()
        self.second = self.make_sink()
        self.daemon = self.start_evmeshd(self.config("g1"))
        port = wait_until(lambda: (m := ADMIN_LISTENING.search(self.daemon.output())) and int(m.group(1)),
                          10, what="admin listening")
        self.admin = f"http://127.0.0.1:{port}"

    def status(self):
        return request(self.admin, "GET", "/admin/reload", None, bearer(ADMIN_KEY)).json()

    def publish(self, id):
        h = {"ce-specversion": "1.0", "ce-id": id, "ce-source": "/r", "ce-type": "t",
             "Content-Type": "application/json"}
        return self.daemon.request("POST", "/", b"{}", h)

    def wait_generation(self, n):
        return wait_until(lambda: (s := self.status())["generation"] >= n and s, 10,
                          what=f"reload generation {n}")


class ReloadTest(ReloadCase):
    def test_sighup_applies_policies_and_subscription_changes(self):
        self.assertEqual(self.status()["generation"], 1)
        self.assertEqual(self.publish("a").status, 202)
        self.assertEqual(self.sink.wait_for(1)[0].ce("generation"), "g1")
        with open(self.daemon.config_path, "w") as f:  # in place; the signal triggers the reload
            f.write(self.config("g2", extra_subscription=True))
        self.daemon.signal(signal.SIGHUP)
        s = self.wait_generation(2)
        self.assertTrue(s["ok"], s)
        self.assertIn("subscription second added", s["changes"])
        self.assertEqual(self.publish("b").status, 202)
        self.assertEqual(self.sink.wait_for(2)[1].ce("generation"), "g2")
        self.assertEqual(self.second.wait_for(1)[0].ce("generation"), "g2")
        # and removed again, by the file watch this time
        self.write(self.config("g3"))
        s = self.wait_generation(3)
        self.assertIn("subscription second removed", s["changes"])
        self.assertTrue(s["trigger"].startswith("file change:"), s)

    def test_invalid_file_keeps_the_old_config_and_reports_file_and_line(self):
        bad = self.config("g2").replace("action: set-extension", "action: set-extensions")
        self.write(bad)
        s = wait_until(lambda: (st := self.status())["ok"] is False and st, 10, what="a failed reload")
        self.assertEqual(s["generation"], 1)
        self.assertEqual(s["file"], self.daemon.config_path)
        line = bad.splitlines().index("      action: set-extensions") + 1
        self.assertEqual(s["line"], line, s)
        self.assertIn("policy.rules[0].action: must be one of", s["error"])
        self.daemon.wait_for_log(r"refused, the running config stays")
        self.assertEqual(self.publish("x").status, 202)
        self.assertEqual(self.sink.wait_for(1)[0].ce("generation"), "g1")  # old policy still runs
        # a broken key file is refused too, naming it
        self.write(self.config("g2") + "encryption:\n  key_file: missing-keys.yaml\n")
        s = wait_until(lambda: (st := self.status())["error"].find("missing-keys") >= 0 and st, 10,
                       what="key file error")
        self.assertIn("cannot read the key file", s["error"])
        # fixing the file applies it
        self.write(self.config("g2"))
        s = self.wait_generation(2)
        self.assertTrue(s["ok"])
        self.assertNotIn("error", s)
        self.assertEqual(self.publish("y").status, 202)
        self.assertEqual(self.sink.wait_for(2)[1].ce("generation"), "g2")

    def test_acl_changes_apply_on_reload(self):
        self.assertEqual(self.publish("before").status, 202)
        acl = """
acl:
  - name: anonymous-may-not-publish-t
    principal: anonymous
    allow:
      - publish: "other.*"
"""
        self.write(self.config("g2") + acl)
        s = self.wait_generation(2)
        self.assertTrue(s["ok"], s)
        res = self.publish("after")
        self.assertEqual(res.status, 403, res)
        # a bad ACL is refused and the previous one stays
        self.write(self.config("g3") + acl.replace("publish:", "publsh:"))
        s = wait_until(lambda: (st := self.status())["ok"] is False and st, 10, what="a failed reload")
        self.assertIn("acl", s["error"])
        self.assertEqual(self.publish("still").status, 403)

    def test_admin_reload_endpoint(self):
        res = request(self.admin, "POST", "/admin/reload", b"", bearer(ADMIN_KEY))
        self.assertEqual(res.status, 202, res)
        self.assertTrue(self.wait_generation(2)["trigger"].startswith("admin API (admin)"))
        policies = request(self.admin, "GET", "/admin/policies", None, bearer(ADMIN_KEY)).json()
        self.assertEqual(policies[0]["rules"][0]["value"], "g1")

    def test_admin_config_shows_the_config_in_force_after_a_reload(self):
        def config():
            return request(self.admin, "GET", "/admin/config", None, bearer(ADMIN_KEY)).json()

        before = config()
        self.assertEqual([s["id"] for s in before["subscriptions"]], ["all"])
        self.assertEqual(before["http"]["max_event_bytes"], 1048576)
        self.assertEqual(before["pending_restart"], [])
        acl = "acl:\n  - {name: ops, principal: anonymous, allow: [{publish: \"t\"}]}\n"
        self.write(self.config("g2", extra_subscription=True) + acl + "http:\n  max_event_bytes: 2048\n")
        self.assertTrue(self.wait_generation(2)["ok"])
        after = config()
        self.assertEqual([s["id"] for s in after["subscriptions"]], ["all", "second"])
        self.assertEqual(after["acl"][0]["name"], "ops")
        # A listener key takes a restart: the value in force is shown, and what waits.
        self.assertEqual(after["http"]["max_event_bytes"], 1048576)
        self.assertEqual(after["pending_restart"], ["http.max_event_bytes"])
        out = evmeshctl("--url", self.admin, "--token", ADMIN_KEY, "admin", "config")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["pending_restart"], ["http.max_event_bytes"])

    def test_reload_under_load_loses_nothing(self):
        total, errors = 1500, []

        def publisher():
            conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)
            for i in range(total):
                conn.request("POST", "/", b"{}", {"ce-specversion": "1.0", "ce-id": f"e{i}",
                                                  "ce-source": "/load", "ce-type": "t",
                                                  "Content-Type": "application/json"})
                res = conn.getresponse()
                res.read()
                if res.status != 202:
                    errors.append((i, res.status))
            conn.close()

        t = threading.Thread(target=publisher)
        t.start()
        self.changes = []
        generation = 1
        while t.is_alive() and generation < 8:
            generation += 1
            # atomically (rename): the watch must never read a half-written file
            self.write(self.config(f"g{generation}", extra_subscription=generation % 2 == 0))
            self.daemon.signal(signal.SIGHUP)
            self.changes.append(self.wait_generation(generation)["changes"])
            time.sleep(0.05)
        t.join(60)
        self.assertEqual(errors, [])
        self.assertGreater(generation, 2, "the publisher finished before two reloads")
        wait_until(lambda: self.sink.count() >= total, 30, what=f"{total} deliveries")
        got = list(self.sink.requests)
        ids = [r.ce("id") for r in got]
        missing = sorted({f"e{i}" for i in range(total)} - set(ids), key=lambda x: int(x[1:]))
        self.assertEqual(missing, [], f"{len(missing)} lost; reload status {self.status()}")
        self.assertEqual(len(ids), total)
        self.assertEqual(set(ids), {f"e{i}" for i in range(total)})
        tags = {r.ce("generation") for r in got}
        self.assertGreater(len(tags), 1, tags)  # events saw several configs, whole


if __name__ == "__main__":
    unittest.main()
