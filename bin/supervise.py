"""bin/run's supervisor (supervisord) from the Procfile: ``python bin/supervise.py conf`` writes its config.

Every Procfile line becomes a program of the group ``app`` that supervisord restarts whenever it exits
(it logs ``exited: <name> (<exit status or signal>; not expected)`` and ``spawned: '<name>'``), instead of
stopping the others as honcho did. Without ``REDIS_URL`` a program ``broker`` comes first: the embedded
redis-server on a unix socket under var/redis (settings.EMBEDDED_REDIS_SOCKET).

``python bin/supervise.py log`` is the event listener that prints each program's output as ``name | line``
(as honcho did); each program's output is also kept in ``var/log/<name>.log``.
"""

import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("AGENCYDESK_VAR_DIR") or ROOT / "var")
CONF = VAR / "supervisord.conf"
STOP_WAIT = {"worker": 30, "integrations": 30}  # seconds a worker may finish its tasks on Ctrl-C (then SIGKILL)


def procfile(path: Path = ROOT / "Procfile") -> list[tuple[str, str]]:
    """The Procfile's ``name: command`` lines."""
    programs = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            programs.append((name.strip(), command.strip()))
    return programs


def _program(name: str, command: str, *, priority: int, autostart: bool, group_log: Path) -> str:
    shell = shlex.quote(f"exec {command}")  # the shell expands ${VARS} as in the Procfile, then becomes the program
    log = (group_log / f"{name}.log").as_posix().replace("%", "%%")
    return f"""
[program:{name}]
command=/bin/sh -c {shell.replace("%", "%%")}
directory={ROOT.as_posix().replace("%", "%%")}
priority={priority}
autostart={"true" if autostart else "false"}
autorestart=true
startsecs=3
startretries=10
stopsignal=TERM
stopwaitsecs={STOP_WAIT.get(name, 10)}
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={log}
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=2
stdout_events_enabled=true
"""


def conf(var_dir: Path = VAR, procfile_path: Path = ROOT / "Procfile", embedded_broker: bool | None = None) -> str:
    """supervisord's config: the Procfile's programs (group ``app``, not started until ``supervisorctl start
    'app:*'``: bin/run migrates first), the embedded broker (started at once) unless REDIS_URL, the log listener."""
    if embedded_broker is None:
        embedded_broker = not os.environ.get("REDIS_URL")
    logs = var_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)
    var = var_dir.as_posix().replace("%", "%%")
    password = secrets.token_urlsafe(16)  # the control socket's, new at each bin/run (the file is 0600)
    text = f"""; Written by bin/supervise.py from the Procfile at each bin/run; edit the Procfile, not this.
[supervisord]
nodaemon=true
logfile={var}/log/supervisord.log
logfile_maxbytes=10MB
pidfile={var}/supervisord.pid
loglevel=info
{"user=root" if os.geteuid() == 0 else ""}

[unix_http_server]
file={var}/supervisor.sock
chmod=0700
username=agencydesk
password={password}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{var}/supervisor.sock
username=agencydesk
password={password}

[eventlistener:log]
command={shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).resolve()))} log {shlex.quote(str(procfile_path))}
events=PROCESS_LOG
buffer_size=1000
priority=1
autorestart=true
stdout_logfile=NONE
stderr_logfile=/dev/stdout
stderr_logfile_maxbytes=0
"""
    if embedded_broker:
        redis = shutil.which("redis-server", path=str(Path(sys.executable).parent)) or "redis-server"
        folder = var_dir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        # No TCP port: only this machine's processes reach it. Append-only file synced every second:
        # a message survives the broker's restart (and a lost one is sent again by the job sweeps).
        text += _program(
            "broker",
            f"{shlex.quote(redis)} --port 0 --unixsocket {shlex.quote(str(folder / 'redis.sock'))} "
            f"--unixsocketperm 700 --dir {shlex.quote(str(folder))} --appendonly yes --appendfsync everysec "
            '--save "" --logfile ""',
            priority=10,
            autostart=True,
            group_log=logs,
        )
    names = []
    for name, command in procfile(procfile_path):
        text += _program(name, command, priority=100, autostart=False, group_log=logs)
        names.append(name)
    text += f"\n[group:app]\nprograms={','.join(names)}\n"
    return text


def log(procfile_path: Path) -> None:
    """supervisord event listener: each PROCESS_LOG event's lines to stderr (supervisord's stdout), prefixed."""
    width = max(len(name) for name, _ in [*procfile(procfile_path), ("broker", "")])
    stdin, stdout, stderr = sys.stdin.buffer, sys.stdout, sys.stderr.buffer
    pending: dict[str, bytes] = {}
    while True:
        stdout.write("READY\n")
        stdout.flush()
        header = dict(token.split(":", 1) for token in stdin.readline().decode().split())
        payload = stdin.read(int(header["len"]))
        head, _, data = payload.partition(b"\n")
        name = dict(token.split(":", 1) for token in head.decode().split()).get("processname", "?")
        data = pending.pop(name, b"") + data
        *lines, rest = data.split(b"\n")
        if rest:
            pending[name] = rest
        prefix = f"{name:<{width}} | ".encode()
        stderr.write(b"".join(prefix + line + b"\n" for line in lines))
        stderr.flush()
        stdout.write("RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["conf"]:
        CONF.parent.mkdir(parents=True, exist_ok=True)
        CONF.touch(mode=0o600)
        CONF.chmod(0o600)
        CONF.write_text(conf())
        print(CONF)
    elif sys.argv[1:2] == ["log"]:
        log(Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "Procfile")
    else:
        sys.exit(__doc__)
