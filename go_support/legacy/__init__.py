"""Migration from the legacy Group-Office Tickets module: config.php, the ti_* reader, mapping."""
