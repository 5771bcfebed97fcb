"""evmeshd's command line, environment overrides and log formats."""

import json
import subprocess
import unittest

from harness import Daemon, EvmeshTestCase, evmeshd_path


def run(*args, env=None, timeout=10):
    return subprocess.run([evmeshd_path(), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


class CommandLine(unittest.TestCase):
    def test_version_and_help(self):
        out = run("--version")
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^evmeshd \d+\.\d+\.\d+")
        out = run("--help")
        self.assertEqual(out.returncode, 0)
        self.assertIn("--check-config", out.stdout)

    def test_unknown_argument_is_named(self):
        out = run("--frobnicate")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown argument '--frobnicate'", out.stderr)

    def test_malformed_set_is_named(self):
        out = run("--set", "http.port")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--set expects key=value, got 'http.port'", out.stderr)

    def test_missing_config_file_is_named(self):
        out = run("--config", "/nonexistent/evmesh.yaml", "--check-config")
        self.assertEqual(out.returncode, 2)
        self.assertIn("/nonexistent/evmesh.yaml", out.stderr)


class EnvironmentAndJsonLogs(EvmeshTestCase):
    start_daemon = False

    def test_environment_overrides_and_json_log_lines(self):
        d = self.start_evmeshd(log_level="info", env={"EVMESH_LOG__FORMAT": "json",
                                                      "EVMESH_HTTP__MAX_EVENT_BYTES": "100"})
        # The environment's size limit is in force...
        res = self.publish_binary(b"x" * 101, daemon=d)
        self.assertProblem(res, 413)
        self.assertEqual(self.publish_binary(b"x" * 100, daemon=d).status, 202)
        # ...and every log line is one JSON object, even with quotes in a message.
        self.assertEqual(d.stop(), 0)
        lines = [l for l in d.output().splitlines() if l.strip()]
        self.assertGreater(len(lines), 2)
        for line in lines:
            entry = json.loads(line)
            self.assertEqual(set(entry), {"time", "level", "logger", "msg"}, line)
        self.assertTrue(any("listening on 127.0.0.1:" in json.loads(l)["msg"] for l in lines))

    def test_command_line_beats_environment(self):
        d = self.start_evmeshd(sets=("http.max_event_bytes=1000",),
                               env={"EVMESH_HTTP__MAX_EVENT_BYTES": "100"})
        self.assertEqual(self.publish_binary(b"x" * 500, daemon=d).status, 202)

    def test_bad_environment_value_names_the_variable(self):
        d = Daemon(env={"EVMESH_HTTP__MAX_CONNECTIONS": "many"})
        self.addCleanup(d.close)
        d.spawn()
        code = d.wait(10)
        self.assertEqual(code, 2)
        self.assertIn("EVMESH_HTTP__MAX_CONNECTIONS: http.max_connections", d.output())


if __name__ == "__main__":
    unittest.main()
