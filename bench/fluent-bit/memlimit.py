"""A memory cgroup with a hard limit for Fluent Bit: what a container's (or
a Kubernetes pod's) memory limit does to it. Resident pages that the
kernel can reclaim (the filesystem buffer's mapped chunks, page cache)
count in RSS; under a limit the kernel reclaims them before it kills
anything, so a run inside a limit shows whether the memory is needed.

cgroup v2 (`/sys/fs/cgroup/cgroup.controllers`) or v1 (the `memory`
hierarchy); needs root (or a delegated cgroup). Swap is limited to zero
too, so nothing is pushed out instead of reclaimed."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class MemoryCgroup:
    def __init__(self, name: str, limit_bytes: int):
        self.v2 = (ROOT / "cgroup.controllers").exists()
        self.path = (ROOT if self.v2 else ROOT / "memory") / name
        self.limit_bytes = limit_bytes
        try:
            self.path.mkdir()
            if self.v2:
                self._write("memory.max", limit_bytes)
                if (self.path / "memory.swap.max").exists():
                    self._write("memory.swap.max", 0)
            else:
                self._write("memory.limit_in_bytes", limit_bytes)
                if (self.path / "memory.memsw.limit_in_bytes").exists():
                    self._write("memory.memsw.limit_in_bytes", limit_bytes)
        except OSError as err:
            raise RuntimeError(f"--memory-limit: cannot set up the memory cgroup {self.path} "
                               f"(needs root or a delegated cgroup with the memory controller): {err}") from err

    def _write(self, file: str, value: int):
        (self.path / file).write_text(str(value))

    def _read(self, file: str) -> str:
        return (self.path / file).read_text()

    def _keyed(self, file: str) -> dict[str, int]:
        out = {}
        for line in self._read(file).splitlines():
            key, _, value = line.partition(" ")
            if value.strip().isdigit():
                out[key] = int(value)
        return out

    def enter(self):
        """Move the calling process in (a subprocess's preexec_fn): every
        page it touches from then on is charged here."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def peak_bytes(self) -> int:
        return int(self._read("memory.peak" if self.v2 else "memory.max_usage_in_bytes"))

    def usage_bytes(self) -> int:
        return int(self._read("memory.current" if self.v2 else "memory.usage_in_bytes"))

    def anon_bytes(self) -> int:
        stat = self._keyed("memory.stat")
        return stat.get("anon", 0) if self.v2 else stat.get("total_rss", stat.get("rss", 0))

    def refaults(self) -> int:
        """File pages read back after the kernel reclaimed them: reclaim that
        cost I/O (near zero when what it took was not needed again)."""
        stat = self._keyed("memory.stat")
        return stat.get("workingset_refault_file", 0) if self.v2 else stat.get("total_workingset_refault_file", 0)

    def oom_kills(self) -> int:
        return self._keyed("memory.events" if self.v2 else "memory.oom_control").get("oom_kill", 0)

    def remove(self):
        # The processes are gone by now; their exit may take a moment to reach the cgroup.
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
