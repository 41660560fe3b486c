"""Migration scripts, applied in order by `rescue db upgrade` and at start."""
