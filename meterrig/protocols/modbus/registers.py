"""Register maps: what a Modbus meter model keeps where, as data (maps/<name>.yaml).

A map names each register the way the field does (voltage, import active energy, device id),
with its table (input registers, function 04; holding registers, function 03 and 16), PDU
address, type, word order, unit and scale, what it measures and how accurately the maker
declares it. Values are converted by pymodbus (float32/uint32/uint16, either word order).
docs/modbus-maps.md says how to add a model.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import yaml
from pymodbus.client.mixin import ModbusClientMixin

from ...yamllines import DataFileError, LinedFile, looks_like_path
from .pdu import READ_HOLDING, READ_INPUT

DATATYPES = {
    "float32": ModbusClientMixin.DATATYPE.FLOAT32,
    "uint32": ModbusClientMixin.DATATYPE.UINT32,
    "int32": ModbusClientMixin.DATATYPE.INT32,
    "uint16": ModbusClientMixin.DATATYPE.UINT16,
    "int16": ModbusClientMixin.DATATYPE.INT16,
}
TABLES = {"input": READ_INPUT, "holding": READ_HOLDING}
QUANTITIES = ("voltage", "current", "active power", "apparent power", "reactive power",
              "power factor", "frequency", "import energy", "export energy", "total energy")
SETTINGS = ("device id", "baud rate", "parity", "serial number")
APPLIES = ("immediately", "after restart")
MAP_KEYS = ("description", "source", "phases", "pairs", "word_order", "registers")
# What a declared accuracy is a percentage of. Eastron manuals give % of range maximum or of
# nominal, not of reading (../shared/spec/modbus-meter.md).
ACCURACY_BASES = ("reading", "nominal", "range maximum")
POWERS = ("active power", "apparent power", "reactive power")


class MapError(ValueError):
    """A register map file that does not describe a meter consistently; `key` is where in the
    file (("registers", NAME, FIELD)), for the line of a user's map file."""

    def __init__(self, message: str, key: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.key = key


@attrs.frozen
class Register:
    name: str
    table: str  # input | holding
    address: int  # PDU address (0-based)
    type: str  # float32 | uint32 | int32 | uint16 | int16
    unit: str = ""
    scale: float = 1.0  # engineering value = raw value × scale
    word_order: str = "big"  # big: high word first
    quantity: str | None = None  # what it measures (QUANTITIES)
    phase: int | None = None  # 1-3 on a polyphase meter; None for a single-phase or total value
    accuracy_percent: float | None = None  # the maker's declared accuracy, % of accuracy_of
    accuracy_of: str = "reading"  # reading | nominal | range maximum (ACCURACY_BASES)
    range_maximum: float | None = None  # the top of the measuring range, in `unit`
    setting: str | None = None  # what it configures (SETTINGS)
    writable: bool = False
    codes: dict[int, Any] = attrs.field(factory=dict)  # setting code -> meaning (9600, "8E1")
    allowed: tuple[int, int] | None = None  # a setting's valid range, when it is not coded
    applies: str = "immediately"  # when a written setting takes effect

    @property
    def function(self) -> int:
        return TABLES[self.table]

    @property
    def count(self) -> int:
        return 2 if self.type.endswith("32") else 1

    @property
    def addresses(self) -> range:
        return range(self.address, self.address + self.count)

    def decode(self, registers: tuple[int, ...] | list[int]) -> float | int:
        raw = ModbusClientMixin.convert_from_registers(list(registers), DATATYPES[self.type],
                                                       word_order=self.word_order)
        return raw * self.scale if self.scale != 1 else raw

    def encode(self, value: float | int) -> tuple[int, ...]:
        raw = value / self.scale if self.scale != 1 else value
        if not self.type.startswith("float"):
            raw = int(round(raw))
        return tuple(ModbusClientMixin.convert_to_registers(raw, DATATYPES[self.type],
                                                            word_order=self.word_order))

    def accuracy_base(self, reading: float, nominal: float) -> float:
        """What the declared accuracy is a percentage of, in the register's unit, at `reading`
        on a meter whose nominal value of this quantity is `nominal` (RegisterMap.nominal)."""
        return {"reading": abs(reading), "nominal": nominal,
                "range maximum": self.range_maximum}[self.accuracy_of]

    def accuracy_band(self, reading: float, nominal: float) -> float:
        """The declared accuracy as ± this much in the register's unit."""
        assert self.accuracy_percent is not None, f"{self.name} declares no accuracy"
        return self.accuracy_percent / 100 * self.accuracy_base(reading, nominal)

    def code_of(self, meaning: Any) -> int:
        """The code a setting register takes for a meaning (9600 -> 2)."""
        for code, known in self.codes.items():
            if known == meaning:
                return code
        raise KeyError(f"{self.name}: no code for {meaning!r}; it knows {self.codes}")


@attrs.frozen
class RegisterMap:
    name: str
    description: str
    source: str
    phases: int
    pairs: bool  # values only in even-aligned pairs: an odd start or count is refused (02)
    registers: dict[str, Register]

    def __getitem__(self, name: str) -> Register:
        try:
            return self.registers[name]
        except KeyError:
            raise KeyError(f"register map {self.name} has no register {name!r}; "
                           f"it has {', '.join(self.registers)}") from None

    def measuring(self, quantity: str, phase: int | None = None) -> Register:
        for register in self.registers.values():
            if register.quantity == quantity and register.phase == phase:
                return register
        raise KeyError(f"register map {self.name} has no register for {quantity}"
                       + (f" on phase {phase}" if phase else ""))

    @property
    def probe(self) -> Register:
        """The register a suite reads to see that a meter answers: the (phase 1) voltage."""
        return self.measuring("voltage", None if self.phases == 1 else 1)

    def nominal(self, register: Register, un: float, ib: float, fn: float) -> float:
        """The nominal value of a register's quantity for a meter rated Un, Ib, fn: a power's is
        Un·Ib per phase (all phases for a system value), a power factor's is unity."""
        quantity = register.quantity
        if quantity in POWERS:
            return un * ib * (self.phases if register.phase is None else 1)
        return {"voltage": un, "current": ib, "frequency": fn, "power factor": 1.0}[quantity]

    def setting(self, setting: str) -> Register:
        for register in self.registers.values():
            if register.setting == setting:
                return register
        raise KeyError(f"register map {self.name} has no {setting} setting")

    def in_table(self, table: str) -> tuple[Register, ...]:
        return tuple(r for r in self.registers.values() if r.table == table)

    def at(self, function: int, address: int) -> Register | None:
        """The register of this table that holds this address, if any."""
        for register in self.registers.values():
            if register.function == function and address in register.addresses:
                return register
        return None

    def unmapped_address(self, table: str) -> int:
        """An even address of this table that no register holds (for an illegal-address check)."""
        taken = {a for r in self.in_table(table) for a in r.addresses}
        return next(a for a in range(0x0100, 0xFFFE, 2) if a not in taken and a + 1 not in taken)


def _register(map_name: str, name: str, data: dict, defaults: dict) -> Register:
    where = f"register map {map_name}: register {name!r}"
    known = {f.name for f in attrs.fields(Register)} - {"name"}
    at = ("registers", name)
    if not isinstance(data, dict):
        raise MapError(f"{where}: a register is a mapping of its keys ({sorted(known)})", at)
    unknown = set(data) - known
    if unknown:
        raise MapError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(known)}",
                       (*at, sorted(unknown)[0]))
    fields = {**defaults, **data}
    if "codes" in fields:
        fields["codes"] = {int(k): v for k, v in fields["codes"].items()}
    if "allowed" in fields:
        fields["allowed"] = tuple(fields["allowed"])
    try:
        register = Register(name=name, **fields)
    except TypeError as exc:  # a key it cannot do without: table, address, type
        raise MapError(f"{where}: {exc}".replace("__init__() ", ""), at) from None
    for field, value, choices in (("table", register.table, TABLES),
                                  ("type", register.type, DATATYPES),
                                  ("word_order", register.word_order, ("big", "little")),
                                  ("quantity", register.quantity, (None, *QUANTITIES)),
                                  ("setting", register.setting, (None, *SETTINGS)),
                                  ("applies", register.applies, APPLIES),
                                  ("accuracy_of", register.accuracy_of, ACCURACY_BASES)):
        if value not in choices:
            raise MapError(f"{where}: {field} {value!r} is not one of {list(choices)}",
                           (*at, field))
    if register.writable and register.table != "holding":
        raise MapError(f"{where}: only holding registers can be written", (*at, "writable"))
    if (register.accuracy_of == "range maximum") != (register.range_maximum is not None):
        raise MapError(f"{where}: range_maximum goes with accuracy_of: range maximum, and only "
                       "with it", (*at, "range_maximum"))
    if register.accuracy_of == "nominal" and register.quantity not in (
            *POWERS, "voltage", "current", "frequency", "power factor"):
        raise MapError(f"{where}: {register.quantity} has no nominal value in the rating",
                       (*at, "accuracy_of"))
    return register


def load_map(name: str, text: str) -> RegisterMap:
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("registers"), dict):
        raise MapError(f"register map {name}: a map is a mapping with keys {list(MAP_KEYS)}, "
                       "its registers a mapping of name to register")
    unknown = set(data) - set(MAP_KEYS)
    if unknown:
        raise MapError(f"register map {name}: unknown keys {sorted(unknown)}; known: "
                       f"{list(MAP_KEYS)}", (sorted(unknown)[0],))
    missing = [key for key in ("description", "source") if key not in data]
    if missing:
        raise MapError(f"register map {name}: missing key {missing[0]!r}")
    defaults = {"word_order": data.get("word_order", "big")}
    registers = {n: _register(name, n, r, defaults) for n, r in data["registers"].items()}
    result = RegisterMap(name=name, description=data["description"], source=data["source"],
                         phases=data.get("phases", 1), pairs=data.get("pairs", False),
                         registers=registers)
    for register in registers.values():
        if result.pairs and register.address % 2:
            raise MapError(f"register map {name}: {register.name} at {register.address:04X} is "
                           "odd, but the map reads in even-aligned pairs",
                           ("registers", register.name, "address"))
        # Phases are numbered on a polyphase map only; a single-phase map's values have none.
        if register.phase is not None and (result.phases == 1
                                           or not 1 <= register.phase <= result.phases):
            raise MapError(f"register map {name}: {register.name} is on phase {register.phase}, "
                           f"but the map has {result.phases} phase(s)",
                           ("registers", register.name, "phase"))
        for other in registers.values():
            if other is not register and other.function == register.function \
                    and set(other.addresses) & set(register.addresses):
                raise MapError(f"register map {name}: {register.name} and {other.name} overlap",
                               ("registers", register.name, "address"))
    return result


def _maps_dir():
    return resources.files(__package__).joinpath("maps")


@cache
def map_file(path: str | Path) -> RegisterMap:
    """A user's own register map file (the schema of maps/*.yaml); MapError names FILE:LINE."""
    path = Path(path)
    try:
        file = LinedFile(path)
    except DataFileError as error:
        raise MapError(str(error)) from None
    try:
        return load_map(path.stem, path.read_text(encoding="utf-8"))
    except MapError as error:
        raise MapError(f"{file.where(error.key)}: {error}", error.key) from None


@cache
def register_map(name: str) -> RegisterMap:
    """A shipped map by name, or a user's map file by path."""
    if looks_like_path(name):
        return map_file(name)
    path = _maps_dir().joinpath(f"{name}.yaml")
    if not path.is_file():
        raise KeyError(f"no register map {name!r}; known: {', '.join(map_names())}")
    return load_map(name, path.read_text())


# Setting codes index a maker's short table (baud rates, parities); a code at or above this
# bound is no setting on any model, so the search for an unused code stays below it.
CODE_BOUND = 256


def unused_code(setting: str) -> int:
    """The lowest code that no shipped map gives `setting`: a code one model refuses may be
    valid on a sibling, so only a code no known model uses is invalid on every one."""
    used = {code for name in map_names() for register in register_map(name).registers.values()
            if register.setting == setting for code in register.codes}
    return next(code for code in range(CODE_BOUND) if code not in used)


def map_names() -> tuple[str, ...]:
    return tuple(sorted(p.name.removesuffix(".yaml") for p in _maps_dir().iterdir()
                        if p.name.endswith(".yaml")))
