"""The colorization studio: a local web page (FastAPI) to colorize, compare and download pictures."""
