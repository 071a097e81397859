"""The runtime floor of the agent: typed events, the bus, the clock, lanes for model calls, supervision and metrics."""
