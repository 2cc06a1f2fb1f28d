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
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, model_validator
from pymodbus.client.mixin import ModbusClientMixin

from ...datafile import DataFileError, Schema, looks_like_path, read, refused, report, settle
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
# What a declared accuracy is a percentage of. Eastron manuals give % of range maximum or of
# nominal, not of reading (../shared/spec/modbus-meter.md).
ACCURACY_BASES = ("reading", "nominal", "range maximum")
POWERS = ("active power", "apparent power", "reactive power")


class MapError(DataFileError):
    """A register map file that does not describe a meter consistently (FILE:LINE: KEY)."""


class Register(Schema):
    FILLED = ("name",)
    name: str = ""  # its key under registers:
    table: Literal[tuple(TABLES)]
    address: int = Field(ge=0, le=0xFFFF)  # PDU address (0-based)
    type: Literal[tuple(DATATYPES)]
    unit: str = ""
    scale: float = 1.0  # engineering value = raw value × scale
    # big: high word first; left out in a map file: the map's word_order
    word_order: Literal["big", "little"] = "big"
    quantity: Literal[QUANTITIES] | None = None  # what it measures
    phase: int | None = None  # 1-3 on a polyphase meter; None for a single-phase or total value
    accuracy_percent: float | None = Field(None, gt=0)  # the maker's, % of accuracy_of
    accuracy_of: Literal[ACCURACY_BASES] = "reading"
    range_maximum: float | None = None  # the top of the measuring range, in `unit`
    setting: Literal[SETTINGS] | None = None  # what it configures
    writable: bool = False
    codes: dict[int, Any] = {}  # setting code -> meaning (9600, "8E1")
    # A setting's valid range, when it is not coded.
    allowed: tuple[int, int] | None = Field(None, strict=False)
    applies: Literal[APPLIES] = "immediately"  # when a written setting takes effect

    @model_validator(mode="after")
    def _consistent(self) -> Register:
        if self.writable and self.table != "holding":
            raise refused("only holding registers can be written", at="writable")
        if (self.accuracy_of == "range maximum") != (self.range_maximum is not None):
            raise refused("range_maximum goes with accuracy_of: range maximum, and only with it",
                          at="range_maximum")
        if self.accuracy_of == "nominal" and self.quantity not in (
                *POWERS, "voltage", "current", "frequency", "power factor"):
            raise refused(f"{self.quantity} has no nominal value in the rating",
                          at="accuracy_of")
        return self

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


class RegisterMap(Schema):
    FILLED = ("name",)
    name: str = ""  # the map's: its file's name
    description: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]  # where the layout comes from
    phases: int = Field(1, ge=1, le=3)
    pairs: bool = False  # values only in even-aligned pairs: an odd start or count is refused (02)
    word_order: Literal["big", "little"] = "big"  # its registers', unless they say
    registers: dict[str, Register] = Field(
        min_length=1, description="a mapping of register name to register")

    @model_validator(mode="after")
    def _layout(self, info: ValidationInfo) -> RegisterMap:
        found = report(info)

        def problem(name: str, key: str, message: str) -> None:
            if found is None:
                raise refused(message, at=("registers", name, key))
            found.add(("registers", name, key), message)

        registers = {name: r.model_copy(update={
            "name": name, "word_order": r.word_order if "word_order" in r.model_fields_set
            else self.word_order}) for name, r in self.registers.items()}
        for register in registers.values():
            if self.pairs and register.address % 2:
                problem(register.name, "address", f"{register.name} at {register.address:04X} "
                        "is odd, but the map reads in even-aligned pairs")
            # Phases are numbered on a polyphase map only; a single-phase map's values have none.
            if register.phase is not None and (self.phases == 1
                                               or not 1 <= register.phase <= self.phases):
                problem(register.name, "phase", f"{register.name} is on phase {register.phase}, "
                        f"but the map has {self.phases} phase(s)")
            for other in registers.values():
                if other is not register and other.function == register.function \
                        and set(other.addresses) & set(register.addresses):
                    problem(register.name, "address", f"{register.name} and {other.name} "
                            "overlap")
                    break
        settle(self, registers=registers)
        return self

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


def load_map(name: str, text: str | None = None, path: Path | None = None) -> RegisterMap:
    """A register map named `name`, from `text` or its file; MapError names FILE:LINE."""
    found = read(path or Path(name), RegisterMap, what="register map", error=MapError,
                 text=text)
    return found.model_copy(update={"name": name})


def _maps_dir():
    return resources.files(__package__).joinpath("maps")


@cache
def map_file(path: str | Path) -> RegisterMap:
    """A user's own register map file (the schema of maps/*.yaml); MapError names FILE:LINE."""
    return load_map(Path(path).stem, path=Path(path))


@cache
def register_map(name: str) -> RegisterMap:
    """A shipped map by name, or a user's map file by path."""
    if looks_like_path(name):
        return map_file(name)
    path = _maps_dir().joinpath(f"{name}.yaml")
    if not path.is_file():
        raise KeyError(f"no register map {name!r}; known: {', '.join(map_names())}")
    return load_map(name, path.read_text(encoding="utf-8"), Path(str(path)))


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
