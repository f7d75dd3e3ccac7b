"""Printed reports: the monthly scorecard per agency and for the whole city (`python -m reports scorecard`)."""
