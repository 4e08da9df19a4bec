"""The deploy: releases, the ledger and its lock, HTTP checks and canary analysis."""
