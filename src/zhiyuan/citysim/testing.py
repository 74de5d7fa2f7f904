"""Run a real `zhiyuan citysim` process from tests and benchmarks: `CitySimProcess`.

    city = CitySimProcess(workdir, key_dir, workdir / "citysim.sqlite3", ("--manual",)).start()
    city.url        # http://127.0.0.1:PORT, where it listens (the port is picked free on the first start)
    city.stats()    # GET /stats
    city.restart()  # SIGKILL, then the same port and database again
    city.stop()     # SIGTERM (a clean exit); stop(signal.SIGKILL) for a crash

Each start writes the process's stdout/stderr to `workdir/stdout-N.txt` / `stderr-N.txt`; `output()`
gives the end of the last stderr, for a failure message.
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from zhiyuan.datalink.keys import KEY_FILES

START_TIMEOUT = 20
LISTENING = re.compile(r"citysim listening on (http://\S+)")


class CitySimError(RuntimeError):
    """citysim did not start (the message carries the end of its stderr)."""


class CitySimProcess:
    """One `zhiyuan citysim --port … --db …` subprocess; `url` is where it listens.

    The first start listens on a free port (`--port 0`, or `port` if given); a restart reuses that port, so
    a district configured with `url` reaches the restarted city without being told anything. `env` adds to
    (or overrides) the environment the process inherits; key variables of the caller are dropped so that
    the keys come from `keydir` alone.
    """

    def __init__(
        self,
        workdir: Path,
        keydir: Path,
        db: Path,
        args: Sequence[str] = (),
        *,
        port: int = 0,
        env: Mapping[str, str] | None = None,
    ):
        self.workdir, self.keydir, self.db, self.args = Path(workdir), Path(keydir), Path(db), tuple(args)
        self.port = port
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(tuple(KEY_FILES))}
        env.update(ZHIYUAN_DATALINK_KEY_DIR=str(self.keydir), ZHIYUAN_DATA_DIR=str(self.workdir), ZHIYUAN_ENV="test")
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = START_TIMEOUT) -> "CitySimProcess":
        """Start the process and wait until it listens; raises CitySimError if it does not.

        On a fixed port (a restart), a failure to bind right after the previous process died is retried
        until `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            error = self._start_once(deadline)
            if error is None:
                return self
            if self.port == 0 or "cannot listen" not in error or time.monotonic() >= deadline:
                raise CitySimError(f"citysim did not start: {error}")
            time.sleep(0.2)

    def _start_once(self, deadline: float) -> str | None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        run = len(list(self.workdir.glob("stdout-*.txt")))
        stdout_path, stderr_path = self.workdir / f"stdout-{run}.txt", self.workdir / f"stderr-{run}.txt"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "zhiyuan.manage", "citysim",
                    "--port", str(self.port), "--db", str(self.db), *self.args,
                ],
                stdout=stdout, stderr=stderr, env=self.environment(),
            )
        while time.monotonic() < deadline:
            match = LISTENING.search(stdout_path.read_text())
            if match:
                self.url = match[1]
                self.port = int(self.url.rsplit(":", 1)[1])
                self.starts += 1
                return None
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        return stderr_path.read_text()[-3000:] or "no output"

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Send `sig` and wait for the exit (SIGKILL after 10 s); returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def kill(self) -> None:
        """A crash: SIGKILL, no clean shutdown."""
        self.stop(signal.SIGKILL)

    def restart(self, *, down_for: float = 0.0) -> "CitySimProcess":
        """Kill the process (SIGKILL), wait `down_for` seconds, start it again on the same port and database."""
        self.kill()
        if down_for:
            time.sleep(down_for)
        return self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stats(self) -> dict:
        """citysim's counters (GET /stats)."""
        response = httpx.get(self.url + "/stats", timeout=10)
        response.raise_for_status()
        return response.json()

    def output(self, chars: int = 3000) -> str:
        """The end of the last run's stderr (citysim logs its warnings and errors there)."""
        runs = sorted(self.workdir.glob("stderr-*.txt"), key=lambda path: int(path.stem.split("-")[1]))
        return runs[-1].read_text(errors="replace")[-chars:] if runs else ""
