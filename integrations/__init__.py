"""Talking to outside systems, one module each, in their own protocol and nothing else."""
