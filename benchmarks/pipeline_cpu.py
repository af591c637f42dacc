"""Where the CPU goes during a pipeline run, by tier (Linux /proc).

The client (this process: the Shopify driver and the loopback receiver), gunicorn, qcluster and
the sweeper each lead their own process group (harness.Stack starts them with
start_new_session), so a process and everything it forked are found by group id; PostgreSQL's
backends are found by database name. Sampled about once a second, so a process that exits
meanwhile (a recycled qcluster worker, a replaced connection) loses at most its last second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks.harness import Db, Stack
from benchmarks.inbound import box_cpu

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (process group, user+system CPU seconds), for every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry.name)] = (int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return found


class TierMeter:
    def __init__(self, stack: Stack, database: str):
        self.stack = stack
        self.database = database
        self.db = Db(stack.env["DATABASE_URL"])
        self.first: dict[tuple[str, int], float] = {}
        self.latest: dict[tuple[str, int], float] = {}

    def _groups(self) -> dict[int, str]:
        named = {"gunicorn": "web", "qcluster": "workers", "sweeper": "sweeper"}
        return {c.pid: named.get(c.name, c.name) for c in self.stack.children()}

    def _read(self) -> dict[tuple[str, int], float]:
        groups = self._groups()
        backends = {
            r["pid"]
            for r in self.db.rows(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            )
        }
        seen = {}
        for pid, (group, cpu) in _processes().items():
            if group in groups:
                seen[(groups[group], pid)] = cpu
            elif pid in backends:
                seen[("postgres", pid)] = cpu
        return seen

    def start(self) -> None:
        self.first = self._read()
        self.latest = dict(self.first)
        self.client = time.process_time()
        self.box = box_cpu()

    def sample(self) -> None:
        self.latest.update(self._read())

    def stop(self) -> dict[str, float]:
        """CPU seconds per tier since start(), with the machine's busy, steal and total time."""
        self.sample()
        self.db.close()
        box = box_cpu()
        used = {"client": time.process_time() - self.client}
        for (tier, pid), cpu in self.latest.items():
            used[tier] = used.get(tier, 0.0) + cpu - self.first.get((tier, pid), 0.0)
        used.update({k: box[k] - self.box[k] for k in box})
        ours = sum(v for k, v in used.items() if k not in ("box", "steal", "box_total"))
        used["other"] = max(0.0, used["box"] - ours)
        return used
