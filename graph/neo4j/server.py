"""A local Neo4j Community 5.26 server, for tests and single-machine use, without Docker.

The Neo4j server tarball is not on Maven Central, but the embedded jars are.
:func:`ensure_installed` resolves them with Maven into a cache outside the repository and
compiles the one-file launcher in ``scripts/neo4j/``. :func:`start` runs that launcher as
a detached JVM serving Bolt on 127.0.0.1 and records it in ``<run_dir>/server.json``, so
:func:`status` and :func:`stop` work from any later process (the CLI, another test run).
POSIX only: detaching and stopping use process groups, and the cache uses ``flock``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from neo4j import GraphDatabase
from neo4j.exceptions import DriverError, Neo4jError

from schema.errors import StoreError

_SOURCES = Path(__file__).resolve().parents[2] / "scripts" / "neo4j"
_POM = _SOURCES / "pom.xml"
_LAUNCHER = _SOURCES / "src" / "main" / "java" / "TraceGraphNeo4jServer.java"
_MAIN_CLASS = "TraceGraphNeo4jServer"
_READY = "TRACEGRAPH_NEO4J_READY"  # printed by the launcher once the password is set
_MIN_JAVA = 17  # Neo4j 5.26 runs on Java 17 and 21
_USER = "neo4j"

# Sized for bulk loads on a 2-core machine (page cache is set in the launcher). A load keeps
# each transaction's state on the heap: with 1 GiB, G1's pauses took a fifth of a medium
# plant's load; with a fixed 3 GiB heap and the throughput collector (no concurrent marking
# competing for the two cores) they take a few percent. The opens and native access are
# the ones the neo4j server script passes, without which Neo4j falls back to slower I/O paths
# and fills debug.log with warnings.
JVM_OPTIONS = (
    "-Xms3g",
    "-Xmx3g",
    "-XX:+UseParallelGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
)


class Neo4jServerError(StoreError):
    """The local Neo4j server cannot be installed, started or stopped."""

    code = "neo4j_server_error"


@dataclass(frozen=True)
class Neo4jServer:
    """A running local server, as recorded in ``<run_dir>/server.json``."""

    uri: str
    user: str
    password: str
    pid: int
    run_dir: Path

    @property
    def port(self) -> int:
        port = urlsplit(self.uri).port
        assert port is not None  # start() always writes one
        return port

    @property
    def store_url(self) -> str:
        """The URL ``graph.factory.open_store`` takes, credentials included."""
        user, password = quote(self.user, safe=""), quote(self.password, safe="")
        return f"bolt://{user}:{password}@127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        """Neo4j's own directory: ``data/`` (the store) and ``logs/`` (``debug.log``)."""
        return self.run_dir / "neo4j"

    @property
    def log_path(self) -> Path:
        """The JVM's stdout and stderr."""
        return self.run_dir / "server.log"


def java_available() -> str | None:
    """Why the server cannot be installed here (no JDK 17+ or Maven), or None if it can."""
    missing = [name for name in ("java", "javac", "mvn") if _tool(name) is None]
    if missing:
        return f"{', '.join(missing)} not found (looked in $JAVA_HOME/bin and on PATH)"
    javac = _tool("javac")
    assert javac is not None
    try:
        out = subprocess.run([javac, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{javac} -version failed: {exc}"
    found = re.search(r"javac (\d+)", out.stdout + out.stderr)
    if found is None or int(found.group(1)) < _MIN_JAVA:
        version = (out.stdout + out.stderr).strip() or "unknown version"
        return f"Neo4j {_version()} needs a JDK {_MIN_JAVA}+, found {javac}: {version}"
    return None


def ensure_installed(cache_dir: Path | None = None) -> Path:
    """Resolve the Neo4j jars and compile the launcher into ``cache_dir``; return it.

    The default is ``$TRACEGRAPH_CACHE/neo4j/<version>`` (``$TRACEGRAPH_CACHE`` defaults
    to ``~/.cache/tracegraph``). A second call with the same sources is a no-op; concurrent
    calls (pytest-xdist workers) wait for each other on a lock instead of racing Maven.
    """
    reason = java_available()
    if reason is not None:
        raise Neo4jServerError(f"cannot install a local Neo4j: {reason}; install a JDK {_MIN_JAVA}+ and Maven")
    home = (cache_dir or _default_cache_dir()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    wanted = {"neo4j": _version(), "sources": _sources_digest()}
    stamp = home / "installed.json"
    with _locked(home / ".lock"):
        launcher = home / "classes" / f"{_MAIN_CLASS}.class"
        if _read_json(stamp) == wanted and (home / "classpath.txt").is_file() and launcher.is_file():
            return home
        stamp.unlink(missing_ok=True)
        log = home / "install.log"
        log.write_text("")
        # Maven runs on a copy of the pom so it writes nothing into the repository, and
        # with its own local repository so everything fetched stays in this cache.
        build = home / "build"
        build.mkdir(exist_ok=True)
        shutil.copyfile(_POM, build / "pom.xml")
        _run(
            [
                _require_tool("mvn"),
                "-B",  # batch mode: no progress bars in the log
                "-Dstyle.color=never",
                "-f",
                str(build / "pom.xml"),
                f"-Dmaven.repo.local={home / 'm2'}",
                "dependency:build-classpath",
                f"-Dmdep.outputFile={home / 'classpath.txt'}",
            ],
            log,
            f"resolving Neo4j {_version()} with Maven",
        )
        classes = home / "classes"
        shutil.rmtree(classes, ignore_errors=True)
        _run(
            [
                _require_tool("javac"),
                "--release",
                str(_MIN_JAVA),
                "-cp",
                _classpath_file(home),
                "-d",
                str(classes),
                str(_LAUNCHER),
            ],
            log,
            "compiling the Neo4j launcher",
        )
        stamp.write_text(json.dumps(wanted))  # last: a failed install is retried
    return home


def start(
    run_dir: Path,
    *,
    port: int | None = None,
    password: str | None = None,
    owner_pid: int | None = None,
    cache_dir: Path | None = None,
    timeout: float = 120.0,
    transaction_memory_mib: int = 0,
) -> Neo4jServer:
    """Start a server whose store and logs live in ``run_dir``; return once Bolt answers.

    ``port`` defaults to a free one, ``password`` to a random one. With ``owner_pid`` the
    server stops by itself when that process ends (tests pass their own pid, so even a
    killed test run leaves no JVM behind). A store left in ``run_dir`` is reused.
    ``transaction_memory_mib`` limits each transaction's memory (``db.memory.transaction.max``;
    0, the default: no limit).
    """
    install = ensure_installed(cache_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir = run_dir.resolve()
    running = status(run_dir)
    if running is not None:
        raise Neo4jServerError(f"a Neo4j server already runs for {run_dir} (pid {running.pid}); stop it first")
    if password is None:
        password = secrets.token_urlsafe(18)
    elif len(password) < 8:  # Neo4j's default minimum; it would refuse it at startup
        raise Neo4jServerError("the Neo4j password must be at least 8 characters long")
    port = port or _free_port()
    uri = f"bolt://127.0.0.1:{port}"
    home, log_path = run_dir / "neo4j", run_dir / "server.log"  # as Neo4jServer.home/.log_path
    command = [
        _require_tool("java"),
        *JVM_OPTIONS,
        f"-Dtracegraph.transaction.max.mib={int(transaction_memory_mib)}",
        "-cp",
        os.pathsep.join([_classpath_file(install), str(install / "classes")]),
        _MAIN_CLASS,
        str(home),
        str(port),
        *([str(owner_pid)] if owner_pid is not None else []),
    ]
    # The password goes through the environment: the command line is visible in ps.
    env = {**os.environ, "TRACEGRAPH_NEO4J_PASSWORD": password}
    log_start = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=run_dir,
            start_new_session=True,  # own process group: a Ctrl-C in the caller spares it
        )
    server = Neo4jServer(uri, _USER, password, process.pid, run_dir)
    _write_record(server, install)
    try:
        _wait_ready(server, process, log_start, timeout)
    except BaseException:
        stop(run_dir)
        raise
    return server


def status(run_dir: Path) -> Neo4jServer | None:
    """The server recorded in ``run_dir`` if its process is still running, else None."""
    record = _read_json(run_dir / "server.json")
    if not isinstance(record, dict):
        return None
    try:
        server = Neo4jServer(
            uri=str(record["uri"]),
            user=str(record["user"]),
            password=str(record["password"]),
            pid=int(record["pid"]),
            run_dir=run_dir.resolve(),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return server if _is_our_process(server.pid) else None


def stop(run_dir: Path, *, timeout: float = 60.0) -> bool:
    """Stop the server recorded in ``run_dir``; True if one was running.

    SIGTERM lets the launcher shut Neo4j down cleanly (checkpoint, no recovery on the next
    start); SIGKILL follows if that takes longer than ``timeout`` seconds.
    """
    server = status(run_dir)
    if server is not None:
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(server.pid, sig)  # its group: pid == pgid (start_new_session)
            except ProcessLookupError:
                break
            if _wait_gone(server.pid, wait):
                break
        else:
            raise Neo4jServerError(f"Neo4j (pid {server.pid}) survived SIGKILL")
    (run_dir / "server.json").unlink(missing_ok=True)
    return server is not None


# --- helpers ---------------------------------------------------------------------------


def _version() -> str:
    """The Neo4j version pinned in scripts/neo4j/pom.xml: the one place to bump it."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(_POM).getroot().find("m:properties/m:neo4j.version", ns)
    if node is None or not (node.text or "").strip():
        raise Neo4jServerError(f"{_POM} has no <neo4j.version> property")
    return (node.text or "").strip()


def _default_cache_dir() -> Path:
    root = os.environ.get("TRACEGRAPH_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "tracegraph"
    return base / "neo4j" / _version()


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for source in (_POM, _LAUNCHER):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _tool(name: str) -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and name != "mvn":
        candidate = Path(java_home) / "bin" / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _require_tool(name: str) -> str:
    found = _tool(name)
    if found is None:
        raise Neo4jServerError(f"{name} not found: install a JDK {_MIN_JAVA}+ and Maven")
    return found


def _classpath_file(install: Path) -> str:
    return (install / "classpath.txt").read_text().strip()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: Sequence[str], log: Path, what: str) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        try:
            code = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=1800,  # a first download is ~150 MB; a hung network must not hang us
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            raise Neo4jServerError(f"{what} timed out; see {log}") from None
        except OSError as exc:
            raise Neo4jServerError(f"{what} failed: {exc}; see {log}") from exc
    if code != 0:
        raise Neo4jServerError(f"{what} failed (exit code {code}); see {log}")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_record(server: Neo4jServer, install: Path) -> None:
    record = {
        "pid": server.pid,
        "uri": server.uri,
        "user": server.user,
        "password": server.password,
        "home": str(server.home),
        "log": str(server.log_path),
        "install": str(install),
    }
    path = server.run_dir / "server.json"
    # It holds the password: readable by its owner only, from the first byte on.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(record, out, indent=2)


def _free_port() -> int:
    # The kernel picks a free port; it could be taken again before the JVM binds it, but
    # then start() fails with the bind error in the log rather than hanging.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(server: Neo4jServer, process: subprocess.Popen[bytes], log_start: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    # Wait for the launcher's ready line before connecting: until it has set the password,
    # logins fail, and a few failed logins lock the account for a while.
    while _READY not in _log_text(server, log_start):
        if process.poll() is not None:
            raise _start_failed(server, log_start, f"exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise _start_failed(server, log_start, f"not ready after {timeout:.0f} s")
        time.sleep(0.2)
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with GraphDatabase.driver(
                server.uri, auth=(server.user, server.password), connection_timeout=5.0
            ) as driver:
                driver.verify_connectivity()
            return
        except (DriverError, Neo4jError, OSError) as exc:
            last_error = exc
            time.sleep(0.5)
    raise _start_failed(server, log_start, f"Bolt did not answer: {last_error}")


def _log_text(server: Neo4jServer, start: int) -> str:
    try:
        with server.log_path.open("rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _start_failed(server: Neo4jServer, log_start: int, why: str) -> Neo4jServerError:
    tail = "\n".join(_log_text(server, log_start).splitlines()[-30:])
    return Neo4jServerError(
        f"Neo4j at {server.uri} {why}. Last lines of {server.log_path}:\n{tail}\n"
        f"(more in {server.home / 'logs' / 'debug.log'})"
    )


def _is_our_process(pid: int) -> bool:
    if not _alive(pid):
        return False
    # A recorded pid may have been reused by an unrelated process since; on Linux, check.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no procfs (macOS): trust the pid
    except OSError:
        return True
    return _MAIN_CLASS.encode() in cmdline


def _alive(pid: int) -> bool:
    try:
        # If it is our child, reap it: an exited child stays a zombie, which looks alive.
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == 0
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
