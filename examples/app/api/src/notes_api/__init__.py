"""notes-api: the reference API that the sigma.deploy collection deploys."""
