"""Run a command against a throwaway PostgreSQL cluster: `python tools/with_postgres.py -- pytest …`.

Creates a cluster in a temporary directory with initdb, starts it with pg_ctl on a free loopback
port, creates the database, runs the command with DATABASE_URL pointing at it, then stops the
cluster and removes the directory whatever the command's outcome. Exits with the command's code.
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
Exits 0 with a message (running nothing) when initdb/pg_ctl are not installed.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile

PG_BIN_CANDIDATES = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in PG_BIN_CANDIDATES:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_user() -> str | None:
    """The user the server runs as: the caller, or `postgres` when the caller is root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


def as_user(user: str | None, command: list[str]) -> list[str]:
    return command if user is None else ["runuser", "-u", user, "--", *command]


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: with_postgres.py -- COMMAND …", file=sys.stderr)
        return 2
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if not (initdb and pg_ctl):
        print("with_postgres: initdb/pg_ctl not found; PostgreSQL run skipped.")
        return 0
    user = server_user()
    root = tempfile.mkdtemp(prefix="zhiyuan-pg-")
    data, socket_dir = os.path.join(root, "data"), os.path.join(root, "sock")
    os.makedirs(socket_dir)
    if user:
        entry = pwd.getpwnam(user)
        for path in (root, socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    log = os.path.join(root, "server.log")
    started = False
    try:
        subprocess.run(
            as_user(user, [initdb, "-D", data, "-U", "zhiyuan", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(as_user(user, [pg_ctl, "-D", data, "-l", log, "-o", options, "-w", "start"]), check=True)
        started = True
        subprocess.run(
            [find_binary("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "zhiyuan", "zhiyuan"],
            check=True,
        )
        env = {**os.environ, "DATABASE_URL": f"postgres://zhiyuan@127.0.0.1:{port}/zhiyuan"}
        print(f"with_postgres: PostgreSQL on 127.0.0.1:{port}", flush=True)
        return subprocess.run(argv, env=env).returncode
    finally:
        if started:
            subprocess.run(as_user(user, [pg_ctl, "-D", data, "-m", "fast", "-w", "stop"]), stdout=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
