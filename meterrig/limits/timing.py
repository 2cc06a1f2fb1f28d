"""The timing every answered exchange is judged by, per protocol of the bus it ran on."""

from __future__ import annotations

from . import dlt645, modbus

EXCHANGE_TIMING = {
    "dlt645-2007": dlt645.exchange_timing,
    "modbus-rtu": modbus.exchange_timing,
}
