"""Blueprints: thin views over the security package."""
