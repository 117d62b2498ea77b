"""Webhook deliveries: what the target sends to subscribers, received and judged.

receiver (the loopback server) and wiring (its place in a run: reachability, deliveries
recorded as exchanges); signature and checks (a delivery against the brief and the spec);
subscriptions, events, timing and log (the library the delivery contracts build on); and
fixtures (the pytest plugin that puts them together for contracts/deliveries/).
"""
