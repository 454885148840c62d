"""The host: processes, interpreter discovery, the Wine Pythons."""
