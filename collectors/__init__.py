"""Field side: protocol adapters, a store-and-forward buffer and the forwarder of ``ecc collect``.

One process per plant or gateway host polls or subscribes to its devices (Modbus TCP, Modbus RTU
framed over TCP, DL/T 645-2007 over TCP, OPC UA, MQTT), stamps every reading when it is acquired,
keeps it in an on-disk SQLite queue and forwards it to the center, deleting only what the center
acknowledged. The center counts a resent reading once, so at-least-once delivery is exact.
"""
