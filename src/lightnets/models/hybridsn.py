"""hybridsn (in progress)."""
