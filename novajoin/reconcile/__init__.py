"""novajoin-reconcile: bring IPA back in line with nova and neutron.

``inventory`` reads what IPA holds (hosts and DNS records novajoin owns) and what
nova and neutron know; ``plan`` (pure) decides; ``apply`` carries the plan out
through the domain layer (``novajoin.join``); ``leader`` makes sure one reconciler
acts at a time; ``report`` renders the plan and the summary.
"""
