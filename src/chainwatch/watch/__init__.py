"""Early-warning monitor: signals over trade, production, prices and restrictions; rules as
data; alerts that explain themselves; a backtest against dated export restrictions.

See docs/watch.md and docs/backtest.md.
"""
