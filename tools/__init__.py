"""Developer tools that drive a real Group-Office (not part of the installed package)."""
