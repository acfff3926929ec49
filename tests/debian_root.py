"""A real Debian root with python3 for the artifact tests (.deb installs, venv tarballs, OCI base images).

Made once with debootstrap from the mirror this machine's apt already uses (no host name is written here)
and kept as a tarball under ``~/.cache/lading-tests`` (``LADING_TEST_CACHE`` moves it); each test unpacks
a private copy. Tests that need it skip with the reason when debootstrap or the mirror is unavailable.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv")


def cache_dir() -> Path:
    return Path(os.environ.get("LADING_TEST_CACHE", Path.home() / ".cache" / "lading-tests"))


def apt_mirror() -> Optional[str]:
    """The Debian mirror apt is configured with: deb822 sources first, then sources.list."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
            if "deb" in fields.get("Types", "").split() and SUITE in fields.get("Suites", "").split():
                return fields.get("URIs", "").split()[0]
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        for line in legacy.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                return parts[1]
    return None


def unavailable() -> Optional[str]:
    """Why a Debian root cannot be had here, or None."""
    if (cache_dir() / f"debian-{SUITE}-python3.tar").is_file():
        return None
    if os.geteuid() != 0:
        return "debootstrap needs root"
    if shutil.which("debootstrap") is None:
        return "debootstrap is not installed (apt-get install debootstrap)"
    if apt_mirror() is None:
        return f"no Debian {SUITE} mirror in apt's sources"
    return None


def base_tarball() -> Path:
    """The cached tarball of the root, made on first use (under a lock: test processes may race)."""
    tarball = cache_dir() / f"debian-{SUITE}-python3.tar"
    if tarball.is_file():
        return tarball
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".debootstrap.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.is_file():
            return tarball
        mirror = apt_mirror()
        assert mirror is not None
        work = cache_dir() / f"debian-{SUITE}.work"
        shutil.rmtree(work, ignore_errors=True)
        done = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(work), mirror],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"debootstrap failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
        # apt's downloaded .debs are half the size and no test needs them
        shutil.rmtree(work / "var" / "cache" / "apt" / "archives", ignore_errors=True)
        (work / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".tmp")
        subprocess.run(["tar", "-C", str(work), "--numeric-owner", "-cf", str(partial), "."], check=True)
        os.replace(partial, tarball)
        shutil.rmtree(work, ignore_errors=True)
    return tarball


def debian_root(into: Path) -> Path:
    """A fresh private copy of the Debian root at ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-C", str(into), "--numeric-owner", "-xf", str(base_tarball())], check=True)
    return into


def chroot_run(root: Path, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a command inside ``root`` with chroot, without network (a fresh network namespace)."""
    return subprocess.run(
        ["unshare", "-n", "chroot", str(root), *command],
        capture_output=True, text=True, timeout=timeout,
        env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
    )


__all__ = ["apt_mirror", "base_tarball", "chroot_run", "debian_root", "unavailable"]
