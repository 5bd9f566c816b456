"""Prefect flows and tasks: thin wrappers that chain the stage packages. No image logic here."""
