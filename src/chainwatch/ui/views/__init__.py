"""Page contexts: what each page shows, shaped from the service results (no SQL, no metrics)."""
