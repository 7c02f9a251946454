"""Services: what the adapters (JSON API, dashboard pages, Python API) call.

Each module wraps one area of the domain behind plain functions over a
:class:`~chainwatch.store.Store`, so that no adapter needs the store's internals, an engine or
the metric modules themselves:

* :mod:`chainwatch.services.cache`: the result cache, per store version;
* :mod:`chainwatch.services.reference`: reference tables, trade years, request checks;
* :mod:`chainwatch.services.metrics`: metrics, risk table, import and production series;
* :mod:`chainwatch.services.alerts`: early-warning alerts and the backtest;
* :mod:`chainwatch.services.partnerships`: the partnership tracker's records and coverage.

Importing this package imports none of them: adapters import the module they need.
"""
