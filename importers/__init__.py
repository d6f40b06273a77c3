"""Importers: a publication's archive, readers and old links from another platform (Substack first).

One core (`core.py`: issues, sections, summaries, papers, figures, redirects; `structure.py`:
the structure of a research digest recovered from HTML; `readers.py`: the list) and thin format
adapters (`substack.py`). See docs/importing.md.
"""
