"""What a sealed folder holds, read without following a single link.

A sealed folder is made of regular files and folders only. Anything else in it is a way to make ``verify``
read something the manifest did not seal: a symbolic link (``report.html`` pointing to a file outside that
can be edited at will, a link to an outside folder, a loop that never ends), a FIFO that blocks the reader,
a device, or a name that is not UTF-8 (the manifest lists names as UTF-8 text). Those are returned apart,
each with why, so ``verify`` names them as changes instead of following them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FolderEntries:
    """Regular files (relative ``/`` path → path), in canonical order, and every other entry with why."""

    files: dict[str, Path] = field(default_factory=dict)
    irregular: dict[str, str] = field(default_factory=dict)


def folder_entries(folder: Path, skip: frozenset[str] = frozenset()) -> FolderEntries:
    """Every entry under ``folder`` (``skip``: top-level names left out), links never followed."""
    files: list[tuple[bytes, str, Path]] = []
    found = FolderEntries()
    pending = [(folder, "")]
    while pending:
        directory, prefix = pending.pop()
        with os.scandir(directory) as listing:
            for entry in listing:
                relative = prefix + entry.name
                if not prefix and entry.name in skip:
                    continue
                mode = entry.stat(follow_symlinks=False).st_mode
                why = _irregular(entry, mode, relative)
                if why:
                    found.irregular[relative] = why
                elif stat.S_ISDIR(mode):
                    pending.append((Path(entry.path), relative + "/"))
                else:
                    files.append((relative.encode("utf-8"), relative, Path(entry.path)))
    found.files = {relative: path for _, relative, path in sorted(files, key=lambda item: item[0])}
    return found


def open_no_follow(path: Path) -> bytes:
    """The bytes of a regular file; OSError when it became a link or something else since it was listed."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path} is no longer a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(descriptor)


def _irregular(entry: os.DirEntry[str], mode: int, relative: str) -> str | None:
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(entry.path)
        except OSError:
            target = "?"
        return f"a symbolic link (to {target}): a sealed folder holds only regular files and folders"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not a regular file (a FIFO, socket or device): a sealed folder holds only regular files and folders"
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return "a name that is not UTF-8: a manifest cannot list it"
    return None
