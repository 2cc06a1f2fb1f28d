"""Meter implementations this project did not write, run as devices under test on pty pairs:
the PyPI `dlt645` package's meter server and pymodbus's own simulator (tests/
test_third_party_devices.py says what each is flagged for, and why)."""
