"""`make run`: the web server, the django-q2 workers and the sweeper loop, as one command.

A small supervisor: Ctrl-C (or SIGTERM) is passed to every child, and whatever has not exited
after a grace period is killed (qcluster can hang on SIGTERM, django-q2#346). If one child dies,
the others are stopped too, so nothing half-runs unnoticed. qcluster does not reload on code
changes: restart `make run` after editing code.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

GRACE_SECONDS = 5


class Command(BaseCommand):
    help = "Run the web server, the task workers and the sweeper together (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr: str, **options):
        manage = [sys.executable, "manage.py"]
        commands = {
            "web": [*manage, "runserver", addr],
            "worker": [*manage, "qcluster"],
            "sweeper": [*manage, "sweep", "--loop"],
        }
        children = {
            # Our own fixed argv (this interpreter, manage.py), no shell.
            name: subprocess.Popen(cmd, start_new_session=True)  # noqa: S603
            for name, cmd in commands.items()
        }
        stopping = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.append(True))
        self.stdout.write(
            self.style.SUCCESS(f"Bookbag is running on http://{addr}/  (Ctrl-C stops everything)")
        )
        try:
            while not stopping:
                dead = [name for name, p in children.items() if p.poll() is not None]
                if dead:
                    self.stderr.write(f"{', '.join(dead)} exited; stopping the rest")
                    break
                time.sleep(0.5)
        finally:
            self._stop(children)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for p in children.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGINT)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(p.poll() is None for p in children.values()):
            time.sleep(0.1)
        for name, p in children.items():
            if p.poll() is None:
                self.stderr.write(f"{name} did not stop in {GRACE_SECONDS}s; killing it")
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.stdout.write("Stopped.")
