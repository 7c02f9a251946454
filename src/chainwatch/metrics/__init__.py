"""Dependence, concentration and supply-risk metrics (methods in docs/methods.md)."""
