"""Real public data brought through the same pipeline as the simulator's sources."""
