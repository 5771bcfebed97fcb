"""evmeshctl against a real evmeshd: filter test, cesql eval, subscriptions CRUD, publish,
tail, config validate, and --help on every command."""

import json
import os
import subprocess
import tempfile
import unittest

from harness import EvmeshTestCase, built_binary, event, wait_until


def evmeshctl_path():
    return built_binary("evmeshctl", "EVMESHCTL")


class Evmeshctl(EvmeshTestCase):
    def setUp(self):
        self.ctl = evmeshctl_path()
        super().setUp()

    def run_ctl(self, *args, url=True, env=None, stdin=None):
        argv = [self.ctl] + (["--url", self.daemon.url] if url else []) + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, input=stdin)
        return p.returncode, p.stdout, p.stderr

    def write(self, obj):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(obj, f)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_filter_test_match_and_no_match(self):
        ev = json.dumps(event(type="com.shop.order.created"))
        code, out, _ = self.run_ctl("filter", "test", "--filters", '[{"prefix": {"type": "com.shop."}}]',
                                    "--event", ev)
        self.assertEqual((code, out.strip()), (0, "MATCH"))
        code, out, _ = self.run_ctl("filter", "test", "--filters", self.write([{"exact": {"type": "x"}}]),
                                    "--event", self.write(event()))
        self.assertEqual((code, out.strip()), (1, "NO MATCH"))
        # The event from standard input.
        code, out, _ = self.run_ctl("filter", "test", "--event", "-", "--filters", "[]", stdin=ev)
        self.assertEqual((code, out.strip()), (0, "MATCH"))

    def test_filter_test_errors_print_the_problem(self):
        code, out, err = self.run_ctl("filter", "test", "--filters", '[{"bogus": {}}]',
                                      "--event", json.dumps(event()))
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertIn("400", err)
        self.assertIn("filters[0]", err)
        bad = event()
        del bad["source"]
        code, _, err = self.run_ctl("filter", "test", "--filters", "[]", "--event", json.dumps(bad))
        self.assertEqual(code, 2)
        self.assertIn("event.source", err)
        code, _, err = self.run_ctl("filter", "test", "--filters", "/no/such/file", "--event", "{}")
        self.assertEqual(code, 2)
        self.assertIn("/no/such/file", err)
        code, _, err = self.run_ctl("filter", "test", "--event", "{}")
        self.assertEqual(code, 2)
        self.assertIn("--filters", err)

    def test_cesql_eval(self):
        code, out, _ = self.run_ctl("cesql", "eval", "CONCAT(subject, '!')", "--event",
                                    json.dumps(event(subject="hi")))
        self.assertEqual(code, 0)
        self.assertEqual(out.splitlines(), ['value: "hi!"', "type: String"])
        code, out, _ = self.run_ctl("cesql", "eval", "--event", json.dumps(event()), "10 / 0")
        self.assertEqual(code, 0)
        lines = out.splitlines()
        self.assertEqual(lines[:2], ["value: 0", "type: Integer"])
        self.assertTrue(lines[2].startswith("error: math: "), lines)
        code, _, err = self.run_ctl("cesql", "eval", "1 +", "--event", json.dumps(event()))
        self.assertEqual(code, 2)
        self.assertIn("position", err)

    def test_subscriptions_crud(self):
        sink = self.make_sink()
        spec = {"sink": sink.url, "protocol": "HTTP", "filters": [{"exact": {"type": "a"}}]}
        code, out, _ = self.run_ctl("subscriptions", "create", self.write(spec))
        self.assertEqual(code, 0)
        created = json.loads(out)
        sid = created["id"]
        code, out, _ = self.run_ctl("subscriptions", "get", sid)
        self.assertEqual((code, json.loads(out)), (0, created))
        code, out, _ = self.run_ctl("subscriptions", "list")
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith(sid + "\t" + sink.url), out)
        code, out, _ = self.run_ctl("subscriptions", "list", "--json")
        self.assertEqual((code, [s["id"] for s in json.loads(out)]), (0, [sid]))
        code, out, _ = self.run_ctl("subscriptions", "delete", sid)
        self.assertEqual((code, out.strip()), (0, f"deleted {sid}"))
        code, _, err = self.run_ctl("subscriptions", "get", sid)
        self.assertEqual(code, 2)
        self.assertIn("404", err)
        code, _, err = self.run_ctl("subscriptions", "create", json.dumps({"sink": "ftp://x/"}))
        self.assertEqual(code, 2)
        self.assertIn("sink", err)

    def test_url_from_the_environment_and_connection_errors(self):
        env = dict(os.environ, EVMESH_URL=self.daemon.url)
        code, out, _ = self.run_ctl("subscriptions", "list", url=False, env=env)
        self.assertEqual((code, out), (0, ""))
        code, _, err = self.run_ctl("--url", "http://127.0.0.1:1", "subscriptions", "list", url=False)
        self.assertEqual(code, 2)
        self.assertIn("cannot connect", err)
        code, _, err = self.run_ctl("--url", "ftp://x", "subscriptions", "list", url=False)
        self.assertEqual(code, 2)
        self.assertIn("must start with http:// or https://", err)

    def test_usage(self):
        code, out, _ = self.run_ctl("--help", url=False)
        self.assertEqual(code, 0)
        self.assertIn("filter test", out)
        code, _, err = self.run_ctl("frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown command", err)

    def test_every_command_has_help(self):
        commands = {"filter": "filter test", "cesql": "cesql eval", "publish": "publish --type",
                    "tail": "tail [--type T]", "subscriptions": "subscriptions create",
                    "dlq": "dlq redrive", "replay": "replay SUB", "decrypt": "decrypt --key-file",
                    "hash-key": "hash-key [--pbkdf2]", "acl": "acl check", "admin": "admin denials",
                    "schemas": "schemas register", "config": "config validate"}
        for command, line in commands.items():
            code, out, err = self.run_ctl(command, "--help", url=False)
            self.assertEqual(code, 0, (command, err))
            self.assertIn(line, out, command)
            self.assertNotIn("hash-key" if command != "hash-key" else "filter test", out, command)
        code, _, err = self.run_ctl("frobnicate", "--help", url=False)
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate'", err)

    def test_publish_and_tail(self):
        tail = subprocess.Popen([self.ctl, "--url", self.daemon.url, "tail", "--type", "com.shop.paid",
                                 "--count", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: tail.poll() is None and tail.kill())
        wait_until(lambda: len(self.daemon.request("GET", "/subscriptions").json()) == 1, 10,
                   what="the tail subscription")
        code, out, err = self.run_ctl("publish", "--type", "com.shop.other", "--source", "/cli", "--id", "o1")
        self.assertEqual((code, out.strip()), (0, "published o1"), err)
        code, out, err = self.run_ctl("publish", "--type", "com.shop.paid", "--source", "/cli", "--id", "p1",
                                      "--data", '{"total": 3}')
        self.assertEqual((code, out.strip()), (0, "published p1"), err)
        batch = [event(id="p2", type="com.shop.paid"), event(id="p3", type="com.shop.paid")]
        code, out, err = self.run_ctl("publish", "--event", json.dumps(batch))
        self.assertEqual((code, out.strip()), (0, "published 2 events"), err)
        out, err = tail.communicate(timeout=20)
        self.assertEqual(tail.returncode, 0, err)
        lines = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([e["id"] for e in lines], ["p1", "p2"])
        self.assertEqual(lines[0]["data"], {"total": 3})
        self.assertIn("tailing with subscription", err)
        self.assertEqual(self.daemon.request("GET", "/subscriptions").json(), [])  # deleted on exit
        code, _, err = self.run_ctl("publish", "--source", "/cli")
        self.assertEqual(code, 2)
        self.assertIn("publish needs --type and --source", err)
        code, _, err = self.run_ctl("publish", "--event", '{"id": "x"}')
        self.assertEqual(code, 2)
        self.assertIn("server answered 400", err)
        code, _, err = self.run_ctl("tail", "--count", "0")
        self.assertEqual(code, 2)
        self.assertIn("--count must be a positive integer", err)

    def test_config_validate(self):
        good = os.path.join(tempfile.mkdtemp(), "evmesh.yaml")
        self.addCleanup(os.unlink, good)
        with open(good, "w") as f:
            f.write("acl:\n  - {name: a, principal: ops, allow: [{publish: 'x.*'}]}\n")
        code, out, err = self.run_ctl("config", "validate", good, url=False)
        self.assertEqual(code, 0, err)
        self.assertIn("valid (0 subscriptions, 1 ACL entries, 0 policies)", out)
        with open(good, "w") as f:
            f.write("http:\n  port: many\n")
        code, _, err = self.run_ctl("config", "validate", good, url=False)
        self.assertEqual(code, 2)
        self.assertIn(f"{good}:2: http.port:", err)
        with open(good, "w") as f:
            f.write("http:\n  port: 8080\n")
        code, _, err = self.run_ctl("config", "validate", "--set", "http.port=99999", good, url=False)
        self.assertEqual(code, 2)
        self.assertIn("--set: http.port", err)
        code, _, err = self.run_ctl("config", "validate", url=False)
        self.assertEqual(code, 2)
        self.assertIn("config validate needs a FILE", err)


if __name__ == "__main__":
    unittest.main()
