"""A full disk (docs/storage.md#disk-full): the daemon runs with its data directory on a
16 MiB tmpfs, a ballast file fills it, publishes to a durable subscription get 503
naming the cause; once the ballast is gone publishes succeed again without a restart,
and every event that got a 202 reaches the sink.

The tmpfs is mounted in a user + mount namespace of the daemon (`unshare -rm`), so no
root is needed; the test reaches the files through /proc/PID/root. Skipped, saying why,
where the kernel does not allow unprivileged user namespaces."""

import errno
import os
import re
import signal
import shutil
import subprocess
import tempfile
import time

from harness import Daemon, EvmeshTestCase, Reply, terminate, wait_until

TMPFS_SIZE = "16m"
# sh runs inside the namespace: mount, then become evmeshd (same PID, so signals and
# /proc/PID/root reach it).
MOUNT_THEN_EXEC = 'mount -t tmpfs -o size=%s tmpfs "$0" && exec "$@"' % TMPFS_SIZE


def namespaces_unavailable():
    """None when `unshare -rm` can mount a tmpfs here, else why not."""
    probe = tempfile.mkdtemp(prefix="evmesh-ns-probe-")
    try:
        proc = subprocess.run(["unshare", "-rm", "sh", "-c", MOUNT_THEN_EXEC, probe, "true"],
                              capture_output=True, text=True, timeout=10)
        if proc.returncode != 0:
            return f"unshare -rm + mount tmpfs failed: {proc.stderr.strip()}"
        if not shutil.which("nsenter"):
            return "nsenter (util-linux) is not installed"
        return None
    except FileNotFoundError:
        return "unshare (util-linux) is not installed"
    finally:
        os.rmdir(probe)


class DiskFullTest(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        why = namespaces_unavailable()
        if why:
            self.skipTest(why)
        self.data = tempfile.mkdtemp(prefix="evmesh-diskfull-")
        self.addCleanup(shutil.rmtree, self.data, True)

    def start_on_tmpfs(self, config, *overrides):
        # No drain at the end: a subscription of the test has a sink that never answers.
        d = Daemon(config, [f"store.data_dir={self.data}", "runtime.drain_timeout=0", *overrides])
        d.args = ["unshare", "-rm", "sh", "-c", MOUNT_THEN_EXEC, self.data] + d.args
        self.addCleanup(d.close)
        self.addCleanup(self._dump_on_failure, d)
        d.start()
        return d

    def inside(self, daemon, name):
        """A path in the daemon's tmpfs, as seen from here."""
        return f"/proc/{daemon.proc.pid}/root{self.data}/{name}"

    def fill(self, daemon):
        return self.fill_path(self.inside(daemon, "ballast"))

    def fill_path(self, path):
        chunk = b"\0" * (1 << 20)
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(chunk)
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC, e)
        # The last pages: byte-sized writes until not even one fits.
        with open(path, "ab", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 512)
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC, e)
        return path

    def test_full_disk_is_a_503_naming_it_and_heals_when_space_returns(self):
        sink = self.make_sink()
        # Debug level: the log shows the periodic work's repeated failures too.
        daemon = self.start_on_tmpfs(
            f"subscriptions:\n  - id: orders\n    sink: {sink.url}\n    durable: true\n", "log.level=debug")
        with open(f"/proc/{daemon.proc.pid}/mountinfo") as mounts:
            self.assertIn(f" {self.data} ", mounts.read())  # the tmpfs, not the host dir
        acked, healed_after = [], []
        payload = b"x" * 2000

        def publish(i):
            res = self.publish_binary(payload, daemon=daemon, id=f"e{i}")
            if res.status == 202:
                acked.append(f"e{i}")
            return res

        for i in range(5):
            self.assertEqual(publish(i).status, 202)
        api = self.subscribe("http://127.0.0.1:9/", daemon=daemon, durable=True)
        # Twice: the store heals as often as the disk fills.
        for cycle in range(2):
            ballast = self.fill(daemon)
            # The WAL's last page may still take a few records: publish until refused.
            refused = None
            for i in range(500):
                res = publish(f"{cycle}-{i}")
                if res.status != 202:
                    refused = res
                    break
            self.assertIsNotNone(refused, "no publish was refused on a full disk")
            problem = self.assertProblem(refused, 503, "store-unavailable", detail_contains="is full")
            self.assertIn(self.data, problem["detail"])
            self.assertEqual(refused.headers.get("retry-after"), "1")
            # Still refused while the disk stays full (the store does not pretend).
            self.assertProblem(publish(f"{cycle}-full"), 503, "store-unavailable")
            daemon.wait_for_log(r"event store: writes stopped: the disk holding .* is full")
            if cycle == 0:  # the periodic trims and cursor commits fail too, and go on failing
                daemon.wait_for_log(r"debug .*(event store: cannot trim up to|cannot commit cursor)")
            if cycle == 0:  # subscription changes are all or nothing too
                res = daemon.request("POST", "/subscriptions",
                                     {"sink": "http://127.0.0.1:9/", "durable": True})
                self.assertProblem(res, 503, "store-unavailable", detail_contains="is full")
                res = daemon.request("DELETE", "/subscriptions/" + api["id"])
                self.assertProblem(res, 503, "store-unavailable", detail_contains="is full")
                self.assertEqual(sorted(s["id"] for s in daemon.request("GET", "/subscriptions").json()),
                                 sorted(["orders", api["id"]]))

            os.remove(ballast)
            started = time.monotonic()
            attempts = iter(range(10**6))
            wait_until(lambda: publish(f"{cycle}-heal-{next(attempts)}").status == 202, timeout=10,
                       what="a publish accepted after the ballast was removed")
            healed_after.append(time.monotonic() - started)
            for i in range(20):
                self.assertEqual(publish(f"{cycle}-after-{i}").status, 202)
        self.assertEqual(len(re.findall(r"event store: writable again after: the disk holding",
                                        daemon.output())), 2, daemon.output())
        # One warning per stretch of failures, not one per 100 ms round.
        warned = re.findall(r"warning .*(cannot trim|cannot commit cursor).*repeats are logged at debug",
                            daemon.output())
        self.assertTrue(warned, daemon.output())
        self.assertLessEqual(len(warned), 4, warned)  # each kind at most once per full disk

        # Every event that got a 202 reached the sink (at least once).
        wait_until(lambda: set(acked) <= {r.ce("id") for r in sink.wait_for(0)}, timeout=15,
                   what=f"all {len(acked)} acked events at the sink")
        print(f"\ndisk full: {len(acked)} events acked, healed "
              f"{', '.join(f'{t * 1000:.0f}' for t in healed_after)} ms after the ballast was removed")

    def test_kill_9_on_a_full_disk_loses_nothing_acked(self):
        """The tmpfs lives in a namespace held by a `sleep`, so it outlives the daemon:
        kill -9 while the disk is full, restart (refused while still full), free space,
        restart, and every event that got a 202 is delivered."""
        holder = subprocess.Popen(
            ["unshare", "-rm", "sh", "-c", MOUNT_THEN_EXEC, self.data, "sh", "-c",
             "echo mounted; exec sleep 600"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.stdout.close)
        self.addCleanup(terminate, holder)
        self.assertEqual(holder.stdout.readline().strip(), "mounted")

        def start(config, expect_start=True):
            d = Daemon(config, [f"store.data_dir={self.data}"])
            d.args = ["nsenter", "-t", str(holder.pid), "-U", "-m", "--preserve-credentials"] + d.args
            self.addCleanup(d.close)
            self.addCleanup(self._dump_on_failure, d)
            return d.start() if expect_start else d.spawn()

        sink = self.make_sink(default=Reply(503))  # down: everything stays in the backlog
        config = (f"subscriptions:\n  - id: orders\n    sink: {sink.url}\n    durable: true\n"
                  "    delivery: {maxattempts: 1000, initialbackoff: 50ms, maxbackoff: 100ms}\n")
        daemon = start(config)
        acked = []
        for i in range(500):
            res = self.publish_binary(b"x" * 2000, daemon=daemon, id=f"e{i}")
            if res.status != 202:
                break
            acked.append(f"e{i}")
            if i == 4:
                ballast = self.fill_path(f"/proc/{holder.pid}/root{self.data}/ballast")
        self.assertProblem(res, 503, "store-unavailable", detail_contains="is full")
        daemon.signal(signal.SIGKILL)
        daemon.wait()

        # Still full: the store cannot open, evmeshd says why and exits.
        refused = start(config, expect_start=False)
        self.assertEqual(refused.wait(), 1)
        self.assertRegex(refused.output(), r"error .*the event store cannot open in .*: the disk "
                                           r"holding .* is full \(IO error: No space left on device")

        os.remove(ballast)
        sink.default = Reply(200)
        start(config)
        wait_until(lambda: set(acked) <= {r.ce("id") for r in sink.wait_for(0)}, timeout=15,
                   what=f"all {len(acked)} acked events at the sink")


if __name__ == "__main__":
    import unittest
    unittest.main()
