"""The simulated bench instruments: source, reference standard, error calculator, line-noise
injector and attenuator, as SCPI servers.

Each speaks exactly the dialect of its map (meterrig/instruments/maps/sim-*.yaml) and acts on
the bench physics, so the drivers reach them through PyVISA as they would LAN instruments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import attrs

from ..instruments.noise_injector import dbuv_to_vrms, vrms_to_dbuv
from ..protocols.dlt645.security import BenchKeyModule, Session
from .scpi_server import Handler, ScpiError, ScpiServer, arguments, boolean

REFERENCE_CONSTANT = 1_000_000  # imp/kWh: 1 Wh = 1000 pulses, a resolution far below any meter's
REFERENCE_CLASS = "0.05"
IDN_MAKER = "meterrig"
IDN_FIRMWARE = "sim-1"


def _number(value: float) -> str:
    return repr(float(value))  # shortest text that reads back as the same float


def _reading(physics: Any) -> str:
    """The true values in the current loop: voltage, current, active power W, power factor,
    frequency (no current while any meter's relay is open: the loop is in series)."""
    source = physics.load
    on = source.output_on
    values = (source.voltage if on else 0.0, source.current if on else 0.0,
              source.active_power_w, source.power_factor, source.frequency)
    return ",".join(_number(value) for value in values)


class SimSource:
    model = "sim-source"

    def __init__(self, physics: Any) -> None:
        self.physics = physics
        # (wall-clock time, on): each output command, for the bench control's SIM:SOUR:OUTP?
        self.switched: list[tuple[float, bool]] = []

    def handlers(self) -> dict[str, Handler]:
        return {
            "SOUR:VOLT": self._setter("voltage"),
            "SOUR:CURR": self._setter("current"),
            "SOUR:PHAS": self._setter("phase_deg"),
            "SOUR:FREQ": self._setter("frequency"),
            "OUTP:STAT": self._output,
            "STAT:SETT?": self._settled,
            "MEAS:ALL?": self._measure,
        }

    def _setter(self, quantity: str) -> Handler:
        def set_quantity(args: list[str]) -> None:
            (value,) = arguments(args, float)
            self.physics.set_source(**{quantity: value})
        return set_quantity

    def _output(self, args: list[str]) -> None:
        (on,) = arguments(args, boolean)
        self.physics.set_source(output_on=on)
        self.switched.append((time.time(), on))

    def _settled(self, args: list[str]) -> str:
        arguments(args)
        return "1" if self.physics.settled() else "0"

    def _measure(self, args: list[str]) -> str:
        arguments(args)
        return _reading(self.physics)


class SimReference:
    model = "sim-reference"

    def __init__(self, physics: Any) -> None:
        self.physics = physics
        # Switched on with the bench: it has integrated nothing yet.
        self._energy_at_reset = physics.reference_energy_kwh()

    def handlers(self) -> dict[str, Handler]:
        return {
            "MEAS:ALL?": self._measure,
            "SYST:CONS?": self._constant,
            "SYST:CLAS?": self._class,
            "ENER:ACT?": self._energy,
            "ENER:RES": self._reset,
        }

    def _measure(self, args: list[str]) -> str:
        arguments(args)
        return _reading(self.physics)

    def _constant(self, args: list[str]) -> str:
        arguments(args)
        return str(REFERENCE_CONSTANT)

    def _class(self, args: list[str]) -> str:
        arguments(args)
        return REFERENCE_CLASS

    def _energy(self, args: list[str]) -> str:
        arguments(args)
        return _number(self.physics.reference_energy_kwh() - self._energy_at_reset)

    def _reset(self, args: list[str]) -> None:
        arguments(args)
        self._energy_at_reset = self.physics.reference_energy_kwh()


@attrs.define
class _Run:
    meter_constant: int
    pulses: int
    reference_constant: float
    start_pulse: int | None = None  # the meter's pulse count when started; None until then


class SimErrorCalculator:
    """Pulse comparison (spec accuracy.md, "How a bench measures error"), from the physics.

    A run started when the meter had emitted n0 pulses opens its gate at pulse n0+1 and closes
    it at pulse n0+1+m; the reference pulses in between are the reference energy between those
    two instants times the reference constant, rounded as a counter would.
    """

    model = "sim-error-calculator"

    def __init__(self, physics: Any) -> None:
        self.physics = physics
        self._runs: dict[int, _Run] = {}
        self._counting_from: dict[int, int] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            "ERR:CONF": self._configure,
            "ERR:STAR": self._start,
            "ERR:STAT?": self._state,
            "ERR:PULS?": self._pulses_seen,
            "ERR:RES?": self._result,
            "COUN:STAR": self._start_counting,
            "COUN?": self._count,
        }

    def _channel(self, args: list[str], *more: Callable[[str], Any]) -> tuple[Any, ...]:
        values = arguments(args, int, *more)
        if values[0] not in self.physics.positions:
            raise ScpiError(-222, f"Data out of range;no channel {values[0]}")
        return values

    def _configure(self, args: list[str]) -> None:
        channel, meter_constant, pulses, reference_constant = self._channel(args, int, int, float)
        if meter_constant <= 0 or pulses <= 0 or reference_constant <= 0:
            raise ScpiError(-222, "Data out of range;constants and pulses must be > 0")
        self._runs[channel] = _Run(meter_constant, pulses, reference_constant)

    def _start(self, args: list[str]) -> None:
        (channel,) = self._channel(args)
        run = self._configured(channel)
        run.start_pulse = self.physics.pulses(channel)

    def _configured(self, channel: int) -> _Run:
        if channel not in self._runs:
            raise ScpiError(-221, f"Settings conflict;channel {channel} not configured")
        return self._runs[channel]

    def _run_state(self, channel: int) -> tuple[str, int]:
        """(state, pulses since the gate opened, at most m)."""
        run = self._runs.get(channel)
        if run is None or run.start_pulse is None:
            return "idle", 0
        seen = self.physics.pulses(channel) - (run.start_pulse + 1)
        if seen >= run.pulses:
            return "done", run.pulses
        return "running", max(seen, 0)

    def _state(self, args: list[str]) -> str:
        (channel,) = self._channel(args)
        return self._run_state(channel)[0]

    def _pulses_seen(self, args: list[str]) -> str:
        (channel,) = self._channel(args)
        return str(self._run_state(channel)[1])

    def _result(self, args: list[str]) -> str:
        (channel,) = self._channel(args)
        if self._run_state(channel)[0] != "done":
            raise ScpiError(-221, f"Settings conflict;channel {channel} has no finished run")
        run = self._runs[channel]
        gate_open = run.start_pulse + 1
        opened = self.physics.reference_energy_at_pulse(channel, gate_open)
        closed = self.physics.reference_energy_at_pulse(channel, gate_open + run.pulses)
        reference_pulses = round((closed - opened) * run.reference_constant)
        if reference_pulses <= 0:
            raise ScpiError(-221, "Settings conflict;no reference pulses in the gate")
        expected = run.pulses * run.reference_constant / run.meter_constant
        return _number((expected - reference_pulses) / reference_pulses * 100)

    def _start_counting(self, args: list[str]) -> None:
        (channel,) = self._channel(args)
        self._counting_from[channel] = self.physics.pulses(channel)

    def _count(self, args: list[str]) -> str:
        (channel,) = self._channel(args)
        if channel not in self._counting_from:
            raise ScpiError(-221, f"Settings conflict;channel {channel} is not counting")
        return str(self.physics.pulses(channel) - self._counting_from[channel])


MAX_NOISE_VRMS = 10.0  # the simulated generator's largest output
MAX_NOISE_HZ = 1_000_000.0
DEFAULT_BURST = (0.1, 1.0)  # s: until a NOIS:BURS sets one
ATTENUATION_RANGE_DB = (0.0, 100.0, 0.5)  # min, max, step: as sim-attenuator.yaml says


class SimNoiseInjector:
    """A noise generator on a coupling network: its settings are the physics' line noise."""

    model = "sim-noise-injector"

    def __init__(self, physics: Any) -> None:
        self.physics = physics
        self._burst = DEFAULT_BURST

    def handlers(self) -> dict[str, Handler]:
        return {
            "NOIS:LEV": self._set_level,
            "NOIS:LEV?": self._level,
            "NOIS:BAND": self._set_band,
            "NOIS:BAND?": self._band,
            "NOIS:BURS": self._set_burst,
            "NOIS:BURS?": self._burst_query,
            "NOIS:BURS:STAT": self._set_bursting,
            "NOIS:BURS:STAT?": self._bursting,
            "OUTP:STAT": self._output,
            "OUTP:STAT?": self._output_query,
        }

    def _set_level(self, args: list[str]) -> None:
        (vrms,) = arguments(args, float)
        if not 0 <= vrms <= MAX_NOISE_VRMS:
            raise ScpiError(-222, f"Data out of range;level 0 to {MAX_NOISE_VRMS:g} V rms")
        self.physics.set_line(noise_dbuv=vrms_to_dbuv(vrms))

    def _level(self, args: list[str]) -> str:
        arguments(args)
        return _number(dbuv_to_vrms(self.physics.line.noise_dbuv))

    def _set_band(self, args: list[str]) -> None:
        start, stop = arguments(args, float, float)
        if not 0 <= start < stop <= MAX_NOISE_HZ:
            raise ScpiError(-222, f"Data out of range;band 0 <= start < stop <= "
                                  f"{MAX_NOISE_HZ:g} Hz")
        self.physics.set_line(noise_start_hz=start, noise_stop_hz=stop)

    def _band(self, args: list[str]) -> str:
        arguments(args)
        line = self.physics.line
        return f"{_number(line.noise_start_hz)},{_number(line.noise_stop_hz)}"

    def _set_burst(self, args: list[str]) -> None:
        burst_s, period_s = arguments(args, float, float)
        if not 0 < burst_s < period_s:
            raise ScpiError(-222, "Data out of range;0 < burst < period")
        self._burst = (burst_s, period_s)
        self.physics.set_line(burst_s=burst_s, burst_period_s=period_s)

    def _burst_query(self, args: list[str]) -> str:
        arguments(args)
        return ",".join(_number(value) for value in self._burst)

    def _set_bursting(self, args: list[str]) -> None:
        (on,) = arguments(args, boolean)
        burst_s, period_s = self._burst if on else (None, None)
        self.physics.set_line(burst_s=burst_s, burst_period_s=period_s)

    def _bursting(self, args: list[str]) -> str:
        arguments(args)
        return "0" if self.physics.line.burst_s is None else "1"

    def _output(self, args: list[str]) -> None:
        (on,) = arguments(args, boolean)
        self.physics.set_line(noise_on=on)

    def _output_query(self, args: list[str]) -> str:
        arguments(args)
        return "1" if self.physics.line.noise_on else "0"


class SimAttenuator:
    """A step attenuator in the line between the carrier module and the meters."""

    model = "sim-attenuator"

    def __init__(self, physics: Any) -> None:
        self.physics = physics

    def handlers(self) -> dict[str, Handler]:
        return {"ATT": self._set, "ATT?": self._get}

    def _set(self, args: list[str]) -> None:
        (db,) = arguments(args, float)
        low, high, step = ATTENUATION_RANGE_DB
        if not low <= db <= high or (db - low) / step != round((db - low) / step):
            raise ScpiError(-222, f"Data out of range;{low:g} to {high:g} dB in {step:g} dB "
                                  "steps")
        self.physics.set_line(attenuation_db=db)

    def _get(self, args: list[str]) -> str:
        arguments(args)
        return _number(self.physics.line.attenuation_db)


class SimButton:
    """The relay actuator over the meters' buttons: it presses the simulated meter's."""

    model = "sim-button"

    def __init__(self, physics: Any) -> None:
        self.physics = physics

    def handlers(self) -> dict[str, Handler]:
        return {"BUTT:PRES": self._press}

    def _press(self, args: list[str]) -> None:
        channel, _hold_s = arguments(args, int, float)
        if channel not in self.physics.positions:
            raise ScpiError(-222, f"Data out of range;no position {channel}")
        self.physics.press_button(channel)


class SimSecurityUnit:
    """The bench key module (NOT the real ESAM algorithm) as the lab's encryption unit."""

    model = "sim-security-unit"

    def __init__(self, physics: Any) -> None:
        self.module = BenchKeyModule()

    def handlers(self) -> dict[str, Handler]:
        return {"ESAM:RAND?": self._random, "ESAM:AUTH?": self._authenticate,
                "ESAM:RECH?": self._sign, "ESAM:VER?": self._verify}

    def _random(self, args: list[str]) -> str:
        arguments(args)
        return self.module.random().hex()

    def _authenticate(self, args: list[str]) -> str:
        random1, dispersion = arguments(args, bytes.fromhex, bytes.fromhex)
        return self.module.authenticate(random1, dispersion).hex()

    def _sign(self, args: list[str]) -> str:
        random1, random2, dispersion, amount, count, customer = arguments(
            args, bytes.fromhex, bytes.fromhex, bytes.fromhex, int, int, str)
        macs = self.module.sign_recharge(Session(random1, random2, dispersion), amount, count,
                                         customer)
        return ",".join(mac.hex() for mac in macs)

    def _verify(self, args: list[str]) -> str:
        random1, random2, dispersion, data, mac = arguments(args, *[bytes.fromhex] * 5)
        return "1" if self.module.verify_reply_mac(Session(random1, random2, dispersion), data,
                                                   mac) else "0"


SIMULATORS: dict[str, type] = {
    simulator.model: simulator
    for simulator in (SimSource, SimReference, SimErrorCalculator, SimNoiseInjector,
                      SimAttenuator, SimButton, SimSecurityUnit)
}


class SimulatedInstruments:
    """One SCPI server per instrument, each on its own loopback port, as on a bench LAN."""

    def __init__(self, physics: Any, drivers: dict[str, str]) -> None:
        for name, driver in drivers.items():
            if driver not in SIMULATORS:
                raise ValueError(f"instrument {name}: the simulated bench has no {driver!r}; "
                                 f"it simulates {', '.join(SIMULATORS)}")
        self.simulators = {name: SIMULATORS[driver](physics) for name, driver in drivers.items()}
        self._servers = {
            name: ScpiServer(f"{IDN_MAKER},{driver},{name},{IDN_FIRMWARE}",
                             self.simulators[name].handlers())
            for name, driver in drivers.items()
        }

    def silence(self, name: str) -> None:
        """The instrument stops answering, as one hung or cut off the bench LAN."""
        if name not in self._servers:
            raise ValueError(f"no instrument {name}; the bench has {', '.join(self._servers)}")
        self._servers[name].silent = True

    def source_switched(self) -> list[tuple[float, bool]]:
        """Every output command the bench's sources took, in order: (time, on)."""
        return sorted(entry for simulator in self.simulators.values()
                      if isinstance(simulator, SimSource) for entry in simulator.switched)

    def start(self) -> dict[str, str]:
        """Start every server; name -> VISA resource string."""
        return {name: f"TCPIP::127.0.0.1::{server.start()}::SOCKET"
                for name, server in self._servers.items()}

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
