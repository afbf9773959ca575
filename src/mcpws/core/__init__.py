"""The sans-IO core of mcpws: protocol logic with no sockets, no event loop and no clock.

Everything here is driven by method calls: data goes in with ``receive_data(data, now)``,
events come out of ``events_received()``, bytes to write come out of ``data_to_send()``, and
time enters as the number ``now``. Nothing here imports an event loop or reads a clock.
"""
