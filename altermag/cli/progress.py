"""Live progress of pw.x runs in the terminal, read from their output files.

:func:`follow_pw` shows one line per output file — SCF iteration, accuracy and energy, the
k-point of a bands step, the ionic step of a relaxation, and the elapsed time, within 80
columns — while the
caller runs pw.x (here, under Slurm, anywhere that writes the output to that path)::

    with follow_pw([("SCF", folder / "scf.out"), ("bands", folder / "bands.out")]):
        run_qe(folder)

A line starts when its file is (re)written after the display began, so outputs of earlier
runs in the same folder are not shown as progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from altermag.dft.qe.progress import PwProgress

__all__ = ["follow_pw"]


class _Follower:
    """Polls the output files and updates their progress lines."""

    def __init__(self, progress: Progress, outputs: Sequence[tuple[str, Path]]) -> None:
        self.progress = progress
        self.outputs = [(label, Path(path)) for label, path in outputs]
        self.since = time.time() - 1.0
        self.tasks: dict[int, TaskID] = {}
        self.readers: dict[int, tuple[PwProgress, int]] = {}

    def poll(self) -> None:
        for i, (label, path) in enumerate(self.outputs):
            try:
                stat = path.stat()
            except OSError:
                continue
            if stat.st_mtime < self.since:
                continue
            reader, offset = self.readers.get(i, (PwProgress(), 0))
            if stat.st_size < offset:  # rewritten by a new run: start over
                reader, offset = PwProgress(), 0
            with path.open("rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
            status = reader.feed(chunk.decode(errors="replace"))
            self.readers[i] = (reader, offset + len(chunk))
            if i not in self.tasks:
                self.tasks[i] = self.progress.add_task(label, total=None, status="")
            task = self.tasks[i]
            bands = status.calculation == "bands" and status.n_kpoints
            self.progress.update(
                task,
                status=status.describe(),
                total=status.n_kpoints if bands else None,
                completed=status.kpoint or 0 if bands else 0,
            )
            if status.done or status.errors:
                self.progress.stop_task(task)
                if not bands:
                    self.progress.update(task, total=1, completed=1)


@contextmanager
def follow_pw(
    outputs: Sequence[tuple[str, Path]],
    console: Console | None = None,
    interval: float = 0.5,
) -> Iterator[Progress]:
    """Show the progress of the pw.x runs writing ``outputs`` (label, path) until the block
    ends; the display goes to ``console`` (default: standard error)."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description:<6}"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )
    follower = _Follower(progress, outputs)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            follower.poll()

    thread = threading.Thread(target=loop, daemon=True, name="pw-progress")
    with progress:
        thread.start()
        try:
            yield progress
        finally:
            stop.set()
            thread.join(timeout=5)
            follower.poll()
