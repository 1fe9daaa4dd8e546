"""A real Airflow API server (+ DAG processor) on 127.0.0.1 for the dashboard tests.

``AirflowUI(env, users={"admin": "admin", ...}, roles={"admin": "admin", ...})`` writes the
SimpleAuthManager password file, starts ``airflow api-server`` and ``airflow dag-processor``
on the given (migrated) Airflow home, waits until the API answers and the DAGs are parsed,
and stops both on exit.  ``base_path`` serves Airflow under a sub-path (``[api] base_url``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import AIRFLOW_BIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowUI:
    def __init__(
        self,
        env: dict[str, str],
        *,
        users: dict[str, str],
        roles: dict[str, str],
        dags: list[str],
        base_path: str = "",
        log_dir: Path,
        dag_processor: bool = True,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.base_path = base_path.strip("/")
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.origin}/{self.base_path + '/' if self.base_path else ''}"
        self.users = users
        self.dags = dags
        self.log_dir = log_dir
        self.dag_processor = dag_processor
        self.env = dict(env)
        self.env.update(
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=",".join(f"{u}:{r}" for u, r in roles.items()),
            AIRFLOW__API__BASE_URL=self.url.rstrip("/"),
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR="True",
        )
        self.procs: list[subprocess.Popen] = []
        self._tokens: dict[str, str] = {}

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> AirflowUI:
        home = Path(self.env["AIRFLOW_HOME"])
        (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps(self.users))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.port))
            if self.dag_processor:
                self._start("dag-processor", "dag-processor")
            self._wait(lambda: self._status(self.url + "api/v2/monitor/health") == 200, 120, "the API server")
            self._wait(self._dags_parsed, 180, f"the DAGs {self.dags} to be parsed")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        self.procs.clear()

    def _start(self, name: str, *args: str) -> None:
        log = (self.log_dir / f"{name}.log").open("w")
        self.procs.append(
            subprocess.Popen(
                [AIRFLOW_BIN, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )

    def _wait(self, ok, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{p.args[1]} exited with {p.returncode}: {self.logs()[-3000:]}")
            if ok():
                return
            time.sleep(1)
        raise RuntimeError(f"timed out waiting for {what}: {self.logs()[-3000:]}")

    def logs(self) -> str:
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-4000:]}" for f in self.log_dir.glob("*.log"))

    def _dags_parsed(self) -> bool:
        for dag_id in self.dags:
            status, _ = self.request("GET", f"api/v2/dags/{dag_id}", user="admin")
            if status != 200:
                return False
        return True

    # --------------------------------------------------------------------- requests
    def _status(self, url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code
        except OSError:
            return 0

    def token(self, user: str) -> str:
        if user not in self._tokens:
            body = json.dumps({"username": user, "password": self.users[user]}).encode()
            req = urllib.request.Request(
                self.url + "auth/token", data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 201, resp.status
                self._tokens[user] = json.loads(resp.read())["access_token"]
        return self._tokens[user]

    def request(
        self, method: str, path: str, *, user: str | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """``(status, {"body": text, "headers": {...}})`` for ``path`` relative to the UI root."""
        headers = {}
        if user is not None:
            token = self.token(user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path.lstrip("/"), headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {"body": resp.read().decode(), "headers": dict(resp.headers)}
        except urllib.error.HTTPError as err:
            return err.code, {"body": err.read().decode(errors="replace"), "headers": dict(err.headers)}
