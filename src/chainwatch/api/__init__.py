"""HTTP adapter: the versioned JSON API (``/api/v1``) and the dashboard pages, one process."""
