"""Fly.io Machines API: its client, and the payloads and results of its modules."""
