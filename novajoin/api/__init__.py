"""novajoin's REST service: nova's dynamic vendordata target."""
