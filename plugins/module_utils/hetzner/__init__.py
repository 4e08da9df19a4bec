"""Hetzner Cloud API v1: its client, and the payloads and results of its modules."""
