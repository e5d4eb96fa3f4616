"""Writing a built output (a report, a bulletin, a ledger, a document) to the file the command
line names."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO


def file_write_atomically(source: BinaryIO, out: Path, *, prefix: str) -> None:
    """Copy the open binary ``source`` (closed afterwards) to ``out`` through a temporary file
    beside it: a reader never sees half a file, and a failure leaves none behind."""
    fd, partial = tempfile.mkstemp(dir=out.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as f, source:
            shutil.copyfileobj(source, f)
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def out_refusal(out: Path) -> str | None:
    """Why the command line cannot write its output to ``out``, in the words it answers with
    after the argument's name; None when it can. Asked before anything is built: a mistyped
    path costs no export, no audit entry of an export that left no file, and no traceback."""
    if out.is_dir():
        return f"“{out}”是目录，请给出文件名。"
    if not out.parent.is_dir():
        return f"目录“{out.parent}”不存在。"
    if not os.access(out.parent, os.W_OK | os.X_OK):
        return f"目录“{out.parent}”不可写入。"
    return None
