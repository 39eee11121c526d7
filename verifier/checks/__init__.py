"""One small module per check family; each function returns a CheckResult and never raises."""
