"""Finished chunks kept on disk, so that an interrupted run can resume where it stopped.

Every finished chunk is saved as an ``.npz`` of its block statistics plus, when per-world
outcomes are wanted, one Parquet part per option; each file is written under a temporary
name and moved into place. A chunk's files are named by a hash of the plan key (scenario
SHA-256, options, worlds, seed, horizon, geosim version, format) and the chunk's bounds, and
the key is stored inside the ``.npz`` too, so a stale checkpoint is never reused: resuming
with another chunk size, seed or scenario starts again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import UsageError
from simulator.files import atomic_write
from simulator.runs.plan import BLOCK, Plan
from simulator.runs.totals import Stats
from simulator.scenario.outcomes import all_outcomes

FORMAT = 2  # checkpoint format; part of every checkpoint key (2: block statistics named by outcome)
_CHECKPOINT_FILE = re.compile(r"^\d{7}-\d{7}-[0-9a-f]{20}(\.npz|\.o\d{2}\.parquet)$")
_OURS = ("run.json", "worlds.parquet")  # written into a checkpoint folder besides the chunks


def _geosim_version() -> str:
    try:
        return metadata.version("geosim")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def plan_key(plan: Plan) -> dict[str, Any]:
    """Everything that determines a chunk's figures, apart from its bounds."""
    return {"format": FORMAT, "geosim": _geosim_version(), "scenario_sha256": plan.scenario.sha256,
            "options": list(plan.options), "worlds": plan.worlds, "seed": plan.seed,
            "horizon": plan.horizon, "block_worlds": BLOCK,
            # a chunk saved before an outcome was declared lacks its statistics: not reusable
            "outcomes": [o.name for o in all_outcomes()]}


def checkpoint_dir_for(out: str | Path) -> Path:
    """The hidden checkpoint folder next to an output folder: ``.NAME.chunks``."""
    out = Path(out)
    return out.parent / f".{out.name}.chunks"


def _is_ours(p: Path) -> bool:
    return bool(_CHECKPOINT_FILE.match(p.name)) or p.name.startswith(".tmp-") or p.name in _OURS


def remove_checkpoints(directory: str | Path) -> None:
    """Delete a checkpoint folder's files, and the folder if nothing else is in it."""
    d = Path(directory)
    if not d.is_dir():
        return
    for p in d.iterdir():
        if _is_ours(p):
            p.unlink(missing_ok=True)
    try:
        d.rmdir()
    except OSError:
        pass  # someone else's files are in there: leave them


class Checkpoints:
    """Finished chunks of one plan in a folder: ``FIRST-END-HASH.npz`` plus Parquet parts.

    The hash covers the plan key and the chunk bounds; a file is used only if its name *and*
    the key stored inside it match. Without ``resume`` the folder starts empty.
    """

    def __init__(self, directory: str | Path, plan: Plan, resume: bool = False) -> None:
        self.dir = Path(directory)
        self.plan = plan
        self.key = plan_key(plan)
        if self.dir.exists() and not self.dir.is_dir():
            raise UsageError(f"checkpoint path '{self.dir}' exists and is not a folder; choose another")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot write to '{self.dir.parent}' ({exc.strerror}); "
                             "choose another output folder") from None
        if not resume:
            self._clear()
        atomic_write(self.dir / "run.json", (json.dumps(self.key, indent=2, sort_keys=True) + "\n").encode())

    def _chunk_key(self, first: int, end: int) -> str:
        return json.dumps(dict(self.key, first_block=first, end_block=end), sort_keys=True)

    def stem(self, first: int, end: int) -> str:
        """The name shared by a chunk's files: its bounds and a hash of its key."""
        digest = hashlib.sha256(self._chunk_key(first, end).encode()).hexdigest()[:20]
        return f"{first:07d}-{end:07d}-{digest}"

    def part_path(self, first: int, end: int, option_index: int) -> Path:
        """Where a chunk's per-world rows of one option are kept."""
        return self.dir / f"{self.stem(first, end)}.o{option_index:02d}.parquet"

    def prune(self, chunks: Iterable[tuple[int, int]]) -> None:
        """Remove checkpoint files that belong to no chunk of this plan (stale ones)."""
        wanted = {self.stem(f, e) for f, e in chunks}
        for p in self.dir.iterdir():
            if (_CHECKPOINT_FILE.match(p.name) and p.name.split(".")[0] not in wanted) or p.name.startswith(".tmp-"):
                p.unlink(missing_ok=True)

    def load(self, first: int, end: int, need_parts: bool) -> Stats | None:
        """The chunk's block statistics if a valid checkpoint exists (with its parts, if needed)."""
        path = self.dir / f"{self.stem(first, end)}.npz"
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) != self._chunk_key(first, end):
                    return None
                stats: Stats = {}
                for name in z.files:
                    if name == "key":
                        continue
                    block, _, stat = name.partition(".")
                    stats.setdefault(int(block[1:]), {})[stat] = z[name]
        except (OSError, ValueError, KeyError):
            return None  # unreadable: compute it again
        if sorted(stats) != list(range(first, end)):
            return None
        if need_parts and not all(self.part_path(first, end, i).exists() for i in range(len(self.plan.options))):
            return None
        return stats

    def save(self, first: int, end: int, stats: Stats, parquet_parts: Sequence[bytes] | None) -> None:
        """Parts first, then the statistics: a chunk counts as done once its ``.npz`` exists."""
        if parquet_parts is not None:
            for i, data in enumerate(parquet_parts):
                atomic_write(self.part_path(first, end, i), data)
        arrays = {f"b{block}.{name}": arr for block, block_stats in stats.items() for name, arr in block_stats.items()}
        arrays["key"] = np.array(self._chunk_key(first, end))
        atomic_write(self.dir / f"{self.stem(first, end)}.npz", lambda fh: np.savez(fh, **arrays))

    def _clear(self) -> None:
        for p in self.dir.iterdir():
            if _is_ours(p):
                p.unlink(missing_ok=True)
