"""Local simulators of the cloud APIs that sigma.deploy talks to (tests and demo only)."""
