"""Linux namespaces for the sandbox's helper process: what a submission can see and do.

Never imported by the grader: :mod:`grader.sandbox.server` hands this file's source text
to the helper process (see :mod:`grader.sandbox.inside.zygote`), so it uses the standard
library only, and :mod:`grader.sandbox.inside.mounts`, which the helper loads first (as
``_sandbox_mounts``). Both run before the finder that refuses ``grader`` is in place:
nothing here may import from the grader package.

:func:`enter` runs first, in the fresh helper interpreter: ``unshare(2)`` of the mount,
pid, network and IPC namespaces, then a fork. The forked process is pid 1 of the new pid
namespace and becomes the fork server ("zygote"); the original process stays outside and
only waits for it, so when the zygote ends, the kernel kills every process left in the
namespace. :meth:`Namespace.setup` runs once per zygote, after the preloads: the file
system of :func:`~grader.sandbox.inside.mounts.setup_mounts` (read-only, the grader's
folders hidden, a minimal /dev), and the zygote's own folders. Per submission: a
size-limited tmpfs as scratch folder, owned by a uid of its own; :func:`confine` drops
the forked child to that uid (no groups, no new privileges) and
:meth:`Namespace.kill_uid` ends every process of it. In either mode (namespaces or
rlimits only), :func:`become_child` is what a forked child does before any student code:
its own session, resource limits, fds and environment, and :func:`confine` where it has
a uid of its own. Nothing here is secret: a submission's process holds this module too.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sys
import tempfile

from _sandbox_mounts import (  # registered by the helper process, from inside/mounts.py
    MNT_DETACH,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    check,
    libc,
    mount,
    setup_mounts,
)

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
# uid of a submission: UID_BASE + (the zygote's pid outside) * UID_SLOTS + slot, so the
# uids of all zygotes alive on the machine differ (pid_max <= 2**22); RLIMIT_NPROC then
# counts one submission's processes only
UID_BASE, UID_SLOTS = 1 << 30, 64
_OPEN_FILES = 1024  # soft and hard: a submission cannot raise it
_CHILD_ENVIRONMENT = (
    "LANG",
    "LC_ALL",
    "MPLBACKEND",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


class Unavailable(Exception):
    """Namespaces cannot be had here; the message says why."""


def prctl(option: int, value: int) -> None:
    try:
        libc().prctl(option, value, 0, 0, 0)
    except Exception:  # not Linux: the process-group kill still applies
        pass


def enter() -> Namespace:
    """Unshare the namespaces and fork; returns in the new pid 1 only (raises Unavailable)."""
    if not sys.platform.startswith("linux"):
        raise Unavailable("not Linux")
    if os.geteuid() != 0:
        raise Unavailable("not running as root (namespaces and a uid per submission need root)")
    try:
        check(libc().unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
        # before any mount: nothing done in here may propagate to the grader's mounts
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except (OSError, AttributeError) as exc:
        raise Unavailable(f"no namespaces here ({describe(exc)})") from None
    pid = os.fork()
    if pid:
        _wait_and_exit(pid)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the grader kills the waiter: we die too
    return Namespace()


def describe(exc: BaseException) -> str:
    """``unshare: Operation not permitted`` rather than ``[Errno 1] ...``."""
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _wait_and_exit(pid: int) -> None:
    """The process outside: hold nothing open (the grader sees EOF when pid 1 dies)."""
    os.closerange(3, max_fd())
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def max_fd() -> int:
    """One more than the largest file descriptor this process may have open."""
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        return 65536


class Namespace:
    """The zygote's side of the namespaces: setup once, then scratch folders and uids."""

    description = (
        "namespaces (mount, pid, network, IPC): grader files hidden, file system "
        "read-only, one unprivileged uid per submission"
    )

    def __init__(self) -> None:
        # still the grader's /proc: our own pid there, and a handle to find our children's
        self.outer_pid = int(os.readlink("/proc/self"))
        self.outer_proc = os.open("/proc", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        self.uid_base = UID_BASE + self.outer_pid * UID_SLOTS
        self.free = list(range(UID_SLOTS))
        self.helpers: dict[tuple, str] = {}
        self.known_children: set[int] = set()
        self.scratch_count = 0
        self.root = "/tmp/.grader"  # the zygote's own files (inside the fresh /tmp)

    # --- once per zygote --------------------------------------------------------------

    def setup(self, hide: list[str], expose: list[str]) -> None:
        """Hide folders, bind back what submissions need, make everything else read-only."""
        setup_mounts(hide, expose)
        os.makedirs(f"{self.root}/scratch", mode=0o711)
        os.makedirs(f"{self.root}/helpers", mode=0o755)
        os.chdir("/")

    # --- per submission ---------------------------------------------------------------

    def take_uid(self) -> int | None:
        return self.uid_base + self.free.pop(0) if self.free else None

    def scratch(self, uid: int, size: int) -> str:
        """An empty tmpfs of at most ``size`` bytes that only ``uid`` may enter."""
        self.scratch_count += 1
        path = f"{self.root}/scratch/{self.scratch_count}"
        os.mkdir(path, 0o700)
        mount(
            "tmpfs",
            path,
            "tmpfs",
            MS_NOSUID | MS_NODEV | MS_NOEXEC,
            f"size={max(size, 4096)},nr_inodes=4096,mode=0700,uid={uid},gid={uid}",
        )
        return path

    def release(self, uid: int | None, scratch: str) -> None:
        """Forget a finished submission; its uid is free again once none of its processes is."""
        try:
            check(libc().umount2(os.fsencode(scratch), MNT_DETACH), f"umount {scratch}")
            os.rmdir(scratch)
        except OSError:
            pass
        if uid is not None and not self.processes_of(uid):
            self.free.append(uid - self.uid_base)

    def kill_uid(self, uid: int) -> int:
        """SIGKILL every process of ``uid`` in the namespace; how many there were."""
        pids = self.processes_of(uid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return len(pids)

    def processes_of(self, uid: int) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as handle:
                    fields = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            if fields.get("State", "").split()[:1] not in (["Z"], ["X"]) and fields.get(
                "Uid", ""
            ).split()[:1] == [str(uid)]:
                pids.append(int(entry))
        return pids

    def outer_pid_of(self, pid: int) -> int:
        """The pid the grader sees for our child ``pid`` (found among our children there)."""
        me = self.outer_pid
        listed = {int(p) for p in self._outer_read(f"{me}/task/{me}/children").split()}
        new, self.known_children = listed - self.known_children, listed
        for candidate in sorted(new) + sorted(listed - new):
            for line in self._outer_read(f"{candidate}/status").splitlines():
                if line.startswith(b"NSpid:") and line.split()[-1] == str(pid).encode():
                    return candidate
        raise OSError(f"cannot find the pid of process {pid} outside the namespace")

    def _outer_read(self, path: str) -> bytes:
        try:
            fd = os.open(path, os.O_RDONLY, dir_fd=self.outer_proc)
        except OSError:
            return b""
        try:
            return os.read(fd, 1 << 16)
        finally:
            os.close(fd)

    def helper_copy(self, fd: int) -> str:
        """A read-only copy of the helper folder open at ``fd``, made once per content."""
        listing = []
        for root, dirs, files, root_fd in os.fwalk(".", dir_fd=fd):
            dirs.sort()
            for name in sorted(files):
                info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
                listing.append(
                    (os.path.join(root, name), info.st_size, info.st_mtime_ns, info.st_mode)
                )
        stat = os.fstat(fd)
        key = (stat.st_dev, stat.st_ino, tuple(listing))
        if key not in self.helpers:
            target = f"{self.root}/helpers/{len(self.helpers) + 1}"
            _copy_tree(fd, target)
            self.helpers[key] = target
        return self.helpers[key]


def _copy_tree(fd: int, target: str) -> None:
    """Regular files and folders only (no links), readable by all, writable by none."""
    import py_compile

    os.makedirs(target, mode=0o755)
    for root, dirs, files, root_fd in os.fwalk(".", dir_fd=fd):
        here = os.path.normpath(os.path.join(target, root))
        for name in dirs:
            os.makedirs(os.path.join(here, name), mode=0o755, exist_ok=True)
        for name in files:
            try:
                source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=root_fd)
            except OSError:
                continue  # a link or unreadable: not for students
            with os.fdopen(source, "rb") as reader, open(os.path.join(here, name), "wb") as writer:
                shutil.copyfileobj(reader, writer)
            os.chmod(os.path.join(here, name), 0o644)
            if name.endswith(".py"):  # compiled once, here: children cannot write bytecode
                try:
                    py_compile.compile(os.path.join(here, name), doraise=True)
                except Exception:  # a broken helper fails when imported, as it should
                    pass


def confine(uid: int) -> None:
    """In a forked child, before any student code: become ``uid``, for good.

    Its own IPC namespace too: SysV shared memory it makes dies with its processes
    instead of staying in the zygote's until the sandbox closes."""
    check(libc().unshare(CLONE_NEWIPC), "unshare")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_DUMPABLE, 1)  # its own /proc/self, as any process has (its uid is its own)
    no_new_privileges()


def no_new_privileges() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def become_child(
    fd: int, scratch: str, limits: dict, uid: int | None, zygote: int, nproc_base: int
) -> None:
    """Everything before student code: own session, limits, empty cwd, fds 0-3, no privileges."""
    os.setsid()
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote:
        os._exit(0)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write raises instead
    _rlimit(resource.RLIMIT_AS, limits["memory_bytes"])
    _rlimit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    _rlimit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    _rlimit(resource.RLIMIT_CORE, 0)
    _rlimit(resource.RLIMIT_NOFILE, _OPEN_FILES)
    if uid is not None or nproc_base:  # per uid: meaningless for root, shared for the user
        _rlimit(resource.RLIMIT_NPROC, limits["processes"] + nproc_base)
    os.chdir(scratch)
    devnull = os.open(os.devnull, os.O_RDWR)
    for number in (0, 1, 2):
        os.dup2(devnull, number)
    if fd != 3:
        os.dup2(fd, 3)
    os.closerange(4, max_fd())  # the zygote's, the grader's: none is the student's
    if uid is not None:
        confine(uid)
    else:
        no_new_privileges()
    kept = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    os.environ.clear()  # none of the grader's variables, beyond these
    os.environ.update(kept, PATH="/usr/local/bin:/usr/bin:/bin", HOME=scratch, TMPDIR=scratch)
    tempfile.tempdir = scratch


def _rlimit(which: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))
