"""File and stdout sinks: one JSON object per line (the OCSF finding as received)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

from cspm_stream.delivery.model import Alert
from cspm_stream.errors import SinkError


class FileSink:
    """Append JSON lines to ``path`` (``stdout`` when path is empty and ``stdout=True``)."""

    inline = False

    def __init__(self, name: str, path: str = "", *, stdout: bool = False) -> None:
        if not path and not stdout:
            raise ValueError("file sink needs a path")
        self.name = name
        self.path = Path(path) if path else None
        self._fh: IO[bytes] | None = None

    async def start(self) -> None:
        if self.path is None:
            self._fh = sys.stdout.buffer
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("ab")
        except OSError as exc:
            raise SinkError(
                f"sink {self.name}: cannot open {self.path}: {exc.strerror or exc}", retriable=True
            ) from None

    async def send(self, alert: Alert) -> None:
        if self._fh is None:
            raise SinkError(f"sink {self.name} not started", retriable=False)
        raw = alert.raw.replace(b"\n", b" ")  # orjson output has none; stay one line regardless
        try:
            self._fh.write(raw + b"\n")
            self._fh.flush()  # a line is visible to `tail -f` and log shippers as soon as it is sent
        except OSError as exc:
            raise SinkError(f"write to {self.path or 'stdout'} failed: {exc.strerror}", retriable=True) from exc

    async def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    async def stop(self) -> None:
        if self._fh is None:
            return
        self._fh.flush()
        if self.path is not None:
            self._fh.close()
        self._fh = None
