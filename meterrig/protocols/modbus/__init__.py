"""Modbus RTU: the serial framing (rtu), the PDUs of an energy meter (pdu, on pymodbus), register
maps as data (registers, maps/*.yaml), and the master that drives a meter over a Link (client).

The layers follow pymodbus's: framer / PDU / transport. The framer here is strict (a conformance
tester must see exactly what the meter sent) and the transport is meterrig's Link, so every
exchange is timed and traced like a DL/T 645 one.
"""
