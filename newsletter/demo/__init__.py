"""The demo publication that `manage.py load_demo` loads.

Issue #2 of the ML Safety Newsletter, structured by hand from the seed text (`seed_issue.py`),
and a deterministic set of generated issues around it (`generated.py`) so the archive, section
pages, the paper index and search have something to show. `loader.py` writes them to the database.
"""
