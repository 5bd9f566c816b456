"""Scraping: polite, guarded, resumable image fetching into the content-addressed raw store.

Never imports prefect or any other package of ours; flows/scrape.py wraps it in tasks.
"""
