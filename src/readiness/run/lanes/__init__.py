"""The lanes that run cells: native uv environments under nox, and Windows CPythons under Wine (see base.py)."""
