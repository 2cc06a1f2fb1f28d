"""Q/GDW 1376.2: the concentrator <-> carrier module protocol (codec, master, decoder)."""
