"""Early warning: anomaly signals, risk propagation along the flow DAG, recall scope, alert rules.

Algorithms take graphs and plain records, never a store (DESIGN.md, "Risk").
"""
