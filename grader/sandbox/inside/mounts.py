"""The file system a submission sees, set up once per sandbox by the helper process in its
own mount namespace; and the libc calls behind it (:func:`libc`), which
:mod:`grader.sandbox.inside.isolation` uses too (unshare, prctl).

Never imported by the grader: the helper process (:mod:`grader.sandbox.inside.zygote`)
loads this file's source text before :mod:`grader.sandbox.inside.isolation`, which
imports it, so it uses the standard library only.

:func:`setup_mounts` runs after the preloads: every mount read-only, an empty tmpfs over each
hidden folder (the grader package, the grader's working folder, homes, ``/tmp``...),
the Python installation bound back read-only, a /dev with null, zero, full, random and
urandom only. Nothing here is secret: a submission's process holds this module too.
"""

from __future__ import annotations

import ctypes
import os

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
_OPTION_FLAGS = {
    "ro": MS_RDONLY,
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": 0x400,
    "nodiratime": 0x800,
    "relatime": 0x200000,
}
_HIDING = "mode=0755,size=64k,nr_inodes=1024"
_DEVICES = ("null", "zero", "full", "random", "urandom")
_SANDBOX_TMP = "mode=0755,size=512m"

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]
        _libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _libc.unshare.argtypes = [ctypes.c_int]
    return _libc


def check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    check(
        libc().mount(_encode(source), _encode(target), _encode(fstype), flags, _encode(data)),
        f"mount {target}",
    )


def _encode(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def setup_mounts(hide: list[str], expose: list[str]) -> None:
    """Hide folders, bind back what submissions need, make everything else read-only."""
    hide = _existing(hide + ["/tmp"])
    expose = [path for path in _existing(expose) if path not in hide]
    handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for path in expose}
    try:
        for point, options in _mount_points():
            flags = MS_BIND | MS_REMOUNT | MS_RDONLY | _flags(options)
            try:
                mount(None, point, None, flags)
            except OSError:
                if point == "/":
                    raise
        applied: list[tuple[str, str]] = []
        hiding: list[str] = []
        for path, kind in sorted(
            [(p, "hide") for p in hide] + [(p, "expose") for p in expose],
            key=lambda item: (_depth(item[0]), item[1] == "expose"),
        ):
            nearest = max(
                (a for a in applied if _within(path, a[0])),
                key=lambda a: _depth(a[0]),
                default=None,
            )
            if kind == "hide":
                if not os.path.isdir(path) or os.path.islink(path):
                    continue  # already inside a hidden folder
                options = _SANDBOX_TMP if path == "/tmp" else _HIDING
                mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)
                hiding.append(path)
            elif nearest is None or nearest[1] == "expose":
                continue  # visible anyway
            else:
                os.makedirs(path, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
                mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
            applied.append((path, kind))
        for path in hiding:
            if path != "/tmp":
                mount(
                    None,
                    path,
                    None,
                    MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                )
        _minimal_dev()
    finally:
        for handle in handles.values():
            os.close(handle)


def _minimal_dev() -> None:
    """A /dev of its own: the harmless devices, nothing else of the machine's (no GPUs...)."""
    devices = {
        name: os.open(f"/dev/{name}", os.O_PATH | os.O_CLOEXEC)
        for name in _DEVICES
        if os.path.exists(f"/dev/{name}")
    }
    try:
        mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64")
        for name, handle in devices.items():
            open(f"/dev/{name}", "w").close()
            mount(f"/proc/self/fd/{handle}", f"/dev/{name}", None, MS_BIND)
    finally:
        for handle in devices.values():
            os.close(handle)
    os.mkdir("/dev/shm", 0o755)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"/dev/{name}")
    mount(None, "/dev", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)


def _existing(paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        real = os.path.realpath(path)
        if real != "/" and os.path.isdir(real) and real not in found:
            found.append(real)
    return found


def _depth(path: str) -> int:
    return path.rstrip("/").count("/")


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _flags(options: str) -> int:
    flags = 0
    for option in options.split(","):
        flags |= _OPTION_FLAGS.get(option, 0)
    return flags


def _mount_points() -> list[tuple[str, str]]:
    """(mount point, per-mount options) of every mount, parents first, each point once."""
    points: dict[str, str] = {}
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            point = (
                fields[4]
                .encode()
                .decode("unicode_escape")
                .encode("latin-1")
                .decode(errors="surrogateescape")
            )
            points[point] = fields[5]
    return sorted(points.items(), key=lambda item: _depth(item[0]) if item[0] != "/" else -1)
