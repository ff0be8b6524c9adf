"""Anomaly signals: prior probabilities on nodes, from inspections, process data, suppliers,
equipment calibration, complaints and changes. Each detector takes plain records (read by
``services.signals`` through the store port) and returns :class:`Signal` objects."""

from risk.signals.base import Evidence, Seed, Severity, Signal, signal_id

__all__ = ["Evidence", "Seed", "Severity", "Signal", "signal_id"]
