"""Progress on the terminal for commands that take more than a few seconds.

Bars go to standard error and only when it is a terminal: piped or redirected output, logs
and tests stay clean. ``--quiet`` turns them off on a terminal too. ``geosim run``, ``sweep``
and ``compare`` draw theirs through the API (``progress=`` of ``simulator.run``); the
validation commands use the two kinds here: a bar over stages (``geosim validate``) and a
status line with the elapsed time under the messages of a long fit (``geosim calibrate``).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any


def on_terminal(quiet: bool = False) -> bool:
    """Whether to draw a bar: standard error is a terminal and ``--quiet`` was not given."""
    try:
        return not quiet and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


class StageBar:
    """A bar over the stages of a job, for callbacks of the form ``progress(done, total, what)``."""

    def __init__(self, desc: str, quiet: bool = False) -> None:
        self.desc = desc
        self.bar: Any = None
        self.enabled = on_terminal(quiet)

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="stage", desc=self.desc, file=sys.stderr, leave=False,
                            bar_format="{desc}: {n}/{total} stages |{bar}| {elapsed}{postfix}")
        self.bar.set_postfix_str(what, refresh=done == self.bar.n)
        if done != self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


_EVAL = re.compile(r"^\s*eval\s+(\d+):")


class StatusLine:
    """Messages printed to standard error, under a line that shows the stage and the elapsed time.

    ``say(text)`` prints ``text`` (unless quiet); on a terminal the bottom line names the
    current stage (the last message that is not an evaluation), the evaluations of the fit out
    of at most ``max_evals``, and the time so far, refreshed every second even while the model
    runs silently for minutes.
    """

    def __init__(self, desc: str, quiet: bool = False, max_evals: int | None = None) -> None:
        self.desc = desc
        self.quiet = quiet
        self.max_evals = max_evals
        self.stage = "starting"
        self.bar: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if on_terminal(quiet):
            from tqdm import tqdm

            self.bar = tqdm(total=None, file=sys.stderr, leave=False, bar_format="{desc} [{elapsed}]")
            self._describe()
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()

    def _describe(self, evals: int | None = None) -> None:
        shown = self.stage if len(self.stage) <= 60 else self.stage[:57] + "..."
        if evals is not None and self.max_evals:
            shown += f" (evaluation {evals} of at most {self.max_evals})"
        self.bar.set_description_str(f"{self.desc}: {shown}", refresh=True)

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            if self.bar is not None:
                self.bar.refresh()

    def say(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is None:
            print(text, file=sys.stderr, flush=True)
            return
        self.bar.write(text, file=sys.stderr)
        found = _EVAL.match(text)
        if found:
            self._describe(int(found[1]))
        else:
            self.stage = text.strip()
            self._describe()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self.bar is not None:
            self.bar.close()
            self.bar = None

