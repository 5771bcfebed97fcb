"""The examples in README.md and docs/ run as written (ports swapped for free ones)."""

import json
import os
import re
import subprocess
import tempfile
import unittest

from harness import EvmeshTestCase, evmeshd_path

SOURCE_DIR = os.environ.get("EVMESH_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))


def read_doc(name):
    with open(os.path.join(SOURCE_DIR, name), encoding="utf-8") as f:
        return f.read()


def fenced_block_after(text, marker, language):
    """The first ```language block after `marker`."""
    start = text.index(marker)
    m = re.compile(r"```" + language + r"\n(.*?)```", re.S).search(text, start)
    if not m:
        raise AssertionError(f"no ```{language} block after {marker!r}")
    return m.group(1)


def run_shell(script, timeout=30):
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                          text=True, timeout=timeout)


class ReadmeQuickStart(EvmeshTestCase):
    start_daemon = False

    def test_curl_example_publishes_and_the_webhook_receives(self):
        daemon = self.start_evmeshd()
        sink = self.make_sink()
        script = fenced_block_after(read_doc("README.md"), "<!-- example: quickstart -->", "sh")
        script = script.replace("127.0.0.1:8080", f"127.0.0.1:{daemon.port}")
        script = script.replace("127.0.0.1:9000", f"127.0.0.1:{sink.port}")

        out = run_shell(script)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"HTTP/1\.1 202 Accepted")

        got = sink.wait_for(1)[0]
        self.assertEqual(got.path, "/orders")
        self.assertEqual(got.ce("id"), "order-1")
        self.assertEqual(got.ce("type"), "com.example.order.created")
        self.assertEqual(got.ce("source"), "/shop")
        self.assertEqual(got.headers["content-type"], "application/json")
        self.assertEqual(got.body, b'{"orderId": "1", "total": 42}')


class ConfigurationExample(EvmeshTestCase):
    start_daemon = False

    def example_config(self):
        return fenced_block_after(read_doc("docs/configuration.md"), "## Example", "yaml")

    def test_example_config_is_valid(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "example.yaml")
            with open(path, "w") as f:
                f.write(self.example_config())
            out = subprocess.run([evmeshd_path(), "--config", path, "--check-config"],
                                 capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("configuration is valid (2 subscriptions)", out.stdout)

    def test_api_example_creates_the_same_subscription(self):
        daemon = self.start_evmeshd(self.example_config())
        text = read_doc("docs/configuration.md")
        script = fenced_block_after(text, "The same first subscription through the API", "sh")
        script = script.replace("127.0.0.1:8080", f"127.0.0.1:{daemon.port}")
        out = run_shell(script.replace("curl ", "curl -s ", 1))
        self.assertEqual(out.returncode, 0, out.stderr)
        created = json.loads(out.stdout)
        from_yaml = daemon.request("GET", "/subscriptions/orders").json()
        for key in ("types", "sink", "protocol", "protocolsettings", "delivery"):
            self.assertEqual(created[key], from_yaml[key], key)


class ShippedConfig(unittest.TestCase):
    def test_default_config_is_valid(self):
        out = subprocess.run([evmeshd_path(), "--config",
                              os.path.join(SOURCE_DIR, "config", "evmesh.yaml"), "--check-config"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
