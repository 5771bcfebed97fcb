"""evmeshctl against a real evmeshd: filter test, cesql eval, subscriptions CRUD."""

import json
import os
import subprocess
import tempfile
import unittest

from harness import EvmeshTestCase, built_binary, event


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
        code, _, err = self.run_ctl("--url", "https://x", "subscriptions", "list", url=False)
        self.assertEqual(code, 2)
        self.assertIn("http://", err)

    def test_usage(self):
        code, out, _ = self.run_ctl("--help", url=False)
        self.assertEqual(code, 0)
        self.assertIn("filter test", out)
        code, _, err = self.run_ctl("frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown command", err)


if __name__ == "__main__":
    unittest.main()
