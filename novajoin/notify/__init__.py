"""novajoin-notify: keep IPA in step with nova and neutron notifications.

``listener`` wires oslo.messaging to the handlers, ``handlers`` turn
notifications into domain operations (novajoin.join.lifecycle), ``delivery``
decides ack / retry / requeue / drop, ``metrics`` counts what happened.
"""
