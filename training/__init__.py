"""Training: WebDataset loading, models, losses, metrics, the loop, checkpoints and the model bundle.

Imports `preprocessing` (colour science, dataset card); never Prefect.
"""
