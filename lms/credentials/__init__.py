"""Portable credentials: an Open Badges 3.0 credential beside every certificate of completion.

See ``docs/credentials.md`` for what is issued, how it is signed and how anyone can check it.
"""
