"""The line-noise injector: a waveform generator whose noise reaches the mains through a
coupling network.

Its level is given and read back in dBµV at the coupling point, total rms over its band: that is
what a receiver on the line sees, and the unit in which mains-signalling levels are stated
(EN 50065-1). The generator itself is set in V rms at its output; the map's
`settings.coupling_gain_db` (the coupling network's gain, from the lab's calibration) converts.
"""

from __future__ import annotations

import math

import attrs

from .visa import InstrumentError, VisaInstrument

DBUV_PER_VOLT = 120.0  # 1 V rms = 120 dBµV (0 dBµV = 1 µV rms)


def dbuv_to_vrms(dbuv: float) -> float:
    return 10 ** ((dbuv - DBUV_PER_VOLT) / 20)


def vrms_to_dbuv(vrms: float) -> float:
    return DBUV_PER_VOLT + 20 * math.log10(vrms) if vrms > 0 else -math.inf


@attrs.frozen
class NoiseSettings:
    """What the injector reports it is doing."""

    level_dbuv: float  # at the coupling point, total rms over the band
    start_hz: float
    stop_hz: float
    burst: tuple[float, float] | None  # (burst length s, period s); None: continuous
    on: bool


@attrs.define
class NoiseInjector:
    io: VisaInstrument

    @property
    def _gain_db(self) -> float:
        return self.io.command_map.settings["coupling_gain_db"]

    def set_level(self, level_dbuv: float) -> None:
        """Noise level at the coupling point, dBµV."""
        self.io.write("level", level_vrms=dbuv_to_vrms(level_dbuv - self._gain_db))

    def level_dbuv(self) -> float:
        return vrms_to_dbuv(self.io.query("level")) + self._gain_db

    def set_band(self, start_hz: float, stop_hz: float) -> None:
        if not 0 <= start_hz < stop_hz:
            raise InstrumentError(f"{self.io.label}: band {start_hz:g}-{stop_hz:g} Hz: the start "
                                  "must be below the stop frequency")
        self.io.write("band", start_hz=float(start_hz), stop_hz=float(stop_hz))

    def band(self) -> tuple[float, float]:
        start, stop = self._pair("band")
        return start, stop

    def continuous(self) -> None:
        self.io.write("continuous")

    def set_burst(self, burst_s: float, period_s: float) -> None:
        """Bursts of `burst_s` every `period_s`, from when the output goes on."""
        if not 0 < burst_s < period_s:
            raise InstrumentError(f"{self.io.label}: burst {burst_s:g} s every {period_s:g} s: "
                                  "a burst must be shorter than its period and longer than 0")
        self.io.write("burst", burst_s=float(burst_s), period_s=float(period_s))

    def burst(self) -> tuple[float, float] | None:
        """(burst length, period) in s, or None when continuous."""
        return self._pair("burst") if self.io.query("bursting") else None

    def on(self) -> None:
        self.io.write("output_on")

    def off(self) -> None:
        self.io.write("output_off")

    def is_on(self) -> bool:
        return self.io.query("output")

    def settings(self) -> NoiseSettings:
        start, stop = self.band()
        return NoiseSettings(self.level_dbuv(), start, stop, self.burst(), self.is_on())

    def close(self) -> None:
        self.io.close()

    def _pair(self, query: str) -> tuple[float, float]:
        values = self.io.query(query)
        if len(values) != 2:
            raise InstrumentError(f"{self.io.label}: {query} gave {len(values)} values, not 2")
        return values[0], values[1]
