"""Per-world outcomes as Parquet: bytes of one part, parts assembled into one file, a staged file.

Per-world rows are written chunk by chunk as Parquet parts and assembled at the end, one
part at a time, into a single file in canonical order (option by option, world by world),
regrouped into row groups of a fixed size, so the file does not depend on the chunking.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.files import atomic_write

ROW_GROUP = 65536  # rows per row group of an assembled file


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as the bytes of a Parquet file (without its index)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def assemble_parquet(parts: Sequence[Path], path: Path, row_group: int = ROW_GROUP) -> Path:
    """Concatenate Parquet parts, in the order given, into one file, holding little in memory.

    Rows are regrouped into row groups of exactly ``row_group`` rows (the last one shorter), so
    the file is the same, byte for byte, however the rows were split into parts.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(fh: Any) -> None:
        writer = None
        buffered: list[pa.Table] = []
        rows = 0

        def flush(n: int) -> None:
            nonlocal buffered, rows
            table = pa.concat_tables(buffered)
            writer.write_table(table.slice(0, n).combine_chunks(), row_group_size=n)  # type: ignore[union-attr]
            rest = table.slice(n)
            buffered, rows = ([rest] if rest.num_rows else []), rest.num_rows

        try:
            for part in parts:
                table = pq.read_table(part)
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema)
                elif not table.schema.equals(writer.schema, check_metadata=False):
                    table = table.cast(writer.schema)
                buffered.append(table.replace_schema_metadata(writer.schema.metadata))
                rows += table.num_rows
                while rows >= row_group:
                    flush(row_group)
            if rows:
                flush(rows)
        finally:
            if writer is not None:
                writer.close()

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)
    return path


class StagedParquet:
    """A Parquet file standing in for ``Results.worlds`` when saving: ``to_parquet`` links or copies it.

    ``save_results`` calls ``worlds.to_parquet(path, index=False)``; this puts the streamed
    file there without loading it into memory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def to_parquet(self, path: str | Path, index: bool = False) -> None:
        """Link the staged file to ``path`` (copy it where links are not possible)."""
        try:
            os.link(self.path, path)
        except OSError:
            shutil.copyfile(self.path, path)
