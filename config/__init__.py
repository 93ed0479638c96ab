"""Settings, policies and plan files: everything Duban reads before it acts."""
