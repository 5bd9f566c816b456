"""Colorize black-and-white archives with a trained bundle: full resolution, resumable, streaming."""
