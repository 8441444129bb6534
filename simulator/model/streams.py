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
_ONE_BITS = np.uint64(0x3FF0000000000000)  # exponent bits of 1.0: with 52 random bits below, [1, 2)
MONTH_BITS = 16
MAX_MONTHS = 2**MONTH_BITS - 1  # months 0 .. 65534
_JUST_BELOW_ONE = 1.0 - 2.0**-53
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
    """The SplitMix64 output function, in place on ``z`` (one temporary array)."""
    t = z >> _S30
    z ^= t
    z *= _M1
    np.right_shift(z, _S27, out=t)
    z ^= t
    z *= _M2
    np.right_shift(z, _S31, out=t)
    z ^= t
    return z


class Streams:
    """Uniform random numbers for a block of worlds, addressed by (channel, month)."""

    def __init__(self, seed: int, world_ids: np.ndarray) -> None:
        self.seed = int(seed)
        self.world_ids = np.asarray(world_ids, dtype=np.uint64)
        # world part of the counter, pre-multiplied: counter * gamma = (w << 16) * g + m * g
        self._world_term = (self.world_ids << np.uint64(MONTH_BITS)) * _GAMMA
        self._keys: dict[str, int] = {}
        self._identity: tuple[object, ...] | None = None

    def identity(self) -> tuple[object, ...]:
        """What the numbers depend on besides channel and month: the seed and the worlds."""
        if self._identity is None:
            ids = self.world_ids
            if ids.size and bool(np.all(np.diff(ids) == 1)):  # a block of worlds, as models have
                self._identity = (self.seed, int(ids[0]), int(ids.size))
            else:
                self._identity = (self.seed, ids.tobytes())
        return self._identity

    def uniform(self, channel: str, month: int = 0, at: np.ndarray | None = None) -> np.ndarray:
        """One uniform in (0, 1) per world for ``channel`` at ``month`` (never exactly 0 or 1).

        With ``at`` (indices into this block's worlds) only those worlds' uniforms are made:
        the same numbers as ``uniform(channel, month)[at]``, for a fraction of the work.
        """
        if not 0 <= month <= MAX_MONTHS:
            raise ValueError(f"month {month} outside 0..{MAX_MONTHS}")
        key = self._keys.get(channel)
        if key is None:
            key = self._keys[channel] = int(channel_key(self.seed, channel))
        # scalar part in Python integers (mod 2**64) so numpy never warns about wrap-around
        base = np.uint64((key + month * int(_GAMMA)) & _MASK)
        z = (self._world_term if at is None else self._world_term[at]) + base
        # Top 52 bits b as (b + 1/2) / 2**52, strictly inside (0, 1): b under the exponent of 1.0 is
        # the double 1 + b / 2**52, and subtracting 1 - 2**-53 from it is exact (Sterbenz).
        z = _splitmix(z)
        z >>= _S12
        z |= _ONE_BITS
        out = z.view(np.float64)
        out -= _JUST_BELOW_ONE
        return out
