"""Data at rest is created owner-only: files 0600, directories 0700.

Three layers, so that no path depends on one of them alone:

- The settings set the process umask to ``XINFANG_UMASK`` (default ``077``) before anything is
  written, so every file and directory the process creates — the SQLite database, its ``-wal``
  and ``-shm`` files (SQLite gives them the database file's mode), caches, the secret key — is
  owner-only from the start.
- Each SQLite connection tightens the database file and its ``-wal``/``-shm`` files to 0600 should
  they already exist with a wider mode (an installation from before this rule, a copied file).
- The writers of secrets create their files with explicit modes whatever the umask: the key file,
  attachments, backups, the checkpoint file and trail archives (``os.open(..., 0o600)``,
  ``mkstemp``, ``mkdir(mode=0o700)``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DEFAULT_UMASK = 0o077


def apply_umask(value: str | None) -> int:
    """Set the process umask from ``XINFANG_UMASK`` (octal text); returns the one applied."""
    mask = int(value, 8) if value else DEFAULT_UMASK
    os.umask(mask)
    return mask


def tighten(path: Path, mode: int = 0o600) -> None:
    """chmod ``path`` to ``mode`` if it exists, is ours and is wider; never widens."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid != os.getuid():
        return
    if stat.S_IMODE(st.st_mode) & ~mode:
        path.chmod(stat.S_IMODE(st.st_mode) & mode)


def secure_sqlite_files(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the SQLite database and its WAL files owner-only."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        tighten(Path(name + suffix))
