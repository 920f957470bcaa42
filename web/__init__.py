"""The request side that the blueprints share: guards, refusals, the connect flow, templates.

Blueprints hold views only; what several of them need around a request lives here. Like
the views, this package speaks HTTP and calls the domain (security/), never the reverse.
"""
