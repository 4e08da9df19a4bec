"""DigitalOcean API v2: its client, and the payloads and results of its modules."""
