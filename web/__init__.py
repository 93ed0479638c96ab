"""The security foundation of the owners' web app: passwords, signed item links, permissions."""
