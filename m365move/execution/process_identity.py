"""Which process a run is, in terms that stay true across containers and reboots.

A host name and a PID do not name a process: containers share host names while each has its own PID
namespace (PID 7 in one is not PID 7 in another), and a PID is reused after a reboot or once the process
ended. A run records its machine's boot id, its PID namespace (the inode of ``/proc/self/ns/pid``), its PID
and its start time (clock ticks since boot, ``/proc/<pid>/stat`` field 22). Another process decides that the
run's process is gone only when it shares that boot and that PID namespace and the PID is absent or now
belongs to a process started at another time. Anywhere else (another machine, another container, no
``/proc``) it cannot tell, and the run's claims are left to their lease alone.
"""

from __future__ import annotations

import os
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def _pid_namespace() -> str | None:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields after its last ")" are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of the whole line


def process_identity(pid: int | None = None) -> str | None:
    """``boot/pidns/pid/start`` of this process (or ``pid``), None where /proc cannot tell."""
    pid = os.getpid() if pid is None else pid
    boot, namespace, start = _boot_id(), _pid_namespace(), _start_time(pid)
    if not (boot and namespace and start):
        return None
    return f"{boot}/{namespace}/{pid}/{start}"


def process_is_gone(identity: str | None) -> bool:
    """Whether the process named by ``identity`` has certainly ended: same boot, same PID namespace, and its PID
    is free or taken by a process started at another time. False whenever this process cannot tell."""
    if not identity:
        return False
    parts = identity.split("/")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    boot, namespace, pid, start = parts
    if boot != _boot_id() or namespace != _pid_namespace():
        return False
    return _start_time(int(pid)) != start
