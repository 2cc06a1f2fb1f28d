"""A toy protocol kept outside meterrig, registered at run time (METERRIG_PROTOCOLS=
toy_protocol.spec, with tests/ on the path): it shows that a protocol is one package and one
registry entry. ASCII lines: the master sends `?AA ITEM`, the device answers `!AA VALUE UNIT`."""
