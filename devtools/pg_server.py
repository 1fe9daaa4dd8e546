"""A throwaway local PostgreSQL server for tests and benchmarks.

Usage::

    from devtools.pg_server import local_postgres

    with local_postgres() as uri:  # "postgresql://drift@127.0.0.1:PORT/drift"
        conn = psycopg2.connect(uri)
        ...

* If the environment variable ``DRIFT_TEST_POSTGRES_URI`` is set, that server
  is used as it is (nothing is started or removed).
* Otherwise the PostgreSQL server binaries are looked up (``DRIFT_PG_BINDIR``,
  then ``/usr/lib/postgresql/<version>/bin`` newest first, then ``PATH``); a
  cluster is created with ``initdb --auth=trust -U drift`` in a temporary
  directory, started on ``127.0.0.1`` on a free port with its Unix socket
  inside that directory, and database ``drift`` is created.  On exit the
  server is stopped and the directory removed.
* As root, PostgreSQL refuses to run: the server then runs as the ``postgres``
  system user (``runuser -u postgres --``, or ``setpriv``), which owns the
  temporary directory.
* Durability is switched off (``fsync``, ``synchronous_commit``,
  ``full_page_writes``): the cluster is disposable.  ``settings`` adds or
  overrides ``postgresql.conf`` settings.

A :class:`RuntimeError` explains what is missing when the binaries (or the
``postgres`` user, as root) are absent or the server does not start.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ENV_URI = "DRIFT_TEST_POSTGRES_URI"
ENV_BINDIR = "DRIFT_PG_BINDIR"
USER = "drift"
DATABASE = "drift"
DEFAULT_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_NEEDED = ("initdb", "pg_ctl", "createdb")


def _version_key(path: str) -> tuple[int, ...]:
    m = re.search(r"postgresql/([0-9.]+)/bin", path)
    return tuple(int(p) for p in m.group(1).split(".") if p) if m else (0,)


def find_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``createdb``."""
    candidates: list[str] = []
    if os.environ.get(ENV_BINDIR):
        candidates.append(os.environ[ENV_BINDIR])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += [*sorted(glob.glob("/usr/local/pgsql*/bin")), "/usr/pgsql/bin"]
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for c in candidates:
        if all(os.access(os.path.join(c, b), os.X_OK) for b in _NEEDED):
            return Path(c)
    raise RuntimeError(
        "PostgreSQL server binaries not found (initdb, pg_ctl, createdb): install them "
        "(Debian/Ubuntu: apt-get install postgresql), set DRIFT_PG_BINDIR to their directory, "
        f"or set {ENV_URI} to the URI of an existing server"
    )


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> tuple[list[str], tuple[int, int] | None]:
    """Command prefix and (uid, gid) to run the server as; empty when not root."""
    if os.geteuid() != 0:
        return [], None
    import pwd

    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root, but PostgreSQL refuses to run as root and there is no 'postgres' system user "
            "to run it as: create one (useradd --system postgres) or run as an unprivileged user"
        ) from None
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"], (pw.pw_uid, pw.pw_gid)
    if shutil.which("setpriv"):
        return [
            "setpriv",
            f"--reuid={pw.pw_uid}",
            f"--regid={pw.pw_gid}",
            "--init-groups",
            "--",
        ], (pw.pw_uid, pw.pw_gid)
    raise RuntimeError("running as root: need runuser or setpriv to start PostgreSQL as the 'postgres' user")


def _chown_tree(path: Path, ids: tuple[int, int]) -> None:
    os.chown(path, *ids)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.chown(os.path.join(root, n), *ids)


def _check(cmd: list[str], what: str, log: Path | None = None, timeout: float = 120) -> None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what} failed: {exc}") from exc
    if out.returncode != 0:
        tail = ""
        if log is not None and log.exists():
            with contextlib.suppress(OSError):
                tail = "\nserver log:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{what} failed (exit {out.returncode}): {(out.stderr or out.stdout).strip()}{tail}")


@contextlib.contextmanager
def local_postgres(settings: Mapping[str, Any] | None = None, *, timeout: float = 60) -> Iterator[str]:
    """Yield the URI of a throwaway PostgreSQL database (see the module docstring)."""
    uri = os.environ.get(ENV_URI)
    if uri:
        yield uri
        return
    bindir = find_bindir()
    prefix, ids = _run_as()
    # as root the server runs as 'postgres', which must be able to reach the directory: /tmp, not $TMPDIR
    tmp = Path(tempfile.mkdtemp(prefix="drift-pg-", dir="/tmp" if ids is not None and os.path.isdir("/tmp") else None))
    data, sock, log = tmp / "data", tmp / "sock", tmp / "server.log"
    started = False
    try:
        sock.mkdir()
        if ids is not None:
            _chown_tree(tmp, ids)
        _check(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )
        conf = dict(DEFAULT_SETTINGS)
        conf.update({k: str(v) for k, v in (settings or {}).items()})
        port = 0
        for attempt in range(5):
            port = free_port()
            lines = {**conf, "listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": str(sock)}
            text = "".join(f"{k} = '{str(v).replace(chr(39), chr(39) * 2)}'\n" for k, v in lines.items())
            (data / "postgresql.auto.conf").write_text(text)
            if ids is not None:
                os.chown(data / "postgresql.auto.conf", *ids)
            try:
                _check(
                    [
                        *prefix,
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        "-w",
                        "-t",
                        str(int(timeout)),
                        "start",
                    ],
                    "starting PostgreSQL",
                    log,
                    timeout=timeout + 30,
                )
                started = True
                break
            except RuntimeError:
                text = log.read_text(errors="replace") if log.exists() else ""
                if attempt < 4 and "could not bind" in text:  # the port was taken meanwhile
                    continue
                raise
        _check(
            [*prefix, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
            "createdb",
        )
        yield f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"],
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":  # manual check: start, print the URI, stop
    with local_postgres() as u:
        print(u)
