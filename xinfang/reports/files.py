"""Writing a built output (a report, a bulletin) to the file the command line names."""

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
