"""Arm Ethos-U NPUs through Arm's Vela compiler: configuration from the device, compilation,
placement with reasons, the whole budget and timeline, models Vela already compiled, and the
generated project's NPU hand-over. Vela is an optional dependency (`mcudeploy[npu]`)."""
