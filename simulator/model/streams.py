"""Random numbers that belong to a world, not to a run.

Every random number the model uses is a function of four things only: the scenario
seed, a *channel* (what the number is for: ``"draw:russia.gains_value"``,
``"event:probe"``, ``"event:answer:united_states"`` ...), the world's index and the
month. Nothing depends on how many worlds run together, on the option, on the order
in which worlds are processed, or on how they are split across processes or machines.
That gives, by construction:

* common random numbers: world ``i`` sees the same draws under every option;
* ``worlds=1`` reproduces world 0 of a larger run, and worlds ``[a, b)`` of a chunked
  run reproduce the same worlds of a single run, bit for bit.

How the numbers are made: ``numpy.random.SeedSequence`` turns (seed, channel) into a
64-bit key (the channel name is hashed with SHA-256 into the sequence's entropy). The
uniform for (world, month) is the SplitMix64 output function (its top 52 bits, plus one half, over 2**52) applied to
``key + counter * golden_gamma`` with ``counter = world * 2**16 + month``: exactly the
SplitMix64 generator's stream seeded at ``key`` and read at position ``counter``, a
counter-based generator that numpy arrays evaluate for all worlds at once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S12 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(12)
MONTH_BITS = 16
MAX_MONTHS = 2**MONTH_BITS - 1  # months 0 .. 65534
_TWO52 = float(2**52)
_MASK = 2**64 - 1


@lru_cache(maxsize=4096)
def channel_key(seed: int, channel: str) -> np.uint64:
    """64-bit key for one channel of one seed, derived with numpy's SeedSequence."""
    digest = hashlib.sha256(channel.encode("utf-8")).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, *words]).generate_state(
        2, dtype=np.uint64)
    return np.uint64(state[0] ^ state[1])


def _splitmix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


class Streams:
    """Uniform random numbers for a block of worlds, addressed by (channel, month)."""

    def __init__(self, seed: int, world_ids: np.ndarray) -> None:
        self.seed = int(seed)
        self.world_ids = np.asarray(world_ids, dtype=np.uint64)
        # world part of the counter, pre-multiplied: counter * gamma = (w << 16) * g + m * g
        self._world_term = (self.world_ids << np.uint64(MONTH_BITS)) * _GAMMA

    def uniform(self, channel: str, month: int = 0) -> np.ndarray:
        """One uniform in (0, 1) per world for ``channel`` at ``month`` (never exactly 0 or 1)."""
        if not 0 <= month <= MAX_MONTHS:
            raise ValueError(f"month {month} outside 0..{MAX_MONTHS}")
        # scalar part in Python integers (mod 2**64) so numpy never warns about wrap-around
        base = np.uint64((int(channel_key(self.seed, channel)) + month * int(_GAMMA)) & _MASK)
        # 52 bits plus a half: exactly representable, strictly inside (0, 1)
        bits = _splitmix(self._world_term + base) >> _S12
        return (bits.astype(np.float64) + 0.5) / _TWO52
