"""Running one benchmark step in a forked child process, shared by the benchmarks: the step's peak
memory is its own, and the parent stays free of the threads numeric libraries start."""

import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path


def in_child(step, *step_args, trace: bool = False) -> dict:
    """Run `step(*step_args)` (which returns a JSON-able dict) in a forked child; returns the dict with the
    child's wall time, its RSS at the start and its peak RSS (ru_maxrss), or {"error": …}.

    Forking keeps each step's peak memory its own, and leaves the parent free of the threads the
    numeric libraries start."""
    import tracemalloc

    close_connections()
    sys.stdout.flush()
    sys.stderr.flush()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        code = 0
        start = rss_now_kb()
        try:
            if trace:
                tracemalloc.start()
            started, cpu = time.perf_counter(), time.process_time()
            result = step(*step_args) or {}
            result["seconds"] = time.perf_counter() - started
            result["cpu"] = time.process_time() - cpu
            if trace:
                result["traced_kb"] = tracemalloc.get_traced_memory()[1] / 1024
                tracemalloc.stop()
        except BaseException:
            result = {"error": traceback.format_exc()}
            code = 1
        result["start_kb"] = start
        try:
            close_connections()
            with os.fdopen(writer, "w") as out:
                json.dump(result, out, default=str)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        text = pipe.read()
    _pid, _status, usage = os.wait4(pid, 0)
    result = json.loads(text) if text else {"error": "the child process died without a result"}
    result["peak_kb"] = usage.ru_maxrss
    return result


def close_connections() -> None:
    """Close Django's database connections, if Django is set up (a forked child must open its own)."""
    if "django.db" in sys.modules:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()


def rss_now_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
