"""The web side of mail: the development mail viewer."""
