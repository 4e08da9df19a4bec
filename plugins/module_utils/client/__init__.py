"""What every provider shares: the API client, retries, waits and the resource module flow."""
